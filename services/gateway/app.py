"""The gateway: the suite's only public door (Flask + flask-smorest under gunicorn)."""
from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
import uuid

from flask import Flask, g, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from services.gateway import docs_assets, idempotency, inputs, problems, webapp
from services.gateway.models import infra
from services.gateway.openapi import NuanxinApi, StandardResponsesPlugin, idempotent_path
from services.gateway.rpc import ProxyPool
from shared import config
from shared.db import database_for
from shared.errors import Unauthenticated
from shared.outbox import OutboxRelay

log = logging.getLogger(__name__)
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# JSON answers need nothing from a browser; the docs page needs Swagger UI, served from this gateway.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# The web app (webapp.py) loads everything from this gateway: its scripts, styles, images and QR codes drawn
# as data:/blob: URLs, its service worker and manifest; it talks only to /api.
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
           "font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; worker-src 'self'; "
           "manifest-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
# The app scans QR codes with the phone's camera and may place a report; nothing else.
APP_PERMISSIONS = "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
METHODS = "GET, POST, PUT, PATCH, DELETE"


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every log record."""

    def filter(self, record):
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:  # outside a request
            record.request_id = getattr(record, "request_id", "-")
        return True


def configure_logging() -> None:
    """Log lines carry the request id; gunicorn's access log names it too (see wsgi.py)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(config.env("NUANXIN_LOG_LEVEL", "INFO") or "INFO")
    request_ids = RequestIdFilter()
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(request_ids)


def create_app(overrides: dict | None = None, *, background: bool = True) -> Flask:
    """The gateway. `background=False` leaves out its outbox relay and housekeeping threads: for an app that only
    answers what is made from the code (the OpenAPI document, the web app's files) on a throwaway database."""
    app = Flask("nuanxin.gateway")
    app.config.update(
        API_TITLE="Nuanxin API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Swagger UI's files come with the flask-swagger-ui package: the docs work with no network.
        OPENAPI_SWAGGER_UI_URL=f"{docs_assets.ASSETS_PATH}/",
        MAX_CONTENT_LENGTH=config.env_int("NUANXIN_MAX_BODY_BYTES", 1024 * 1024),
        CORS_ORIGINS=[o.strip() for o in (config.env("NUANXIN_CORS_ORIGINS", "") or "").split(",") if o.strip()],
        HSTS_SECONDS=config.env_int("NUANXIN_HSTS_SECONDS", 0),
        JSON_SORT_KEYS=False,
    )
    app.config.update(overrides or {})
    app.json.ensure_ascii = False
    hops = config.env_int("NUANXIN_PROXY_HOPS", 0)
    if hops:
        # Behind a reverse proxy: trust its X-Forwarded-For/-Proto for client addresses and TLS.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    configure_logging()

    api = NuanxinApi(app, spec_kwargs={
        "info": {"description": DESCRIPTION},
        "extra_plugins": [StandardResponsesPlugin()],
    })
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    problems.register(app)

    app.extensions["nuanxin.db"] = db = database_for("gateway")
    app.extensions["nuanxin.rpc"] = ProxyPool()
    if background:
        _start_background(app, db)

    from services.gateway.api import register_blueprints

    register_blueprints(app, api)
    app.register_blueprint(webapp.blp)
    _install_hooks(app)
    return app


DESCRIPTION = """Neighbourhood volunteers, shared spaces and notices.

Sign in with `POST /api/v1/auth/token` and send `Authorization: Bearer <access_token>`. Every error is an
RFC 9457 problem document (`application/problem+json`); 422 lists the offending fields under `errors`.
Creating POSTs accept `Idempotency-Key`; updates use `ETag`/`If-Match`; lists page with `limit`/`cursor`.
Every response carries `X-Request-ID` (send your own to correlate logs).

Input limits, the same for every endpoint (422 with the field named, unless stated): text holds no NUL
(U+0000) and no unpaired surrogate (`\\ud800` alone); JSON bodies nest at most 32 levels; dates and times
lie in the years 1900..2199 as written; ids are 1..2147483647; a cursor is the `next_cursor` of the page
before; the URL (path and query) is at most 4096 bytes (414); a body at most 1 MiB (413)."""


def _start_background(app: Flask, db) -> None:
    """The gateway publishes its own events (accounts) through its outbox, like every service."""
    relay = OutboxRelay(db, infra)
    stop = threading.Event()
    db.after_commit.append(relay.wake)
    thread = threading.Thread(target=relay.run_forever, args=(stop,), name="gateway-outbox", daemon=True)
    thread.start()
    app.extensions["nuanxin.relay"] = relay
    threading.Thread(target=_housekeeping, args=(db, stop), name="gateway-housekeeping", daemon=True).start()


def _housekeeping(db, stop: threading.Event) -> None:
    """Forget expired idempotency records (each worker may do it; the DELETE is idempotent)."""
    interval = config.env_int("NUANXIN_HOUSEKEEPING_SECONDS", 3600)
    while not stop.wait(interval):
        try:
            idempotency.purge_expired(db)
        except Exception:  # a database hiccup must not end the thread
            log.exception("housekeeping pass failed")


def _install_hooks(app: Flask) -> None:
    db = app.extensions["nuanxin.db"]

    @app.before_request
    def _request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex

    # A URL gunicorn would have refused is refused here first, as a problem (414).
    app.before_request(inputs.url_too_long)

    @app.before_request
    def _preflight():
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            response = app.response_class(status=204)
            if _allowed_origin(app, request.headers.get("Origin")):
                response.headers["Access-Control-Allow-Methods"] = METHODS
                response.headers["Access-Control-Max-Age"] = "600"
            return response
        return None

    @app.before_request
    def _authenticate_first():
        # Secured endpoints answer 401 before looking at the body: a stranger learns nothing about
        # the input rules, and every endpoint behaves alike whatever order its decorators have.
        view = app.view_functions.get(request.endpoint) if request.url_rule is not None else None
        if view is not None and _secured(view):
            from services.gateway.api import current_caller

            current_caller()

    @app.before_request
    def _body_limits():
        if request.method not in ("POST", "PUT", "PATCH"):
            return None
        if (request.content_length or 0) > app.config["MAX_CONTENT_LENGTH"]:
            raise RequestEntityTooLarge(f"The body may be at most {app.config['MAX_CONTENT_LENGTH']} bytes.")
        if (request.content_length or 0) > 0 and not request.is_json:
            return problems.problem(415, "Send JSON: Content-Type: application/json.")
        return None

    # One normalisation of input for every endpoint: bounded nesting, text without NUL or unpaired
    # surrogates (shared/inputs.py), before anything reads the request.
    app.before_request(inputs.hostile_input)

    @app.before_request
    def _idempotency_reserve():
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            # Every state-changing request is keyed for the services, so a redelivered RPC acts once;
            # a client's Idempotency-Key below makes the key stable across the client's retries too.
            g.idempotency_base = uuid.uuid4().hex
        key = request.headers.get(idempotency.HEADER)
        if key is None or request.method != "POST" or request.url_rule is None \
                or not idempotent_path(request.path):
            return None
        idempotency.validate_key(key)
        from services.gateway.api import current_caller

        try:
            account = str(current_caller(required=False).user_id or "anonymous")
        except Unauthenticated:
            account = "anonymous"  # the endpoint itself answers 401 if it needs a caller
        scope = idempotency.scope_of(account, request.method, request.path, key)
        stored = idempotency.reserve(db, scope, idempotency.fingerprint(request.get_data(cache=True)))
        if stored is None:
            g.idempotency_scope = g.idempotency_base = scope
            return None
        response = app.response_class(stored.body, status=stored.status, mimetype="application/json")
        if stored.location:
            response.headers["Location"] = stored.location
        response.headers["Idempotent-Replayed"] = "true"
        return response

    @app.after_request
    def _idempotency_store(response):
        scope = g.pop("idempotency_scope", None)
        if scope is None:
            return response
        try:
            if 200 <= response.status_code < 300:
                idempotency.complete(db, scope, response.status_code, response.get_data(as_text=True),
                                     response.headers.get("Location"))
            elif response.status_code >= 500:
                idempotency.in_doubt(db, scope)
            else:
                idempotency.release(db, scope)
        except Exception:
            # The answer stands; the reservation expires on its own (stale after a while).
            log.exception("could not record the idempotent answer")
        return response

    @app.teardown_request
    def _idempotency_teardown(exc):
        # A request that died before after_request ran may have been forwarded: its outcome is in doubt.
        scope = g.pop("idempotency_scope", None)
        if scope is not None:
            try:
                idempotency.in_doubt(db, scope)
            except Exception:
                log.exception("could not release an idempotency key")

    @app.after_request
    def _headers(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", _csp(app, response))
        if request.blueprint == "webapp":
            response.headers["Permissions-Policy"] = APP_PERMISSIONS
        if app.config["HSTS_SECONDS"] > 0:
            response.headers["Strict-Transport-Security"] = f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
        origin = request.headers.get("Origin")
        if _allowed_origin(app, origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers.add("Vary", "Origin")
            response.headers["Access-Control-Allow-Headers"] = \
                "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-ID"
            response.headers["Access-Control-Expose-Headers"] = "Location, ETag, X-Request-ID, Retry-After"
        return response


def _secured(view) -> bool:
    """Whether an endpoint requires a caller: documented with a security requirement and no `{}`
    alternative (`[{}, {"bearerAuth": []}]` marks a public endpoint that also reads an optional caller)."""
    security = (getattr(view, "_apidoc", None) or {}).get("manual_doc", {}).get("security")
    return bool(security) and {} not in security


def _allowed_origin(app: Flask, origin: str | None) -> bool:
    allowed = app.config["CORS_ORIGINS"]
    return bool(origin) and ("*" in allowed or origin in allowed)


def _csp(app: Flask, response) -> str:
    """Swagger UI's page may load its files from this gateway and run its one inline script (by hash); the
    web app's files get the app's policy (the service worker's own requests obey it too)."""
    if request.blueprint == "webapp":
        return APP_CSP
    if request.path != "/api/docs" or response.mimetype != "text/html":
        return API_CSP
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'"
                      for s in INLINE_SCRIPT.findall(response.get_data()))
    return (f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


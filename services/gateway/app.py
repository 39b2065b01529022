"""The gateway: the suite's only public door (Flask + flask-smorest under gunicorn)."""
from __future__ import annotations

import logging
import re
import threading
import uuid

from flask import Flask, g, request
from flask_smorest import Api

from services.gateway import problems
from services.gateway.models import infra
from services.gateway.rpc import ProxyPool
from shared import config
from shared.db import database_for
from shared.outbox import OutboxRelay

log = logging.getLogger(__name__)
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every log record."""

    def filter(self, record):
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:  # outside a request
            record.request_id = "-"
        return True


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask("nuanxin.gateway")
    app.config.update(
        API_TITLE="Nuanxin API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        MAX_CONTENT_LENGTH=config.env_int("NUANXIN_MAX_BODY_BYTES", 1024 * 1024),
        CORS_ORIGINS=[o for o in (config.env("NUANXIN_CORS_ORIGINS", "") or "").split(",") if o],
        JSON_SORT_KEYS=False,
    )
    app.config.update(overrides or {})
    app.json.ensure_ascii = False

    api = Api(app, spec_kwargs={"info": {"description": "Neighbourhood volunteers, shared spaces and notices."}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    problems.register(app)

    app.extensions["nuanxin.db"] = db = database_for("gateway")
    app.extensions["nuanxin.rpc"] = ProxyPool()
    _start_relay(app, db)

    from services.gateway.api import register_blueprints

    register_blueprints(app, api)
    _install_hooks(app)
    return app


def _start_relay(app: Flask, db) -> None:
    """The gateway publishes its own events (accounts) through its outbox, like every service."""
    relay = OutboxRelay(db, infra)
    stop = threading.Event()
    db.after_commit.append(relay.wake)
    thread = threading.Thread(target=relay.run_forever, args=(stop,), name="gateway-outbox", daemon=True)
    thread.start()
    app.extensions["nuanxin.relay"] = relay


def _install_hooks(app: Flask) -> None:
    handler_filter = RequestIdFilter()
    for handler in logging.getLogger().handlers:
        handler.addFilter(handler_filter)

    @app.before_request
    def _request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.before_request
    def _content_type():
        if request.method in ("POST", "PUT", "PATCH") and (request.content_length or 0) > 0 \
                and not request.is_json:
            return problems.problem(415, "Unsupported media type", "Send JSON: Content-Type: application/json.")
        return None

    @app.after_request
    def _headers(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        origin = request.headers.get("Origin")
        if origin and origin in app.config["CORS_ORIGINS"]:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key, If-Match"
            response.headers["Access-Control-Expose-Headers"] = "Location, ETag, X-Request-ID, Retry-After"
        return response

"""The whole suite as real processes for integration and end-to-end tests.

`RunningSuite` starts the nameko services and the gateway (gunicorn) with `services.launcher`, the
same code `make run` uses, against a fresh vhost (or a given broker, `amqp_uri=`) and fresh databases, and
offers small helpers: HTTP clients signed in as new users, RPC as any caller, and direct database access for
assertions. Processes are not restarted when they die unless `supervise=True` (as `nuanxin run` does): a
test decides when a killed process comes back.
"""
from __future__ import annotations

import secrets
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path

import requests

from services.launcher import Suite, wait_healthy
from shared.identity import SYSTEM, Caller
from tests.support.infra import SERVICES, PostgresDatabases, Vhost, check_broker, require_marked


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """HTTP client for /api/v1, optionally signed in."""

    def __init__(self, base_url: str, token: str | None = None, user: dict | None = None):
        self.base_url = base_url
        self.token = token
        self.user = user or {}
        self.session = requests.Session()

    @property
    def id(self) -> int:
        return self.user["id"]

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        url = path if path.startswith("http") else (
            self.base_url + (path if path.startswith("/api") or path.startswith("/healthz") else "/api/v1" + path))
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, url, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json if json is not None else {}, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


# Every suite running in this test process, so a failing test's report can show their logs.
RUNNING: list[RunningSuite] = []


class RunningSuite:
    def __init__(self, backend: str = "postgres", env: dict | None = None, replicas: dict | None = None,
                 workers: int = 2, threads: int = 8, amqp_uri: str | None = None, supervise: bool = False):
        self.backend = backend
        self.extra_env = env or {}
        self.replicas = replicas or {}
        self.workers, self.threads = workers, threads
        self.supervise = supervise
        # A broker of the test's own (e.g. tests.support.rabbit.PrivateRabbit), else a vhost on the shared one.
        self.amqp_uri = amqp_uri
        self.vhost = None if amqp_uri else Vhost()
        self.pg = PostgresDatabases() if backend == "postgres" else None
        self.data_dir = Path(tempfile.mkdtemp(prefix="nuanxin-test-"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.suite: Suite | None = None
        self.urls: dict[str, str] = {}
        self._pool = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> RunningSuite:
        require_marked(f"a suite ({self.backend})", "integration")
        if self.vhost is not None:
            self.amqp_uri = self.vhost.create()
        check_broker(self.amqp_uri)
        if self.pg is not None:
            self.urls = self.pg.create()
        else:
            self.urls = {s: f"sqlite:///{self.data_dir / (s + '.db')}" for s in SERVICES}
        self.secret = secrets.token_urlsafe(32)
        self.env = {
            "AMQP_URI": self.amqp_uri,
            "NUANXIN_DATA_DIR": str(self.data_dir),
            "NUANXIN_SECRET_KEY": self.secret,
            "NUANXIN_LOG_LEVEL": "INFO",
            # Every test signs in from 127.0.0.1: lock out accounts, never the whole test run's address.
            "NUANXIN_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
            "NUANXIN_CHANNEL_ALLOWED_NETWORKS": "127.0.0.0/8",  # the tests' SMTP and webhook peers listen there
            # Several suites run at once on one PostgreSQL (100 connections): each process keeps 2 idle.
            "NUANXIN_DB_POOL_SIZE": "2",
            # A broker of the test's own runs the services' default, quorum queues (see tests/conftest.py).
            **({"NUANXIN_QUEUE_TYPE": "quorum"} if self.vhost is None else {}),
            **{f"{s.upper()}_DATABASE_URL": url for s, url in self.urls.items()},
            **self.extra_env,
        }
        from shared.migrations import upgrade

        for service, url in self.urls.items():
            upgrade(service, url)
        self.suite = Suite(bind=f"127.0.0.1:{self.port}", env=self.env, replicas=self.replicas,
                           workers=self.workers, threads=self.threads,
                           log_path=self.data_dir / "suite.log", echo=False, supervise=self.supervise).start()
        RUNNING.append(self)
        try:
            wait_healthy(self.base_url, timeout=90)
        except TimeoutError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self in RUNNING:
            RUNNING.remove(self)
        if self._pool is not None:
            self._pool.close()
        if self.suite is not None:
            self.suite.stop()
        if self.vhost is not None:
            self.vhost.delete()
        if self.pg is not None:
            self.pg.drop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def log(self) -> str:
        path = self.data_dir / "suite.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    # -- helpers ---------------------------------------------------------------------------------------------
    def client(self, token: str | None = None) -> Client:
        return Client(self.base_url, token)

    def database(self, service: str):
        from shared.db import database_for

        return database_for(service, self.urls[service])

    def user(self, roles=("resident",), *, username: str | None = None, grids=(), groups=(),
             display_name: str | None = None, locale: str = "zh-CN", timezone: str = "Asia/Shanghai",
             email: str | None = None) -> Client:
        """A new account with these roles (created by the gateway's own code), signed in over HTTP."""
        from services.gateway.accounts import create_account

        username = username or f"u{uuid.uuid4().hex[:10]}"
        password = secrets.token_urlsafe(12) + "!Aa1"
        account = create_account(self.database("gateway"), {
            "username": username, "password": password, "display_name": display_name or username,
            "locale": locale, "timezone": timezone, "email": email, "groups": list(groups),
        }, roles=list(roles))
        if grids:  # a coordinator's grids are recorded on the grid tree, as an admin's grant does
            self.rpc("volunteers", "assign_coordinator", account["id"], list(grids))
        response = requests.post(f"{self.base_url}/api/v1/auth/token",
                                 json={"username": username, "password": password}, timeout=30)
        response.raise_for_status()
        tokens = response.json()
        client = Client(self.base_url, tokens["access_token"], {**account, "password": password})
        client.refresh_token = tokens["refresh_token"]
        return client

    def caller_of(self, client: Client) -> Caller:
        user = client.user
        return Caller(user_id=user["id"], roles=frozenset(user.get("roles") or ()),
                      groups=tuple(user.get("groups") or ()))

    def rpc(self, service: str, method: str, *args, caller: Caller = SYSTEM, **kwargs):
        from services.gateway.rpc import ProxyPool

        if self._pool is None:
            self._pool = ProxyPool(self.amqp_uri, timeout=30, size=8)
        return self._pool.call(service, method, *args, caller=caller, **kwargs)


# How stale the gateway's check of a session may be (services/gateway/auth.py, NUANXIN_SESSION_CHECK_SECONDS):
# a revocation or an account change made through one gateway process reaches the others within it.
SESSION_CHECK_SECONDS = 1.0


def within_session_bound(request, settled, message: str = "the change to reach every gateway process"):
    """`request()` repeated until `settled(response)`, for at most the session-check bound (and a little for
    the request itself); returns the last response. For a change made through another connection, which
    another gateway process may learn of only when its check of the session is due."""
    deadline = time.monotonic() + SESSION_CHECK_SECONDS + 0.5
    while True:
        started = time.monotonic()
        response = request()
        if settled(response):
            return response
        if started > deadline:
            raise AssertionError(f"{message}: still {response.status_code} {response.text[:200]} after "
                                 f"{SESSION_CHECK_SECONDS} s")
        time.sleep(0.05)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    """Poll until `predicate()` is truthy; returns its value or fails the test with `message`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)

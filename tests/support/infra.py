"""Real infrastructure for integration tests: a fresh RabbitMQ vhost and fresh PostgreSQL databases.

With CI=true a missing broker or database fails the run; elsewhere the tests that need it are skipped
with the reason.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import requests
import sqlalchemy

from shared import config

IN_CI = os.environ.get("CI", "").lower() == "true"
AMQP_BASE = os.environ.get("TEST_AMQP_URI", "pyamqp://guest:guest@127.0.0.1:5672/")
RABBIT_API = os.environ.get("TEST_RABBIT_API", "http://guest:guest@127.0.0.1:15672")
PG_BASE = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVICES = config.SERVICES


# The test pytest is running (set by tests/conftest.py), so that starting real infrastructure can check the
# test's markers; None outside a test (collection, scripts such as bench/).
CURRENT_TEST = None


def require_marked(what: str, *markers: str) -> None:
    """Fail the running test loudly when it starts `what` without carrying every one of `markers`."""
    item = CURRENT_TEST
    if item is None:
        return
    missing = [name for name in markers if item.get_closest_marker(name) is None]
    if missing:
        pytest.fail(f"{item.nodeid} starts {what} but is not marked {' and '.join(missing)}. Tests are marked "
                    "from the fixtures they use (tests/conftest.py, INFRASTRUCTURE); mark this one with "
                    f"pytest.mark.{missing[0]} or add the fixture that starts it there.", pytrace=False)


def unavailable(what: str, why: str):
    message = f"{what} is not reachable ({why})"
    if IN_CI:
        pytest.fail(f"{message}; CI needs it", pytrace=False)
    pytest.skip(message)


def _api(method: str, path: str, **kwargs):
    parts = urlsplit(RABBIT_API)
    base = urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), "", "", ""))
    return requests.request(method, base + path, auth=(parts.username or "guest", parts.password or "guest"),
                            timeout=10, **kwargs)


class Vhost:
    """A RabbitMQ vhost made for one test session (management API, else rabbitmqctl)."""

    def __init__(self):
        self.name = f"nuanxin-test-{uuid.uuid4().hex[:10]}"
        self.via = None

    def create(self) -> str:
        require_marked("a RabbitMQ vhost", "integration")
        try:
            _api("PUT", f"/api/vhosts/{self.name}").raise_for_status()
            user = urlsplit(AMQP_BASE).username or "guest"
            _api("PUT", f"/api/permissions/{self.name}/{user}",
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
            self.via = "api"
        except requests.RequestException as api_error:
            ctl = shutil.which("rabbitmqctl")
            if not ctl:
                unavailable("RabbitMQ management API", str(api_error))
            try:
                subprocess.run([ctl, "add_vhost", self.name], check=True, capture_output=True, timeout=60)
                subprocess.run([ctl, "set_permissions", "-p", self.name, "guest", ".*", ".*", ".*"],
                               check=True, capture_output=True, timeout=60)
            except (subprocess.SubprocessError, OSError) as exc:
                unavailable("RabbitMQ", f"{api_error}; rabbitmqctl: {exc}")
            self.via = "ctl"
        parts = urlsplit(AMQP_BASE)
        return urlunsplit((parts.scheme, parts.netloc, "/" + quote(self.name, safe=""), "", ""))

    def delete(self) -> None:
        if self.via == "api":
            _api("DELETE", f"/api/vhosts/{self.name}")
        elif self.via == "ctl":
            subprocess.run(["rabbitmqctl", "delete_vhost", self.name], capture_output=True, timeout=60)


def check_broker(uri: str) -> None:
    from kombu import Connection

    require_marked("a broker connection", "integration")

    try:
        with Connection(uri, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:
        unavailable("RabbitMQ", f"{type(exc).__name__}: {exc}")


class PostgresDatabases:
    """One fresh PostgreSQL database per service, dropped afterwards."""

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix or f"nx_test_{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []
        self.engine = None

    def create(self) -> dict[str, str]:
        require_marked("PostgreSQL databases", "integration", "postgres")
        try:
            self.engine = sqlalchemy.create_engine(PG_BASE.replace("postgresql://", "postgresql+psycopg2://", 1),
                                                   isolation_level="AUTOCOMMIT")
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception as exc:
            unavailable("PostgreSQL", f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        urls = {}
        base = urlsplit(PG_BASE)
        with self.engine.connect() as conn:
            for service in SERVICES:
                name = f"{self.prefix}_{service}"
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                self.names.append(name)
                urls[service] = urlunsplit((base.scheme, base.netloc, "/" + name, "", ""))
        return urls

    def drop(self) -> None:
        if self.engine is None:
            return
        with self.engine.connect() as conn:
            for name in self.names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.engine.dispose()

"""Fixtures shared by every test folder, and the markers that say what a test needs.

Unit tests use none of these. Integration and end-to-end tests get the whole suite running as real
processes against a fresh RabbitMQ vhost and fresh databases (PostgreSQL by default; SQLite too where a
test asks for both). Under CI=true a missing broker or database fails the run instead of skipping.

Markers are given here, not remembered: a test whose fixtures (or whose own body) start a suite, a broker
or PostgreSQL databases is marked `integration`, and `postgres` when that is PostgreSQL. Starting any of
them in a test without the marker fails that test by name (tests/support/infra.py, require_marked), so
`pytest -m "not integration"` starts nothing.
"""
from __future__ import annotations

import inspect
import os
import re
import warnings

import pytest

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
# This process reads and writes every suite's databases for its assertions: one idle connection each is plenty
# (the suites' own processes keep two; tests/support/suite.py), so several suites fit PostgreSQL's 100.
os.environ.setdefault("NUANXIN_DB_POOL_SIZE", "1")
# On the machine's one RabbitMQ node the tests make and delete a vhost per suite, with some fifty queues each:
# classic queues there (a single node replicates nothing). With quorum queues, that churn on a loaded machine
# left RabbitMQ 3.10 wedged (a deleted vhost's supervisor stopping in a loop, vhost deletions that never ended,
# then no new vhost and no connection) until its data folder was wiped. Suites on brokers of their own
# (tests/support/rabbit.py: the cluster test, the broker fault tests) run the default, quorum queues.
os.environ.setdefault("NUANXIN_QUEUE_TYPE", "classic")

from tests.support import infra  # noqa: E402
from tests.support.suite import RUNNING, RunningSuite  # noqa: E402

_suites: dict[str, RunningSuite] = {}


def _shared_suite(backend: str) -> RunningSuite:
    if backend not in _suites:
        _suites[backend] = RunningSuite(backend).start()
    return _suites[backend]


@pytest.fixture(scope="session")
def suite() -> RunningSuite:
    """The suite on PostgreSQL, shared by the whole test session."""
    return _shared_suite("postgres")


@pytest.fixture(scope="session")
def sqlite_suite() -> RunningSuite:
    """The suite on SQLite files, shared by the whole test session."""
    return _shared_suite("sqlite")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def any_suite(request) -> RunningSuite:
    """Runs a test once on each database."""
    return _shared_suite(request.param)


@pytest.fixture
def suite_factory():
    """Start a dedicated suite (custom env, replicas); stopped when the test ends."""
    started: list[RunningSuite] = []

    def start(backend: str = "postgres", **kwargs) -> RunningSuite:
        running = RunningSuite(backend, **kwargs).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def pytest_sessionfinish(session, exitstatus):
    for running in _suites.values():
        running.stop()
    _suites.clear()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of the suite's process log to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when == "call":
        for running in RUNNING:
            tail = "\n".join(running.log().splitlines()[-80:])
            report.sections.append((f"suite log ({running.backend}, port {running.port})", tail))


# ------------------------------------------------------------------------------------------------- markers

# The fixtures of this file that start real infrastructure, and the backend each runs on.
INFRASTRUCTURE = {"suite": "postgres", "sqlite_suite": "sqlite", "any_suite": "param", "suite_factory": "caller"}
# Anything else (a fixture of a test folder or module, or a test itself) starts it when its source calls one
# of these; a suite is on PostgreSQL unless asked for "sqlite".
_STARTS = re.compile(r"\b(RunningSuite|PrivateRabbit|PostgresDatabases|Vhost|check_broker|suite_factory)\(")
_ON_POSTGRES = re.compile(r"\b(?:RunningSuite|suite_factory)\((?!\s*[\"']sqlite)|\bPostgresDatabases\(")


def _source(function) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def _needs(item) -> tuple[bool, bool]:
    """(starts infrastructure, on PostgreSQL) for one collected test, from its fixture closure and body."""
    starts = postgres = False
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        for fixturedef in (info.name2fixturedefs.get(name, ()) if info else ()):
            here = fixturedef.baseid == "" or fixturedef.func.__module__ == __name__
            if here and name in INFRASTRUCTURE:
                starts = True
                backend = INFRASTRUCTURE[name]
                if backend == "param":
                    callspec = getattr(item, "callspec", None)
                    backend = callspec.params.get(name) if callspec else "postgres"
                postgres |= backend == "postgres"
            elif not here:
                source = _source(fixturedef.func)
                if _STARTS.search(source):
                    starts = True
                    postgres |= bool(_ON_POSTGRES.search(source))
    source = _source(getattr(item, "function", None))
    if _STARTS.search(source):
        starts = True
        postgres |= bool(_ON_POSTGRES.search(source))
    return starts, postgres


def pytest_collection_modifyitems(config, items):
    for item in items:
        starts, postgres = _needs(item)
        if starts and item.get_closest_marker("integration") is None:
            item.add_marker(pytest.mark.integration)
        if postgres and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Lets tests/support check the running test's markers before it starts real infrastructure."""
    infra.CURRENT_TEST = item
    try:
        yield
    finally:
        infra.CURRENT_TEST = None

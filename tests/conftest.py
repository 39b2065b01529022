"""Fixtures shared by every test folder.

Unit tests use none of these. Integration and end-to-end tests get the whole suite running as real
processes against a fresh RabbitMQ vhost and fresh databases (PostgreSQL by default; SQLite too where a
test asks for both). Under CI=true a missing broker or database fails the run instead of skipping.
"""
from __future__ import annotations

import warnings

import pytest

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

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

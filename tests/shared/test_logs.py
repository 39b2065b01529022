"""Service log lines: the request id on each, and domain errors as one line without a traceback."""
from __future__ import annotations

import io
import logging
import logging.config
from pathlib import Path

import yaml

from shared import logs

ROOT = Path(__file__).resolve().parents[2]


def configured_logger() -> tuple[logging.Logger, io.StringIO]:
    """A logger set up with the handler, filters and format of config/nameko.yaml."""
    config = yaml.safe_load((ROOT / "config" / "nameko.yaml").read_text().replace("${NUANXIN_LOG_LEVEL:INFO}", "INFO"))
    logging_config = config["LOGGING"]
    stream = io.StringIO()
    logging_config["handlers"]["console"]["stream"] = stream
    logging_config["root"] = {"level": "INFO", "handlers": []}
    logging_config["loggers"] = {"nameko.containers": {"handlers": ["console"], "level": "INFO", "propagate": False}}
    logging.config.dictConfig(logging_config)
    return logging.getLogger("nameko.containers"), stream


def test_expected_errors_are_one_line_with_the_request_id():
    logger, stream = configured_logger()
    logs._current.request_id = "abc123"
    try:
        raise ValueError("slot taken")
    except ValueError as exc:
        logger.warning("(expected) error handling worker %s: %s", "worker", exc, exc_info=True)
        logger.error("unexpected: %s", exc, exc_info=True)
    logs._current.request_id = None
    lines = stream.getvalue()
    expected_line, rest = lines.split("\n", 1)
    assert "[abc123]" in expected_line and "slot taken" in expected_line
    assert not rest.startswith("Traceback")
    assert "Traceback" in rest  # a real error keeps its traceback


def test_outside_a_request_the_id_is_a_dash():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    assert logs.RequestIdFilter().filter(record) and record.request_id == "-"


def test_a_domain_error_logged_with_its_traceback_is_one_line():
    from shared.errors import NotFound

    logger, stream = configured_logger()
    try:
        raise NotFound("Space 1 does not exist.")
    except NotFound as exc:
        logger.exception("error handling worker %s: %s", "worker", exc)
    assert stream.getvalue().count("\n") == 1 and "Space 1 does not exist." in stream.getvalue()


def test_every_rpc_entrypoint_declares_the_domain_errors_expected():
    # nameko logs an undeclared exception with its traceback: each entrypoint must name them.
    from nameko.rpc import Rpc

    from services.bookings.service import BookingsService
    from services.notifications.service import NotificationsService
    from services.volunteers.service import VolunteersService
    from shared.errors import EXPECTED

    for service in (BookingsService, VolunteersService, NotificationsService):
        entrypoints = [e for base in service.__mro__ for m in vars(base).values()
                        for e in getattr(m, "nameko_entrypoints", ()) if isinstance(e, Rpc)]
        assert entrypoints
        assert all(e.expected_exceptions == EXPECTED for e in entrypoints), service.__name__

"""The gateway's request id in every log line a service writes while handling that request."""
from __future__ import annotations

import logging
import threading

from nameko.extensions import DependencyProvider

from shared.identity import REQUEST_ID_KEY

# Green-thread local under eventlet (nameko monkey-patches threading): one value per worker.
_current = threading.local()


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` ("-" outside a request) so formats can print `%(request_id)s`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = getattr(_current, "request_id", None) or "-"
        return True


class RequestIdProvider(DependencyProvider):
    """Remembers the request id of the worker's context data for the duration of the worker."""

    def worker_setup(self, worker_ctx):
        _current.request_id = worker_ctx.data.get(REQUEST_ID_KEY)

    def worker_teardown(self, worker_ctx):
        _current.request_id = None

    def get_dependency(self, worker_ctx):
        return worker_ctx.data.get(REQUEST_ID_KEY)


class ExpectedErrorFilter(logging.Filter):
    """A domain error (404, 409, 422…) is an answer, not a crash: one line, never a traceback.

    nameko logs an entrypoint's expected exceptions as "(expected) …" with the traceback attached; any
    record carrying a domain error (shared.errors.DomainError) is treated alike, whoever logs it. Attached
    to the handler (config/nameko.yaml), so it sees the records of every logger, propagated or not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from shared.errors import DomainError

        exc = record.exc_info[1] if record.exc_info else None
        expected = isinstance(exc, DomainError) or (
            record.name == "nameko.containers" and str(record.msg).startswith("(expected)"))
        if expected:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True

"""Errors that cross the RPC boundary as themselves.

Plain values: nothing here imports nameko. nameko serialises an exception by class path and args; the wire
layer (shared/amqp.py) registers each class of `WIRE` so the caller (the gateway) receives the same type
back and maps it to an HTTP problem. Arguments are kept JSON-able: a human `detail`, optional field
messages, optional extra members for the problem document.
"""
from __future__ import annotations

import json
from typing import Any

# The title of every problem document is the RFC 9110 reason phrase of its status (RFC 6585 for 429):
# one table, used by the domain errors here and by the gateway for every other answer.
REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required",
    412: "Precondition Failed", 413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
    416: "Range Not Satisfiable", 417: "Expectation Failed", 421: "Misdirected Request",
    422: "Unprocessable Content", 426: "Upgrade Required", 428: "Precondition Required",
    429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


def reason(status: int) -> str:
    """The reason phrase of an HTTP status, the `title` of its problem documents."""
    return REASONS.get(status) or ("Client Error" if 400 <= status < 500 else "Server Error")


class DomainError(Exception):
    status = 400
    title = reason(400)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.title = reason(cls.status)

    def __init__(self, detail: str = "", errors: dict | str | None = None, extra: dict | str | None = None):
        # nameko turns exception args into strings on the wire, so structured members travel as JSON text.
        errors = json.loads(errors) if isinstance(errors, str) else (errors or {})
        extra = json.loads(extra) if isinstance(extra, str) else (extra or {})
        super().__init__(detail, json.dumps(errors, default=str), json.dumps(extra, default=str))
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra

    def __str__(self) -> str:
        return self.detail

    def to_problem(self) -> dict[str, Any]:
        problem = {"type": "about:blank", "title": self.title, "status": self.status, "detail": self.detail}
        if self.errors:
            problem["errors"] = self.errors
        # Extra members never overwrite the standard ones (a `status` of the domain is not the HTTP status).
        problem.update({k: v for k, v in self.extra.items() if k not in problem})
        return problem


class Invalid(DomainError):
    """Input that breaks a rule; `errors` maps field names to lists of messages."""

    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class Unauthenticated(DomainError):
    status = 401


class PreconditionFailed(DomainError):
    status = 412


class Unavailable(DomainError):
    """A service this one depends on did not answer in time: try again shortly (503, Retry-After)."""

    status = 503
    retry_after = 5


EXPECTED = (Invalid, NotFound, Conflict, Forbidden, Unauthenticated, PreconditionFailed, Unavailable)


def invalid_from_marshmallow(exc) -> Invalid:
    """Turn a marshmallow ValidationError into Invalid with field messages."""
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return Invalid("The request has invalid fields.", errors=messages)

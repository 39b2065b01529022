"""Every error as application/problem+json (RFC 9457); never a traceback or an internal name."""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

from services.gateway.rpc import ServiceUnavailable
from shared.errors import DomainError, reason

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(status: int, detail: str = "", **members):
    """A problem document; its title is always the reason phrase of the status (shared.errors.REASONS)."""
    body = {"type": "about:blank", "title": reason(status), "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in members.items() if v is not None})
    if getattr(g, "request_id", None):
        body["request_id"] = g.request_id
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


def _flatten_webargs(messages) -> dict:
    """webargs nests messages by location ({"json": {...}, "query": {...}}); clients want field names."""
    if not isinstance(messages, dict):
        return {"_schema": messages}
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def http_exception(exc: HTTPException):
    """werkzeug's and flask-smorest's own errors (400, 404, 405, 413, 415, 422…) as problems."""
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages")
    status = exc.code or 500
    if errors is not None:
        response = problem(status, "The request has invalid fields." if status == 422 else exc.description,
                           errors=_flatten_webargs(errors))
    else:
        response = problem(status, data.get("message") or exc.description)
    # Keep protocol headers such as Allow (405); the body is ours.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        body = exc.to_problem()
        body.pop("type", None)
        body.pop("title", None)
        status, detail = body.pop("status"), body.pop("detail", "")
        response = problem(status, detail, **body)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(ServiceUnavailable)
    def _unavailable(exc: ServiceUnavailable):
        response = problem(503, exc.detail)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return http_exception(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem(500, "Something went wrong on our side.")

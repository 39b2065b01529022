"""HTTP resources of /api/v1. Each area is a blueprint in its own module; helpers here are shared by all."""
from __future__ import annotations

import csv
import io

from flask import Response, current_app, g, jsonify, request
from flask_smorest import Api, Blueprint
from marshmallow import Schema
from webargs.flaskparser import FlaskParser

from services.gateway.auth import authenticate
from shared.idempotency import derive
from shared.identity import ANONYMOUS, Caller

PREFIX = "/api/v1"
SECURED = [{"bearerAuth": []}]


class ArgumentsParser(FlaskParser):
    """webargs' parser, with one instance of each schema given as a class to `@blp.arguments`: webargs made a
    new one for every request (copying every declared field); a schema instance loads in any thread."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._schemas: dict[type, Schema] = {}

    def _get_schema(self, argmap, req):
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._schemas.get(argmap)
            return schema if schema is not None else self._schemas.setdefault(argmap, argmap())
        return super()._get_schema(argmap, req)


# Every blueprint's `@blp.arguments` wraps its endpoint with this parser when its module is imported, which
# is after this package's own module has run.
Blueprint.ARGUMENTS_PARSER = ArgumentsParser()


def db():
    return current_app.extensions["nuanxin.db"]


def current_caller(required: bool = True) -> Caller:
    """The signed-in caller (401 problem when required and absent or invalid)."""
    if "caller" not in g:
        header = request.headers.get("Authorization")
        if header is None and not required:
            return ANONYMOUS
        g.caller, g.session_id = authenticate(db(), header)
    return g.caller


def call(service: str, method: str, *args, caller: Caller | None = None, **kwargs):
    """RPC to a service on behalf of the current caller, with the request id in the context, and — in a
    state-changing request — an idempotency key of its own for each call (shared/idempotency.py)."""
    pool = current_app.extensions["nuanxin.rpc"]
    who = caller if caller is not None else current_caller()
    return pool.call(service, method, *args, caller=who, request_id=g.get("request_id"),
                     idempotency_key=_call_key(service, method), **kwargs)


def _call_key(service: str, method: str) -> str | None:
    """The n-th call of `service.method` in this request gets the same key on every retry of it."""
    base = g.get("idempotency_base")
    if base is None:
        return None
    counts = g.setdefault("rpc_calls", {})
    counts[service, method] = counts.get((service, method), 0) + 1
    return derive(base, service, method, counts[service, method])


def verb(blp, rule: str, body, answer, forward, *, name: str, summary: str,
         responses: dict[int, str] | None = None, finish=None):
    """The one way to add a verb endpoint, `POST <rule>` (e.g. `/actions/<int:action_id>/accept`): the body is
    validated with the contract schema `body`, and the validated data is handed on, with the path's ids, to
    `forward(*ids, data)` (one RPC); its answer goes out through `finish` (`respond` by default). `name` is
    the operation's id; `answer` documents the 200; `responses` the other statuses (409: "not from here")."""
    finish = finish or respond

    def endpoint(data, **ids):
        return finish(forward(*ids.values(), data))

    endpoint.__name__ = name
    endpoint.__doc__ = summary
    for status, description in (responses or {}).items():
        endpoint = blp.alt_response(status, description=description)(endpoint)
    endpoint = blp.doc(security=SECURED, summary=summary)(blp.response(200, answer)(blp.arguments(body)(endpoint)))
    return blp.post(rule)(endpoint)


def respond(body, status: int = 200, headers: dict | None = None):
    """Send a service's answer as it is: it was serialised by the service's own schema already.

    Returning a Response keeps flask-smorest from dumping it a second time; the endpoint's
    `@blp.response` schema still documents it in the OpenAPI document.
    """
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def wants_csv() -> bool:
    """Whether a report is asked for as CSV: `?format=csv`, or an Accept header preferring text/csv."""
    if request.args.get("format") == "csv":
        return True
    if request.args.get("format") == "json":
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv" and request.accept_mimetypes["text/csv"] > request.accept_mimetypes["application/json"]


def csv_answer(rows, name: str):
    """A report's rows (the first naming the columns) as a CSV download: UTF-8 with a byte-order mark (so
    spreadsheets read the Chinese), CRLF lines, empty cells for nulls, saved as `name`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(("" if value is None else value for value in row) for row in rows)
    return Response("\ufeff" + out.getvalue(), status=200, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def created(body: dict, location: str):
    return respond(body, 201, {"Location": location})


def etag(version: int | str) -> str:
    return f'"{version}"'


def if_match_version() -> int | None:
    """The version named by an If-Match header (`"3"`), for optimistic concurrency; None when absent."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    try:
        return int(header.strip().removeprefix("W/").strip('"'))
    except ValueError:
        from shared.errors import PreconditionFailed

        raise PreconditionFailed("If-Match must be an ETag this API returned.") from None


def register_blueprints(app, api: Api) -> None:
    from services.gateway import docs_assets
    from services.gateway.api import (
        accounts,
        activities,
        bookings,
        charity,
        health,
        notifications,
        volunteers,
    )

    app.register_blueprint(health.blp)
    app.register_blueprint(docs_assets.blp)
    for module in (accounts, bookings, volunteers, charity, notifications, activities):
        api.register_blueprint(module.blp, url_prefix=PREFIX)

"""The OpenAPI document: every error is a Problem, and every operation lists the errors it can answer.

flask-smorest documents what each endpoint declares; this module adds what the gateway does around every
endpoint, so no endpoint author has to repeat it: 401/403 on secured operations, 400/413/415/422 where a
body is read, 404 where the path names a resource, 409/422 and the Idempotency-Key header on POSTs, 412
on updates, 429 on sign-in, 503 when a service does not answer, and `Location` on every 201.
"""
from __future__ import annotations

import http

from apispec import BasePlugin
from flask_smorest import Api
from marshmallow import validate

from services.gateway.schemas import ProblemSchema
from shared import fields
from shared.errors import reason
from shared.inputs import MAX_ID

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
IDEMPOTENCY_KEY = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "description": "Makes a retried POST safe: the first answer is replayed, no second object is created.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"},
}
# Endpoints guarded by the login throttle (429 with Retry-After).
THROTTLED = ("/api/v1/auth/token", "/api/v1/me/password")
# Sign-in and token endpoints are exempt from Idempotency-Key (tokens must not be replayed).
NOT_IDEMPOTENT = ("/api/v1/auth/",)


NULL_OBJECT = {"type": "object", "nullable": True}


def stated_limits(converter, field, ret, **kwargs) -> dict:
    """What apispec leaves out of a field's schema although the field enforces it: open ranges
    (`exclusiveMinimum`/`exclusiveMaximum`), lists naming each value once (`uniqueItems`), and a mapping
    whose keys are one of a few names (those names as `properties`, nothing else allowed)."""
    extra: dict = {}
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                extra["exclusiveMinimum"] = True
            if validator.max is not None and not validator.max_inclusive:
                extra["exclusiveMaximum"] = True
        elif isinstance(validator, fields.Unique):
            extra["uniqueItems"] = True
    # apispec writes a nullable nested object as anyOf [the object, any object that may be null]; only
    # null is meant by the second.
    any_of = ret.get("anyOf")
    if any_of and NULL_OBJECT in any_of:
        extra["anyOf"] = [{**NULL_OBJECT, "enum": [None]} if item == NULL_OBJECT else item for item in any_of]
    key_field = getattr(field, "key_field", None)
    names = [v.choices for v in getattr(key_field, "validators", ()) if isinstance(v, validate.OneOf)]
    if names and "additionalProperties" in ret:
        extra["properties"] = {name: ret["additionalProperties"] for name in names[0]}
        extra["additionalProperties"] = False
    return extra


class NuanxinApi(Api):
    """flask-smorest's Api with RFC 9457 problem documents as the error responses."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *args, **kwargs):
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(stated_limits)

    def _register_responses(self):
        for status in http.HTTPStatus:
            response: dict = {"description": reason(status) if status >= 400 else status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM: {"schema": ProblemSchema}}
            if status in (429, 503):
                response["headers"] = RETRY_AFTER
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", {
            "description": "Any other error, as a problem document",
            "content": {PROBLEM: {"schema": ProblemSchema}}}, lazy=True)


def idempotent_path(path: str) -> bool:
    return not path.startswith(NOT_IDEMPOTENT)


class StandardResponsesPlugin(BasePlugin):
    """Adds the gateway-wide error responses and headers to every operation (apispec operation helper)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            self._complete(path or "", method, operation)

    @staticmethod
    def _standard_codes(path: str, method: str, operation: dict) -> list[int]:
        params = operation.get("parameters", [])
        codes = [503]
        if "{" in path or any(isinstance(p, dict) and p.get("in") == "query" for p in params):
            codes.append(414)  # the URL may be at most services/gateway/inputs.py MAX_URL_BYTES long
        if operation.get("security"):
            codes += [401, 403]
        if "{" in path:
            codes.append(404)
        if "requestBody" in operation:
            codes += [400, 413, 415, 422]
        if any(isinstance(p, dict) and p.get("in") == "query" for p in params):
            codes.append(422)
        if method == "post":
            codes += [409, 422]
        if method in ("put", "patch"):
            codes.append(412)
        if path in THROTTLED:
            codes.append(429)
        return codes

    def path_helper(self, path=None, operations=None, parameters=None, **kwargs):
        for parameter in parameters or []:
            # Ids in paths are database ids: 1..MAX_ID (the gateway answers 422 outside).
            if isinstance(parameter, dict) and parameter.get("in") == "path" \
                    and parameter.get("schema", {}).get("type") == "integer":
                parameter["schema"].update(minimum=1, maximum=MAX_ID)

    def _complete(self, path: str, method: str, operation: dict) -> None:
        responses = operation.setdefault("responses", {})
        documented = {str(code) for code in responses}
        for code in sorted(set(self._standard_codes(path, method, operation))):
            if str(code) not in documented:
                responses[str(code)] = http.HTTPStatus(code).name
        if method == "post" and idempotent_path(path):
            operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
        for code, response in responses.items():
            if not isinstance(response, dict):
                continue
            if str(code).startswith(("4", "5")) and "content" not in response:
                response["content"] = {PROBLEM: {"schema": PROBLEM_REF}}
            if str(code) == "201":
                response.setdefault("headers", {}).setdefault("Location", {
                    "description": "where the new resource lives", "required": True,
                    "schema": {"type": "string"}})

"""The input rules of shared.inputs applied to every request at the door, before any endpoint runs.

Answers a problem when the URL is too long (414), when the JSON body nests too deeply or when any text
the request carries — body (keys and values), query string, path and the headers the gateway reads —
holds a NUL or an unpaired surrogate (422, with the offending fields named under `errors`). The
endpoints' schemas then apply the same rules again per field (shared.fields), as the services do.
"""
from __future__ import annotations

from flask import current_app, request

from services.gateway import problems
from shared import inputs

# Longest request target (path and query string, as sent) the gateway reads; gunicorn is configured to
# pass longer ones through to here (services/launcher.py) so they get a problem document too.
MAX_URL_BYTES = 4096
# Headers whose values are input to an endpoint (the others are only compared or ignored).
INPUT_HEADERS = ("Authorization", "Idempotency-Key", "If-Match", "X-Request-ID")


def url_too_long():
    """414 when the request target is longer than MAX_URL_BYTES."""
    environ = request.environ
    target = environ.get("RAW_URI") or (environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))
    if len(target) > MAX_URL_BYTES:
        return problems.problem(414, f"The URL may be at most {MAX_URL_BYTES} bytes long; send long input "
                                     "in a request body.")
    return None


def hostile_input():
    """422 for text that breaks the rules anywhere in the request, or a body nested too deeply."""
    errors: dict = {}
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and inputs.bad_text(value):
            errors[name] = [inputs.TEXT_MESSAGE]
        elif isinstance(value, int) and not 1 <= value <= inputs.MAX_ID:
            errors[name] = [inputs.ID_MESSAGE]
    for name, values in request.args.lists():
        if inputs.bad_text(name):
            errors[inputs.text_key(name)] = [f"the parameter name {inputs.TEXT_MESSAGE}"]
        elif any(inputs.bad_text(value) for value in values):
            errors[name] = [inputs.TEXT_MESSAGE]
    for name in INPUT_HEADERS:
        value = request.headers.get(name)
        if value is not None and inputs.bad_text(value):
            errors[name] = [inputs.TEXT_MESSAGE]
    if request.method in ("POST", "PUT", "PATCH"):
        raw = request.get_data(cache=True)
        if not raw.strip() and _requires_body():
            errors["body"] = ["a JSON body is required (send {} to change nothing)"
                              if request.method == "PATCH" else "a JSON body is required"]
        elif request.is_json:
            errors.update(_body_errors(raw))
    if errors:
        return problems.problem(422, "The request has invalid fields.", errors=errors)
    return None


def _requires_body() -> bool:
    """Whether the endpoint documents a required JSON body (flask-smorest's `@blp.arguments`)."""
    view = current_app.view_functions.get(request.endpoint) if request.url_rule is not None else None
    parameters = ((getattr(view, "_apidoc", None) or {}).get("arguments") or {}).get("parameters") or []
    return any(p.get("in") == "json" and p.get("required", True) for p in parameters)


def _body_errors(raw: bytes) -> dict:
    try:
        body = inputs.loads(raw)  # the depth is checked before the parser runs
    except inputs.TooDeep:
        return {"body": [inputs.DEPTH_MESSAGE]}
    except ValueError:
        return {}  # not JSON: the endpoint's parser answers 400
    found = inputs.text_errors(body)
    if isinstance(found, list):  # the whole body is one string
        return {"body": found}
    return found or {}

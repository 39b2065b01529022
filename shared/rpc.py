"""The RPC boundary: entrypoints that let domain errors cross as themselves, and schema validation."""
from __future__ import annotations

import functools

from marshmallow import Schema, ValidationError

from shared.amqp import rpc as amqp_rpc
from shared.errors import EXPECTED, invalid_from_marshmallow
from shared.idempotency import exactly_once

# The nameko entrypoint behind `rpc`.
_entrypoint = amqp_rpc


def rpc(method=None, *, once: bool = True, **options):
    """`@rpc`: a nameko RPC entrypoint whose domain errors are answers, not crashes (nameko logs them as
    expected errors), and whose keyed requests take effect once (shared/idempotency.py).

    `@rpc(once=False)` for a method whose transactions must each commit on their own — a saga that records
    its step before asking another service, and its outcome (even a failure) after: one unit of work would
    hold its first step uncommitted across the call and roll its record of a failure back."""
    if method is None:
        return functools.partial(rpc, once=once, **options)
    # nameko's decorator ignores keyword options when it is handed the function directly.
    return _entrypoint(expected_exceptions=EXPECTED, **options)(exactly_once(method) if once else method)


# One instance of each schema class `load` is given: making one copies every declared field, on every call.
_SCHEMAS: dict[type[Schema], Schema] = {}


def load(schema: Schema | type[Schema], data, **kwargs):
    """Validate `data` with a marshmallow schema; broken rules become `Invalid` with field messages."""
    if isinstance(schema, type):
        schema = _SCHEMAS.get(schema) or _SCHEMAS.setdefault(schema, schema())
    try:
        return schema.load(data if data is not None else {}, **kwargs)
    except ValidationError as exc:
        raise invalid_from_marshmallow(exc) from None

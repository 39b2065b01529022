"""The RPC boundary: entrypoints that let domain errors cross as themselves, and schema validation."""
from __future__ import annotations

import functools

from marshmallow import Schema, ValidationError
from nameko.rpc import rpc as nameko_rpc

from shared.errors import EXPECTED, invalid_from_marshmallow

# Domain errors are answers, not crashes: nameko logs them without a traceback.
rpc = functools.partial(nameko_rpc, expected_exceptions=EXPECTED)


def load(schema: Schema | type[Schema], data, **kwargs):
    """Validate `data` with a marshmallow schema; broken rules become `Invalid` with field messages."""
    if isinstance(schema, type):
        schema = schema()
    try:
        return schema.load(data if data is not None else {}, **kwargs)
    except ValidationError as exc:
        raise invalid_from_marshmallow(exc) from None

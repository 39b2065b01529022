"""Event contracts: the one place where every event type, its version and its payload are defined.

An envelope is `{event_id, type, version, occurred_at, source, payload}`. Producers validate the payload
strictly (unknown fields are a bug); consumers parse leniently (a newer producer may add fields).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields


@dataclass(frozen=True)
class EventType:
    name: str
    source: str
    schema: type[Schema]
    version: int = 1
    # Critical events go through quiet hours (typhoon broadcast, escalation to the command).
    critical: bool = False
    description: str = ""


REGISTRY: dict[str, EventType] = {}


def register(name: str, source: str, schema: type[Schema], *, version: int = 1, critical: bool = False,
             description: str = "") -> EventType:
    if name in REGISTRY:
        raise ValueError(f"event type {name} registered twice")
    REGISTRY[name] = EventType(name, source, schema, version, critical, description)
    return REGISTRY[name]


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    type = fields.String(required=True)
    version = fields.Integer(required=True)
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    source = fields.String(required=True)
    payload = fields.Dict(required=True)


_ENVELOPE = EnvelopeSchema()

# One instance per payload schema and strictness: making one copies every declared field, on every event.
_SCHEMAS: dict[tuple[str, str], Schema] = {}


def _schema(event_type, unknown: str) -> Schema:
    key = (event_type.name, unknown)
    return _SCHEMAS.get(key) or _SCHEMAS.setdefault(key, event_type.schema(unknown=unknown))


def make_event(type_name: str, payload: dict, *, occurred_at: datetime | None = None) -> dict:
    """A validated, JSON-ready envelope for `type_name`."""
    event_type = REGISTRY[type_name]
    schema = _schema(event_type, RAISE)
    # load() validates, dump() normalises datetimes and decimals into JSON-able values.
    clean = schema.dump(schema.load(payload))
    return {
        "event_id": str(uuid.uuid4()),
        "type": type_name,
        "version": event_type.version,
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "source": event_type.source,
        "payload": clean,
    }


def parse_event(envelope: dict) -> dict:
    """Validate an incoming envelope; the payload is loaded with the type's schema (lenient)."""
    data = _ENVELOPE.load(envelope)
    event_type = REGISTRY.get(data["type"])
    if event_type is None:
        raise ValidationError({"type": [f"unknown event type {data['type']}"]})
    data["payload"] = _schema(event_type, EXCLUDE).load(data["payload"])
    data["event_id"] = str(data["event_id"])
    return data


# The modules below register their event types on import.
from shared.events import accounts, activities, bookings, charity, volunteers  # noqa: E402,F401

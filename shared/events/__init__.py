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


def make_event(type_name: str, payload: dict, *, occurred_at: datetime | None = None) -> dict:
    """A validated, JSON-ready envelope for `type_name`."""
    event_type = REGISTRY[type_name]
    schema = event_type.schema(unknown=RAISE)
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
    data = EnvelopeSchema().load(envelope)
    event_type = REGISTRY.get(data["type"])
    if event_type is None:
        raise ValidationError({"type": [f"unknown event type {data['type']}"]})
    data["payload"] = event_type.schema(unknown=EXCLUDE).load(data["payload"])
    data["event_id"] = str(data["event_id"])
    return data


# The modules below register their event types on import.
from shared.events import accounts, activities, bookings, charity, volunteers  # noqa: E402,F401

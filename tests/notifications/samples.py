"""Sample event payloads built from the contracts' schemas, so every field a template may use is there."""
from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import fields

from shared.events import REGISTRY

WHEN = datetime(2026, 9, 15, 11, 30, tzinfo=UTC)


def sample_value(name: str, field: fields.Field):
    if isinstance(field, fields.List):
        return [7, 8] if isinstance(field.inner, fields.Integer) else ["rider"]
    if isinstance(field, fields.Boolean):
        return False
    if isinstance(field, fields.Integer):
        return {"to_level": 3, "from_level": 2, "level": 2}.get(name, 5)
    if isinstance(field, fields.DateTime):
        return WHEN
    if isinstance(field, fields.Dict):
        return {}
    if name == "timezone":
        return "Asia/Shanghai"
    if name == "locale":
        return "zh-CN"
    if name == "change":  # an activity session's change: one of the contract's values
        return "moved"
    return f"«{name}»"


def sample_payload(type_name: str, **overrides) -> dict:
    """A payload of `type_name` with every field set (ids 5, 7, 8 unless overridden)."""
    schema = REGISTRY[type_name].schema()
    payload = {name: sample_value(name, field) for name, field in schema.fields.items()}
    # A sample action is a single one, not a check of a mass action (those are digested: tested apart).
    for name in ("parent_id", "parent_reporter_id"):
        if name in payload:
            payload[name] = None
    # Nobody released and no earlier level unless a test says so (their audiences still render).
    for name in ("released_ids", "earlier_coordinator_ids"):
        if name in payload:
            payload[name] = []
    payload.update(overrides)
    return payload

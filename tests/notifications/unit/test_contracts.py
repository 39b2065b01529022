"""The gateway forwards the data it validated with the notifications contracts, and the service loads it with
the same schema again: every request and query schema loads its own loaded output unchanged."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifications import contracts

SAMPLES = {
    contracts.InboxQuerySchema: [{}, {"limit": "5", "cursor": "12", "unread": "true", "category": "actions"}],
    contracts.PreferencesSchema: [
        {},
        {"quiet_hours": {"start": "22:00", "end": "07:00"}, "timezone": "Asia/Shanghai",
         "categories": {"bookings": {"inbox": True, "email": False}}},
        {"quiet_hours": None, "timezone": None},
    ],
    contracts.ChannelQuerySchema: [{}, {"team_id": "3"}, {"grid_id": 7}],
    contracts.ChannelRequestSchema: [
        {"name": "email", "url": "mailtos://user:pass@example.com"},
        {"name": "grid-bot", "url": "wecombot://BOTKEY", "grid_id": 4, "locale": "en"},
        {"name": "team_bot", "url": "ntfys://ntfy.sh/topic", "team_id": 2, "grid_id": None},
    ],
    contracts.BroadcastRequestSchema: [
        {"title": "台风", "body": "请留在室内", "audience": [{"kind": "everyone"}]},
        {"title": "台风", "body": "请留在室内", "title_en": "Typhoon", "body_en": "Stay inside",
         "audience": [{"kind": "grid", "id": 3, "only": "merchants"}, {"kind": "role", "role": "merchant"},
                      {"kind": "team", "id": 2}],
         "severity": "critical", "send_at": "2026-12-08T08:00:00+08:00", "expires_at": "2026-12-08T12:00:00Z"},
        {"title": "t", "body": "b", "audience": [{"kind": "everyone"}],
         "send_at": datetime(2026, 12, 8, tzinfo=UTC), "expires_at": None},
    ],
    contracts.BroadcastQuerySchema: [{}, {"mine": "true", "limit": 100, "cursor": "40"}],
    contracts.DeliveryQuerySchema: [{}, {"status": "sent", "limit": "3", "cursor": "9"}],
    contracts.ReplayRequestSchema: [{}, {"ids": [1, 2, 3]}, {"ids": []}],
}


@pytest.mark.parametrize(("schema", "body"), [(schema, body) for schema, bodies in SAMPLES.items()
                                              for body in bodies],
                         ids=lambda value: value.__name__ if isinstance(value, type) else None)
def test_a_contract_loads_its_own_loaded_output_unchanged(schema, body):
    loaded = schema().load(body)
    assert schema().load(loaded) == loaded


def test_every_request_and_query_schema_has_samples():
    """A new request or query schema in the contracts gets its samples here."""
    asked = {value for name, value in vars(contracts).items()
             if isinstance(value, type) and value.__module__ == contracts.__name__
             and name.endswith(("RequestSchema", "QuerySchema")) or value is contracts.PreferencesSchema}
    assert asked <= set(SAMPLES)

"""Activities' contract schemas load their own loaded output unchanged (the gateway forwards what it loaded and
the service loads it again), and refuse bad input with field messages."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from services.activities.contracts import (
    ActivityCancelSchema,
    ActivityQuerySchema,
    ActivityRequestSchema,
    ActivityUpdateSchema,
    SessionMoveSchema,
    SessionRequestSchema,
    SignUpQuerySchema,
    SignUpRequestSchema,
)

SESSION = {"starts_at": "2026-12-14T19:00:00+08:00", "ends_at": "2026-12-14T20:30:00+08:00", "space_id": 3,
           "rrule": "FREQ=WEEKLY;COUNT=8", "exdates": ["2027-01-04"]}
ROUTE = [{"name": "新华路 211 号", "note": "起点"}, {"name": "番禺路 60 号"}]

BODIES = [
    (ActivityRequestSchema, {"title_zh": "新域夜校 手机摄影", "kind": "class", "capacity": 30}),
    (ActivityRequestSchema, {
        "title_zh": "行走党课", "title_en": "Walking lesson", "description_zh": "沿新华路", "kind": "walk",
        "organiser_team_id": 4, "site_id": 1, "capacity": 25, "signup_opens_at": "2026-12-01T00:00:00+08:00",
        "signup_closes_at": "2026-12-13T00:00:00+08:00", "cancel_before_minutes": 120,
        "max_places_per_person": 2, "one_per_household": True, "hold_minutes": 60, "groups": ["rider", "courier"],
        "roles": ["volunteer"], "timezone": "Asia/Shanghai", "route": ROUTE,
        "sessions": [SESSION, {"starts_at": "2026-12-20T09:00:00", "ends_at": "2026-12-20T11:00:00",
                               "timezone": "Asia/Shanghai", "place": "新华路 211 号门口"}]}),
    (ActivityUpdateSchema, {"capacity": 40, "title_en": "Night school", "route": ROUTE, "signup_opens_at": None}),
    (ActivityUpdateSchema, {}),
    (ActivityQuerySchema, {"kind": "party", "site_id": "2", "from": "2026-12-01T00:00:00Z",
                           "to": "2027-01-01T00:00:00Z", "eligible": "true", "mine": "false", "limit": "50",
                           "cursor": "12", "state": "open"}),
    (ActivityQuerySchema, {}),
    (SessionRequestSchema, SESSION),
    (SessionRequestSchema, {"starts_at": "2026-12-20T09:00:00", "ends_at": "2026-12-20T11:00:00",
                            "place": "新华路 211 号门口"}),
    (SessionMoveSchema, {"starts_at": "2026-12-15T19:00:00+08:00", "ends_at": "2026-12-15T20:30:00+08:00",
                         "space_id": 4, "reason": "教室维修"}),
    (ActivityCancelSchema, {"reason": "台风"}),
    (ActivityCancelSchema, {}),
    (SignUpRequestSchema, {"places": 2, "household": "番禺路 60 号 302", "wait": True}),
    (SignUpRequestSchema, {}),
    (SignUpQuerySchema, {"state": "waitlisted", "limit": "5"}),
]


@pytest.mark.parametrize(("schema", "body"), BODIES, ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_a_loaded_body_loads_again_unchanged(schema, body):
    loaded = schema().load(body)
    assert schema().load(loaded) == loaded


@pytest.mark.parametrize(("body", "field"), [
    ({"title_zh": "x", "kind": "class", "capacity": 0}, "capacity"),
    ({"title_zh": "x", "kind": "picnic", "capacity": 3}, "kind"),
    ({"title_zh": "", "kind": "class", "capacity": 3}, "title_zh"),
    ({"title_zh": "x", "kind": "walk", "capacity": 3, "route": []}, "route"),
    ({"title_zh": "x", "kind": "class", "capacity": 3, "colour": "red"}, "colour"),
    ({"title_zh": "x", "kind": "class", "capacity": 3, "groups": ["rider", "rider"]}, "groups"),
    ({"title_zh": "x", "kind": "class", "capacity": 3, "max_places_per_person": 11}, "max_places_per_person"),
    ({"title_zh": "x", "kind": "class", "capacity": 3, "signup_opens_at": "2026-12-02T00:00:00Z",
      "signup_closes_at": "2026-12-01T00:00:00Z"}, "signup_closes_at"),
    ({"title_zh": "x", "kind": "class", "capacity": 3,
      "sessions": [{"starts_at": "2026-12-14T19:00:00+08:00", "ends_at": "2026-12-14T18:00:00+08:00"}]}, "sessions"),
    ({"title_zh": "x", "kind": "class", "capacity": 3, "timezone": "Mars/Olympus"}, "timezone"),
])
def test_bad_activities_name_the_field(body, field):
    with pytest.raises(ValidationError) as bad:
        ActivityRequestSchema().load(body)
    assert field in bad.value.messages


def test_a_session_given_half_local_half_with_offset_is_refused():
    with pytest.raises(ValidationError) as bad:
        SessionRequestSchema().load({"starts_at": "2026-12-14T19:00:00", "ends_at": "2026-12-14T20:00:00+08:00"})
    assert "ends_at" in bad.value.messages


def test_a_period_named_from_keeps_its_name_when_loaded():
    loaded = ActivityQuerySchema().load({"from": "2026-12-12T00:00:00Z", "to": "2026-12-13T00:00:00Z"})
    assert set(loaded) == {"from", "to", "limit", "cursor"}
    with pytest.raises(ValidationError):
        ActivityQuerySchema().load({"from": "2026-12-12T00:00:00Z", "to": "2026-12-11T00:00:00Z"})

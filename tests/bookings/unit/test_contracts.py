"""Bookings' contract schemas load their own loaded output unchanged: the gateway forwards what it loaded
(datetimes and all, as RPC JSON carries them) and the service loads it again with the same schema."""
from __future__ import annotations

import pytest

from services.bookings.contracts import (
    AvailabilityQuerySchema,
    BlackoutQuerySchema,
    BlackoutRequestSchema,
    BookingQuerySchema,
    BookingRequestSchema,
    BookingUpdateSchema,
    CancelRequestSchema,
    CheckInSchema,
    DecisionSchema,
    EnsureSpaceSchema,
    ReferencedBookingRequestSchema,
    ReferenceSchema,
    RejectionSchema,
    SiteQuerySchema,
    SiteRequestSchema,
    SpaceQuerySchema,
    SpaceRequestSchema,
    SpaceUpdateSchema,
    WaitlistQuerySchema,
    WaitlistRequestSchema,
)

RULES = {"opening_hours": {"sat": [["08:00", "12:00"]]}, "buffer_minutes": 15, "quota_hours_per_week": 12,
         "approval_required": True, "allowed_roles": ["resident"], "allowed_team_ids": [3]}
SPACE = {"name": "烘焙教室", "kind": "pool", "units": 4, "capacity": 12, "equipment": ["oven"], "rules": RULES,
         "manager_ids": [5, 6], "timezone": "Asia/Shanghai"}

BODIES = [
    (SiteRequestSchema, {"name": "新华路街道党群服务中心", "kind": "hub", "address": "新华路1号"}),
    (SiteQuerySchema, {"limit": "5", "cursor": "12", "kind": "centre"}),
    (SiteQuerySchema, {}),
    (SpaceRequestSchema, {**SPACE, "site_id": 1}),
    (SpaceRequestSchema, {"site_id": 2, "name": "三会实训室"}),
    (EnsureSpaceSchema, SPACE),
    (SpaceUpdateSchema, {"rules": RULES, "manager_ids": [], "active": False}),
    (SpaceQuerySchema, {"site_id": "1", "kind": "room", "equipment": "projector,screen",
                        "free_from": "2026-12-12T09:00:00+08:00", "free_to": "2026-12-12T10:00:00+08:00"}),
    (BlackoutRequestSchema, {"starts_at": "2026-12-24T00:00:00+08:00", "ends_at": "2026-12-26T00:00:00+08:00",
                             "reason": "维修", "whole_site": True}),
    (BlackoutQuerySchema, {"from": "2026-12-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"}),
    (BlackoutQuerySchema, {}),
    (AvailabilityQuerySchema, {"from": "2026-12-12T00:00:00+08:00", "to": "2026-12-13T00:00:00+08:00"}),
    (BookingRequestSchema, {"space_id": 3, "starts_at": "2026-12-12T09:00:00+08:00",
                            "ends_at": "2026-12-12T10:30:00+08:00", "title": "周六烘焙课", "units": 2}),
    (BookingRequestSchema, {"space_id": 3, "starts_at": "2026-12-12T09:00:00", "ends_at": "2026-12-12T10:00:00",
                            "timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY;COUNT=6", "exdates": ["2026-12-26"],
                            "on_conflict": "skip", "team_id": 4}),
    (ReferencedBookingRequestSchema, {"space_id": 3, "starts_at": "2026-12-12T19:00:00+08:00",
                                      "ends_at": "2026-12-12T21:00:00+08:00", "title": "新域夜校",
                                      "rrule": "FREQ=WEEKLY;COUNT=8", "reference": "5b0c3e6e-9a51-4f3c"}),
    (ReferenceSchema, {"reference": "5b0c3e6e-9a51-4f3c"}),
    (BookingUpdateSchema, {"title": "新标题", "notes": "带围裙"}),
    (BookingQuerySchema, {"mine": "false", "space_id": "3", "status": "pending", "from": "2026-12-01T00:00:00Z",
                          "to": "2026-12-31T00:00:00Z", "limit": "50"}),
    (BookingQuerySchema, {"scope": "managed"}),
    (CancelRequestSchema, {}),
    (CancelRequestSchema, {"scope": "following", "occurrence_id": 9, "reason": "生病"}),
    (DecisionSchema, {}),
    (RejectionSchema, {"reason": "同时段有活动"}),
    (CheckInSchema, {"occurrence_id": 12}),
    (WaitlistRequestSchema, {"space_id": 3, "starts_at": "2026-12-12T09:00:00+08:00",
                             "ends_at": "2026-12-12T10:00:00+08:00", "units": 2, "title": "等位"}),
    (WaitlistQuerySchema, {"status": "skipped", "cursor": "4"}),
]


@pytest.mark.parametrize(("schema", "body"), BODIES, ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_a_loaded_body_loads_again_unchanged(schema, body):
    loaded = schema().load(body)
    assert schema().load(loaded) == loaded


def test_a_period_named_from_keeps_its_name_when_loaded():
    loaded = AvailabilityQuerySchema().load({"from": "2026-12-12T00:00:00Z", "to": "2026-12-12T01:00:00Z"})
    assert set(loaded) == {"from", "to"}

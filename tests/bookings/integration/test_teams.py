"""Booking on behalf of a team: only its leads may (the volunteers service says who they are)."""
from __future__ import annotations

import uuid

from tests.bookings.integration.conftest import day_at, make_space, outbox, period


def test_only_a_team_lead_books_for_the_team(suite):
    lead, member = suite.user(roles=["volunteer"]), suite.user(roles=["volunteer"])
    team = suite.rpc("volunteers", "create_team", {"name": f"营造师-{uuid.uuid4().hex[:6]}",
                                                   "lead_ids": [lead.id]})
    space = make_space(suite, name="营造师活动室", rules={"allowed_team_ids": [team["id"]]})
    slot = period(day_at(4, 10))
    assert member.post("/bookings", json={"space_id": space["id"], **slot}).status_code == 403
    assert member.post("/bookings", json={"space_id": space["id"], "team_id": team["id"],
                                          **slot}).status_code == 403
    unknown = lead.post("/bookings", json={"space_id": space["id"], "team_id": 987654321, **slot})
    assert unknown.status_code == 422 and "team_id" in unknown.json()["errors"]
    booked = lead.post("/bookings", json={"space_id": space["id"], "team_id": team["id"], **slot})
    assert booked.status_code == 201, booked.text
    assert booked.json()["team_id"] == team["id"]
    assert outbox(suite, "booking.confirmed", booking_id=booked.json()["id"], team_id=team["id"])

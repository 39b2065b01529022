"""The waitlist obeys every rule of a booking: when joining, when a freed slot is offered, when accepting.

A person who now breaks a rule when the slot frees up (a blackout added since, their weekly quota reached
meanwhile) is skipped, with the reason on their entry, and the next in line is offered the slot.
"""
from __future__ import annotations

from datetime import timedelta

from tests.bookings.integration.conftest import counts, day_at, make_space, outbox, period


def _monday(hour: int):
    for days in range(7, 14):
        start = day_at(days, hour)
        if start.weekday() == 0:
            return start
    raise AssertionError


def _blackout(manager, space, start, reason="维修"):
    added = manager.post(f"/spaces/{space['id']}/blackouts", json={**period(start - timedelta(hours=1), 4),
                                                                   "reason": reason})
    assert added.status_code == 201, added.text


def test_joining_in_a_blackout_is_refused_naming_it(suite):
    manager = suite.user(roles=["space_manager"])
    space = make_space(suite, manager_ids=[manager.id])
    holder, waiter = suite.user(), suite.user()
    start = day_at(5, 10)
    assert holder.post("/bookings", json={"space_id": space["id"], **period(start)}).status_code == 201
    _blackout(manager, space, start)
    before = counts(suite)
    refused = waiter.post("/waitlist", json={"space_id": space["id"], **period(start)})
    assert refused.status_code == 422, refused.text
    assert "维修" in refused.json()["errors"]["blackout"][0]
    assert counts(suite) == before


def test_joining_over_the_weekly_quota_is_refused(suite):
    space = make_space(suite, rules={"quota_bookings_per_week": 1})
    holder, waiter = suite.user(), suite.user()
    monday = _monday(10)
    assert waiter.post("/bookings", json={"space_id": space["id"], **period(monday)}).status_code == 201
    tuesday = monday + timedelta(days=1)
    assert holder.post("/bookings", json={"space_id": space["id"], **period(tuesday)}).status_code == 201
    before = counts(suite)
    refused = waiter.post("/waitlist", json={"space_id": space["id"], **period(tuesday)})
    assert refused.status_code == 422, refused.text
    assert "quota" in refused.json()["errors"]
    assert counts(suite) == before


def test_an_offer_skips_whoever_reached_their_quota_and_goes_to_the_next(suite):
    space = make_space(suite, rules={"quota_bookings_per_week": 1})
    holder, first, second = suite.user(), suite.user(), suite.user()
    monday = _monday(10)
    taken = holder.post("/bookings", json={"space_id": space["id"], **period(monday)}).json()
    one = first.post("/waitlist", json={"space_id": space["id"], **period(monday)})
    assert one.status_code == 201, one.text
    two = second.post("/waitlist", json={"space_id": space["id"], **period(monday)})
    assert two.status_code == 201, two.text
    # Meanwhile the first in line books another slot that week: their quota is used up.
    assert first.post("/bookings", json={"space_id": space["id"],
                                         **period(monday + timedelta(days=2))}).status_code == 201
    assert holder.post(f"/bookings/{taken['id']}/cancel", json={"scope": "series"}).status_code == 200
    skipped = first.get("/waitlist").json()["items"][0]
    assert skipped["status"] == "skipped", skipped
    assert "quota" in skipped["reason"]
    assert skipped["booking_id"] is None
    offered = second.get("/waitlist").json()["items"][0]
    assert offered["status"] == "offered", offered
    assert not outbox(suite, "waitlist.offered", waitlist_id=one.json()["id"])


def test_an_offer_skips_a_slot_blacked_out_since_joining(suite):
    manager = suite.user(roles=["space_manager"])
    space = make_space(suite, manager_ids=[manager.id])
    holder, waiter = suite.user(), suite.user()
    start = day_at(5, 14)
    taken = holder.post("/bookings", json={"space_id": space["id"], **period(start)}).json()
    entry = waiter.post("/waitlist", json={"space_id": space["id"], **period(start)})
    assert entry.status_code == 201, entry.text
    _blackout(manager, space, start, reason="停电检修")
    assert holder.post(f"/bookings/{taken['id']}/cancel", json={"scope": "series"}).status_code == 200
    skipped = waiter.get("/waitlist").json()["items"][0]
    assert skipped["status"] == "skipped", skipped
    assert "停电检修" in skipped["reason"]
    assert skipped["booking_id"] is None and not outbox(suite, "waitlist.offered", waitlist_id=skipped["id"])


def test_accepting_rechecks_the_rules_and_the_hold_then_passes_on(suite):
    manager = suite.user(roles=["space_manager"])
    space = make_space(suite, manager_ids=[manager.id])
    holder, first, second = suite.user(), suite.user(), suite.user()
    start = day_at(5, 16)
    taken = holder.post("/bookings", json={"space_id": space["id"], **period(start)}).json()
    one = first.post("/waitlist", json={"space_id": space["id"], **period(start)}).json()
    two = second.post("/waitlist", json={"space_id": space["id"], **period(start)}).json()
    assert holder.post(f"/bookings/{taken['id']}/cancel", json={"scope": "series"}).status_code == 200
    offered = first.get("/waitlist").json()["items"][0]
    assert offered["status"] == "offered", offered
    _blackout(manager, space, start)
    before = counts(suite)
    refused = first.post(f"/waitlist/{one['id']}/accept")
    assert refused.status_code == 422, refused.text
    assert "维修" in refused.json()["errors"]["blackout"][0]
    assert counts(suite) == before
    assert first.get("/waitlist").json()["items"][0]["status"] == "offered"
    assert first.get(f"/bookings/{offered['booking_id']}").json()["status"] == "offered"
    # Leaving passes the hold on: the next in line breaks the blackout too, so is skipped, saying why.
    assert first.delete(f"/waitlist/{one['id']}").json()["status"] == "left"
    hold = first.get(f"/bookings/{offered['booking_id']}").json()
    assert hold["status"] == "lapsed" and all(o["status"] == "lapsed" for o in hold["occurrences"])
    skipped = second.get("/waitlist").json()["items"][0]
    assert skipped["id"] == two["id"] and skipped["status"] == "skipped" and "维修" in skipped["reason"]

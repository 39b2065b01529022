"""A session's room as bookings holds it, kept up to date from bookings' events (real services, real broker):
pending in a room that needs approval until its manager approves it; lost when the manager rejects it or
cancels it in bookings, and then the organisers are told; not lost when the organiser gives the room back
themselves (a session cancelled); an event delivered twice changes things once."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from services.activities.models import infra as activities_infra
from services.bookings.models import infra as bookings_infra
from shared.events import make_event
from tests.activities.integration.conftest import (
    activity_body,
    day_at,
    make_space,
    organiser,
    outbox,
    session_body,
    sessions_of,
)
from tests.notifications.integration.conftest import publish
from tests.support.suite import wait_for

pytestmark = pytest.mark.integration


def _ok(response, *codes):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


def _room(suite, **rules):
    """A room with a space manager of its own; with approval=True, each booking awaits the manager."""
    manager = suite.user(roles=["space_manager"])
    space = make_space(suite, manager_ids=[manager.id], rules=rules)
    return space, manager


def _course(suite, lead, space, days: int, count: int = 1) -> dict:
    rule = {"rrule": f"FREQ=WEEKLY;COUNT={count}"} if count > 1 else {}
    return _ok(lead.post("/activities", json=activity_body(sessions=[
        session_body(day_at(days, 19), space_id=space["id"], **rule)])), 201)


def _standing(lead, activity_id: int) -> list[str | None]:
    return [s["venue_status"] for s in _ok(lead.get(f"/activities/{activity_id}"))["sessions"]]


def _becomes(lead, activity_id: int, expected: list[str]) -> None:
    wait_for(lambda: _standing(lead, activity_id) == expected, timeout=20,
             message=f"the sessions' rooms to be {expected}")


def _envelopes(suite, type_name: str, booking_id: int) -> list[dict]:
    """Bookings' events of one booking, as its outbox sent them."""
    with suite.database("bookings").read() as session:
        rows = session.scalars(select(bookings_infra.Outbox.envelope)
                               .where(bookings_infra.Outbox.type == type_name)).all()
    return [e for e in map(json.loads, rows) if e["payload"]["booking_id"] == booking_id]


def _applied(suite, event_id: str) -> bool:
    """Activities applied the event (its inbox recorded it done)."""
    with suite.database("activities").read() as session:
        row = session.get(activities_infra.InboundEvent, event_id)
        return row is not None and row.status == "done"


def _notified(lead, activity: dict) -> list[dict]:
    items = _ok(lead.get("/notifications", params={"limit": 50}))["items"]
    return [item for item in items if item["type"] == "activity.venue_lost"
            and activity["title_zh"] in item["title"] + item["body"]]


def test_a_room_awaiting_approval_is_pending_until_its_manager_approves_it(activities_suite):
    suite = activities_suite
    space, manager = _room(suite, approval_required=True)
    lead = organiser(suite)
    activity = _course(suite, lead, space, 20, count=2)
    assert [s["venue_status"] for s in activity["sessions"]] == ["pending", "pending"]
    booking_id = activity["sessions"][0]["booking_id"]
    _ok(manager.post(f"/bookings/{booking_id}/approve", json={}))
    _becomes(lead, activity["id"], ["confirmed", "confirmed"])
    # A room that needs no approval is confirmed at once; a session without a room has no standing.
    plain, _manager = _room(suite)
    assert [s["venue_status"] for s in _course(suite, lead, plain, 20)["sessions"]] == ["confirmed"]
    walk = _ok(lead.post(f"/activities/{activity['id']}/sessions",
                         json=session_body(day_at(21, 9), place="新华路 番禺路口")), 201)
    assert [s["venue_status"] for s in walk["items"]] == [None]


def test_a_rejected_room_is_lost_and_the_organisers_are_told(activities_suite):
    suite = activities_suite
    space, manager = _room(suite, approval_required=True)
    lead = organiser(suite)
    activity = _course(suite, lead, space, 22, count=3)
    booking_id = activity["sessions"][0]["booking_id"]
    _ok(manager.post(f"/bookings/{booking_id}/reject", json={"reason": "当天礼堂另有安排"}))
    _becomes(lead, activity["id"], ["lost", "lost", "lost"])
    [lost] = outbox(suite, "activity.venue_lost", activity_id=activity["id"])
    assert lost["reason"] == "rejected" and lost["detail"] == "当天礼堂另有安排"
    assert lost["user_ids"] == [lead.id] and lost["sessions"] == 3
    assert lost["session_id"] == activity["sessions"][0]["id"] and lost["space_id"] == space["id"]
    # The organiser reads it in their inbox (zh-CN), in words: the room, how many sessions, the manager's reason.
    [entry] = wait_for(lambda: _notified(lead, activity), timeout=20, message="the organiser to be told")
    assert entry["title"] == f"活动场地未获批准:{activity['title_zh']}"
    assert "共 3 场" in entry["body"] and space["name"] in entry["body"] and "当天礼堂另有安排" in entry["body"]
    # The sessions are still there (the organiser decides what to do), only their room is gone.
    assert {s.state for s in sessions_of(suite, activity["id"])} == {"scheduled"}


def test_a_confirmed_room_cancelled_by_its_manager_is_lost_for_that_session_only(activities_suite):
    suite = activities_suite
    space, manager = _room(suite)
    lead = organiser(suite)
    activity = _course(suite, lead, space, 24, count=2)
    first, second = activity["sessions"]
    assert [first["venue_status"], second["venue_status"]] == ["confirmed", "confirmed"]
    _ok(manager.post(f"/bookings/{second['booking_id']}/cancel", json={
        "scope": "occurrence", "occurrence_id": second["occurrence_id"], "reason": "消防检查"}))
    _becomes(lead, activity["id"], ["confirmed", "lost"])
    [lost] = outbox(suite, "activity.venue_lost", activity_id=activity["id"])
    assert (lost["reason"], lost["session_ids"], lost["detail"]) == ("cancelled", [second["id"]], "消防检查")


def test_a_session_the_organiser_cancels_gives_its_room_back_without_being_lost(activities_suite):
    suite = activities_suite
    space, _manager = _room(suite)
    lead = organiser(suite)
    activity = _course(suite, lead, space, 26, count=2)
    first, second = activity["sessions"]
    _ok(lead.post(f"/activity-sessions/{second['id']}/cancel", json={"reason": "老师请假"}))
    # The venue timer cancels the occurrence in bookings, which tells activities; that is no loss.
    cancelled = wait_for(lambda: _envelopes(suite, "booking.cancelled", second["booking_id"]), timeout=20,
                         message="the room given back in bookings")
    wait_for(lambda: all(_applied(suite, e["event_id"]) for e in cancelled), timeout=20,
             message="activities to apply booking.cancelled")
    rows = {row.id: row for row in sessions_of(suite, activity["id"])}
    assert rows[second["id"]].state == "cancelled" and rows[second["id"]].venue_status == "confirmed"
    assert rows[first["id"]].venue_status == "confirmed"
    assert outbox(suite, "activity.venue_lost", activity_id=activity["id"]) == []
    # Cancelling the whole activity gives the rest back the same way: still no loss.
    _ok(lead.post(f"/activities/{activity['id']}/cancel", json={"reason": "停办"}))
    wait_for(lambda: len(_envelopes(suite, "booking.cancelled", first["booking_id"])) == 2, timeout=20,
             message="the activity's room given back in bookings")
    wait_for(lambda: all(_applied(suite, e["event_id"])
                         for e in _envelopes(suite, "booking.cancelled", first["booking_id"])), timeout=20,
             message="activities to apply it")
    assert outbox(suite, "activity.venue_lost", activity_id=activity["id"]) == []


def test_an_event_delivered_twice_changes_things_once(activities_suite):
    suite = activities_suite
    space, manager = _room(suite, approval_required=True)
    lead = organiser(suite)
    activity = _course(suite, lead, space, 28)
    booking_id = activity["sessions"][0]["booking_id"]
    _ok(manager.post(f"/bookings/{booking_id}/reject", json={"reason": "维修"}))
    [rejected] = wait_for(lambda: _envelopes(suite, "booking.rejected", booking_id), timeout=20,
                          message="bookings' event")
    wait_for(lambda: _applied(suite, rejected["event_id"]), timeout=20, message="activities to apply it")
    # The broker delivers it again (at-least-once), twice over; then another event of that queue, as a marker.
    publish(suite, "booking.rejected", {}, envelope=rejected)
    publish(suite, "booking.rejected", {}, envelope=rejected)
    other_space, other_manager = _room(suite, approval_required=True)
    other = _course(suite, lead, other_space, 28)
    _ok(other_manager.post(f"/bookings/{other['sessions'][0]['booking_id']}/reject", json={"reason": "维修"}))
    _becomes(lead, other["id"], ["lost"])
    assert _standing(lead, activity["id"]) == ["lost"]
    assert len(outbox(suite, "activity.venue_lost", activity_id=activity["id"])) == 1
    with suite.database("activities").read() as session:
        applied = session.scalars(select(activities_infra.InboundEvent.event_id).where(
            activities_infra.InboundEvent.event_id == rejected["event_id"])).all()
    assert applied == [rejected["event_id"]]
    # A new event sent twice at once (a redelivery racing the first delivery): applied once all the same.
    plain, _manager = _room(suite)
    course = _course(suite, lead, plain, 29)
    [made] = _envelopes(suite, "booking.confirmed", course["sessions"][0]["booking_id"])
    twice = make_event("booking.cancelled", {
        **made["payload"], "status": "cancelled", "scope": "series", "reason": "场地停用",
        "occurrence_ids": [course["sessions"][0]["occurrence_id"]], "cancelled_by": None})
    publish(suite, "booking.cancelled", {}, envelope=twice)
    publish(suite, "booking.cancelled", {}, envelope=twice)
    _becomes(lead, course["id"], ["lost"])
    wait_for(lambda: _applied(suite, twice["event_id"]), timeout=20, message="the event recorded")
    time.sleep(1)  # the second delivery's turn
    assert len(outbox(suite, "activity.venue_lost", activity_id=course["id"])) == 1

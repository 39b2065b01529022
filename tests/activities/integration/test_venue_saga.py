"""The venue saga's failure cases, against real services: bookings refuses (a conflict), bookings is not running,
bookings answers after activities stopped waiting, and a process that died between asking and recording. In
each, nothing is left half-made: no session without its room, no room held without its session."""
from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.activities.models import ActivitySession, VenueHold
from tests.activities.integration.conftest import (
    ENV,
    activity_body,
    bookings_of,
    day_at,
    holds_of,
    live_occurrences,
    make_space,
    organiser,
    outbox,
    session_body,
    sessions_of,
)
from tests.support.suite import RunningSuite, wait_for

TIMEOUT = float(ENV["ACTIVITIES_RPC_TIMEOUT"])


@pytest.fixture(scope="module")
def faulty_suite():
    """A suite of the module's own (its bookings process is stopped and its database locked)."""
    running = RunningSuite("sqlite", env=ENV).start()
    yield running
    running.stop()


def _ok(response, *codes):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


def _activity(suite, lead) -> dict:
    return _ok(lead.post("/activities", json=activity_body()), 201)


def _nothing_left(suite, activity_id: int, space_id: int) -> None:
    assert sessions_of(suite, activity_id) == []
    assert live_occurrences(suite, space_id) == 0
    assert all(hold.state in ("refused", "released") for hold in holds_of(suite, activity_id))


def test_a_room_taken_is_refused_with_the_conflicts_and_no_session_is_left(faulty_suite):
    suite = faulty_suite
    space = make_space(suite)
    start = day_at(6, 19)
    _ok(suite.user().post("/bookings", json={"space_id": space["id"], **session_body(start + timedelta(weeks=2))}))
    lead = organiser(suite)
    activity = _activity(suite, lead)
    refused = lead.post(f"/activities/{activity['id']}/sessions",
                        json=session_body(start, space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=4"))
    assert refused.status_code == 409, refused.text
    [conflict] = refused.json()["conflicts"]
    assert conflict["mine"] is False
    assert sessions_of(suite, activity["id"]) == []
    assert [hold.state for hold in holds_of(suite, activity["id"])] == ["refused"]
    assert live_occurrences(suite, space["id"]) == 1  # only the other person's booking
    assert _ok(lead.get(f"/activities/{activity['id']}"))["sessions"] == []
    # Creating an activity whose room is taken leaves no activity either.
    body = activity_body(sessions=[session_body(start + timedelta(weeks=2), space_id=space["id"])])
    assert lead.post("/activities", json=body).status_code == 409
    mine = _ok(lead.get("/activities", params={"mine": "true", "limit": 100}))["items"]
    assert body["title_zh"] not in [a["title_zh"] for a in mine]


def test_bookings_not_running_is_503_and_leaves_nothing_in_either_service(faulty_suite):
    suite = faulty_suite
    space = make_space(suite)
    lead = organiser(suite)
    activity = _activity(suite, lead)
    suite.suite.kill("bookings")
    try:
        down = lead.post(f"/activities/{activity['id']}/sessions",
                         json=session_body(day_at(8, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=8"))
        assert down.status_code == 503, down.text
        assert down.headers.get("Retry-After")
    finally:
        suite.suite.respawn("bookings")
        wait_for(lambda: _pings(suite), timeout=60, message="bookings to be back")
    time.sleep(3 * TIMEOUT + 2)  # a compensation timer's worth
    _nothing_left(suite, activity["id"], space["id"])
    assert bookings_of(suite, space["id"]) == []


def _pings(suite) -> bool:
    try:
        return bool(suite.rpc("bookings", "ping")["database"])
    except Exception:  # noqa: BLE001 - not up yet
        return False


def _locked(path: str, seconds: float) -> threading.Thread:
    """Hold the SQLite database's write lock for `seconds` (bookings' writers wait behind it)."""
    ready = threading.Event()

    def hold():
        connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        connection.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        connection.execute("COMMIT")
        connection.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    ready.wait(10)
    return thread


def test_an_answer_after_the_timeout_is_503_and_the_room_bookings_made_is_given_back(faulty_suite):
    suite = faulty_suite
    space = make_space(suite)
    lead = organiser(suite)
    activity = _activity(suite, lead)
    path = suite.urls["bookings"].removeprefix("sqlite:///")
    lock = _locked(path, TIMEOUT + 2)  # bookings books the room 2 s after activities stopped waiting
    late = lead.post(f"/activities/{activity['id']}/sessions",
                     json=session_body(day_at(9, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=3"))
    assert late.status_code == 503, late.text
    assert sessions_of(suite, activity["id"]) == []
    lock.join(30)
    wait_for(lambda: [h.state for h in holds_of(suite, activity["id"])] == ["released"], timeout=30,
             message="the compensation timer to give the room back")
    _nothing_left(suite, activity["id"], space["id"])
    # Bookings did make the booking (late), and it was cancelled by its reference; or it was refused.
    assert all(booking.status == "cancelled" for booking in bookings_of(suite, space["id"]))
    # The room is free again: the same sessions can now be added.
    again = lead.post(f"/activities/{activity['id']}/sessions",
                      json=session_body(day_at(9, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=3"))
    assert again.status_code == 201, again.text
    assert live_occurrences(suite, space["id"]) == 3


def test_a_hold_stuck_asking_after_a_crash_is_given_back_by_the_timer(faulty_suite):
    suite = faulty_suite
    space = make_space(suite)
    lead = organiser(suite)
    activity = _activity(suite, lead)
    start = day_at(11, 19)
    reference = str(uuid.uuid4())
    # The process wrote tx1 and asked bookings, which booked the room; then it died before tx2.
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with suite.database("activities").transaction() as session:
        hold = VenueHold(reference=reference, activity_id=activity["id"], space_id=space["id"], state="booking",
                         created_at=long_ago, updated_at=long_ago)
        session.add(hold)
        session.flush()
        session.add(ActivitySession(activity_id=activity["id"], starts_at=start.astimezone(UTC),
                                    ends_at=(start + timedelta(hours=2)).astimezone(UTC), space_id=space["id"],
                                    place="", state="scheduled", hold_id=hold.id, checkin_secret="x" * 64))
    booked = suite.rpc("bookings", "create_booking", {"space_id": space["id"], **session_body(start, 2),
                                                      "reference": reference}, caller=suite.caller_of(lead))
    assert booked["status"] == "confirmed"
    assert _ok(lead.get(f"/activities/{activity['id']}"))["sessions"] == []  # never shown
    wait_for(lambda: [h.state for h in holds_of(suite, activity["id"])] == ["released"], timeout=30,
             message="the stuck hold to be given back")
    _nothing_left(suite, activity["id"], space["id"])
    assert [b.status for b in bookings_of(suite, space["id"])] == ["cancelled"]


def test_cancelling_an_activity_gives_its_rooms_back(faulty_suite):
    suite = faulty_suite
    space = make_space(suite)
    lead = organiser(suite)
    activity = _ok(lead.post("/activities", json=activity_body(sessions=[
        session_body(day_at(12, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=4")])), 201)
    assert live_occurrences(suite, space["id"]) == 4
    person = suite.user()
    _ok(person.post(f"/activities/{activity['id']}/signups", json={}), 201)
    cancelled = _ok(lead.post(f"/activities/{activity['id']}/cancel", json={"reason": "场地维修"}))
    assert cancelled["state"] == "cancelled"
    assert {s["state"] for s in cancelled["sessions"]} == {"cancelled"}
    assert cancelled["my_signup"] is None and cancelled["taken"] == 0
    wait_for(lambda: [h.state for h in holds_of(suite, activity["id"])] == ["released"], timeout=30,
             message="the rooms to be given back")
    assert live_occurrences(suite, space["id"]) == 0


def test_a_session_moved_books_the_new_time_then_gives_back_the_old(faulty_suite):
    suite = faulty_suite
    space = make_space(suite)
    lead = organiser(suite)
    activity = _ok(lead.post("/activities", json=activity_body(sessions=[
        session_body(day_at(13, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=2")])), 201)
    first, second = activity["sessions"]
    # Onto the second's time: the room is taken (by the activity itself), so nothing moves.
    clash = lead.patch(f"/activity-sessions/{first['id']}", json={"starts_at": second["starts_at"],
                                                                  "ends_at": second["ends_at"]})
    assert clash.status_code == 409 and clash.json()["conflicts"]
    moved = _ok(lead.patch(f"/activity-sessions/{first['id']}", json=session_body(day_at(14, 9), 1.5)))
    assert moved["starts_at"] > first["starts_at"] and moved["occurrence_id"] != first["occurrence_id"]
    wait_for(lambda: live_occurrences(suite, space["id"]) == 2, timeout=30, message="the old time given back")
    cancelled = _ok(lead.post(f"/activity-sessions/{second['id']}/cancel", json={"reason": "台风"}))
    assert cancelled["state"] == "cancelled"
    wait_for(lambda: live_occurrences(suite, space["id"]) == 1, timeout=30, message="the cancelled one given back")
    assert outbox(suite, "activity.session_changed", session_id=first["id"], change="moved")
    assert outbox(suite, "activity.session_changed", session_id=second["id"], change="cancelled", reason="台风")

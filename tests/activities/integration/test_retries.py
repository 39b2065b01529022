"""A retried request of the venue saga takes effect once, against real services: the same creation or the same
sessions sent twice with one Idempotency-Key (answered by the gateway, and — as when the gateway's first attempt
timed out and it kept no answer — forwarded to the service again with the same key), a retry after a 503 whose
first attempt booked the room late, and two duplicates at once. One activity, one hold, one live booking."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import select

from services.activities.activities import creation_reference
from services.activities.models import Activity, VenueHold
from services.gateway.idempotency import scope_of
from shared.errors import Unavailable
from shared.idempotency import derive
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
    rows,
    session_body,
    sessions_of,
)
from tests.activities.integration.test_venue_saga import _locked
from tests.support.suite import wait_for

TIMEOUT = float(ENV["ACTIVITIES_RPC_TIMEOUT"])


def _ok(response, *codes):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


def _key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def _service_key(lead, path: str, header: dict, method: str) -> str:
    """The key the gateway sends the activities service for a POST with this Idempotency-Key (its first call of
    `method`): what a retry forwarded after the gateway kept no answer carries."""
    scope = scope_of(str(lead.id), "POST", f"/api/v1{path}", header["Idempotency-Key"])
    return derive(scope, "activities", method, 1)


def _holds(suite, activity_id: int, space_id: int) -> list[str]:
    """The states of the activity's holds of the room (SQLite may give a deleted activity's id again)."""
    return [hold.state for hold in holds_of(suite, activity_id) if hold.space_id == space_id]


def _live_bookings(suite, space_id: int) -> list[int]:
    return [booking.id for booking in bookings_of(suite, space_id) if booking.status != "cancelled"]


def _created(suite, title: str) -> list[int]:
    with suite.database("activities").read() as session:
        return list(session.scalars(select(Activity.id).where(Activity.title_zh == title)))


def test_the_same_creation_sent_twice_is_one_activity_with_one_booking(activities_suite):
    suite = activities_suite
    space = make_space(suite)
    lead = organiser(suite)
    body = activity_body(sessions=[session_body(day_at(20, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=2")])
    key = _key()
    first = _ok(lead.post("/activities", json=body, headers=key), 201)
    again = lead.post("/activities", json=body, headers=key)
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    # The gateway kept no answer (its first attempt timed out): the service is asked again with the same key.
    forwarded = suite.rpc("activities", "create_activity", body, caller=suite.caller_of(lead),
                          idempotency_key=_service_key(lead, "/activities", key, "create_activity"))
    assert forwarded["id"] == first["id"]
    assert [s["id"] for s in forwarded["sessions"]] == [s["id"] for s in first["sessions"]]
    # The retry finds the first attempt's hold by the reference it makes again from the key and the stored row.
    service_key = _service_key(lead, "/activities", key, "create_activity")
    with suite.database("activities").read() as session:
        stored = session.scalar(select(Activity).where(Activity.request_key == service_key))
        reference = creation_reference(service_key, stored, 0)
        assert session.scalar(select(VenueHold.state).where(VenueHold.reference == reference)) == "held"
    assert _created(suite, body["title_zh"]) == [first["id"]]
    assert _holds(suite, first["id"], space["id"]) == ["held"]
    assert len(_live_bookings(suite, space["id"])) == 1 and live_occurrences(suite, space["id"]) == 2
    # Without a key, the same body is another request: its room is the first's, so it is refused.
    assert lead.post("/activities", json=body).status_code == 409


def test_the_same_sessions_sent_twice_are_one_hold_and_one_booking(activities_suite):
    suite = activities_suite
    space = make_space(suite)
    lead = organiser(suite)
    activity = _ok(lead.post("/activities", json=activity_body()), 201)
    path = f"/activities/{activity['id']}/sessions"
    body = session_body(day_at(21, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=3")
    key = _key()
    first = _ok(lead.post(path, json=body, headers=key), 201)
    assert _ok(lead.post(path, json=body, headers=key), 201) == first
    forwarded = suite.rpc("activities", "add_sessions", activity["id"], body, caller=suite.caller_of(lead),
                          idempotency_key=_service_key(lead, path, key, "add_sessions"))
    assert forwarded == first
    assert _holds(suite, activity["id"], space["id"]) == ["held"]
    assert len(_live_bookings(suite, space["id"])) == 1 and live_occurrences(suite, space["id"]) == 3
    assert len(sessions_of(suite, activity["id"])) == 3
    # A session without a room, sent twice: one session (the usual exactly-once record).
    plain = session_body(day_at(22, 9), place="新华路 起点")
    key = _key()
    one = suite.rpc("activities", "add_sessions", activity["id"], plain, caller=suite.caller_of(lead),
                    idempotency_key=key["Idempotency-Key"])
    two = suite.rpc("activities", "add_sessions", activity["id"], plain, caller=suite.caller_of(lead),
                    idempotency_key=key["Idempotency-Key"])
    assert one == two and len(sessions_of(suite, activity["id"])) == 4


def test_a_session_moved_twice_with_one_key_books_the_new_time_once(activities_suite):
    suite = activities_suite
    space = make_space(suite)
    lead = organiser(suite)
    activity = _ok(lead.post("/activities", json=activity_body(sessions=[
        session_body(day_at(23, 19), space_id=space["id"])])), 201)
    [row] = activity["sessions"]
    key = uuid.uuid4().hex
    body = session_body(day_at(23, 9))
    moved = suite.rpc("activities", "move_session", row["id"], body, caller=suite.caller_of(lead),
                      idempotency_key=key)
    again = suite.rpc("activities", "move_session", row["id"], body, caller=suite.caller_of(lead),
                      idempotency_key=key)
    assert again == moved
    wait_for(lambda: sorted(_holds(suite, activity["id"], space["id"])) == ["held", "held", "released"], timeout=30,
             message="the old time given back")
    assert live_occurrences(suite, space["id"]) == 1
    assert moved["starts_at"] != row["starts_at"] and moved["occurrence_id"] != row["occurrence_id"]
    assert len(outbox(suite, "activity.session_changed", session_id=row["id"], change="moved")) == 1
    # Without a room: the retry finds the session where it was asked to be, and nobody is told twice.
    walk = _ok(lead.post("/activities", json=activity_body(sessions=[
        session_body(day_at(23, 14), place="新华路 起点")])), 201)
    [stop] = walk["sessions"]
    key = uuid.uuid4().hex
    body = session_body(day_at(23, 16), place="新华路 起点")
    moved = suite.rpc("activities", "move_session", stop["id"], body, caller=suite.caller_of(lead),
                      idempotency_key=key)
    again = suite.rpc("activities", "move_session", stop["id"], body, caller=suite.caller_of(lead),
                      idempotency_key=key)
    assert again == moved and moved["starts_at"] != stop["starts_at"]
    assert len(outbox(suite, "activity.session_changed", session_id=stop["id"], change="moved")) == 1


def test_a_retry_after_a_503_whose_room_was_booked_late_books_it_once(activities_suite):
    suite = activities_suite
    space = make_space(suite)
    lead = organiser(suite)
    activity = _ok(lead.post("/activities", json=activity_body()), 201)
    path = f"/activities/{activity['id']}/sessions"
    body = session_body(day_at(24, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=3")
    key = _key()
    lock = _locked(suite.urls["bookings"].removeprefix("sqlite:///"), TIMEOUT + 2)
    late = lead.post(path, json=body, headers=key)  # bookings books the room after activities stopped waiting
    assert late.status_code == 503, late.text
    # Retried at once: the first attempt's room is still being given back — 503 again, nothing booked beside it.
    soon = lead.post(path, json=body, headers=key)
    assert soon.status_code == 503, soon.text
    lock.join(30)
    wait_for(lambda: _holds(suite, activity["id"], space["id"]) == ["released"], timeout=30,
             message="the late booking to be given back")
    assert _live_bookings(suite, space["id"]) == [] and sessions_of(suite, activity["id"]) == []
    # The retry now books the room once, with a reference of its own (bookings refuses the released one).
    done = _ok(lead.post(path, json=body, headers=key), 201)
    assert len(done["items"]) == 3
    assert _holds(suite, activity["id"], space["id"]) == ["released", "held"]
    assert len(_live_bookings(suite, space["id"])) == 1 and live_occurrences(suite, space["id"]) == 3
    assert _ok(lead.post(path, json=body, headers=key), 201) == done  # the gateway's stored answer
    forwarded = suite.rpc("activities", "add_sessions", activity["id"], body, caller=suite.caller_of(lead),
                          idempotency_key=_service_key(lead, path, key, "add_sessions"))
    assert forwarded == done
    assert len(_live_bookings(suite, space["id"])) == 1 and len(sessions_of(suite, activity["id"])) == 3


def test_a_creation_retried_after_a_503_is_one_activity(activities_suite):
    suite = activities_suite
    space = make_space(suite)
    lead = organiser(suite)
    body = activity_body(sessions=[session_body(day_at(25, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=2")])
    key = _key()
    lock = _locked(suite.urls["bookings"].removeprefix("sqlite:///"), TIMEOUT + 2)
    late = lead.post("/activities", json=body, headers=key)
    assert late.status_code == 503, late.text
    assert _created(suite, body["title_zh"]) == []  # undone
    lock.join(30)
    wait_for(lambda: rows(suite, "activities", VenueHold, VenueHold.space_id == space["id"],
                          VenueHold.state != "released") == 0, timeout=30, message="the late booking given back")
    created = _ok(lead.post("/activities", json=body, headers=key), 201)
    assert _created(suite, body["title_zh"]) == [created["id"]]
    assert len(created["sessions"]) == 2
    assert len(_live_bookings(suite, space["id"])) == 1 and live_occurrences(suite, space["id"]) == 2
    forwarded = suite.rpc("activities", "create_activity", body, caller=suite.caller_of(lead),
                          idempotency_key=_service_key(lead, "/activities", key, "create_activity"))
    assert forwarded["id"] == created["id"]
    assert len(_live_bookings(suite, space["id"])) == 1


def _at_once(call, times: int = 2) -> list:
    """`call()` from `times` threads started together; each one's answer or the error it raised."""
    answers: list = [None] * times
    start = threading.Barrier(times)

    def run(i: int) -> None:
        start.wait()
        try:
            answers[i] = call()
        except Exception as exc:  # noqa: BLE001 - recorded for the test to judge
            answers[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def _one_effect(answers: list) -> list[dict]:
    """Each duplicate answered what was made, or 503 (try again) while it was being made; never anything else."""
    made = [a for a in answers if isinstance(a, dict)]
    assert made and all(isinstance(a, (dict, Unavailable)) for a in answers), answers
    return made


@pytest.mark.integration
@pytest.mark.parametrize("suite_name", ["activities_suite",
                                        pytest.param("activities_pg_suite", marks=pytest.mark.postgres)])
def test_duplicates_at_once_take_effect_once(request, suite_name):
    suite = request.getfixturevalue(suite_name)
    space = make_space(suite)
    lead = organiser(suite)
    caller = suite.caller_of(lead)
    body = activity_body(sessions=[session_body(day_at(26, 19), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=2")])
    key = uuid.uuid4().hex
    made = _one_effect(_at_once(lambda: suite.rpc("activities", "create_activity", body, caller=caller,
                                                  idempotency_key=key)))
    assert len({a["id"] for a in made}) == 1
    activity_id = made[0]["id"]
    assert rows(suite, "activities", Activity, Activity.request_key == key) == 1
    assert _created(suite, body["title_zh"]) == [activity_id]
    retried = suite.rpc("activities", "create_activity", body, caller=caller, idempotency_key=key)
    assert retried["id"] == activity_id and len(retried["sessions"]) == 2
    assert len(_live_bookings(suite, space["id"])) == 1 and live_occurrences(suite, space["id"]) == 2

    more = session_body(day_at(27, 9), space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=2")
    key = uuid.uuid4().hex
    added = _one_effect(_at_once(lambda: suite.rpc("activities", "add_sessions", activity_id, more, caller=caller,
                                                   idempotency_key=key)))
    retried = suite.rpc("activities", "add_sessions", activity_id, more, caller=caller, idempotency_key=key)
    assert all(a == retried for a in added)
    assert _holds(suite, activity_id, space["id"]) == ["held", "held"]
    assert len(_live_bookings(suite, space["id"])) == 2 and live_occurrences(suite, space["id"]) == 4
    time.sleep(0.5)
    assert len(sessions_of(suite, activity_id)) == 4

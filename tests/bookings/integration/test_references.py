"""Booking references over the real broker: another service's saga books a room with a reference, a retry
answers the same booking, release_reference gives it back (or refuses it to a create that comes late), and a
release racing the create never leaves a room held (SQLite and PostgreSQL)."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from services.bookings.models import LIVE_STATES, Booking, Occurrence
from shared.errors import Conflict, Forbidden
from tests.bookings.integration.conftest import day_at, make_space, outbox, period


def _create(suite, caller, space_id: int, reference: str, start, **more) -> dict:
    return suite.rpc("bookings", "create_booking",
                     {"space_id": space_id, "title": "新域夜校", "reference": reference, **period(start), **more},
                     caller=caller)


def test_a_saga_books_retries_and_gives_the_room_back(any_suite):
    space = make_space(any_suite)
    organiser = any_suite.user(roles=["resident"])
    caller = any_suite.caller_of(organiser)
    reference = str(uuid.uuid4())
    made = _create(any_suite, caller, space["id"], reference, day_at(6, 19), rrule="FREQ=WEEKLY;COUNT=3")
    assert len(made["occurrences"]) == 3 and made["booker_id"] == organiser.id
    # The saga's retry (its answer was lost): the same booking, nothing new.
    assert _create(any_suite, caller, space["id"], reference, day_at(6, 19),
                   rrule="FREQ=WEEKLY;COUNT=3")["id"] == made["id"]
    assert len(outbox(any_suite, "booking.confirmed", booking_id=made["id"])) == 1
    # The booker sees it as theirs over HTTP; the reference is not part of the HTTP API.
    shown = organiser.get(f"/bookings/{made['id']}").json()
    assert shown["status"] == "confirmed" and "reference" not in shown
    # Someone else may not give it back.
    with pytest.raises(Forbidden):
        any_suite.rpc("bookings", "release_reference", reference, caller=any_suite.caller_of(any_suite.user()))
    released = any_suite.rpc("bookings", "release_reference", reference)
    assert released["booking_id"] == made["id"] and len(released["cancelled_occurrence_ids"]) == 3
    assert organiser.get(f"/bookings/{made['id']}").json()["status"] == "cancelled"
    [event] = outbox(any_suite, "booking.cancelled", booking_id=made["id"])
    assert event["scope"] == "series" and event["booker_id"] == organiser.id
    # Idempotent: the same answer, no second event; a late create with it is refused.
    assert any_suite.rpc("bookings", "release_reference", reference)["cancelled_occurrence_ids"] == []
    assert len(outbox(any_suite, "booking.cancelled", booking_id=made["id"])) == 1
    with pytest.raises(Conflict, match="released"):
        _create(any_suite, caller, space["id"], reference, day_at(6, 19))
    # The slot is free for anyone.
    other = any_suite.user().post("/bookings", json={"space_id": space["id"], **period(day_at(6, 19))})
    assert other.status_code == 201, other.text


def test_a_reference_released_first_is_never_booked(any_suite):
    space = make_space(any_suite)
    caller = any_suite.caller_of(any_suite.user())
    reference = str(uuid.uuid4())
    assert any_suite.rpc("bookings", "release_reference", reference)["booking_id"] is None
    with pytest.raises(Conflict, match="released"):
        _create(any_suite, caller, space["id"], reference, day_at(7, 10))
    with any_suite.database("bookings").read() as session:
        assert session.scalars(select(Booking).where(Booking.space_id == space["id"])).all() == []


def test_bad_references_are_422_naming_the_field(any_suite):
    from shared.errors import Invalid

    for bad in ("", "x" * 65):
        with pytest.raises(Invalid) as raised:
            any_suite.rpc("bookings", "release_reference", bad)
        assert list(raised.value.errors) == ["reference"]


def test_a_release_racing_its_create_leaves_no_room_held(any_suite):
    """Twenty sagas each create a booking and, at the same moment, give its reference back (the compensation
    of a saga that timed out): whichever comes first, no live occurrence is left for any of them."""
    space = make_space(any_suite, kind="pool", units=20)
    caller = any_suite.caller_of(any_suite.user())
    references = [str(uuid.uuid4()) for _ in range(20)]
    start = day_at(8, 15)

    def create(reference):
        try:
            return _create(any_suite, caller, space["id"], reference, start)["id"]
        except Conflict:
            return None

    def release(reference):
        return any_suite.rpc("bookings", "release_reference", reference)["booking_id"]

    with ThreadPoolExecutor(max_workers=40) as pool:
        made = [pool.submit(create, r) for r in references]
        given_back = [pool.submit(release, r) for r in references]
        made, given_back = [f.result() for f in made], [f.result() for f in given_back]
    # A release either found the booking (and cancelled it) or came first (and the create was refused).
    for booking_id, released_id in zip(made, given_back, strict=True):
        assert booking_id == released_id
    with any_suite.database("bookings").read() as session:
        live = session.scalars(select(Occurrence.id).where(Occurrence.space_id == space["id"],
                                                           Occurrence.status.in_(LIVE_STATES))).all()
    assert live == []

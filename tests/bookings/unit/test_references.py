"""A booking's reference (another service's saga names its booking): a repeat create answers the booking
already made, release_reference cancels it or refuses it to a later create, and does so once (a scratch SQLite
database, the use-cases called directly)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.bookings import operations
from services.bookings.contracts import ReferencedBookingRequestSchema, ReferenceSchema
from services.bookings.models import Booking, Occurrence, ReleasedReference, Site, Space, infra
from shared.db import Database
from shared.errors import Conflict, Forbidden
from shared.identity import SYSTEM, Caller
from shared.migrations import upgrade
from shared.outbox import emit as outbox_emit

ORGANISER = Caller(user_id=7, roles=frozenset({"resident"}))
STRANGER = Caller(user_id=8, roles=frozenset({"resident"}))


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path}/bookings.db"
    upgrade("bookings", url)
    database = Database(url)
    with database.transaction() as session:
        site = Site(name="新华路党群服务中心")
        session.add(site)
        session.flush()
        session.add(Space(id=1, site_id=site.id, name="三会实训室", rules={}, equipment=[]))
    yield database
    database.dispose()


def emit(session, type_name: str, payload: dict) -> dict:
    return outbox_emit(session, infra, type_name, payload)


def _request(reference: str | None = "ref-1", days: int = 3, **more) -> dict:
    start = (datetime.now(UTC) + timedelta(days=days)).replace(hour=11, minute=0, second=0, microsecond=0)
    body = {"space_id": 1, "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
            "title": "新域夜校 手机摄影", **more}
    if reference is not None:
        body["reference"] = reference
    return ReferencedBookingRequestSchema().load(body)


def _events(db, type_name: str) -> list[dict]:
    with db.read() as session:
        rows = session.scalars(select(infra.Outbox.envelope).where(infra.Outbox.type == type_name)).all()
    return [json.loads(row)["payload"] for row in rows]


def _count(db, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_repeat_create_with_the_same_reference_answers_the_booking_already_made(db):
    first = operations.create_booking(db, emit, ORGANISER, _request())
    again = operations.create_booking(db, emit, ORGANISER, _request())
    assert again["id"] == first["id"] and again["occurrences"] == first["occurrences"]
    assert _count(db, Booking) == 1 and len(_events(db, "booking.confirmed")) == 1
    with db.read() as session:
        assert session.get(Booking, first["id"]).reference == "ref-1"


def test_bookings_without_a_reference_are_made_as_before(db):
    one = operations.create_booking(db, emit, ORGANISER, _request(None, days=3))
    two = operations.create_booking(db, emit, ORGANISER, _request(None, days=4))
    assert one["id"] != two["id"]
    with db.read() as session:
        assert session.scalars(select(Booking.reference)).all() == [None, None]


def test_someone_elses_reference_is_a_conflict_not_their_booking(db):
    operations.create_booking(db, emit, ORGANISER, _request())
    with pytest.raises(Conflict, match="another booking"):
        operations.create_booking(db, emit, STRANGER, _request())


def test_releasing_a_reference_cancels_every_live_occurrence_once(db):
    series = operations.create_booking(db, emit, ORGANISER, _request(rrule="FREQ=WEEKLY;COUNT=4"))
    assert len(series["occurrences"]) == 4
    answer = operations.release_reference(db, emit, SYSTEM, "ref-1")
    assert answer["booking_id"] == series["id"]
    assert sorted(answer["cancelled_occurrence_ids"]) == sorted(o["id"] for o in series["occurrences"])
    with db.read() as session:
        booking = session.get(Booking, series["id"])
        assert booking.status == "cancelled"
        assert {o.status for o in booking.occurrences} == {"cancelled"}
    [cancelled] = _events(db, "booking.cancelled")
    assert cancelled["booking_id"] == series["id"] and cancelled["scope"] == "series"
    assert len(cancelled["occurrence_ids"]) == 4 and cancelled["cancelled_by"] is None
    # Again: nothing more to do, no second event, the same booking named.
    again = operations.release_reference(db, emit, SYSTEM, "ref-1")
    assert again["booking_id"] == series["id"] and again["cancelled_occurrence_ids"] == []
    assert again["released_at"] == answer["released_at"]
    assert len(_events(db, "booking.cancelled")) == 1
    # The room is free again: someone else books the same slot.
    other = operations.create_booking(db, emit, STRANGER, _request(None))
    assert other["status"] == "confirmed"


def test_the_booker_may_release_their_reference_and_no_one_else(db):
    operations.create_booking(db, emit, ORGANISER, _request())
    with pytest.raises(Forbidden):
        operations.release_reference(db, emit, STRANGER, "ref-1")
    assert _count(db, ReleasedReference) == 0
    answer = operations.release_reference(db, emit, ORGANISER, "ref-1")
    assert len(answer["cancelled_occurrence_ids"]) == 1


def test_a_reference_released_before_its_booking_is_refused_to_a_late_create(db):
    answer = operations.release_reference(db, emit, SYSTEM, "ref-late")
    assert answer["booking_id"] is None and answer["cancelled_occurrence_ids"] == []
    with pytest.raises(Conflict, match="released") as refused:
        operations.create_booking(db, emit, ORGANISER, _request("ref-late"))
    assert refused.value.extra == {"reference": "ref-late"}
    assert _count(db, Booking) == 0 and _count(db, Occurrence) == 0
    # Releasing it again changes nothing.
    assert operations.release_reference(db, emit, SYSTEM, "ref-late") == answer
    assert _count(db, ReleasedReference) == 1


def test_a_create_repeated_after_its_release_is_refused(db):
    operations.create_booking(db, emit, ORGANISER, _request())
    operations.release_reference(db, emit, SYSTEM, "ref-1")
    with pytest.raises(Conflict, match="released"):
        operations.create_booking(db, emit, ORGANISER, _request())
    assert _count(db, Booking) == 1


@pytest.mark.parametrize("body", [{}, {"reference": ""}, {"reference": "x" * 65}, {"reference": 5}])
def test_a_reference_is_a_short_non_empty_text(body):
    from marshmallow import ValidationError

    with pytest.raises(ValidationError) as raised:
        ReferenceSchema().load(body)
    assert list(raised.value.messages) == ["reference"]

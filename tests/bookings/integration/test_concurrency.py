"""Never a double booking: 50 people press "book" at once, on SQLite and on PostgreSQL."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.bookings.models import LIVE_STATES, Occurrence
from tests.bookings.integration.conftest import day_at, make_space, period

REQUESTS = 50


def _clients(suite, count: int = REQUESTS, people: int = 5) -> list:
    """`count` HTTP clients (one connection each) signed in as a few different people."""
    tokens = [suite.user().token for _ in range(people)]
    return [suite.client(tokens[i % people]) for i in range(count)]


def _fire(clients, body_for) -> list:
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(lambda c: c.post("/bookings", json=body_for(c)), clients))


def _live_units(suite, space_id) -> list[int]:
    with suite.database("bookings").read() as session:
        return sorted(session.scalars(select(Occurrence.unit).where(Occurrence.space_id == space_id,
                                                                    Occurrence.status.in_(LIVE_STATES))).all())


def test_fifty_requests_for_one_slot_make_exactly_one_booking(any_suite):
    space = make_space(any_suite)
    clients = _clients(any_suite)
    slot = period(day_at(5, 10))
    responses = _fire(clients, lambda _c: {"space_id": space["id"], **slot})
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, [r.text for r in responses if r.status_code not in (201, 409)]
    assert codes.count(409) == REQUESTS - 1, [r.text for r in responses if r.status_code not in (201, 409)]
    winner = next(r.json() for r in responses if r.status_code == 201)
    for lost in (r for r in responses if r.status_code == 409):
        assert lost.headers["Content-Type"] == "application/problem+json"
        # The winner's occurrence: its id only for the winner's own other presses, a busy range for others.
        [busy] = lost.json()["conflicts"]
        assert busy["starts_at"] == winner["occurrences"][0]["starts_at"]
        assert busy.get("occurrence_id") == (winner["occurrences"][0]["id"] if busy["mine"] else None)
    assert _live_units(any_suite, space["id"]) == [1]


def test_fifty_requests_for_a_pool_of_five_units_make_exactly_five(any_suite):
    space = make_space(any_suite, kind="pool", units=5, name="充电桩")
    clients = _clients(any_suite)
    slot = period(day_at(5, 20), hours=2)
    responses = _fire(clients, lambda _c: {"space_id": space["id"], **slot})
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 5, [r.text for r in responses if r.status_code not in (201, 409)]
    assert codes.count(409) == REQUESTS - 5, [r.text for r in responses if r.status_code not in (201, 409)]
    assert _live_units(any_suite, space["id"]) == [1, 2, 3, 4, 5]


def test_concurrent_two_unit_requests_never_exceed_the_pool(any_suite):
    space = make_space(any_suite, kind="pool", units=5)
    clients = _clients(any_suite, 20)
    slot = period(day_at(6, 9), hours=1)
    responses = _fire(clients, lambda _c: {"space_id": space["id"], "units": 2, **slot})
    assert sorted({r.status_code for r in responses}) == [201, 409]
    assert [r.status_code for r in responses].count(201) == 2  # 2 + 2 units; the fifth alone is not enough
    units = _live_units(any_suite, space["id"])
    assert len(units) == 4 and len(set(units)) == 4


def test_postgresql_itself_refuses_an_overlapping_live_occurrence(suite):
    """The guarantee is the exclusion constraint, not the application's check: bypass the check and see."""
    space = make_space(suite)
    booking = suite.user().post("/bookings", json={"space_id": space["id"], **period(day_at(7, 10))}).json()
    taken = booking["occurrences"][0]
    with pytest.raises(IntegrityError, match="occurrences_no_overlap"):
        with suite.database("bookings").transaction() as session:
            session.add(Occurrence(booking_id=booking["id"], space_id=space["id"], unit=1,
                                   starts_at=datetime.fromisoformat(taken["starts_at"]),
                                   ends_at=datetime.fromisoformat(taken["ends_at"]),
                                   blocked_until=datetime.fromisoformat(taken["ends_at"]),
                                   status="held"))

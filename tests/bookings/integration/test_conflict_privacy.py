"""A 409 on a booking conflict shows other people's bookings only as busy time ranges; your own carry ids."""
from __future__ import annotations

import pytest

from tests.bookings.integration.conftest import day_at, make_space, period

pytestmark = pytest.mark.integration


def test_a_conflict_names_only_the_callers_own_occurrences(suite):
    space = make_space(suite)
    owner, neighbour = suite.user(), suite.user()
    slot = period(day_at(9, 10), 2)
    booked = owner.post("/bookings", json={"space_id": space["id"], **slot})
    assert booked.status_code == 201, booked.text
    occurrence = booked.json()["occurrences"][0]

    theirs = neighbour.post("/bookings", json={"space_id": space["id"], **period(day_at(9, 11))})
    assert theirs.status_code == 409, theirs.text
    [busy] = theirs.json()["conflicts"]
    assert busy == {"unit": 1, "starts_at": occurrence["starts_at"], "ends_at": occurrence["ends_at"],
                    "mine": False}

    mine = owner.post("/bookings", json={"space_id": space["id"], **period(day_at(9, 11))})
    assert mine.status_code == 409, mine.text
    [own] = mine.json()["conflicts"]
    assert own["mine"] is True and own["occurrence_id"] == occurrence["id"]
    assert own["booking_id"] == booked.json()["id"]

"""The transition tables of bookings, occurrences and waitlist entries: every status change is a step of a
table, and a step the table does not have is a 409 listing the steps possible from where the row stands."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.bookings.states import (
    BOOKING,
    LIVE_STATES,
    OCCURRENCE,
    WAITLIST,
    WAITLIST_STATES,
    approval_verb,
    requested,
)
from shared.errors import Conflict


def test_a_pending_booking_is_approved_rejected_cancelled_or_expires():
    assert {verb: BOOKING.next("pending", verb) for verb in BOOKING.allowed("pending")} == {
        "approve": "confirmed", "reject": "rejected", "cancel": "cancelled", "expire": "expired"}


def test_an_illegal_step_is_a_409_listing_the_allowed_ones():
    booking = SimpleNamespace(status="confirmed")
    with pytest.raises(Conflict) as refused:
        BOOKING.move(booking, "approve")
    assert refused.value.status == 409
    assert "cancel, release" in str(refused.value)
    assert booking.status == "confirmed"


def test_final_states_allow_nothing():
    for final in ("rejected", "cancelled", "expired", "released", "lapsed"):
        assert BOOKING.allowed(final) == []
    with pytest.raises(Conflict, match="it is final"):
        WAITLIST.next("accepted", "leave")


def test_an_offer_becomes_a_booking_pending_when_the_space_needs_approval():
    assert BOOKING.next("offered", approval_verb(True)) == requested(True) == "pending"
    assert BOOKING.next("offered", approval_verb(False)) == requested(False) == "confirmed"
    assert OCCURRENCE.next("held", approval_verb(True)) == "pending"
    assert OCCURRENCE.next("held", "lapse") == "lapsed"


def test_check_in_only_from_confirmed():
    assert OCCURRENCE.sources("check_in") == ["confirmed"]
    assert OCCURRENCE.sources("release") == ["confirmed"]
    assert OCCURRENCE.sources("expire") == ["pending"]


def test_every_live_occurrence_state_can_be_cancelled_and_every_state_is_named():
    assert set(OCCURRENCE.sources("cancel")) == set(LIVE_STATES)
    named = {state for pair in WAITLIST.steps.items() for state in (pair[0][0], pair[1])}
    assert named <= set(WAITLIST_STATES)


def test_only_a_waiting_entry_is_skipped_and_that_is_final():
    assert WAITLIST.sources("skip") == ["waiting"]
    assert WAITLIST.next("waiting", "offer") == "offered"
    assert WAITLIST.allowed("skipped") == []

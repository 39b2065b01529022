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
from shared.lifecycle import IllegalTransition, as_conflict


def test_a_pending_booking_is_approved_rejected_cancelled_or_expires():
    assert {verb: BOOKING.next("pending", verb) for verb in BOOKING.allowed("pending")} == {
        "approve": "confirmed", "reject": "rejected", "cancel": "cancelled", "expire": "expired"}


def test_an_illegal_step_is_a_409_listing_the_allowed_ones():
    booking = SimpleNamespace(status="confirmed")
    with pytest.raises(Conflict) as refused, as_conflict():
        BOOKING.move(booking, "approve")
    assert refused.value.status == 409
    assert str(refused.value) == "The booking is confirmed; it cannot approve. Possible from confirmed: cancel, release."
    assert refused.value.extra == {"state": "confirmed", "allowed": ["cancel", "release"]}
    assert booking.status == "confirmed"


def test_final_states_allow_nothing():
    for final in ("rejected", "cancelled", "expired", "released", "lapsed"):
        assert BOOKING.allowed(final) == []
    with pytest.raises(IllegalTransition, match="it is final"):
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
    assert WAITLIST.states == WAITLIST_STATES
    named = {state for rule in WAITLIST.verbs.values() for state in (*rule.sources, rule.target)}
    assert named <= set(WAITLIST_STATES)


def test_only_a_waiting_entry_is_skipped_and_that_is_final():
    assert WAITLIST.sources("skip") == ["waiting"]
    assert WAITLIST.next("waiting", "offer") == "offered"
    assert WAITLIST.allowed("skipped") == []


def _steps(table):
    return [((state, verb), table.next(state, verb)) for state in table.states for verb in table.allowed(state)]


def test_the_tables_have_exactly_their_steps_in_their_order():
    # Each table's steps, state by state in the order `allowed` lists them (the 409's `allowed`).
    assert _steps(BOOKING) == [
        (("pending", "approve"), "confirmed"), (("pending", "reject"), "rejected"),
        (("pending", "cancel"), "cancelled"), (("pending", "expire"), "expired"),
        (("confirmed", "cancel"), "cancelled"), (("confirmed", "release"), "released"),
        (("offered", "accept"), "confirmed"), (("offered", "accept_for_approval"), "pending"),
        (("offered", "lapse"), "lapsed"), (("offered", "cancel"), "cancelled")]
    assert _steps(OCCURRENCE) == [
        (("pending", "approve"), "confirmed"), (("pending", "reject"), "rejected"),
        (("pending", "cancel"), "cancelled"), (("pending", "expire"), "expired"),
        (("confirmed", "check_in"), "checked_in"), (("confirmed", "cancel"), "cancelled"),
        (("confirmed", "release"), "released"), (("checked_in", "cancel"), "cancelled"),
        (("held", "accept"), "confirmed"), (("held", "accept_for_approval"), "pending"),
        (("held", "lapse"), "lapsed"), (("held", "cancel"), "cancelled")]
    assert _steps(WAITLIST) == [
        (("waiting", "offer"), "offered"), (("waiting", "skip"), "skipped"), (("waiting", "close"), "closed"),
        (("waiting", "leave"), "left"), (("offered", "accept"), "accepted"), (("offered", "lapse"), "lapsed"),
        (("offered", "leave"), "left")]


def test_the_tables_name_no_roles_so_they_do_not_check_who():
    for table in (BOOKING, OCCURRENCE, WAITLIST):
        assert all(table.may(verb, set()) for verb in table.verbs)

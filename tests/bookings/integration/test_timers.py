"""Timers with two replicas of the bookings service: each due item is handled exactly once.

A dedicated suite (PostgreSQL, `bookings` ×2) with timers ticking every half second, a 3-second
waitlist hold and spaces whose auto-release is 3 seconds (0.05 min).
"""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.bookings.integration.conftest import day_at, make_space, outbox, period
from tests.support.suite import RunningSuite, wait_for

ENV = {"BOOKINGS_TIMER_SECONDS": "0.5", "BOOKINGS_WAITLIST_HOLD_MINUTES": "0.05",
       "BOOKINGS_REMINDER_MINUTES": "60"}


@pytest.fixture(scope="module")
def twins():
    running = RunningSuite("postgres", env=ENV, replicas={"bookings": 2}).start()
    yield running
    running.stop()


def _soon(seconds: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds + 1)


def test_a_no_show_is_released_once_and_a_checked_in_one_is_kept(twins):
    space = make_space(twins, kind="pool", units=2,
                       rules={"checkin_required": True, "auto_release_minutes": 0.05})
    no_show, present = twins.user(), twins.user()
    start = _soon(2)
    missed = no_show.post("/bookings", json={"space_id": space["id"], **period(start)}).json()
    kept = present.post("/bookings", json={"space_id": space["id"], **period(start)}).json()
    assert present.post(f"/bookings/{kept['id']}/check-in",
                        json={"occurrence_id": kept["occurrences"][0]["id"]}).status_code == 200
    wait_for(lambda: no_show.get(f"/bookings/{missed['id']}").json()["status"] == "released", timeout=20,
             message="the no-show's release")
    time.sleep(2)  # both replicas had several more ticks to (wrongly) release it again
    released = outbox(twins, "booking.released", booking_id=missed["id"])
    assert len(released) == 1 and released[0]["occurrence_id"] == missed["occurrences"][0]["id"]
    assert no_show.get(f"/bookings/{missed['id']}").json()["occurrences"][0]["status"] == "released"
    assert present.get(f"/bookings/{kept['id']}").json()["occurrences"][0]["status"] == "checked_in"
    assert outbox(twins, "booking.released", booking_id=kept["id"]) == []
    # The no-show's unit is free again; the present one's is not.
    free = no_show.get(f"/spaces/{space['id']}/availability",
                       params={"from": (start + timedelta(minutes=10)).isoformat(),
                               "to": (start + timedelta(minutes=50)).isoformat()}).json()
    assert [b["booking_id"] for b in free["busy"]] == [None]
    assert [f["free_units"] for f in free["free"]] == [1]
    # Each occurrence starting within the hour got exactly one reminder, from one of the two replicas.
    assert len(outbox(twins, "booking.reminder_due", booking_id=kept["id"])) == 1
    assert len(outbox(twins, "booking.reminder_due", booking_id=missed["id"])) == 1


def test_reminders_fire_once_per_occurrence_within_the_lead_time(twins):
    space = make_space(twins)
    resident = twins.user()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    series = resident.post("/bookings", json={"space_id": space["id"], "rrule": "FREQ=DAILY;COUNT=3",
                                              **period(start)}).json()
    wait_for(lambda: outbox(twins, "booking.reminder_due", booking_id=series["id"]), timeout=10,
             message="the first reminder")
    time.sleep(2)
    reminders = outbox(twins, "booking.reminder_due", booking_id=series["id"])
    assert [r["occurrence_id"] for r in reminders] == [series["occurrences"][0]["id"]]


def test_an_undecided_pending_booking_expires_when_it_starts(twins):
    manager = twins.user(roles=["space_manager"])
    space = make_space(twins, manager_ids=[manager.id], rules={"approval_required": True})
    resident = twins.user()
    booking = resident.post("/bookings", json={"space_id": space["id"], **period(_soon(2))}).json()
    assert booking["status"] == "pending"
    wait_for(lambda: resident.get(f"/bookings/{booking['id']}").json()["status"] == "expired", timeout=20,
             message="the expiry")
    time.sleep(1.5)
    assert len(outbox(twins, "booking.expired", booking_id=booking["id"])) == 1
    assert manager.post(f"/bookings/{booking['id']}/approve", json={}).status_code == 409


def test_an_offer_not_taken_in_time_passes_to_the_next_in_line(twins):
    space = make_space(twins)
    holder, first, second = twins.user(), twins.user(), twins.user()
    slot = period(day_at(3, 10))
    booking = holder.post("/bookings", json={"space_id": space["id"], **slot}).json()
    one = first.post("/waitlist", json={"space_id": space["id"], **slot}).json()
    two = second.post("/waitlist", json={"space_id": space["id"], **slot}).json()
    assert (one["position"], two["position"]) == (1, 2)
    holder.post(f"/bookings/{booking['id']}/cancel", json={"scope": "series"})
    assert first.get("/waitlist").json()["items"][0]["status"] == "offered"
    assert second.get("/waitlist").json()["items"][0]["status"] == "waiting"
    wait_for(lambda: second.get("/waitlist").json()["items"][0]["status"] == "offered", timeout=20,
             message="the offer to pass to the second in line")
    assert first.get("/waitlist").json()["items"][0]["status"] == "lapsed"
    assert first.post(f"/waitlist/{one['id']}/accept").status_code == 409
    accepted = second.post(f"/waitlist/{two['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    time.sleep(1.5)
    assert len(outbox(twins, "waitlist.offered", waitlist_id=one["id"])) == 1
    assert len(outbox(twins, "waitlist.offered", waitlist_id=two["id"])) == 1
    assert len(outbox(twins, "booking.confirmed", booking_id=accepted.json()["booking_id"])) == 1

"""A 503 never hides a write, and a retry with the same Idempotency-Key acts once.

The service is frozen (SIGSTOP) while the request waits in it, so the gateway answers 503 after the RPC
timeout; then it thaws and finds the request. Before, it did the work late (a write behind a 503) and a
retry with the same key did it a second time.
"""
from __future__ import annotations

import os
import signal
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.support.suite import RunningSuite

pytestmark = pytest.mark.integration

RPC_TIMEOUT = 3


@pytest.fixture(scope="module")
def slow_suite():
    running = RunningSuite("postgres", env={"NUANXIN_RPC_TIMEOUT": str(RPC_TIMEOUT)}).start()
    yield running
    running.stop()


@contextmanager
def frozen(running: RunningSuite, service: str):
    """The service's process stopped (it keeps its broker connection and the message it was given)."""
    pid = running.suite.processes[service].pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def booking_body(space_id: int, day: int) -> dict:
    start = (datetime.now(UTC) + timedelta(days=day)).replace(hour=3, minute=0, second=0, microsecond=0)
    return {"space_id": space_id, "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}


def bookings_of(running: RunningSuite, user_id: int) -> list[int]:
    from services.bookings.models import Booking

    with running.database("bookings").read() as session:
        return list(session.scalars(select(Booking.id).where(Booking.booker_id == user_id)))


def settle():
    """Long enough for a thawed service to work through what it was given."""
    time.sleep(RPC_TIMEOUT)


def test_a_request_answered_503_is_not_carried_out_later(slow_suite):
    space = slow_suite.rpc("bookings", "ensure_space", "恰好一次", {"name": "late room"})
    resident = slow_suite.user()
    with frozen(slow_suite, "bookings"):
        response = resident.post("/bookings", json=booking_body(space["id"], 40))
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    settle()
    assert bookings_of(slow_suite, resident.id) == []
    # The service is fine again: the same request now works.
    assert resident.post("/bookings", json=booking_body(space["id"], 40)).status_code == 201


def test_a_retry_with_the_same_key_after_503_creates_one_booking(slow_suite):
    space = slow_suite.rpc("bookings", "ensure_space", "恰好一次", {"name": "retry room"})
    resident = slow_suite.user()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = booking_body(space["id"], 41)
    with frozen(slow_suite, "bookings"):
        assert resident.post("/bookings", json=body, headers=key).status_code == 503
    retried = resident.post("/bookings", json=body, headers=key)
    assert retried.status_code == 201, retried.text
    again = resident.post("/bookings", json=body, headers=key)
    assert again.status_code == 201 and again.json()["id"] == retried.json()["id"]
    settle()
    assert bookings_of(slow_suite, resident.id) == [retried.json()["id"]]
    # The key is bound to its body, also after a 503.
    other = resident.post("/bookings", json=booking_body(space["id"], 42), headers=key)
    assert other.status_code == 422


def test_a_retried_action_report_after_503_is_one_action(slow_suite):
    from services.volunteers.models import Action
    from services.volunteers.seed import CATEGORIES

    reporter = slow_suite.user()
    slow_suite.rpc("volunteers", "ensure_category", CATEGORIES[0])
    grid_id = slow_suite.rpc("volunteers", "ensure_grid", {"name": "恰好一次网格", "level": 1})["id"]
    title = f"井盖松动 {uuid.uuid4().hex[:6]}"
    body = {"title": title, "category": CATEGORIES[0]["name"], "grid_id": grid_id, "location": "新华路 1 号",
            "description": "井盖踩上去会响"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    with frozen(slow_suite, "volunteers"):
        assert reporter.post("/actions", json=body, headers=key).status_code == 503
    retried = reporter.post("/actions", json=body, headers=key)
    assert retried.status_code == 201, retried.text
    settle()
    with slow_suite.database("volunteers").read() as session:
        assert session.scalar(select(func.count()).select_from(Action).where(Action.title == title)) == 1


def test_a_redelivered_request_returns_its_first_answer(slow_suite):
    """What a service killed after its commit sees again on restart: the same keyed request."""
    space = slow_suite.rpc("bookings", "ensure_space", "恰好一次", {"name": "redelivery room"})
    resident = slow_suite.user()
    caller = slow_suite.caller_of(resident)
    key = uuid.uuid4().hex
    body = booking_body(space["id"], 43)
    first = slow_suite.rpc("bookings", "create_booking", body, caller=caller, idempotency_key=key)
    second = slow_suite.rpc("bookings", "create_booking", body, caller=caller, idempotency_key=key)
    assert second == first
    assert bookings_of(slow_suite, resident.id) == [first["id"]]
    # Without the key the same body is a new request, refused because the slot is the caller's own.
    from shared.errors import Conflict

    with pytest.raises(Conflict):
        slow_suite.rpc("bookings", "create_booking", body, caller=caller)

"""Faults under booking load: a broker restart, dropped database connections, a service killed mid-work.

The suite runs on a private RabbitMQ node started for this module (tests/support/rabbit.py): its broker
is stopped and started while 8 clients book distinct slots. Every test is bounded in requests and time,
prints its figures, and asserts what a user must be able to rely on: no 500, every 201 is one booking with
one "confirmed" inbox entry for its owner, no booking is written that its client (retrying a 503 with
its Idempotency-Key, as the API asks) was not given, and the suite answers 201 again by itself.
"""
from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select, text

from tests.support.rabbit import PrivateRabbit
from tests.support.suite import RunningSuite, wait_for

pytestmark = pytest.mark.integration

RPC_TIMEOUT = 3
CLIENTS = 8
SLOT = timedelta(minutes=30)


@pytest.fixture(scope="module")
def rabbit():
    node = PrivateRabbit().start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def fault_suite(rabbit):
    running = RunningSuite("postgres", amqp_uri=rabbit.amqp_uri,
                           env={"NUANXIN_RPC_TIMEOUT": str(RPC_TIMEOUT)}).start()
    yield running
    running.stop()


@dataclass
class Outcome:
    client: int
    slot: int
    status: int | str
    booking_id: int | None
    at: float


class BookingLoad:
    """`CLIENTS` threads, each a signed-in resident booking the next free slot of one space, until stopped
    or `max_seconds` have passed (whichever comes first).

    Each client behaves as the API asks: every booking carries an `Idempotency-Key`, and a 503 (or a lost
    connection) is retried with the same key and body until it is answered — also after the load stops,
    within `settle_seconds`. So every booking in the database must be one that its client was answered
    201 for: a write hidden behind a 503 would show as a booking nobody was told about, or as two.
    """

    def __init__(self, suite: RunningSuite, label: str, max_seconds: float = 120, settle_seconds: float = 60):
        self.suite = suite
        self.space = suite.rpc("bookings", "ensure_space", "故障测试", {"name": f"{label} room"})
        self.clients = [suite.user() for _ in range(CLIENTS)]
        self.base = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
        self.max_seconds = max_seconds
        self.settle_seconds = settle_seconds
        self.outcomes: list[Outcome] = []
        self.unsettled: list[int] = []
        self._slots = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(CLIENTS)]

    def __enter__(self) -> BookingLoad:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.settle_seconds + 60)

    def _run(self, index: int) -> None:
        client = self.clients[index]
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            with self._lock:
                slot = next(self._slots)
            self._book(index, client, slot, give_up_at=deadline + self.settle_seconds)

    def _book(self, index: int, client, slot: int, give_up_at: float) -> None:
        start = self.base + slot * SLOT
        body = {"space_id": self.space["id"], "starts_at": start.isoformat(), "ends_at": (start + SLOT).isoformat()}
        key = {"Idempotency-Key": uuid.uuid4().hex}
        while True:
            try:
                response = client.post("/bookings", json=body, headers=key, timeout=RPC_TIMEOUT + 30)
                status = response.status_code
                booking_id = response.json().get("id") if status == 201 else None
                if status >= 500 and status != 503:
                    print(f"{status}: {response.text[:500]}")
            except requests.RequestException as exc:
                status, booking_id = type(exc).__name__, None
            with self._lock:
                self.outcomes.append(Outcome(index, slot, status, booking_id, time.monotonic()))
            if status == 201 or (status != 503 and not isinstance(status, str)):
                return
            if time.monotonic() > give_up_at:
                with self._lock:
                    self.unsettled.append(slot)
                return
            time.sleep(0.5)  # a client told to retry later does not hammer, and retries with its key

    def ok_since(self, moment: float) -> int:
        with self._lock:
            return sum(1 for o in self.outcomes if o.status == 201 and o.at > moment)

    def figures(self) -> Counter:
        with self._lock:
            return Counter(o.status for o in self.outcomes)

    def report(self, title: str) -> Counter:
        figures = self.figures()
        other = sum(n for status, n in figures.items() if status not in (201, 503))
        print(f"\n{title}: {sum(figures.values())} requests: {figures.get(201, 0)} x 201, "
              f"{figures.get(503, 0)} x 503, {other} other {dict(figures)}")
        return figures


def assert_every_201_is_one_booking_with_one_inbox_entry(suite: RunningSuite, load: BookingLoad) -> None:
    from services.bookings.models import Booking
    from services.notifications.models import InboxEntry

    answered = {o.booking_id: o for o in load.outcomes if o.status == 201}
    assert len(answered) == sum(1 for o in load.outcomes if o.status == 201), "one booking id answered twice"
    owners = {c.id: i for i, c in enumerate(load.clients)}
    with suite.database("bookings").read() as session:
        rows = session.execute(select(Booking.id, Booking.booker_id, Booking.starts_at, Booking.status)
                               .where(Booking.space_id == load.space["id"])).all()
    booker = {row.id: row.booker_id for row in rows}
    for booking_id, outcome in answered.items():
        assert booking_id in booker, f"booking {booking_id} was answered 201 but is not in the database"
        assert owners[booker[booking_id]] == outcome.client
    slots = Counter(row.starts_at for row in rows if row.status == "confirmed")
    assert [s for s, n in slots.items() if n > 1] == [], "a slot is booked twice"
    hidden = len(rows) - len(answered)
    print(f"bookings in the database: {len(rows)} ({hidden} written for requests not answered 201); "
          f"requests still unanswered when the clients gave up: {len(load.unsettled)}")
    assert load.unsettled == []
    assert hidden == 0, "a booking was written that its client, retrying with its key, was never given"

    def confirmed_entries() -> Counter:
        with suite.database("notifications").read() as session:
            entries = session.execute(select(InboxEntry.user_id, InboxEntry.data).where(
                InboxEntry.user_id.in_(list(owners)), InboxEntry.type == "booking.confirmed")).all()
        return Counter((e.user_id, (e.data or {}).get("booking_id")) for e in entries)

    expected = {(booker[b], b) for b in answered}
    wait_for(lambda: expected <= set(confirmed_entries()), timeout=90, interval=1,
             message="a 'confirmed' inbox entry for every booking answered 201")
    entries = confirmed_entries()
    assert {key: n for key, n in entries.items() if n != 1} == {}, "an inbox entry was made twice"


def assert_no_500(figures: Counter) -> None:
    assert {status: n for status, n in figures.items() if status not in (201, 503)} == {}


def booking_answers(load: BookingLoad, timeout: float, since: float) -> bool:
    """Whether every client has had a 201 again after `since`, within `timeout` seconds (nobody helps)."""
    deadline = time.monotonic() + timeout
    while load.ok_since(since) < CLIENTS:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def test_a_broker_restart_under_load_is_survived_by_every_process(rabbit, fault_suite):
    with BookingLoad(fault_suite, "broker restart", max_seconds=150) as load:
        assert booking_answers(load, timeout=30, since=load.started)
        rabbit.stop_app()
        time.sleep(15)
        rabbit.start_app()
        restarted = time.monotonic()
        recovered = booking_answers(load, timeout=60, since=restarted)
        time.sleep(2)
    figures = load.report("broker stopped for 15 s under load")
    print(f"processes that died: {fault_suite.suite.dead()}; every client answered 201 again: {recovered}")
    assert fault_suite.suite.dead() == []
    assert recovered, "bookings did not answer 201 again within 60 s of the broker's return"
    assert_no_500(figures)
    assert figures[503] > 0  # the outage was seen by the clients
    assert_every_201_is_one_booking_with_one_inbox_entry(fault_suite, load)


def test_dropped_database_connections_answer_503_never_500(fault_suite):
    admin = fault_suite.pg.engine
    terminated = 0
    with BookingLoad(fault_suite, "dropped connections", max_seconds=120) as load:
        assert booking_answers(load, timeout=30, since=load.started)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with admin.connect() as conn:
                terminated += conn.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname LIKE :prefix AND pid <> pg_backend_pid()"),
                    {"prefix": fault_suite.pg.prefix + "%"}).scalar()
            time.sleep(0.5)
        last = time.monotonic()
        recovered = booking_answers(load, timeout=30, since=last)
    figures = load.report(f"{terminated} database connections terminated under load")
    assert terminated > 0
    assert fault_suite.suite.dead() == []
    assert recovered
    assert_no_500(figures)
    assert_every_201_is_one_booking_with_one_inbox_entry(fault_suite, load)


@pytest.mark.parametrize("service", ["bookings", "volunteers", "notifications"])
def test_a_service_killed_under_load_loses_and_repeats_nothing(fault_suite, service):
    with BookingLoad(fault_suite, f"kill {service}", max_seconds=120) as load:
        assert booking_answers(load, timeout=30, since=load.started)
        fault_suite.suite.kill(service)
        # It comes back just as the requests it left in its queue expire.
        time.sleep(RPC_TIMEOUT)
        fault_suite.suite.respawn(service)
        back = time.monotonic()
        recovered = booking_answers(load, timeout=60, since=back)
        time.sleep(1)
    figures = load.report(f"{service} killed with SIGKILL under load, back after {RPC_TIMEOUT} s")
    assert fault_suite.suite.dead() == []
    assert recovered
    assert_no_500(figures)
    assert_every_201_is_one_booking_with_one_inbox_entry(fault_suite, load)

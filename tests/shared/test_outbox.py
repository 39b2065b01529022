"""The outbox relay: publishes committed events with confirms, keeps them through a broker outage."""
from __future__ import annotations

import json
import socket

import pytest
from kombu import Connection, Exchange, Queue

from services.bookings.models import infra
from shared.db import Database
from shared.migrations import upgrade
from shared.outbox import OutboxRelay, emit

pytestmark = pytest.mark.integration


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'bookings.db'}"
    upgrade("bookings", url)
    database = Database(url)
    yield database
    database.dispose()


def closed_port_uri() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"pyamqp://guest:guest@127.0.0.1:{port}//"


def payload(n: int) -> dict:
    return {"booking_id": n, "space_id": 1, "space_name": "治理议事厅", "booker_id": 5,
            "starts_at": "2026-12-01T11:00:00+00:00", "ends_at": "2026-12-01T13:00:00+00:00", "status": "confirmed"}


def drain(uri: str, queue: Queue, expected: int, timeout: float = 10) -> list[dict]:
    received = []
    with Connection(uri) as conn, conn.SimpleQueue(queue) as simple:
        while len(received) < expected:
            message = simple.get(block=True, timeout=timeout)
            received.append(message.payload)
            message.ack()
    return received


def test_rows_written_during_an_outage_are_published_once_the_broker_is_back(db, amqp_uri):
    # A queue bound the way nameko binds an event handler's queue.
    queue = Queue("outbox-test", Exchange("bookings.events", type="topic", durable=True),
                  routing_key="booking.confirmed", durable=False, auto_delete=False)
    with Connection(amqp_uri) as conn:
        queue(conn.default_channel).declare()

    with db.transaction() as session:
        envelopes = [emit(session, infra, "booking.confirmed", payload(n)) for n in (1, 2)]

    down = OutboxRelay(db, infra, closed_port_uri())
    assert down.publish_pending() == 0
    with db.read() as session:
        rows = session.query(infra.Outbox).order_by(infra.Outbox.id).all()
        assert all(r.sent_at is None for r in rows)
        assert rows[0].attempts == 1 and rows[0].last_error

    up = OutboxRelay(db, infra, amqp_uri)
    assert up.publish_pending() == 2
    assert up.publish_pending() == 0  # marked sent: nothing twice
    received = drain(amqp_uri, queue, 2)
    assert [m["event_id"] for m in received] == [e["event_id"] for e in envelopes]
    assert received[0]["payload"]["space_name"] == "治理议事厅"
    with db.read() as session:
        assert all(r.sent_at is not None for r in session.query(infra.Outbox).all())


def test_an_event_is_not_in_the_outbox_when_its_transaction_rolls_back(db):
    with pytest.raises(RuntimeError), db.transaction() as session:
        emit(session, infra, "booking.confirmed", payload(3))
        raise RuntimeError("the change failed")
    with db.read() as session:
        assert session.query(infra.Outbox).count() == 0


def test_the_envelope_is_json_with_the_contract_fields(db):
    with db.transaction() as session:
        envelope = emit(session, infra, "booking.confirmed", payload(4))
    with db.read() as session:
        stored = json.loads(session.query(infra.Outbox).one().envelope)
    assert stored == envelope
    assert set(stored) == {"event_id", "type", "version", "occurred_at", "source", "payload"}

"""The inbound side of at-least-once delivery: once per event_id, retried with backoff, parked, replayed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.notifications.models import Recipient, infra
from shared import inbox as inbox_module
from shared.db import Database, utcnow
from shared.events import make_event
from shared.inbox import Inbox, consumes
from shared.migrations import upgrade


class Handlers:
    """Stands in for a nameko worker: the inbox calls the decorated methods on it."""

    failures_left = 0

    def __init__(self, db):
        self.calls = []
        self.db = db

    @consumes("gateway", "account.registered")
    def on_account(self, session, event):
        self.calls.append(event["event_id"])
        if Handlers.failures_left:
            Handlers.failures_left -= 1
            raise RuntimeError("channel down")
        session.add(Recipient(user_id=event["payload"]["user_id"], username=event["payload"]["username"]))


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'notifications.db'}"
    upgrade("notifications", url)
    database = Database(url)
    yield database
    database.dispose()


def envelope(user_id=7):
    return make_event("account.registered", {"user_id": user_id, "username": f"u{user_id}", "display_name": "x"})


def recipients(db):
    with db.read() as session:
        return session.scalars(select(Recipient.user_id)).all()


def test_a_redelivered_event_is_applied_once(db):
    service, box, event = Handlers(db), Inbox(db, infra), envelope()
    assert box.handle(service, "on_account", event) == "done"
    assert box.handle(service, "on_account", event) == "duplicate"
    assert recipients(db) == [7]
    assert len(service.calls) == 1


def test_a_failing_handler_is_retried_with_backoff_and_its_effects_roll_back(db, monkeypatch):
    monkeypatch.setattr(inbox_module, "BASE_BACKOFF", 0.0)
    Handlers.failures_left = 2
    service, box, event = Handlers(db), Inbox(db, infra), envelope(8)
    assert box.handle(service, "on_account", event) == "failed"
    assert recipients(db) == []
    # A redelivery while the retry is pending does not jump the queue.
    assert box.handle(service, "on_account", event) == "duplicate"
    assert box.retry_due(service) == 0  # second failure
    assert box.retry_due(service) == 1
    assert recipients(db) == [8]
    with db.read() as session:
        row = session.get(infra.InboundEvent, event["event_id"])
        assert (row.status, row.attempts) == ("done", 3)


def test_backoff_grows_and_not_before_its_time(db):
    Handlers.failures_left = 1
    service, box, event = Handlers(db), Inbox(db, infra), envelope(9)
    assert box.handle(service, "on_account", event) == "failed"
    assert box.retry_due(service) == 0  # backoff (1 s) not over yet
    assert inbox_module.backoff(1) < inbox_module.backoff(2) < inbox_module.backoff(3)
    with db.transaction() as session:
        session.get(infra.InboundEvent, event["event_id"]).next_attempt_at = utcnow() - timedelta(seconds=1)
    assert box.retry_due(service) == 1


def test_a_poison_event_is_parked_and_an_operator_can_replay_it(db, monkeypatch):
    monkeypatch.setattr(inbox_module, "BASE_BACKOFF", 0.0)
    Handlers.failures_left = inbox_module.MAX_ATTEMPTS
    service, box, event = Handlers(db), Inbox(db, infra), envelope(10)
    box.handle(service, "on_account", event)
    for _ in range(inbox_module.MAX_ATTEMPTS):
        box.retry_due(service)
    parked = box.parked()
    assert [p["event_id"] for p in parked] == [event["event_id"]]
    assert "channel down" in parked[0]["last_error"]
    assert recipients(db) == []
    Handlers.failures_left = 0
    assert box.replay() == 1
    assert box.retry_due(service) == 1
    assert recipients(db) == [10]
    assert box.parked() == []


def test_an_unparseable_message_is_parked_at_once(db):
    service, box = Handlers(db), Inbox(db, infra)
    broken = {**envelope(11), "payload": {"user_id": "not a number"}}
    assert box.handle(service, "on_account", broken) == "parked"
    assert service.calls == []



class Picky:
    """A handler about some events of a type only (activities and the bookings its sessions hold)."""

    def __init__(self, db):
        self.calls = []
        self.inbox = Inbox(db, infra)

    @consumes("gateway", "account.registered", when=lambda payload: payload["user_id"] % 2 == 0)
    def on_even(self, session, event):
        self.calls.append(event["payload"]["user_id"])


def test_events_a_handler_is_not_about_are_acknowledged_without_a_transaction(db):
    service, odd, even = Picky(db), envelope(7), envelope(8)
    service.on_even(odd)
    service.on_even(even)
    service.on_even(even)  # redelivered: still once
    assert service.calls == [8]
    with db.read() as session:
        assert session.scalars(select(infra.InboundEvent.event_id)).all() == [even["event_id"]]

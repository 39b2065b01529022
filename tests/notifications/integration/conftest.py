"""Fixtures of the notifications integration tests: a suite with short delivery timings and two
notifications replicas, real peers, and a way to publish contract events as their producers do."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from nameko.standalone.events import event_dispatcher
from sqlalchemy import select

from services.notifications.models import Delivery, DeliveryAttempt, InboxEntry, Recipient
from shared.events import REGISTRY, make_event
from tests.support.suite import RunningSuite, wait_for

FAST = {
    "NUANXIN_DELIVERY_BACKOFF_SECONDS": "0.3",
    "NUANXIN_DELIVERY_MAX_ATTEMPTS": "3",
    "NUANXIN_DELIVERY_INTERVAL": "0.2",
    "NUANXIN_BROADCAST_INTERVAL": "0.3",
    "NUANXIN_REMINDER_INTERVAL": "0.3",
    "NUANXIN_ACTION_REMINDER_MINUTES": "30",
}


@pytest.fixture(scope="session")
def fast_suite():
    """PostgreSQL, two notifications replicas, retries in fractions of a second."""
    running = RunningSuite("postgres", env=FAST, replicas={"notifications": 2}).start()
    yield running
    running.stop()


def publish(suite, type_name: str, payload: dict, envelope: dict | None = None) -> dict:
    """Publish an event the way its producer's outbox relay does; returns the envelope."""
    envelope = envelope or make_event(type_name, payload)
    dispatch = event_dispatcher({"AMQP_URI": suite.amqp_uri, "serializer": "json"})
    dispatch(REGISTRY[type_name].source, type_name, envelope)
    return envelope


def known(suite, client) -> None:
    """Wait until notifications has the account in its directory (from account.registered)."""
    db = suite.database("notifications")

    def present():
        with db.read() as session:
            return session.get(Recipient, client.id) is not None

    wait_for(present, timeout=15, message=f"recipient {client.id} in the directory")


def _plain(rows) -> list[SimpleNamespace]:
    """Column values read inside the session (read sessions roll back, which expires ORM objects)."""
    return [SimpleNamespace(**{c.key: getattr(r, c.key) for c in r.__table__.columns}) for r in rows]


def entries(suite, user_id: int, source_key: str | None = None) -> list[InboxEntry]:
    with suite.database("notifications").read() as session:
        stmt = select(InboxEntry).where(InboxEntry.user_id == user_id)
        if source_key:
            stmt = stmt.where(InboxEntry.source_key == source_key)
        return _plain(session.scalars(stmt).all())


def deliveries_of(suite, source_key: str) -> list[Delivery]:
    with suite.database("notifications").read() as session:
        return _plain(session.scalars(select(Delivery).where(Delivery.source_key == source_key)
                                      .order_by(Delivery.id)).all())


def attempts_of(suite, delivery_id: int) -> list[DeliveryAttempt]:
    with suite.database("notifications").read() as session:
        return _plain(session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
                                      .order_by(DeliveryAttempt.id)).all())


def add_channel(client, name: str, url: str, **extra) -> dict:
    response = client.post("/notification-channels", json={"name": name, "url": url, **extra})
    assert response.status_code == 201, response.text
    return response.json()

"""Transactional outbox: an event is stored with the change it describes and published after commit.

`emit(session, ...)` adds the outbox row in the caller's transaction. `OutboxRelay` publishes unsent rows
to the source service's nameko event exchange with publisher confirms, then marks them sent. It wakes
right after a commit that emitted something and also polls, so rows left behind by a broker outage or a
killed process are published later. Delivery is at-least-once: consumers de-duplicate by `event_id`.
"""
from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

from nameko.amqp.publish import Publisher
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import config
from shared.db import Database, DatabaseUnavailable, Infrastructure, database_for, utcnow
from shared.events import REGISTRY, make_event

log = logging.getLogger(__name__)

RELAY_BATCH = 200
# A row whose publish was attempted but not confirmed is retried after this long.
RETRY_AFTER = timedelta(seconds=2)


def emit(session: Session, infra: Infrastructure, type_name: str, payload: dict) -> dict:
    """Store a validated event in the outbox of the current transaction; returns the envelope."""
    envelope = make_event(type_name, payload)
    session.add(infra.Outbox(event_id=envelope["event_id"], type=type_name, envelope=json.dumps(envelope)))
    session.info["emitted"] = True
    return envelope


class OutboxRelay:
    """Publishes a service's outbox. Safe to run in several processes at once (rows are claimed)."""

    def __init__(self, db: Database, infra: Infrastructure, amqp_uri: str | None = None):
        self.db = db
        self.infra = infra
        self.amqp_uri = amqp_uri or config.amqp_uri()
        self._publishers: dict[str, Publisher] = {}
        self.wakeup = threading.Event()
        self.last_error: str | None = None

    def _publisher(self, source: str) -> Publisher:
        publisher = self._publishers.get(source)
        if publisher is None:
            exchange = get_event_exchange(source, {})
            publisher = Publisher(
                self.amqp_uri,
                exchange=exchange,
                declare=[exchange],
                use_confirms=True,
                # Fail fast during an outage; the relay loop itself retries.
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
            )
            self._publishers[source] = publisher
        return publisher

    def publish_pending(self) -> int:
        """Publish every unsent row; returns how many were published."""
        Outbox = self.infra.Outbox
        published = 0
        while True:
            with self.db.transaction() as session:
                query = select(Outbox).where(Outbox.sent_at.is_(None)).order_by(Outbox.id).limit(RELAY_BATCH)
                if not self.db.is_sqlite:
                    # Two replicas never publish the same row concurrently.
                    query = query.with_for_update(skip_locked=True)
                rows = session.scalars(query).all()
                if not rows:
                    return published
                for row in rows:
                    envelope = json.loads(row.envelope)
                    source = REGISTRY[row.type].source if row.type in REGISTRY else envelope["source"]
                    try:
                        self._publisher(source).publish(envelope, routing_key=row.type)
                    except Exception as exc:  # broker down: keep the row, try again later
                        row.attempts += 1
                        row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                        self.last_error = row.last_error
                        log.warning("outbox publish failed for %s: %s", row.event_id, row.last_error)
                        return published
                    row.sent_at = utcnow()
                    row.attempts += 1
                    published += 1
                self.last_error = None

    def run_forever(self, stop: threading.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.publish_pending()
            except DatabaseUnavailable as exc:  # the database restarts: the next pass tries again
                log.warning("outbox relay pass skipped: %s", exc)
            except Exception:  # keep the loop alive whatever happened
                log.exception("outbox relay pass failed")
            self.wakeup.wait(interval)
            self.wakeup.clear()

    def wake(self) -> None:
        self.wakeup.set()


class OutboxProvider(DependencyProvider):
    """Runs the service's outbox relay in the container; injects an `emit(session, type, payload)`."""

    def __init__(self, service: str, infra: Infrastructure, interval: float = 1.0):
        self.service = service
        self.infra = infra
        self.interval = interval
        self.relay: OutboxRelay | None = None
        self._stop = threading.Event()

    def setup(self):
        db = database_for(self.service)
        self.relay = OutboxRelay(db, self.infra, self.container.config.get("AMQP_URI"))
        db.after_commit.append(self.relay.wake)

    def start(self):
        self.container.spawn_managed_thread(self._run, identifier=f"{self.service}.outbox_relay")

    def _run(self):
        self.relay.run_forever(self._stop, self.interval)

    def stop(self):
        self._stop.set()
        self.relay.wake()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        infra = self.infra

        def _emit(session: Session, type_name: str, payload: dict) -> dict:
            return emit(session, infra, type_name, payload)

        return _emit

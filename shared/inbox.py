"""Idempotent, retried event handling: the inbound side of at-least-once delivery.

`@consumes(source, type)` makes a service method an event handler that runs inside one transaction with
an `inbound_events` row keyed by `event_id`, so a redelivered event is applied once. A handler that raises
is recorded as `failed` (the message is acknowledged only after that record commits) and retried with
exponential backoff by the service's `retry_failed_events` timer; after the last attempt it is `parked`
until an operator replays it (`nuanxin events parked|replay`).
"""
from __future__ import annotations

import functools
import json
import logging
import traceback
from datetime import timedelta

from nameko.extensions import DependencyProvider
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from shared.amqp import event_handler
from shared.db import Database, Infrastructure, database_for, utcnow
from shared.events import parse_event

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BASE_BACKOFF = 1.0  # seconds; doubles per attempt
LOCK_FOR = timedelta(seconds=60)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BASE_BACKOFF * (2 ** max(attempts - 1, 0)))


def consumes(source: str, type_name: str, *, when=None):
    """Decorate `method(self, session, event)`; it becomes a nameko event handler run via the inbox.

    `when(payload)`, if given, picks the events the handler is about from their raw payload: the others are
    acknowledged without a transaction (nothing to apply, so nothing to record)."""

    def decorator(method):
        @functools.wraps(method)
        def entrypoint(self, envelope):
            if when is not None and isinstance(envelope, dict) and isinstance(envelope.get("payload"), dict) \
                    and not when(envelope["payload"]):
                return
            self.inbox.handle(self, method.__name__, envelope)

        entrypoint.__nuanxin_handler__ = method
        handler_name = method.__name__
        # The real work lives under a private name so retries can find it by the handler name.
        entrypoint.__nuanxin_name__ = handler_name
        return event_handler(source, type_name)(entrypoint)

    return decorator


class Inbox:
    def __init__(self, db: Database, infra: Infrastructure):
        self.db = db
        self.infra = infra

    def _handler(self, service, name):
        return getattr(type(service), name).__nuanxin_handler__

    def handle(self, service, name: str, envelope: dict, *, retrying: bool = False) -> str:
        """Apply an incoming envelope once; returns done | duplicate | failed | parked | invalid."""
        InboundEvent = self.infra.InboundEvent
        try:
            event = parse_event(envelope)
        except Exception as exc:  # an unparseable message cannot succeed later: park it at once
            return self._record_failure(envelope, name, exc, park=True)
        handler = self._handler(service, name)
        try:
            with self.db.transaction() as session:
                row = session.get(InboundEvent, event["event_id"])
                if row is None:
                    session.add(InboundEvent(event_id=event["event_id"], type=event["type"], handler=name,
                                             status="done", attempts=1))
                    session.flush()
                elif row.status == "done" or not retrying:
                    # Applied already, or a redelivery of a failed event whose retries the timer owns.
                    return "duplicate"
                else:
                    row.status, row.attempts = "done", row.attempts + 1
                    row.next_attempt_at = row.locked_until = None
                handler(service, session, event)
            return "done"
        except IntegrityError:
            with self.db.read() as session:
                if session.get(InboundEvent, event["event_id"]) is not None and not retrying:
                    return "duplicate"  # a concurrent delivery won the race
            return self._record_failure(envelope, name, traceback.format_exc(limit=3))
        except Exception as exc:
            log.warning("handler %s failed for %s: %s", name, event["event_id"], exc)
            return self._record_failure(envelope, name, exc)

    def take_over(self, envelope, name: str, reason: str) -> str:
        """An event the broker gave up delivering to handler `name` (never acknowledged within its delivery
        limit: its process died each time, say): one failed attempt, which the retry timer runs again and
        parks after the last one. Nothing if it was applied already. Returns duplicate | failed | parked | invalid."""
        event_id = str(envelope.get("event_id") or "")[:36] if isinstance(envelope, dict) else ""
        if event_id:
            with self.db.read() as session:
                row = session.get(self.infra.InboundEvent, event_id)
                if row is not None and row.status == "done":
                    return "duplicate"
        return self._record_failure(envelope, name, reason)

    def _record_failure(self, envelope, name, exc, park: bool = False) -> str:
        InboundEvent = self.infra.InboundEvent
        event_id = str(envelope.get("event_id") or "")[:36] if isinstance(envelope, dict) else ""
        if not event_id:
            log.error("dropping a message without event_id: %r", envelope)
            return "invalid"
        error = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        with self.db.transaction() as session:
            row = session.get(InboundEvent, event_id)
            if row is None:
                row = InboundEvent(event_id=event_id, type=str(envelope.get("type", ""))[:64], handler=name,
                                   attempts=0)
                session.add(row)
            row.envelope = json.dumps(envelope, default=str)
            row.attempts = (row.attempts or 0) + 1
            row.last_error = error[:4000]
            row.locked_until = None
            if park or row.attempts >= MAX_ATTEMPTS:
                row.status, row.next_attempt_at = "parked", None
            else:
                row.status, row.next_attempt_at = "failed", utcnow() + backoff(row.attempts)
            return row.status

    def retry_due(self, service, limit: int = 50) -> int:
        """Re-run failed events whose backoff has passed; each row is claimed so replicas never double up."""
        InboundEvent = self.infra.InboundEvent
        now = utcnow()
        with self.db.read() as session:
            due = session.scalars(
                select(InboundEvent.event_id).where(InboundEvent.status == "failed",
                                                    InboundEvent.next_attempt_at <= now).limit(limit)
            ).all()
        done = 0
        for event_id in due:
            with self.db.transaction() as session:
                claimed = session.execute(
                    update(InboundEvent)
                    .where(InboundEvent.event_id == event_id, InboundEvent.status == "failed",
                           or_(InboundEvent.locked_until.is_(None), InboundEvent.locked_until < now))
                    .values(locked_until=now + LOCK_FOR)
                ).rowcount
                row = session.get(InboundEvent, event_id) if claimed else None
                if row is None:
                    continue
                envelope, name = json.loads(row.envelope), row.handler
            if self.handle(service, name, envelope, retrying=True) == "done":
                done += 1
        return done

    def parked(self) -> list[dict]:
        InboundEvent = self.infra.InboundEvent
        with self.db.read() as session:
            rows = session.scalars(select(InboundEvent).where(InboundEvent.status == "parked")
                                   .order_by(InboundEvent.received_at)).all()
            return [{"event_id": r.event_id, "type": r.type, "handler": r.handler, "attempts": r.attempts,
                     "last_error": (r.last_error or "").splitlines()[-1:] and (r.last_error or "").splitlines()[-1],
                     "received_at": r.received_at.isoformat()} for r in rows]

    def replay(self, event_ids: list[str] | None = None) -> int:
        """Put parked events back in line for an immediate retry (all of them when no ids are given)."""
        InboundEvent = self.infra.InboundEvent
        with self.db.transaction() as session:
            query = update(InboundEvent).where(InboundEvent.status == "parked")
            if event_ids:
                query = query.where(InboundEvent.event_id.in_(event_ids))
            return session.execute(
                query.values(status="failed", attempts=0, next_attempt_at=utcnow(), locked_until=None)
            ).rowcount


class InboxProvider(DependencyProvider):
    def __init__(self, service: str, infra: Infrastructure):
        self.service = service
        self.infra = infra

    def setup(self):
        self.inbox = Inbox(database_for(self.service), self.infra)

    def get_dependency(self, worker_ctx):
        return self.inbox

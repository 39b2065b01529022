"""Sending queued channel messages: claim, send through Apprise, log the attempt, retry, park.

Each delivery row is claimed with a guarded UPDATE (pending → sending, with a lease) so two replicas never
send it twice; the send happens outside any transaction; the outcome is logged per attempt. A failure is
retried with exponential backoff; after the last attempt the row is parked with its reason until an
operator replays it (`parked_deliveries()`, `replay_deliveries(ids)`; also over HTTP for admins). A lease
that runs out (the process died mid-send) makes the row claimable again. An address that fails the
channel rules at send time (`channels.check`, names may resolve elsewhere since it was registered) is not
contacted: the attempt is logged as failed with the reason and the row parks at once.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import timedelta

import eventlet
from sqlalchemy import and_, func, or_, select, update

from services.notifications import channels as addresses
from services.notifications.contracts import DeliverySchema
from services.notifications.models import Channel, Delivery, DeliveryAttempt
from shared import config
from shared.claims import claimed, work_through
from shared.db import Database, database_for, utcnow
from shared.paging import keyset

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)


def max_attempts() -> int:
    return config.env_int("NUANXIN_DELIVERY_MAX_ATTEMPTS", 5)


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: base × 2^(attempts-1)."""
    base = config.env_float("NUANXIN_DELIVERY_BACKOFF_SECONDS", 30.0)
    return timedelta(seconds=base * (2 ** max(attempts - 1, 0)))


def _due(now):
    return or_(and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
               and_(Delivery.status == "sending", Delivery.locked_until < now))


@dataclass(frozen=True)
class _Claimed:
    """A delivery this worker claimed, with what its send needs (read in the claim's transaction)."""

    delivery_id: int
    attempt: int
    title: str
    body: str
    severity: str
    secret: str
    masked: str


def send_due(db: Database, limit: int | None = None) -> int:
    """Send every due delivery (up to `limit`), several at once; returns how many were attempted.

    A round claims as many due rows as sends run at once (shared.claims: one guarded UPDATE each, committed
    before anything is sent), then sends them side by side outside any transaction; rounds repeat while
    rows are due, so no claim waits long for its send and its lease outlives it."""
    limit = limit or config.env_int("NUANXIN_DELIVERY_BATCH", 200)
    width = config.env_int("NUANXIN_DELIVERY_CONCURRENCY", 8)
    pool = eventlet.GreenPool(width)
    attempted = 0
    while attempted < limit:
        now = utcnow()
        sends: list[_Claimed] = []
        due = select(Delivery.id).where(_due(now)).order_by(Delivery.next_attempt_at) \
            .limit(min(width, limit - attempted))
        took = work_through(db, due, functools.partial(_claim, now=now, sends=sends))
        if not took:
            break
        attempted += took
        for _ in pool.imap(functools.partial(_send, db), sends):
            pass
    return attempted


def _claim(session, delivery_id: int, *, now, sends: list[_Claimed]) -> bool:
    """Claim one due delivery (pending → sending, with a lease); False when another worker had it. A row
    expired or whose channel was removed is settled here, without a send."""
    if not claimed(session, update(Delivery).where(Delivery.id == delivery_id, _due(now))
                   .values(status="sending", locked_until=now + LEASE, held_reason=None,
                           attempts=Delivery.attempts + 1)):
        return False
    row = session.get(Delivery, delivery_id)
    channel = session.get(Channel, row.channel_id)
    if row.expires_at is not None and row.expires_at <= now:
        row.status, row.last_error, row.locked_until = "expired", "expired before it could be sent", None
    elif channel is None or not channel.active:
        row.status, row.last_error, row.locked_until = "expired", "the channel was removed", None
    else:
        sends.append(_Claimed(delivery_id, row.attempts, row.title, row.body, row.severity, channel.secret,
                              channel.masked))
    return True


def _send(db: Database, job: _Claimed) -> None:
    """One attempt at a claimed delivery, outside any transaction; the outcome is recorded after."""
    try:
        url = addresses.decrypt(job.secret)
    except ValueError as exc:
        _record(db, job.delivery_id, job.attempt, job.masked, addresses.SendResult(False, str(exc), 0), final=True)
        return
    result = addresses.send(url, job.title, job.body, job.severity)
    # A refused address (see channels.check) was not contacted; it parks at once with its reason.
    _record(db, job.delivery_id, job.attempt, job.masked, result, final=result.refused)


def _record(db: Database, delivery_id: int, attempt: int, masked: str, result, final: bool = False) -> None:
    with db.transaction() as session:
        session.add(DeliveryAttempt(delivery_id=delivery_id, attempt=attempt, channel=masked,
                                    status="sent" if result.ok else "failed", error=result.error,
                                    duration_ms=result.duration_ms))
        row = session.get(Delivery, delivery_id)
        if row is None or row.status != "sending":
            return
        row.locked_until = None
        if result.ok:
            row.status, row.sent_at, row.last_error = "sent", utcnow(), None
        elif final or attempt >= max_attempts():
            row.status, row.last_error = "parked", result.error
            log.warning("delivery %s parked after %s attempt(s): %s", delivery_id, attempt, result.error)
        else:
            row.status, row.last_error = "pending", result.error
            row.next_attempt_at = utcnow() + backoff(attempt)


# -- operators -----------------------------------------------------------------------------------------
def _view(session, rows) -> list[dict]:
    logs: dict[int, list] = {}
    if rows:
        for attempt in session.scalars(select(DeliveryAttempt).where(
                DeliveryAttempt.delivery_id.in_([r.id for r in rows])).order_by(DeliveryAttempt.id)):
            logs.setdefault(attempt.delivery_id, []).append(attempt)
    return [DeliverySchema().dump({**{c.key: getattr(r, c.key) for c in Delivery.__table__.columns},
                                   "log": logs.get(r.id, [])}) for r in rows]


def list_deliveries(db: Database, query: dict) -> dict:
    """Channel messages of one status (`query["status"]`), oldest first, a page of `query` at a time."""
    with db.read() as session:
        stmt = select(Delivery).where(Delivery.status == query["status"])
        page = keyset(session, stmt, Delivery.id, query, newest_first=False)
        return page.answer(lambda rows: _view(session, rows))


def parked_deliveries(db: Database | None = None) -> list[dict]:
    """Every parked channel message with its reason and attempt log (for `nuanxin` operators)."""
    db = db or database_for("notifications")
    with db.read() as session:
        rows = session.scalars(select(Delivery).where(Delivery.status == "parked").order_by(Delivery.id)).all()
        return _view(session, rows)


def replay_deliveries(ids: list[int] | None = None, db: Database | None = None) -> int:
    """Put parked messages (all of them when no ids are given) back in line for an immediate send."""
    db = db or database_for("notifications")
    with db.transaction() as session:
        stmt = update(Delivery).where(Delivery.status == "parked")
        if ids:
            stmt = stmt.where(Delivery.id.in_(list(ids)))
        return session.execute(stmt.values(status="pending", attempts=0, next_attempt_at=utcnow(),
                                           locked_until=None)).rowcount


def progress(session, broadcast_id: int) -> dict:
    """Channel messages of a broadcast by state: pending (incl. held and sending), sent, failed (parked)."""
    counts = dict(session.execute(select(Delivery.status, func.count()).where(Delivery.broadcast_id == broadcast_id)
                                  .group_by(Delivery.status)).all())
    return {"pending": counts.get("pending", 0) + counts.get("sending", 0), "sent": counts.get("sent", 0),
            "failed": counts.get("parked", 0)}


def progress_by_scheme(session, broadcast_id: int) -> list[dict]:
    """A broadcast's channel messages per kind of channel (mailto, wecom, ntfy, json…), by state."""
    rows = session.execute(select(Channel.scheme, Delivery.status, func.count())
                           .join(Channel, Channel.id == Delivery.channel_id)
                           .where(Delivery.broadcast_id == broadcast_id)
                           .group_by(Channel.scheme, Delivery.status)).all()
    schemes: dict[str, dict] = {}
    for scheme, status, count in rows:
        counts = schemes.setdefault(scheme, {"scheme": scheme, "pending": 0, "sent": 0, "failed": 0})
        key = {"pending": "pending", "sending": "pending", "sent": "sent", "parked": "failed"}.get(status)
        if key:
            counts[key] += count
    return [schemes[name] for name in sorted(schemes)]

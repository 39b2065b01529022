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

import logging
from datetime import timedelta

import eventlet
from sqlalchemy import and_, func, or_, select, update

from services.notifications import channels as addresses
from services.notifications.models import Channel, Delivery, DeliveryAttempt
from services.notifications.schemas import DeliverySchema
from shared import config
from shared.db import Database, database_for, utcnow

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


def send_due(db: Database, limit: int | None = None) -> int:
    """Send every due delivery (up to `limit`), several at once; returns how many were attempted."""
    limit = limit or config.env_int("NUANXIN_DELIVERY_BATCH", 200)
    now = utcnow()
    with db.read() as session:
        due = session.scalars(select(Delivery.id).where(_due(now)).order_by(Delivery.next_attempt_at)
                              .limit(limit)).all()
    if not due:
        return 0
    pool = eventlet.GreenPool(config.env_int("NUANXIN_DELIVERY_CONCURRENCY", 8))
    return sum(1 for attempted in pool.imap(lambda i: send_one(db, i), due) if attempted)


def send_one(db: Database, delivery_id: int) -> bool:
    """Claim one delivery and make one attempt; False when another worker had it."""
    now = utcnow()
    with db.transaction() as session:
        claimed = session.execute(update(Delivery).where(Delivery.id == delivery_id, _due(now))
                                  .values(status="sending", locked_until=now + LEASE, held_reason=None,
                                          attempts=Delivery.attempts + 1)).rowcount
        if claimed != 1:
            return False
        row = session.get(Delivery, delivery_id)
        channel = session.get(Channel, row.channel_id)
        attempt, title, body, severity = row.attempts, row.title, row.body, row.severity
        if row.expires_at is not None and row.expires_at <= now:
            row.status, row.last_error, row.locked_until = "expired", "expired before it could be sent", None
            return True
        if channel is None or not channel.active:
            row.status, row.last_error, row.locked_until = "expired", "the channel was removed", None
            return True
        secret, masked = channel.secret, channel.masked
    try:
        url = addresses.decrypt(secret)
    except ValueError as exc:
        _record(db, delivery_id, attempt, masked, addresses.SendResult(False, str(exc), 0), final=True)
        return True
    result = addresses.send(url, title, body, severity)
    # A refused address (see channels.check) was not contacted; it parks at once with its reason.
    _record(db, delivery_id, attempt, masked, result, final=result.refused)
    return True


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


def list_deliveries(db: Database, status: str = "parked", limit: int = 20, cursor: int | None = None,
                    **filters) -> dict:
    with db.read() as session:
        stmt = select(Delivery).where(Delivery.status == status)
        for key, value in filters.items():
            if value is not None:
                stmt = stmt.where(getattr(Delivery, key) == value)
        if cursor is not None:
            stmt = stmt.where(Delivery.id > cursor)
        rows = session.scalars(stmt.order_by(Delivery.id).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": _view(session, rows), "next_cursor": str(rows[-1].id) if more else None}


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

"""Periodic work: expire undecided bookings, release no-shows, send reminders, lapse waitlist offers.

Each due item is claimed with a guarded UPDATE inside the transaction that also applies its effect and
emits its event, and acted on only when this process's UPDATE changed it: with several replicas running
the same timers, each item is handled exactly once.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from services.bookings import waitlist
from services.bookings.models import Booking, Occurrence, WaitlistEntry
from services.bookings.operations import free_rows
from services.bookings.payloads import booking_event_payload, occurrence_payload
from shared.config import env_float, env_int
from shared.db import Database, utcnow

BATCH = env_int("BOOKINGS_TIMER_BATCH", 200)
REMINDER_LEAD = timedelta(minutes=env_float("BOOKINGS_REMINDER_MINUTES", 60))


def expire_pending(db: Database, emit, now: datetime | None = None) -> int:
    """Pending bookings whose first occurrence began undecided expire and free their slots."""
    now = now or utcnow()
    with db.read() as session:
        due = session.scalars(select(Occurrence.booking_id).where(
            Occurrence.status == "pending", Occurrence.starts_at <= now).distinct().limit(BATCH)).all()
    done = 0
    for booking_id in due:
        with db.transaction() as session:
            claimed = session.execute(update(Booking).where(Booking.id == booking_id, Booking.status == "pending")
                                      .values(status="expired", version=Booking.version + 1,
                                              updated_at=now)).rowcount
            if claimed != 1:
                continue
            booking = session.get(Booking, booking_id)
            payload = booking_event_payload(booking, booking.space)
            free_rows(session, emit, booking.space, [o for o in booking.occurrences if o.status == "pending"],
                      "expired")
            payload.update(status="expired", reason="not approved or rejected before it started")
            emit(session, "booking.expired", payload)
            done += 1
    return done


def release_no_shows(db: Database, emit, now: datetime | None = None) -> int:
    """Occurrences nobody checked in to by their release deadline are released; the slot is free again."""
    now = now or utcnow()
    with db.read() as session:
        due = session.execute(select(Occurrence.booking_id, Occurrence.starts_at).where(
            Occurrence.status == "confirmed", Occurrence.release_at <= now).distinct().limit(BATCH)).all()
    done = 0
    for booking_id, starts_at in due:
        with db.transaction() as session:
            claimed = session.execute(update(Occurrence).where(
                Occurrence.booking_id == booking_id, Occurrence.starts_at == starts_at,
                Occurrence.status == "confirmed", Occurrence.release_at <= now)
                .values(status="released")).rowcount
            if claimed < 1:
                continue
            booking = session.get(Booking, booking_id)
            released = [o for o in booking.occurrences if o.starts_at == starts_at and o.status == "released"]
            if not any(o.status in ("pending", "confirmed", "checked_in") for o in booking.occurrences):
                booking.status = "released"
            booking.version += 1
            session.flush()
            emit(session, "booking.released", occurrence_payload(booking, booking.space, released[0]))
            waitlist.offer_freed(session, emit, booking.space,
                                 sorted({(o.starts_at, o.blocked_until) for o in released}))
            done += 1
    return done


def send_reminders(db: Database, emit, now: datetime | None = None) -> int:
    """One `booking.reminder_due` per occurrence starting within the reminder lead time."""
    now = now or utcnow()
    live = ("confirmed", "checked_in")
    with db.read() as session:
        due = session.execute(select(Occurrence.booking_id, Occurrence.starts_at).where(
            Occurrence.status.in_(live), Occurrence.starts_at > now, Occurrence.starts_at <= now + REMINDER_LEAD,
            Occurrence.reminded_at.is_(None)).distinct().limit(BATCH)).all()
    done = 0
    for booking_id, starts_at in due:
        with db.transaction() as session:
            claimed = session.execute(update(Occurrence).where(
                Occurrence.booking_id == booking_id, Occurrence.starts_at == starts_at,
                Occurrence.status.in_(live), Occurrence.reminded_at.is_(None)).values(reminded_at=now)).rowcount
            if claimed < 1:
                continue
            booking = session.get(Booking, booking_id)
            first = next(o for o in booking.occurrences if o.starts_at == starts_at)
            emit(session, "booking.reminder_due", occurrence_payload(booking, booking.space, first))
            done += 1
    return done


def lapse_offers(db: Database, emit, now: datetime | None = None) -> int:
    """Offers not accepted in time lapse and pass to the next in line; stale waiting entries close."""
    now = now or utcnow()
    stale = (WaitlistEntry.status == "waiting", WaitlistEntry.starts_at <= now)
    with db.read() as session:
        any_stale = session.scalar(select(WaitlistEntry.id).where(*stale).limit(1)) is not None
    if any_stale:  # read first: an idle tick takes no write lock (SQLite serialises writers)
        with db.transaction() as session:
            session.execute(update(WaitlistEntry).where(*stale).values(status="closed"))
    with db.read() as session:
        due = session.scalars(select(WaitlistEntry.id).where(
            WaitlistEntry.status == "offered", WaitlistEntry.hold_until <= now).limit(BATCH)).all()
    done = 0
    for entry_id in due:
        with db.transaction() as session:
            done += waitlist.lapse_offer(session, emit, entry_id, now)
    return done

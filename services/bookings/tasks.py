"""Periodic work: expire undecided bookings, release no-shows, send reminders, lapse waitlist offers.

Each due item is claimed with a guarded UPDATE inside the transaction that also applies its effect and
emits its event, and acted on only when this process's UPDATE changed it: with several replicas running
the same timers, each item is handled exactly once.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select, update

from services.bookings import waitlist
from services.bookings.models import Booking, Occurrence, WaitlistEntry
from services.bookings.operations import free_rows
from services.bookings.payloads import booking_event_payload, occurrence_payload
from services.bookings.states import BOOKING, LIVE_STATES, OCCURRENCE, WAITLIST
from shared.claims import claimed, work_through
from shared.config import env_float, env_int
from shared.db import Database, utcnow

BATCH = env_int("BOOKINGS_TIMER_BATCH", 200)
REMINDER_LEAD = timedelta(minutes=env_float("BOOKINGS_REMINDER_MINUTES", 60))
REMINDED = ("confirmed", "checked_in")  # occurrences that will take place: they get a reminder


def _expire(session, booking_id: int, *, emit, now: datetime) -> bool:
    # The claim bumps the version itself: it is the version counter's column, as any UPDATE of the row must.
    if not claimed(session, update(Booking).where(Booking.id == booking_id, Booking.status == "pending").values(
            status=BOOKING.next("pending", "expire"), version=Booking.version + 1, updated_at=now)):
        return False
    booking = session.get(Booking, booking_id)
    payload = booking_event_payload(booking, booking.space)
    expiring = [o for o in booking.occurrences if OCCURRENCE.can(o.status, "expire")]
    free_rows(session, emit, booking.space, expiring, "expire")
    payload.update(status=booking.status, reason="not approved or rejected before it started")
    emit(session, "booking.expired", payload)
    return True


def expire_pending(db: Database, emit, now: datetime | None = None) -> int:
    """Pending bookings whose first occurrence began undecided expire and free their slots."""
    now = now or utcnow()
    due = select(Occurrence.booking_id).where(
        Occurrence.status.in_(OCCURRENCE.sources("expire")), Occurrence.starts_at <= now).distinct().limit(BATCH)
    return work_through(db, due, partial(_expire, emit=emit, now=now))


def _release(session, booking_id: int, starts_at: datetime, *, emit, now: datetime) -> bool:
    if not claimed(session, update(Occurrence).where(
            Occurrence.booking_id == booking_id, Occurrence.starts_at == starts_at,
            Occurrence.status.in_(OCCURRENCE.sources("release")), Occurrence.release_at <= now)
            .values(status=OCCURRENCE.next("confirmed", "release"))):
        return False
    booking = session.get(Booking, booking_id)
    released = [o for o in booking.occurrences if o.starts_at == starts_at and o.status == "released"]
    if not any(o.status in LIVE_STATES for o in booking.occurrences) and BOOKING.can(booking.status, "release"):
        BOOKING.move(booking, "release")
    booking.updated_at = now  # a new version either way (ETag, calendar SEQUENCE)
    session.flush()
    emit(session, "booking.released", occurrence_payload(booking, booking.space, released[0]))
    waitlist.offer_freed(session, emit, booking.space, sorted({(o.starts_at, o.blocked_until) for o in released}))
    return True


def release_no_shows(db: Database, emit, now: datetime | None = None) -> int:
    """Occurrences nobody checked in to by their release deadline are released; the slot is free again."""
    now = now or utcnow()
    due = select(Occurrence.booking_id, Occurrence.starts_at).where(
        Occurrence.status.in_(OCCURRENCE.sources("release")), Occurrence.release_at <= now).distinct().limit(BATCH)
    return work_through(db, due, partial(_release, emit=emit, now=now))


def _remind(session, booking_id: int, starts_at: datetime, *, emit, now: datetime) -> bool:
    if not claimed(session, update(Occurrence).where(
            Occurrence.booking_id == booking_id, Occurrence.starts_at == starts_at,
            Occurrence.status.in_(REMINDED), Occurrence.reminded_at.is_(None)).values(reminded_at=now)):
        return False
    booking = session.get(Booking, booking_id)
    first = next(o for o in booking.occurrences if o.starts_at == starts_at)
    emit(session, "booking.reminder_due", occurrence_payload(booking, booking.space, first))
    return True


def send_reminders(db: Database, emit, now: datetime | None = None) -> int:
    """One `booking.reminder_due` per occurrence starting within the reminder lead time."""
    now = now or utcnow()
    due = select(Occurrence.booking_id, Occurrence.starts_at).where(
        Occurrence.status.in_(REMINDED), Occurrence.starts_at > now, Occurrence.starts_at <= now + REMINDER_LEAD,
        Occurrence.reminded_at.is_(None)).distinct().limit(BATCH)
    return work_through(db, due, partial(_remind, emit=emit, now=now))


def lapse_offers(db: Database, emit, now: datetime | None = None) -> int:
    """Offers not accepted in time lapse and pass to the next in line; stale waiting entries close."""
    now = now or utcnow()
    stale = (WaitlistEntry.status.in_(WAITLIST.sources("close")), WaitlistEntry.starts_at <= now)
    with db.read() as session:
        any_stale = session.scalar(select(WaitlistEntry.id).where(*stale).limit(1)) is not None
    if any_stale:  # read first: an idle tick takes no write lock (SQLite serialises writers)
        with db.transaction() as session:
            session.execute(update(WaitlistEntry).where(*stale).values(status=WAITLIST.next("waiting", "close")))
    due = select(WaitlistEntry.id).where(WaitlistEntry.status.in_(WAITLIST.sources("lapse")),
                                         WaitlistEntry.hold_until <= now).limit(BATCH)
    return work_through(db, due, lambda session, entry_id: waitlist.lapse_offer(session, emit, entry_id, now))

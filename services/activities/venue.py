"""The venue saga: a session's room is really booked in the bookings service, and nothing is left half-made
when either service fails in between.

1. tx1 records a `VenueHold` (state `booking`, a fresh `reference`) with the sessions it is for; a session whose
   hold is not `held` is not shown to anyone. Committed before bookings is asked.
2. bookings' `create_booking` is asked as the caller (the organiser), carrying the reference.
   - an answer: tx2 makes the hold `held` and gives each session its occurrence (matched by its start);
   - a refusal (a conflict, a broken rule, no right to book): tx2 makes the hold `refused` and deletes its
     sessions; the caller gets bookings' answer (409 with the `conflicts`, 422, 403);
   - no answer (bookings down, a timeout, anything else): tx2 makes the hold `releasing` and deletes its
     sessions; the caller gets 503.
3. The compensation timer (`compensate`, as the system) gives back every hold in `releasing` — and every hold
   stuck in `booking` for longer than `stuck_after` (the process died between tx1 and tx2) — with bookings'
   `release_reference`, which cancels the booking made with the reference or, if none was made yet, refuses a
   late one. Retried, a lease apart, until bookings answers; then the hold is `released`.

Cancelling or moving a session gives its occurrence back the same way: a hold in `releasing` naming the
occurrence (`occurrence_id`), which the timer cancels in bookings. The RPCs are handed in as plain functions
(`Bookings`), so this module knows nothing of nameko.

A retried request takes effect once. The saga's steps commit on their own, so the exactly-once unit of work
(shared/idempotency.py) cannot wrap it; instead a keyed request's holds take their references from its
idempotency key (`reference_for`), and the hold is the request's record: a retry (a client's after a 503,
a redelivery, a duplicate sent at the same time) meets the hold its first attempt made (`attempt`):
- `held`: the first attempt took effect; the retry answers what it made, as it is now;
- `booking` (the first attempt still waits for bookings) or `releasing` (it failed and its room is being
  given back): 503, try again shortly — never a second booking beside the first;
- `refused` or `released`: the first attempt left nothing (bookings refused, or its room was given back), so
  the retry runs as a new attempt with the key's next reference (bookings refuses a released reference
  again, so each attempt has its own); it gets bookings' answer of now, as the first would have.
Two attempts with one reference at once: the unique reference lets one write its hold; the other is 503.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from services.activities.models import ActivitySession, VenueHold
from services.activities.rules import HOLD, venue_status
from shared.claims import claimed, work_through
from shared.db import Database, utcnow
from shared.errors import Conflict, DomainError, NotFound, Unavailable

log = logging.getLogger(__name__)

BATCH = 100


@dataclass(frozen=True)
class Bookings:
    """What activities asks of the bookings service (RPC), as plain functions."""

    space: Callable[[int], dict]                 # get_space, as the caller
    site: Callable[[int], dict]                  # get_site, as the caller
    book: Callable[[dict], dict]                 # create_booking, as the caller
    release: Callable[[str], dict]               # release_reference, as the system
    cancel_occurrence: Callable[[int, int, str], dict]  # cancel_booking(scope=occurrence), as the system


# How many attempts one key's request may make (each refused or given back) before it needs a new key.
ATTEMPTS = 20
BUSY = "The same request is being carried out (its room is being booked or given back); try again shortly."


def reference_for(key: str, *parts) -> str:
    """A hold's reference for a keyed request: the same on every retry of it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "\n".join(["nuanxin:activities", key, *map(str, parts)])))


def attempt(session, key: str | None, *parts) -> tuple[VenueHold | None, str | None]:
    """The hold a keyed request made already and is to answer (held, or still `booking`/`releasing`: `busy`
    raises 503), else None and the reference its new attempt books with (None without a key: a fresh one)."""
    if not key:
        return None, None
    references = [reference_for(key, *parts, n) for n in range(ATTEMPTS)]
    made = {hold.reference: hold for hold in session.scalars(
        select(VenueHold).where(VenueHold.reference.in_(references)))}
    for reference in references:
        hold = made.get(reference)
        if hold is None:
            return None, reference
        if hold.state not in ("refused", "released"):  # its first attempt's effect stands, or is in doubt
            return hold, reference
    raise Conflict(f"This request was tried {ATTEMPTS} times; send it again with a new Idempotency-Key.")


def busy(hold: VenueHold) -> VenueHold:
    """A hold a retry meets: `held` is returned; one not answered yet, or being given back, is 503."""
    if hold.state != "held":
        raise Unavailable(BUSY)
    return hold


def open_hold(session, activity_id: int, space_id: int, reference: str | None = None) -> VenueHold:
    """tx1's record: a hold asked for, not yet answered (`reference` a keyed request's, else a fresh one).
    A duplicate of the request writing the same reference at the same time is 503."""
    hold = VenueHold(reference=reference or str(uuid.uuid4()), activity_id=activity_id, space_id=space_id,
                     state="booking", created_at=utcnow(), updated_at=utcnow())
    session.add(hold)
    try:
        session.flush()
    except IntegrityError:
        raise Unavailable(BUSY) from None
    return hold


def release_occurrence(session, activity_id: int, space_id: int, booking_id: int, occurrence_id: int) -> None:
    """Record that one occurrence of a booking is to be given back (the timer does it, as the system)."""
    session.add(VenueHold(reference=str(uuid.uuid4()), activity_id=activity_id, space_id=space_id,
                          state="releasing", booking_id=booking_id, occurrence_id=occurrence_id,
                          created_at=utcnow(), updated_at=utcnow()))


def release_hold(hold: VenueHold) -> None:
    """A held room is to be given back whole (its activity was cancelled)."""
    HOLD.move(hold, "release", attr="state")
    hold.updated_at = utcnow()


def ask(db: Database, hold_id: int, request: dict, book: Callable[[dict], dict]) -> dict:
    """Step 2 and tx2 (on failure): ask bookings for the room (the request carries the hold's reference).
    Returns bookings' booking (the caller records it with `settle`), or raises what the caller is answered,
    the hold's sessions deleted and its outcome recorded."""
    try:
        return book(request)
    except Conflict as refusal:
        _failed(db, hold_id, "refuse", f"409: {refusal.detail}")
        raise Conflict("The room is taken at some of the sessions' times; nothing was added.",
                       extra={"conflicts": refusal.extra.get("conflicts", [])}) from None
    except Unavailable as exc:
        _failed(db, hold_id, "abandon", f"503: {exc.detail}")
        raise
    except DomainError as refusal:  # bookings refused: a broken rule of the room, no right to book it
        _failed(db, hold_id, "refuse", f"{refusal.status}: {refusal.detail}")
        raise
    except Exception as exc:  # noqa: BLE001 - whatever else stopped the answer, the room may be booked
        _failed(db, hold_id, "abandon", f"{type(exc).__name__}: {exc}")
        log.warning("asking bookings for a room failed: %s: %s", type(exc).__name__, exc)
        raise Unavailable("The bookings service did not answer; nothing was added. Try again shortly.") from None


def not_asked(db: Database, hold_ids: list[int]) -> None:
    """Holds written with others whose request was given up before bookings was asked for them: refused (nothing
    was booked), their sessions deleted."""
    for hold_id in hold_ids:
        _failed(db, hold_id, "refuse", "not asked: another room of the request could not be had")


def _failed(db: Database, hold_id: int, verb: str, error: str) -> None:
    """tx2 of a failed ask: the hold is refused (nothing was booked) or releasing (something may have been:
    the timer gives it back), and its sessions, never shown, are deleted."""
    with db.transaction() as session:
        if not claimed(session, update(VenueHold).where(VenueHold.id == hold_id, VenueHold.state == "booking")
                       .values(state=HOLD.next("booking", verb), error=error[:500], updated_at=utcnow())):
            return  # the timer took it already (it looked stuck): it is being given back
        session.execute(delete(ActivitySession).where(ActivitySession.hold_id == hold_id))


def settle(session, hold_id: int, booking: dict) -> list[ActivitySession] | None:
    """tx2 of an answered ask: the hold is `held` with bookings' booking, and each of its sessions gets its
    occurrence (by start); sessions bookings did not book (none, normally) are deleted. None when the hold is
    no longer `booking` (the timer took it as stuck and gives the room back): the sessions are gone."""
    if not claimed(session, update(VenueHold).where(VenueHold.id == hold_id, VenueHold.state == "booking")
                   .values(state=HOLD.next("booking", "hold"), booking_id=booking["id"], updated_at=utcnow())):
        return None
    occurrences = {_instant(o["starts_at"]): o for o in booking.get("occurrences") or ()}
    rows = list(session.scalars(select(ActivitySession).where(ActivitySession.hold_id == hold_id)
                                .order_by(ActivitySession.starts_at)))
    kept = []
    for row in rows:
        occurrence = occurrences.get(row.starts_at)
        if occurrence is None:
            session.delete(row)
            continue
        row.booking_id, row.occurrence_id = booking["id"], occurrence["id"]
        # pending while the room awaits its manager (bookings' events keep it up to date: rooms.py)
        row.venue_status = venue_status(occurrence.get("status") or booking.get("status") or "confirmed")
        kept.append(row)
    session.flush()
    return kept


def _instant(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


# --------------------------------------------------------------------------- the compensation timer


@dataclass
class _Job:
    hold_id: int
    reference: str
    booking_id: int | None
    occurrence_id: int | None


def _due(now: datetime, stuck_after: timedelta, lease: timedelta):
    return or_(and_(VenueHold.state == "releasing", VenueHold.updated_at <= now - lease),
               and_(VenueHold.state == "booking", VenueHold.updated_at <= now - stuck_after))


def compensate(db: Database, bookings: Bookings, *, stuck_after: timedelta, lease: timedelta,
               now: datetime | None = None) -> int:
    """Give back the rooms of holds in `releasing` (tried again a `lease` after the last try) and of holds stuck
    in `booking` for `stuck_after`; returns how many bookings answered. Each hold is claimed (a guarded UPDATE
    that renews its lease, committed) before bookings is asked, outside any transaction."""
    now = now or utcnow()
    jobs: list[_Job] = []

    def claim(session, hold_id: int) -> bool:
        stuck = session.scalar(select(VenueHold.state).where(VenueHold.id == hold_id)) == "booking"
        values = {"state": "releasing", "updated_at": now}
        if stuck:
            values["error"] = "no answer was recorded: given back"
        if not claimed(session, update(VenueHold).where(VenueHold.id == hold_id, _due(now, stuck_after, lease))
                       .values(**values)):
            return False
        if stuck:  # its sessions were never shown
            session.execute(delete(ActivitySession).where(ActivitySession.hold_id == hold_id,
                                                          ActivitySession.booking_id.is_(None)))
        hold = session.get(VenueHold, hold_id)
        jobs.append(_Job(hold.id, hold.reference, hold.booking_id, hold.occurrence_id))
        return True

    work_through(db, select(VenueHold.id).where(_due(now, stuck_after, lease)).order_by(VenueHold.id)
                 .limit(BATCH), claim)
    done = 0
    for job in jobs:
        try:
            if job.occurrence_id is not None and job.booking_id is not None:
                try:
                    bookings.cancel_occurrence(job.booking_id, job.occurrence_id,
                                               "the activity's session was cancelled or moved")
                except (Conflict, NotFound):
                    pass  # nothing left to give back there
            else:
                bookings.release(job.reference)
        except Exception as exc:  # noqa: BLE001 - kept in `releasing`: the next tick after the lease tries again
            log.warning("venue hold %s not given back yet: %s: %s", job.hold_id, type(exc).__name__,
                        str(exc).splitlines()[0] if str(exc) else "")
            continue
        with db.transaction() as session:
            session.execute(update(VenueHold).where(VenueHold.id == job.hold_id, VenueHold.state == "releasing")
                            .values(state=HOLD.next("releasing", "released"), updated_at=utcnow()))
        done += 1
    return done

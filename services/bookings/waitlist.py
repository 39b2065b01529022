"""The waitlist: wait for a full slot; when it frees up, the first in line is offered it and holds it.

An offer is a booking in state `offered` whose occurrences are `held` — live, so the slot is as exclusive
as any booking. Accepting turns it into a normal booking; not accepting in time lapses it and the slot
passes to the next in line (see tasks.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.bookings.admission import authorise, broken_rule, check_rules
from services.bookings.catalogue import get_space, invalid, policy_of, writing
from services.bookings.contracts import WaitlistEntrySchema
from services.bookings.models import Booking, Space, WaitlistEntry
from services.bookings.payloads import booking_event_payload
from services.bookings.placement import add_occurrences, is_overlap_violation, place
from services.bookings.rules import RuleViolation
from services.bookings.states import BOOKING, HELD, OCCURRENCE, OFFERED, WAITING, WAITLIST, approval_verb
from shared.claims import claimed
from shared.config import env_float
from shared.db import Database, get_or_404, utcnow
from shared.errors import Conflict
from shared.identity import Caller
from shared.lifecycle import as_conflict
from shared.paging import keyset

HOLD = timedelta(minutes=env_float("BOOKINGS_WAITLIST_HOLD_MINUTES", 15))
REASON_LENGTH = 500


def _dump(session: Session, entries: list[WaitlistEntry]) -> list[dict]:
    rows = WaitlistEntrySchema(many=True).dump(entries)
    for row, entry in zip(rows, entries, strict=True):
        row["position"] = None
        if entry.status == "waiting":
            row["position"] = 1 + session.scalar(select(func.count()).select_from(WaitlistEntry).where(
                WaitlistEntry.space_id == entry.space_id, WaitlistEntry.status == "waiting",
                WaitlistEntry.id < entry.id, WaitlistEntry.starts_at < entry.ends_at,
                WaitlistEntry.ends_at > entry.starts_at))
    return rows


def join(db: Database, caller: Caller, data: dict) -> dict:
    """Wait for a slot that is full now. The request obeys every rule of the space as a booking does (the
    same check, with the person's live bookings and the blackouts): a 422 names the rule broken."""
    caller.require()
    if caller.user_id is None:
        raise Conflict("Only a person can wait for a slot.")
    with db.transaction() as session:
        space = get_space(session, data["space_id"])
        policy = policy_of(space)
        periods = [(data["starts_at"], data["ends_at"])]
        if data["units"] > space.units:
            raise invalid(RuleViolation("units", f"the space has only {space.units} units"))
        authorise(caller, policy)
        check_rules(session, space, policy, caller.user_id, periods)
        assigned, _conflicts = place(session, space, policy, periods, data["units"])
        if assigned:
            raise Conflict("That slot is free: book it instead of waiting.")
        entry = WaitlistEntry(space_id=space.id, user_id=caller.user_id, title=data["title"], units=data["units"],
                              starts_at=data["starts_at"], ends_at=data["ends_at"], status=WAITING)
        session.add(entry)
        session.flush()
        return _dump(session, [entry])[0]


def mine(db: Database, caller: Caller, query: dict) -> dict:
    caller.require()
    with db.read() as session:
        stmt = select(WaitlistEntry).where(WaitlistEntry.user_id == caller.user_id)
        if query.get("status"):
            stmt = stmt.where(WaitlistEntry.status == query["status"])
        return keyset(session, stmt, WaitlistEntry.id, query).answer(lambda items: _dump(session, items))


def _own_entry(session: Session, caller: Caller, entry_id: int) -> WaitlistEntry:
    caller.require()
    return get_or_404(session, WaitlistEntry, entry_id, "Waitlist entry", lock=True,
                      visible=lambda entry: entry.user_id == caller.user_id or caller.is_admin)


@as_conflict()
def leave(db: Database, emit, caller: Caller, entry_id: int) -> dict:
    """Stop waiting; a slot held for you passes to the next in line."""
    with writing(db) as session:
        entry = _own_entry(session, caller, entry_id)
        was_offered = entry.status == "offered"
        WAITLIST.move(entry, "leave")
        if was_offered:
            _drop_hold(session, emit, entry)
        session.flush()
        return _dump(session, [entry])[0]


def _skip(entry: WaitlistEntry, violation: RuleViolation) -> None:
    """The person breaks a rule of the space now: the entry is skipped, saying which rule."""
    WAITLIST.move(entry, "skip")
    entry.reason = violation.message[:REASON_LENGTH]


@as_conflict()
def accept(db: Database, emit, caller: Caller, entry_id: int) -> dict:
    """Take the slot held for you: it becomes your booking (pending if the space needs approval).

    Time passed since the offer, so the space's rules are checked again (the same check as a booking, the
    held slot not counted twice). If you now break one, the answer is the 422 naming it and nothing changes:
    you may still mend it while the hold lasts (cancel another booking of that week…), or leave; otherwise
    the hold lapses and the slot passes to the next in line, who is checked in turn."""
    with writing(db) as session:
        entry = _own_entry(session, caller, entry_id)
        WAITLIST.next(entry.status, "accept")
        if entry.hold_until is None or entry.hold_until <= utcnow():
            raise Conflict("The offer has lapsed.")
        booking = session.get(Booking, entry.booking_id)
        space = booking.space
        policy = policy_of(space)
        verb = approval_verb(policy.approval_required)
        BOOKING.next(booking.status, verb)
        held = [o for o in booking.occurrences if OCCURRENCE.can(o.status, verb)]
        check_rules(session, space, policy, entry.user_id, sorted({(o.starts_at, o.ends_at) for o in held}),
                    leaving_out=booking.id)
        for row in held:
            OCCURRENCE.move(row, verb)
        BOOKING.move(booking, verb)
        booking.updated_at = utcnow()
        WAITLIST.move(entry, "accept")
        session.flush()
        emit(session, "booking.requested" if booking.status == "pending" else "booking.confirmed",
             booking_event_payload(booking, space))
        return _dump(session, [entry])[0]


def _drop_hold(session: Session, emit, entry: WaitlistEntry) -> None:
    """Give back the slot held for an entry (the hold lapses) and offer it to the next in line."""
    booking = session.get(Booking, entry.booking_id)
    held = [o for o in booking.occurrences if OCCURRENCE.can(o.status, "lapse")]
    for row in held:
        OCCURRENCE.move(row, "lapse")
    if BOOKING.can(booking.status, "lapse"):
        BOOKING.move(booking, "lapse")
    booking.updated_at = utcnow()
    session.flush()
    offer_freed(session, emit, booking.space, sorted({(o.starts_at, o.blocked_until) for o in held}))


def offer_freed(session: Session, emit, space: Space, periods: list[tuple[datetime, datetime]]) -> int:
    """Offer freed time to waiting entries that overlap it, first in line first; returns offers made.

    Whoever now breaks a rule of the space for their slot (a blackout added since they joined, their weekly
    quota reached meanwhile…: the same check as a booking) is skipped, with the rule as the entry's reason,
    and the next in line is asked."""
    if not periods:
        return 0
    now = utcnow()
    lo, hi = min(p[0] for p in periods), max(p[1] for p in periods)
    waiting = session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.space_id == space.id, WaitlistEntry.status == "waiting",
        WaitlistEntry.starts_at < hi, WaitlistEntry.ends_at > lo).order_by(WaitlistEntry.id)).all()
    policy = policy_of(space)
    offers = 0
    for entry in waiting:
        if entry.starts_at <= now:
            WAITLIST.move(entry, "close")  # the slot began while they waited
            continue
        slot = [(entry.starts_at, entry.ends_at)]
        assigned, _conflicts = place(session, space, policy, slot, entry.units)
        if not assigned:
            continue  # still full for this entry's period (or units); the next in line may fit
        # No advisory lock here: this runs inside someone else's change (a cancellation…); accepting
        # checks again under the person's lock.
        violation = broken_rule(session, space, policy, entry.user_id, slot, lock=False)
        if violation is not None:
            _skip(entry, violation)
            continue
        try:
            # A savepoint: losing the freed slot to a concurrent booking must not undo the cancellation.
            with session.begin_nested():
                booking = Booking(space_id=space.id, booker_id=entry.user_id, title=entry.title,
                                  status=OFFERED, units=entry.units, starts_at=entry.starts_at,
                                  ends_at=entry.ends_at, timezone=space.timezone, updated_at=now)
                session.add(booking)
                session.flush()
                add_occurrences(session, booking, space, policy, slot, assigned, HELD)
        except IntegrityError as exc:
            if not is_overlap_violation(exc):
                raise
            continue
        WAITLIST.move(entry, "offer")
        entry.booking_id, entry.hold_until = booking.id, now + HOLD
        session.flush()
        emit(session, "waitlist.offered", {
            "waitlist_id": entry.id, "user_id": entry.user_id, "space_id": space.id, "space_name": space.name,
            "starts_at": entry.starts_at, "ends_at": entry.ends_at, "hold_until": entry.hold_until,
            "timezone": space.timezone})
        offers += 1
    return offers


def lapse_offer(session: Session, emit, entry_id: int, now: datetime) -> bool:
    """Lapse one offer whose hold ran out (claimed with a guarded UPDATE: once across replicas)."""
    if not claimed(session, update(WaitlistEntry).where(
            WaitlistEntry.id == entry_id, WaitlistEntry.status == "offered", WaitlistEntry.hold_until <= now)
            .values(status=WAITLIST.next("offered", "lapse"))):
        return False
    entry = session.get(WaitlistEntry, entry_id)
    session.refresh(entry)
    _drop_hold(session, emit, entry)
    return True

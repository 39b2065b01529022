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

from services.bookings.catalogue import cursor_id, get_space, invalid, page, policy_of
from services.bookings.models import Booking, Space, WaitlistEntry
from services.bookings.payloads import booking_event_payload
from services.bookings.placement import add_occurrences, is_overlap_violation, place
from services.bookings.rules import RuleViolation, check_request
from services.bookings.schemas import WaitlistEntrySchema
from shared.config import env_float
from shared.db import Database, utcnow
from shared.errors import Conflict, NotFound
from shared.identity import Caller

HOLD = timedelta(minutes=env_float("BOOKINGS_WAITLIST_HOLD_MINUTES", 15))


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
    """Wait for a slot that is full now; the request must obey the space's rules like a booking."""
    caller.require()
    if caller.user_id is None:
        raise Conflict("Only a person can wait for a slot.")
    with db.transaction() as session:
        space = get_space(session, data["space_id"])
        policy = policy_of(space)
        periods = [(data["starts_at"], data["ends_at"])]
        if data["units"] > space.units:
            raise invalid(RuleViolation("units", f"the space has only {space.units} units"))
        try:
            check_request(policy, periods, utcnow())
        except RuleViolation as violation:
            raise invalid(violation) from None
        assigned, _conflicts = place(session, space, policy, periods, data["units"])
        if assigned:
            raise Conflict("That slot is free: book it instead of waiting.")
        entry = WaitlistEntry(space_id=space.id, user_id=caller.user_id, title=data["title"], units=data["units"],
                              starts_at=data["starts_at"], ends_at=data["ends_at"], status="waiting")
        session.add(entry)
        session.flush()
        return _dump(session, [entry])[0]


def mine(db: Database, caller: Caller, query: dict) -> dict:
    caller.require()
    after = cursor_id(query)
    with db.read() as session:
        stmt = select(WaitlistEntry).where(WaitlistEntry.user_id == caller.user_id)
        if query.get("status"):
            stmt = stmt.where(WaitlistEntry.status == query["status"])
        if after is not None:
            stmt = stmt.where(WaitlistEntry.id < after)
        rows = session.scalars(stmt.order_by(WaitlistEntry.id.desc()).limit(query["limit"] + 1)).all()
        return page(rows, query["limit"], lambda items: _dump(session, items))


def _own_entry(session: Session, caller: Caller, entry_id: int) -> WaitlistEntry:
    caller.require()
    entry = session.get(WaitlistEntry, entry_id, with_for_update=True)
    if entry is None or (entry.user_id != caller.user_id and not caller.is_admin):
        raise NotFound(f"Waitlist entry {entry_id} does not exist.")
    return entry


def leave(db: Database, emit, caller: Caller, entry_id: int) -> dict:
    """Stop waiting; a slot held for you passes to the next in line."""
    with db.transaction() as session:
        entry = _own_entry(session, caller, entry_id)
        if entry.status not in ("waiting", "offered"):
            raise Conflict(f"The entry is {entry.status}; there is nothing to leave.")
        was_offered = entry.status == "offered"
        entry.status = "left"
        if was_offered:
            _drop_hold(session, emit, entry, "lapsed")
        session.flush()
        return _dump(session, [entry])[0]


def accept(db: Database, emit, caller: Caller, entry_id: int) -> dict:
    """Take the slot held for you: it becomes your booking (pending if the space needs approval)."""
    with db.transaction() as session:
        entry = _own_entry(session, caller, entry_id)
        if entry.status != "offered":
            raise Conflict(f"The entry is {entry.status}; only an offer can be accepted.")
        if entry.hold_until is None or entry.hold_until <= utcnow():
            raise Conflict("The offer has lapsed.")
        booking = session.get(Booking, entry.booking_id)
        space = booking.space
        status = "pending" if policy_of(space).approval_required else "confirmed"
        for row in booking.occurrences:
            if row.status == "held":
                row.status = status
        booking.status = status
        booking.version += 1
        booking.updated_at = utcnow()
        entry.status = "accepted"
        session.flush()
        emit(session, "booking.requested" if status == "pending" else "booking.confirmed",
             booking_event_payload(booking, space))
        return _dump(session, [entry])[0]


def _drop_hold(session: Session, emit, entry: WaitlistEntry, status: str) -> None:
    """Give back the slot held for an entry and offer it to the next in line."""
    booking = session.get(Booking, entry.booking_id)
    held = [o for o in booking.occurrences if o.status == "held"]
    for row in held:
        row.status = status
    booking.status = status
    booking.version += 1
    session.flush()
    offer_freed(session, emit, booking.space, sorted({(o.starts_at, o.blocked_until) for o in held}))


def offer_freed(session: Session, emit, space: Space, periods: list[tuple[datetime, datetime]]) -> int:
    """Offer freed time to waiting entries that overlap it, first in line first; returns offers made."""
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
            entry.status = "closed"  # the slot began while they waited
            continue
        slot = [(entry.starts_at, entry.ends_at)]
        assigned, _conflicts = place(session, space, policy, slot, entry.units)
        if not assigned:
            continue  # still full for this entry's period (or units); the next in line may fit
        try:
            # A savepoint: losing the freed slot to a concurrent booking must not undo the cancellation.
            with session.begin_nested():
                booking = Booking(space_id=space.id, booker_id=entry.user_id, title=entry.title,
                                  status="offered", units=entry.units, starts_at=entry.starts_at,
                                  ends_at=entry.ends_at, timezone=space.timezone, updated_at=now)
                session.add(booking)
                session.flush()
                add_occurrences(session, booking, space, policy, slot, assigned, "held")
        except IntegrityError as exc:
            if not is_overlap_violation(exc):
                raise
            continue
        entry.status, entry.booking_id, entry.hold_until = "offered", booking.id, now + HOLD
        session.flush()
        emit(session, "waitlist.offered", {
            "waitlist_id": entry.id, "user_id": entry.user_id, "space_id": space.id, "space_name": space.name,
            "starts_at": entry.starts_at, "ends_at": entry.ends_at, "hold_until": entry.hold_until,
            "timezone": space.timezone})
        offers += 1
    return offers


def lapse_offer(session: Session, emit, entry_id: int, now: datetime) -> bool:
    """Lapse one offer whose hold ran out (claimed with a guarded UPDATE: once across replicas)."""
    claimed = session.execute(update(WaitlistEntry).where(
        WaitlistEntry.id == entry_id, WaitlistEntry.status == "offered", WaitlistEntry.hold_until <= now)
        .values(status="lapsed")).rowcount
    if claimed != 1:
        return False
    entry = session.get(WaitlistEntry, entry_id)
    session.refresh(entry)
    _drop_hold(session, emit, entry, "lapsed")
    return True

"""Use-cases of bookings. Each runs in one transaction; events go out through the outbox.

Bad input is rejected before anything is written (422 naming the broken rule); a taken slot is a 409
listing every conflicting occurrence. Exclusivity itself is the database's job (see placement.py).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services.bookings import calendar, waitlist
from services.bookings.admission import TeamLeads, authorise, check_rules
from services.bookings.catalogue import get_space, invalid, manages, policy_of, writing
from services.bookings.contracts import BookingPreviewSchema, BookingSchema, ReleasedReferenceSchema
from services.bookings.models import LIVE_STATES, Booking, Occurrence, ReleasedReference, Space
from services.bookings.payloads import booking_event_payload, slot_starts
from services.bookings.placement import (
    add_occurrences,
    conflict_error,
    conflict_items,
    is_overlap_violation,
    place,
)
from services.bookings.rules import RuleViolation, check_in_window
from services.bookings.states import BOOKING, OCCURRENCE, requested
from shared.config import env_float, env_int
from shared.db import Database, get_or_404, utcnow
from shared.errors import Conflict, Forbidden, Invalid, PreconditionFailed
from shared.identity import Caller
from shared.lifecycle import as_conflict
from shared.paging import keyset
from shared.recurrence import MAX_OCCURRENCES, expand, from_local, parse_exdate, parse_rule, to_local

# How many times a pool booking re-picks units after losing a race for one on PostgreSQL.
ASSIGN_ATTEMPTS = env_int("BOOKINGS_ASSIGN_ATTEMPTS", 8)
MAX_SERIES = env_int("BOOKINGS_MAX_OCCURRENCES", MAX_OCCURRENCES)
CHECKIN_OPENS = timedelta(minutes=env_float("BOOKINGS_CHECKIN_OPENS_MINUTES", 15))

# --------------------------------------------------------------------------- request → occurrences



def _instant(value: datetime, tz: str, field: str) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    try:
        return from_local(value, tz)
    except RuleViolation as violation:
        raise RuleViolation(field, violation.message) from None


def requested_periods(data: dict, space: Space) -> list[tuple[datetime, datetime]]:
    """The UTC (start, end) of every occurrence the request asks for; RRULEs expand in the space's zone."""
    try:
        start = _instant(data["starts_at"], data.get("timezone") or space.timezone, "starts_at")
        end = _instant(data["ends_at"], data.get("timezone") or space.timezone, "ends_at")
        if end <= start:
            raise RuleViolation("ends_at", "the booking must end after it starts")
        if not data.get("rrule"):
            return [(start, end)]
        rule = parse_rule(data["rrule"])
        exdates = [parse_exdate(value) for value in data.get("exdates") or ()]
        periods = expand(rule, to_local(start, space.timezone), end - start, space.timezone, exdates, MAX_SERIES)
        if not periods:
            raise RuleViolation("rrule", "the rule produces no occurrences (all excluded?)")
        return periods
    except RuleViolation as violation:
        raise invalid(violation) from None


# --------------------------------------------------------------------------- create


def create_booking(db: Database, emit, caller: Caller, data: dict, team_leads: TeamLeads | None = None) -> dict:
    """Book; with a `reference`, a repeat answers the booking already made, and a released one is a 409.

    One transaction reads the space, checks the request and writes the booking, its occurrences and its
    event; a team's leads (another service's answer) are asked before it begins, never while it holds rows."""
    caller.require()
    if data.get("team_id") is not None and team_leads is not None:
        team_leads = {data["team_id"]: team_leads(data["team_id"])}.__getitem__
    skip = data.get("on_conflict") == "skip" and bool(data.get("rrule"))
    for attempt in range(ASSIGN_ATTEMPTS):
        try:
            with db.transaction() as session:
                return _book(session, emit, caller, data, team_leads, skip, randomise=attempt > 0)
        except IntegrityError as exc:
            # PostgreSQL's exclusion constraint caught a concurrent booking the check could not see yet:
            # try again, now seeing it (a room answers 409, a pool picks other units).
            if not is_overlap_violation(exc):
                if data.get("reference"):  # the same reference made by a concurrent request: answer its booking
                    with db.read() as session:
                        made = _made_with(session, caller, data["reference"])
                    if made is not None:
                        return made
                raise
    with db.read() as session:
        space = get_space(session, data["space_id"])
        policy = policy_of(space)
        periods = requested_periods(data, space)
        _assigned, conflicts = place(session, space, policy, periods, data["units"])
        raise conflict_error([o for found in conflicts.values() for o in found], caller.user_id,
                             "Every unit was taken by concurrent bookings; try again.")


def preview_booking(db: Database, caller: Caller, data: dict, team_leads: TeamLeads | None = None) -> dict:
    """What POST /bookings would do with the same body, writing nothing: every occurrence (expanded by the
    server, in the space's zone, across DST changes) with what is in its way. Bad input and broken rules are
    the same 422s as booking; the caller must be allowed to book the space."""
    caller.require()
    with db.read() as session:
        space = get_space(session, data["space_id"])
        policy = policy_of(space)
        if data["units"] > space.units:
            raise Invalid("Too many units.", errors={"units": [f"the space has only {space.units} units"]})
        periods = requested_periods(data, space)
        authorise(caller, policy, data.get("team_id"), team_leads)
        check_rules(session, space, policy, caller.user_id, periods, lock=False)
        assigned, conflicts = place(session, space, policy, periods, data["units"])
        occurrences = []
        for index, (start, end) in enumerate(periods):
            local = to_local(start, space.timezone)
            found = conflicts.get(index, [])
            occurrences.append({
                "starts_at": start, "ends_at": end, "local_date": local.date().isoformat(),
                "local_start": local.isoformat(timespec="seconds"), "free": index in assigned,
                "conflicts": conflict_items(found, caller.user_id) if found else [],
            })
        skip = data.get("on_conflict") == "skip" and bool(data.get("rrule"))
        return BookingPreviewSchema().dump({
            "space_id": space.id, "timezone": space.timezone,
            "status": requested(policy.approval_required),
            "rrule": str(parse_rule(data["rrule"])) if data.get("rrule") else None,
            "occurrences": occurrences, "free": len(assigned), "conflicting": len(conflicts),
            "bookable": bool(assigned) and (not conflicts or skip),
        })


def _book(session: Session, emit, caller: Caller, data: dict, team_leads: TeamLeads | None, skip: bool,
          randomise: bool) -> dict:
    reference = data.get("reference")
    if reference:
        _lock_reference(session, reference)
        made = _made_with(session, caller, reference)
        if made is not None:
            return made
    space = get_space(session, data["space_id"], with_site=True)
    policy = policy_of(space)
    if data["units"] > space.units:
        raise Invalid("Too many units.", errors={"units": [f"the space has only {space.units} units"]})
    periods = requested_periods(data, space)
    authorise(caller, policy, data.get("team_id"), team_leads)
    check_rules(session, space, policy, caller.user_id, periods)
    assigned, conflicts = place(session, space, policy, periods, data["units"], randomise=randomise)
    skipped = []
    if conflicts:
        if not skip or not assigned:
            raise conflict_error([o for found in conflicts.values() for o in found], caller.user_id)
        skipped = [periods[i][0].isoformat() for i in sorted(conflicts)]
    status = requested(policy.approval_required)
    first_start = _instant(data["starts_at"], data.get("timezone") or space.timezone, "starts_at")
    first_end = _instant(data["ends_at"], data.get("timezone") or space.timezone, "ends_at")
    booking = Booking(space_id=space.id, booker_id=caller.user_id, team_id=data.get("team_id"),
                      title=data.get("title", ""), notes=data.get("notes", ""), status=status,
                      units=data["units"], starts_at=first_start, ends_at=first_end,
                      rrule=str(parse_rule(data["rrule"])) if data.get("rrule") else None,
                      # Skipped conflicts become EXDATEs so the calendar export matches the rows.
                      exdates=list(data.get("exdates") or ()) + skipped, timezone=space.timezone,
                      updated_at=utcnow(), reference=reference or None)
    session.add(booking)
    session.flush()
    rows = add_occurrences(session, booking, space, policy, periods, assigned, status)
    # The new booking's occurrences are the rows just written: no need to read them back.
    set_committed_value(booking, "occurrences", sorted(rows, key=lambda o: (o.starts_at, o.unit)))
    emit(session, "booking.requested" if status == "pending" else "booking.confirmed",
         booking_event_payload(booking, space))
    return BookingSchema().dump(booking)


# --------------------------------------------------------------------------- references (another service's saga)


def _lock_reference(session: Session, reference: str) -> None:
    """Queue the transactions that make or give back the same reference (PostgreSQL; SQLite writers are
    serialised already), so a release never misses a booking being made with it, nor the other way round."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:reference, 0))"),
                        {"reference": reference})


def _made_with(session: Session, caller: Caller, reference: str) -> dict | None:
    """The booking already made with `reference` (None: none yet); 409 if the reference was given back, or
    names someone else's booking."""
    if session.get(ReleasedReference, reference) is not None:
        raise Conflict("This booking's reference was released: the booking is no longer wanted.",
                       extra={"reference": reference})
    booking = session.scalar(select(Booking).where(Booking.reference == reference))
    if booking is None:
        return None
    if booking.booker_id != caller.user_id and not caller.system:
        raise Conflict("The reference names another booking.", extra={"reference": reference})
    return BookingSchema().dump(booking)


@as_conflict()
def release_reference(db: Database, emit, caller: Caller, reference: str) -> dict:
    """Give back the booking made with `reference`: its live occurrences that have not ended are cancelled
    (booking.cancelled, freed slots to the waitlist); if none was made yet, the reference is recorded so a
    create that comes with it later is refused. Idempotent. The caller: the system or the booking's booker
    (a reference no booking took yet has no booker to check)."""
    caller.require()
    with writing(db) as session:
        _lock_reference(session, reference)
        booking = session.scalar(select(Booking).where(Booking.reference == reference).with_for_update())
        if booking is not None and not caller.system and booking.booker_id != caller.user_id:
            raise Forbidden("Only the system or the person who booked gives back a booking's reference.")
        released = session.get(ReleasedReference, reference)
        if released is None:
            released = ReleasedReference(reference=reference, booking_id=booking.id if booking else None,
                                         released_by=caller.user_id, released_at=utcnow())
            session.add(released)
        targets = []
        if booking is not None:
            now = utcnow()
            targets = [o for o in booking.occurrences if o.status in LIVE_STATES and o.ends_at > now]
        if targets:
            free_rows(session, emit, booking.space, targets, "cancel")
            _settle(booking, "cancel")
            session.flush()
            emit(session, "booking.cancelled", _cancelled_payload(booking, targets, "series", caller, ""))
        session.flush()
        return ReleasedReferenceSchema().dump({
            "reference": reference, "booking_id": booking.id if booking else None,
            "released_at": released.released_at, "cancelled_occurrence_ids": [o.id for o in targets]})


# --------------------------------------------------------------------------- read


def _visible_booking(session: Session, caller: Caller, booking_id: int, *, lock: bool = False) -> Booking:
    """The booking if the caller booked it or manages its space; otherwise it does not exist for them."""
    caller.require()
    return get_or_404(session, Booking, booking_id, "Booking", lock=lock,
                      visible=lambda booking: booking.booker_id == caller.user_id or manages(caller, booking.space))


def get_booking(db: Database, caller: Caller, booking_id: int) -> dict:
    with db.read() as session:
        return BookingSchema().dump(_visible_booking(session, caller, booking_id))


def list_bookings(db: Database, caller: Caller, query: dict) -> dict:
    """The caller's bookings (`mine`, the default), those of spaces they manage (`scope=managed`), or both
    (`mine=false`), newest first; admins manage every space."""
    caller.require()
    with db.read() as session:
        stmt = select(Booking)
        own = Booking.booker_id == caller.user_id
        if query.get("scope") == "managed" or query.get("mine") is False:
            if caller.is_admin:
                managed = None
            else:
                managed = Booking.space_id.in_(select(Space.id).where(Space.managed_by(caller.user_id)))
            if query.get("scope") == "managed":
                if managed is not None:
                    stmt = stmt.where(managed)
            elif managed is not None:
                stmt = stmt.where(or_(own, managed))
        else:
            stmt = stmt.where(own)
        if query.get("space_id"):
            stmt = stmt.where(Booking.space_id == query["space_id"])
        if query.get("status"):
            stmt = stmt.where(Booking.status == query["status"])
        if query.get("from") or query.get("to"):
            occ = select(Occurrence.id).where(Occurrence.booking_id == Booking.id)
            if query.get("from"):
                occ = occ.where(Occurrence.ends_at > query["from"])
            if query.get("to"):
                occ = occ.where(Occurrence.starts_at < query["to"])
            stmt = stmt.where(exists(occ))
        return keyset(session, stmt, Booking.id, query).answer(BookingSchema(many=True).dump)


# --------------------------------------------------------------------------- change


def update_booking(db: Database, caller: Caller, booking_id: int, data: dict,
                   expected_version: int | None = None) -> dict:
    """Change title/notes; `expected_version` (If-Match) must be the current version (else 412, also when
    another change wins the race to the same version)."""
    with writing(db, PreconditionFailed) as session:
        booking = _visible_booking(session, caller, booking_id, lock=True)
        if booking.booker_id != caller.user_id and not caller.is_admin:
            raise Forbidden("Only the person who booked changes its title and notes.")
        if expected_version is not None and expected_version != booking.version:
            raise PreconditionFailed(f"The booking changed (now version {booking.version}); reload it.")
        for name in ("title", "notes"):
            if name in data:
                setattr(booking, name, data[name])
        booking.updated_at = utcnow()
        session.flush()
        return BookingSchema().dump(booking)


def free_rows(session: Session, emit, space: Space, rows: list[Occurrence], verb: str) -> None:
    """Give occurrences back (`verb`: cancel, reject, expire…) and offer the freed slots to the waitlist."""
    for row in rows:
        OCCURRENCE.move(row, verb)
    session.flush()
    periods = sorted({(o.starts_at, o.blocked_until) for o in rows})
    waitlist.offer_freed(session, emit, space, periods)


def _settle(booking: Booking, verb: str) -> None:
    """A booking with no live occurrence left takes the state `verb` leads to; it changed either way."""
    if not any(o.status in LIVE_STATES for o in booking.occurrences):
        BOOKING.move(booking, verb)
    booking.updated_at = utcnow()


@as_conflict()
def cancel_booking(db: Database, emit, caller: Caller, booking_id: int, data: dict) -> dict:
    """Cancel one occurrence, this-and-following, or the rest of the series (booker or space manager)."""
    with writing(db) as session:
        booking = _visible_booking(session, caller, booking_id, lock=True)
        live = [o for o in booking.occurrences if o.status in LIVE_STATES]
        now = utcnow()
        if data["scope"] == "series":
            targets = [o for o in live if o.ends_at > now]
        else:
            chosen = next((o for o in booking.occurrences if o.id == data["occurrence_id"]), None)
            if chosen is None:
                raise Invalid("No such occurrence.", errors={
                    "occurrence_id": [f"occurrence {data['occurrence_id']} is not part of booking {booking_id}"]})
            if data["scope"] == "occurrence":
                targets = [o for o in live if o.starts_at == chosen.starts_at]
            else:
                targets = [o for o in live if o.starts_at >= chosen.starts_at]
        if not targets:
            raise Conflict("Nothing left to cancel: those occurrences are over or already given back.")
        free_rows(session, emit, booking.space, targets, "cancel")
        _settle(booking, "cancel")
        session.flush()
        emit(session, "booking.cancelled",
             _cancelled_payload(booking, targets, data["scope"], caller, data.get("reason", "")))
        return BookingSchema().dump(booking)


def _cancelled_payload(booking: Booking, targets: list[Occurrence], scope: str, caller: Caller,
                       reason: str) -> dict:
    payload = booking_event_payload(booking, booking.space)
    first = min(targets, key=lambda o: o.starts_at)
    payload.update(scope=scope, occurrence_ids=[o.id for o in targets],
                   cancelled_starts_at=first.starts_at, cancelled_ends_at=first.ends_at,
                   cancelled_by=caller.user_id, reason=reason)
    return payload


def _decided_by_manager(session: Session, caller: Caller, booking_id: int, verb: str) -> Booking:
    """The booking, if the caller manages its space and `verb` (approve, reject) is a step from its state."""
    booking = _visible_booking(session, caller, booking_id, lock=True)
    if not manages(caller, booking.space):
        raise Forbidden("Only this space's managers decide on its bookings.")
    BOOKING.next(booking.status, verb)
    return booking


@as_conflict()
def approve_booking(db: Database, emit, caller: Caller, booking_id: int, data: dict) -> dict:
    with writing(db) as session:
        booking = _decided_by_manager(session, caller, booking_id, "approve")
        for row in booking.occurrences:
            if OCCURRENCE.can(row.status, "approve"):
                OCCURRENCE.move(row, "approve")
        BOOKING.move(booking, "approve")
        booking.decided_by, booking.reason = caller.user_id, data.get("reason", "")
        booking.updated_at = utcnow()
        session.flush()
        emit(session, "booking.confirmed", booking_event_payload(booking, booking.space))
        return BookingSchema().dump(booking)


@as_conflict()
def reject_booking(db: Database, emit, caller: Caller, booking_id: int, data: dict) -> dict:
    with writing(db) as session:
        booking = _decided_by_manager(session, caller, booking_id, "reject")
        payload = booking_event_payload(booking, booking.space)
        free_rows(session, emit, booking.space, [o for o in booking.occurrences if o.status == "pending"],
                  "reject")
        BOOKING.move(booking, "reject")
        booking.decided_by, booking.reason = caller.user_id, data["reason"]
        booking.updated_at = utcnow()
        session.flush()
        payload.update(status=booking.status, reason=data["reason"], decided_by=caller.user_id)
        emit(session, "booking.rejected", payload)
        return BookingSchema().dump(booking)


@as_conflict()
def check_in(db: Database, caller: Caller, booking_id: int, occurrence_id: int) -> dict:
    """Check in to one occurrence: opens shortly before the start, closes at the release deadline or end."""
    with writing(db) as session:
        booking = _visible_booking(session, caller, booking_id, lock=True)
        chosen = next((o for o in booking.occurrences if o.id == occurrence_id), None)
        if chosen is None:
            raise Invalid("No such occurrence.", errors={
                "occurrence_id": [f"occurrence {occurrence_id} is not part of booking {booking_id}"]})
        if chosen.status == "checked_in":
            raise Conflict("Already checked in.")
        OCCURRENCE.next(chosen.status, "check_in")
        closes = chosen.release_at or chosen.ends_at
        now = utcnow()
        if not check_in_window(chosen.starts_at, now, CHECKIN_OPENS, closes):
            opens = chosen.starts_at - CHECKIN_OPENS
            raise Conflict(f"Check-in is open from {opens.isoformat()} until {closes.isoformat()}.",
                           extra={"opens_at": opens.isoformat(), "closes_at": closes.isoformat()})
        for row in booking.occurrences:
            if row.starts_at == chosen.starts_at and OCCURRENCE.can(row.status, "check_in"):
                OCCURRENCE.move(row, "check_in")
                row.checked_in_at = now
        booking.updated_at = now  # the booking changed: a new version (ETag, calendar SEQUENCE)
        session.flush()
        return BookingSchema().dump(booking)


# --------------------------------------------------------------------------- calendars


def calendar_entry(booking: Booking, *, busy_only: bool) -> dict:
    """The calendar's view of a booking: the stored rule plus what was given back since."""
    gone = [o for o in booking.occurrences if o.status not in LIVE_STATES]
    live = {o.starts_at for o in booking.occurrences if o.status in LIVE_STATES}
    exdates = []
    for value in booking.exdates or ():
        try:
            exdates.append(parse_exdate(value))
        except RuleViolation:
            continue
    return {
        "id": booking.id, "starts_at": booking.starts_at, "ends_at": booking.ends_at,
        "timezone": booking.timezone or booking.space.timezone, "title": booking.title,
        "location": f"{booking.space.site.name} {booking.space.name}".strip(),
        "status": booking.status if booking.status in ("pending", "confirmed") else "cancelled",
        "rrule": booking.rrule, "exdates": exdates,
        "cancelled_occurrences": [s for s in slot_starts(gone) if s not in live],
        "description": booking.notes, "sequence": booking.version - 1, "updated_at": booking.updated_at,
        "busy_only": busy_only,
    }


def booking_calendar(db: Database, caller: Caller, booking_id: int) -> str:
    with db.read() as session:
        booking = _visible_booking(session, caller, booking_id)
        return calendar.build_calendar([calendar_entry(booking, busy_only=False)],
                                       booking.title or booking.space.name).decode()


def space_calendar(db: Database, caller: Caller, space_id: int) -> str:
    """Bookings of a space from a month ago on; other people's appear only as busy."""
    caller.require()
    since = utcnow() - timedelta(days=30)
    with db.read() as session:
        space = get_space(session, space_id)
        sees_all = manages(caller, space)
        live_after = select(Occurrence.id).where(Occurrence.booking_id == Booking.id,
                                                 Occurrence.ends_at > since, Occurrence.status.in_(LIVE_STATES))
        bookings = session.scalars(select(Booking).where(Booking.space_id == space.id, exists(live_after))
                                   .order_by(Booking.starts_at).limit(2000)).all()
        entries = [calendar_entry(b, busy_only=not (sees_all or b.booker_id == caller.user_id)) for b in bookings]
        return calendar.build_calendar(entries, f"{space.site.name} {space.name}").decode()

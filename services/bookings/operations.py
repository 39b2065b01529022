"""Use-cases of the bookings service. Each runs in one transaction; events go out through the outbox."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.bookings.models import LIVE_STATES, Booking, Occurrence, Site, Space
from services.bookings.schemas import BookingSchema, SpaceSchema
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound
from shared.identity import Caller


def booking_event_payload(booking: Booking, space: Space) -> dict:
    live = [o for o in booking.occurrences if o.status in LIVE_STATES] or booking.occurrences
    first = live[0] if live else None
    return {
        "booking_id": booking.id, "space_id": space.id, "space_name": space.name,
        "site_name": space.site.name if space.site else "", "booker_id": booking.booker_id,
        "team_id": booking.team_id, "title": booking.title,
        "starts_at": first.starts_at if first else booking.starts_at,
        "ends_at": first.ends_at if first else booking.ends_at,
        "occurrences": len(live), "timezone": space.timezone, "status": booking.status,
        "manager_ids": list(space.manager_ids or []),
    }


def overlapping(session, space_id: int, periods: list[tuple], exclude_booking: int | None = None):
    """Live occurrences of a space that overlap any of `periods` (start, blocked_until)."""
    conflicts = []
    for start, blocked_until in periods:
        query = select(Occurrence).where(
            Occurrence.space_id == space_id,
            Occurrence.status.in_(LIVE_STATES),
            Occurrence.starts_at < blocked_until,
            Occurrence.blocked_until > start,
        )
        if exclude_booking is not None:
            query = query.where(Occurrence.booking_id != exclude_booking)
        conflicts.extend(session.scalars(query).all())
    unique = {o.id: o for o in conflicts}
    return sorted(unique.values(), key=lambda o: o.starts_at)


def conflict_error(occurrences) -> Conflict:
    return Conflict(
        "The requested time overlaps existing bookings.",
        extra={"conflicts": [
            {"occurrence_id": o.id, "unit": o.unit, "starts_at": o.starts_at.isoformat(),
             "ends_at": o.ends_at.isoformat()} for o in occurrences
        ]},
    )


def create_booking(db: Database, emit, caller: Caller, data: dict) -> dict:
    caller.require()
    with db.read() as session:
        space = session.get(Space, data["space_id"])
        if space is None or not space.active:
            raise NotFound(f"Space {data['space_id']} does not exist.")
    periods = [(data["starts_at"], data["ends_at"])]
    try:
        with db.transaction() as session:
            space = session.get(Space, data["space_id"])
            # On SQLite this transaction holds the write lock, so the check below cannot race.
            conflicts = overlapping(session, space.id, periods)
            if conflicts:
                raise conflict_error(conflicts)
            booking = Booking(space_id=space.id, booker_id=caller.user_id, title=data.get("title", ""),
                              status="confirmed", units=1, starts_at=data["starts_at"], ends_at=data["ends_at"])
            session.add(booking)
            session.flush()
            session.add(Occurrence(booking_id=booking.id, space_id=space.id, unit=1,
                                   starts_at=data["starts_at"], ends_at=data["ends_at"],
                                   blocked_until=data["ends_at"], status="confirmed"))
            session.flush()
            session.refresh(booking)
            emit(session, "booking.confirmed", booking_event_payload(booking, space))
            return BookingSchema().dump(booking)
    except IntegrityError as exc:
        # PostgreSQL's exclusion constraint caught a concurrent booking the check above could not see.
        if "occurrences_no_overlap" not in str(exc.orig):
            raise
        with db.read() as session:
            raise conflict_error(overlapping(session, data["space_id"], periods)) from None


def get_booking(db: Database, caller: Caller, booking_id: int) -> dict:
    caller.require()
    with db.read() as session:
        booking = session.get(Booking, booking_id)
        if booking is None:
            raise NotFound(f"Booking {booking_id} does not exist.")
        if booking.booker_id != caller.user_id and not caller.has_role("admin") and \
                caller.user_id not in (booking.space.manager_ids or []):
            raise Forbidden("This booking is someone else's.")
        return BookingSchema().dump(booking)


def list_spaces(db: Database) -> list[dict]:
    with db.read() as session:
        return SpaceSchema(many=True).dump(session.scalars(select(Space).order_by(Space.id)).all())


def ensure_space(db: Database, caller: Caller, site_name: str, space: dict) -> dict:
    """Create a site and space unless one of that name exists (used by the demo seed)."""
    caller.require_role("admin")
    with db.transaction() as session:
        site = session.scalars(select(Site).where(Site.name == site_name)).first()
        if site is None:
            site = Site(name=site_name)
            session.add(site)
            session.flush()
        existing = session.scalars(select(Space).where(Space.site_id == site.id, Space.name == space["name"])).first()
        if existing is None:
            existing = Space(site_id=site.id, **space)
            session.add(existing)
            session.flush()
        return SpaceSchema().dump(existing)

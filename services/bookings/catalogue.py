"""The catalogue: sites, spaces and their rules, blackouts, search, and free/busy availability.

Also the small queries every use-case shares: a space's policy, its blackouts, and its live occurrences
in a period, read through the (space_id, starts_at, blocked_until) index so a day touches only that day.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from services.bookings.availability import check_capacity, free_intervals, open_intervals
from services.bookings.contracts import (
    AvailabilitySchema,
    BlackoutSchema,
    SiteSchema,
    SpaceRulesSchema,
    SpaceSchema,
)
from services.bookings.models import LIVE_STATES, Blackout, Booking, Occurrence, Site, Space
from services.bookings.rules import Blackout as BlackoutPeriod
from services.bookings.rules import OpeningHours, RuleViolation, SpacePolicy
from shared.db import Database, get_or_404, versioned
from shared.errors import Conflict, Forbidden, Invalid, PreconditionFailed
from shared.identity import Caller
from shared.paging import Page, cursor_of, keyset

CATALOGUE_ROLES = ("admin", "coordinator")


STALE = "The booking changed at the same moment (someone else was quicker); reload it."


def writing(db: Database, stale: type[Conflict] | type[PreconditionFailed] = Conflict):
    """A write transaction whose lost version race on a booking (at any flush) answers `stale` (409 or 412)."""
    return versioned(db, stale(STALE))


def invalid(violation: RuleViolation) -> Invalid:
    """A broken booking rule as a 422 naming the field and the rule."""
    return Invalid(violation.message, errors={violation.field: [violation.message]})


# --------------------------------------------------------------------------- policy and shared queries


def policy_of(space: Space) -> SpacePolicy:
    """The space's rules as the domain's `SpacePolicy` (stored rules are validated when written)."""
    rules = SpaceRulesSchema().load(space.rules or {})
    hours = rules["opening_hours"]
    return SpacePolicy(
        timezone=space.timezone,
        opening_hours=OpeningHours.parse(hours) if hours is not None else None,
        min_duration=timedelta(minutes=rules["min_duration_minutes"]),
        max_duration=timedelta(minutes=rules["max_duration_minutes"]),
        max_advance=timedelta(days=rules["max_advance_days"]),
        min_notice=timedelta(minutes=rules["min_notice_minutes"]),
        buffer=timedelta(minutes=rules["buffer_minutes"]),
        approval_required=rules["approval_required"],
        quota_hours_per_week=rules["quota_hours_per_week"],
        quota_bookings_per_week=rules["quota_bookings_per_week"],
        checkin_required=rules["checkin_required"],
        auto_release_minutes=rules["auto_release_minutes"],
        allowed_roles=frozenset(rules["allowed_roles"]),
        allowed_team_ids=frozenset(rules["allowed_team_ids"]),
    )


def block_minutes(rules: dict) -> int:
    """The longest period one occurrence may block under these rules (duration + buffer)."""
    return int(rules["max_duration_minutes"] + rules["buffer_minutes"])


def get_space(session: Session, space_id: int, *, lock: bool = False, with_site: bool = False) -> Space:
    """The active space (NotFound otherwise); `with_site` reads its site in the same query."""
    return get_or_404(session, Space, space_id, "Space", lock=lock, visible=lambda space: space.active,
                      options=[joinedload(Space.site)] if with_site else ())


def manages(caller: Caller, space: Space) -> bool:
    return caller.is_admin or (caller.user_id is not None and caller.user_id in space.manager_ids)


def blackouts_of(session: Session, space: Space, start: datetime, end: datetime) -> list[BlackoutPeriod]:
    """Blackouts of the space or its whole site overlapping [start, end)."""
    rows = session.scalars(select(Blackout).where(
        or_(Blackout.space_id == space.id, Blackout.site_id == space.site_id),
        Blackout.starts_at < end, Blackout.ends_at > start)).all()
    return [BlackoutPeriod(r.starts_at, r.ends_at, r.reason) for r in rows]


def live_rows(session: Session, space: Space, start: datetime, end: datetime, *, columns=None):
    """Live occurrence rows of a space whose blocked period [starts_at, blocked_until) meets [start, end).

    The lower bound on starts_at (no occurrence blocks longer than `max_block_minutes`) keeps the index
    range scan to the period itself instead of everything before it.
    """
    lower = start - timedelta(minutes=space.max_block_minutes)
    query = select(*(columns or (Occurrence,)))
    if columns:
        query = query.join(Booking, Booking.id == Occurrence.booking_id)
    query = query.where(
        Occurrence.space_id == space.id, Occurrence.starts_at >= lower, Occurrence.starts_at < end,
        Occurrence.blocked_until > start, Occurrence.status.in_(LIVE_STATES))
    return session.execute(query).all() if columns else session.scalars(query).all()


def busy_slots(rows) -> list[tuple[datetime, datetime, int]]:
    """Occurrence rows grouped into (start, end, units) per booking slot."""
    units: dict[tuple, int] = defaultdict(int)
    for row in rows:
        units[(row.booking_id, row.starts_at, row.ends_at)] += 1
    return [(start, end, n) for (_b, start, end), n in units.items()]


# --------------------------------------------------------------------------- sites and spaces


def create_site(db: Database, caller: Caller, data: dict) -> dict:
    caller.require_role(*CATALOGUE_ROLES)
    with db.transaction() as session:
        site = Site(**data)
        session.add(site)
        session.flush()
        return SiteSchema().dump(site)


def list_sites(db: Database, caller: Caller, query: dict) -> dict:
    caller.require()
    with db.read() as session:
        stmt = select(Site)
        if query.get("kind"):
            stmt = stmt.where(Site.kind == query["kind"])
        return keyset(session, stmt, Site.id, query, newest_first=False).answer(SiteSchema(many=True).dump)


def get_site(db: Database, caller: Caller, site_id: int) -> dict:
    caller.require()
    with db.read() as session:
        return SiteSchema().dump(get_or_404(session, Site, site_id, "Site"))


def _new_space(session: Session, site: Site, data: dict) -> Space:
    rules = data.pop("rules")
    space = Space(site_id=site.id, **{**data, "timezone": data.get("timezone") or site.timezone},
                  rules=SpaceRulesSchema().dump(rules), max_block_minutes=block_minutes(rules))
    session.add(space)
    session.flush()
    return space


def create_space(db: Database, caller: Caller, data: dict) -> dict:
    caller.require_role(*CATALOGUE_ROLES)
    with db.transaction() as session:
        site = session.get(Site, data["site_id"])
        if site is None:
            raise Invalid("No such site.", errors={"site_id": [f"site {data['site_id']} does not exist"]})
        data = {k: v for k, v in data.items() if k != "site_id"}
        return SpaceSchema().dump(_new_space(session, site, data))


def update_space(db: Database, caller: Caller, space_id: int, data: dict) -> dict:
    """Catalogue roles change anything; a space's managers may change its rules and equipment."""
    caller.require()
    with db.transaction() as session:
        space = get_or_404(session, Space, space_id, "Space")
        if not caller.has_role(*CATALOGUE_ROLES):
            if not manages(caller, space):
                raise Forbidden("Only the catalogue's keepers and this space's managers change it.")
            if {"manager_ids", "active", "name"} & set(data):
                raise Forbidden("Managers change rules, capacity and equipment; the rest is the catalogue's.")
        for name in ("name", "capacity", "equipment", "manager_ids", "active"):
            if name in data:
                setattr(space, name, data[name])
        if "rules" in data:
            space.rules = SpaceRulesSchema().dump(data["rules"])
            # Never lowered: existing occurrences may still block as long as the old rules allowed.
            space.max_block_minutes = max(space.max_block_minutes, block_minutes(data["rules"]))
        session.flush()
        return SpaceSchema().dump(space)


def get_space_view(db: Database, caller: Caller, space_id: int) -> dict:
    caller.require()
    with db.read() as session:
        return SpaceSchema().dump(get_space(session, space_id))


def list_spaces(db: Database) -> list[dict]:
    with db.read() as session:
        rows = session.scalars(select(Space).where(Space.active.is_(True)).order_by(Space.id)).all()
        return SpaceSchema(many=True).dump(rows)


def _free_for(session: Session, space: Space, start: datetime, end: datetime, units: int) -> bool:
    policy = policy_of(space)
    if units > space.units:
        return False
    blackouts = blackouts_of(session, space, start, end)
    if open_intervals(start, end, policy, blackouts) != [(start, end)]:
        return False
    rows = live_rows(session, space, start - policy.buffer, end + policy.buffer)
    try:
        check_capacity([(start, end)], busy_slots(rows), policy.buffer, space.units, units)
    except RuleViolation:
        return False
    return True


def search_spaces(db: Database, caller: Caller, query: dict) -> dict:
    """Active spaces by site, kind, capacity, equipment, and (optionally) free for a whole period."""
    caller.require()
    after = cursor_of(query)
    limit = query["limit"]
    wanted = {tag.strip() for tag in (query.get("equipment") or "").split(",") if tag.strip()}
    with db.read() as session:
        stmt = select(Space).where(Space.active.is_(True))
        if query.get("site_id"):
            stmt = stmt.where(Space.site_id == query["site_id"])
        if query.get("kind"):
            stmt = stmt.where(Space.kind == query["kind"])
        if query.get("min_capacity"):
            stmt = stmt.where(Space.capacity >= query["min_capacity"])
        if after is not None:
            stmt = stmt.where(Space.id > after)
        found: list[Space] = []
        # Equipment (JSON) and freedom are filtered here, so read candidates in batches until a page fills.
        for space in session.scalars(stmt.order_by(Space.id).execution_options(yield_per=200)):
            if wanted and not wanted <= set(space.equipment or ()):
                continue
            if "free_from" in query and not _free_for(session, space, query["free_from"], query["free_to"],
                                                      query["units"]):
                continue
            found.append(space)
            if len(found) > limit:
                break
        more = len(found) > limit
        found = found[:limit]
        return Page(found, str(found[-1].id) if more else None).answer(SpaceSchema(many=True).dump)


def ensure_space(db: Database, caller: Caller, site_name: str, data: dict) -> dict:
    """Create a site and space unless one of that name exists (used by the demo seed)."""
    caller.require_role("admin")
    with db.transaction() as session:
        site = session.scalars(select(Site).where(Site.name == site_name)).first()
        if site is None:
            site = Site(name=site_name)
            session.add(site)
            session.flush()
        existing = session.scalars(select(Space).where(Space.site_id == site.id, Space.name == data["name"])).first()
        if existing is None:
            existing = _new_space(session, site, dict(data))
        return SpaceSchema().dump(existing)


# --------------------------------------------------------------------------- blackouts


def add_blackout(db: Database, caller: Caller, space_id: int, data: dict) -> dict:
    """Catalogue roles black out a space or its whole site; a space's managers their own space."""
    caller.require()
    with db.transaction() as session:
        space = get_space(session, space_id)
        if not (caller.has_role(*CATALOGUE_ROLES) or (manages(caller, space) and not data["whole_site"])):
            raise Forbidden("Only the catalogue's keepers (or this space's managers) add blackouts.")
        blackout = Blackout(space_id=None if data["whole_site"] else space.id,
                            site_id=space.site_id if data["whole_site"] else None,
                            starts_at=data["starts_at"], ends_at=data["ends_at"], reason=data["reason"],
                            created_by=caller.user_id)
        session.add(blackout)
        session.flush()
        return BlackoutSchema().dump(blackout)


def list_blackouts(db: Database, caller: Caller, space_id: int, query: dict) -> list[dict]:
    caller.require()
    with db.read() as session:
        space = get_space(session, space_id)
        stmt = select(Blackout).where(or_(Blackout.space_id == space.id, Blackout.site_id == space.site_id))
        if query.get("from"):
            stmt = stmt.where(Blackout.ends_at > query["from"])
        if query.get("to"):
            stmt = stmt.where(Blackout.starts_at < query["to"])
        return BlackoutSchema(many=True).dump(session.scalars(stmt.order_by(Blackout.starts_at).limit(500)).all())


# --------------------------------------------------------------------------- availability


def availability(db: Database, caller: Caller, space_id: int, query: dict) -> dict:
    """Free intervals (free units for pools) and busy periods; others' bookings show only as busy."""
    caller.require()
    start, end = query["from"], query["to"]
    with db.read() as session:
        space = get_space(session, space_id)
        policy = policy_of(space)
        rows = live_rows(session, space, start - policy.buffer, end + policy.buffer, columns=(
            Occurrence.booking_id, Occurrence.starts_at, Occurrence.ends_at, Booking.booker_id, Booking.title))
        blackouts = blackouts_of(session, space, start, end)
        sees_all = manages(caller, space)
        view = {"space_id": space.id, "timezone": space.timezone, "units": space.units}
    free = free_intervals(start, end, policy, blackouts, busy_slots(rows), view["units"])
    slots: dict[tuple, list] = defaultdict(list)
    for row in rows:
        slots[(row.starts_at, row.booking_id)].append(row)
    busy = []
    for (slot_start, booking_id), held in sorted(slots.items()):
        mine = sees_all or held[0].booker_id == caller.user_id
        busy.append({"starts_at": slot_start, "ends_at": held[0].ends_at, "units": len(held),
                     "booking_id": booking_id if mine else None, "title": held[0].title if mine else None})
    return AvailabilitySchema().dump({**view, "free": free, "busy": busy})

"""A request's sessions, before and while they are written: expanded into periods (the room read from bookings),
checked against the sign-up window, inserted at once (no room) or through the venue saga (a room).

Shared by creating an activity and adding or moving sessions; not a use-case module itself.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from services.activities import venue
from services.activities.models import Activity, ActivitySession
from services.activities.rules import check_window, periods, rrule_text
from services.activities.venue import Bookings
from shared.db import Database
from shared.errors import Invalid, NotFound, Unavailable
from shared.recurrence import RuleViolation


def invalid(violation: RuleViolation) -> Invalid:
    """A broken rule as a 422 naming its field."""
    return Invalid(violation.message, errors={violation.field: [violation.message]})


@dataclass(frozen=True)
class Plan:
    """The sessions a request asks for, before anything is written."""

    request: dict
    space: dict | None
    periods: list[tuple[datetime, datetime]]
    timezone: str        # the zone the series repeats in (the room's, else the request's or the activity's)
    place: str


def plan(bookings: Bookings, request: dict, activity_timezone: str) -> Plan:
    """Expand a session request (one, or a series) into its periods; the room, if any, is read from bookings
    (as the caller: 422 naming space_id when there is no such space; 503 when bookings does not answer)."""
    space = None
    if request.get("space_id") is not None:
        try:
            space = bookings.space(request["space_id"])
        except NotFound:
            raise Invalid("No such space.", errors={"space_id": [f"space {request['space_id']} does not exist"]}) \
                from None
    local_tz = request.get("timezone") or (space["timezone"] if space else activity_timezone)
    series_tz = space["timezone"] if space else local_tz
    try:
        found = periods(request["starts_at"], request["ends_at"], local_tz, request.get("rrule"),
                        request.get("exdates") or (), series_tz=series_tz)
    except RuleViolation as violation:
        raise invalid(violation) from None
    place = request.get("place") or ""
    if space and not place:
        place = f"{space.get('site_name', '')} {space['name']}".strip()
    return Plan(request, space, found, series_tz, place)


def check_plans(opens_at, closes_at, plans: list[Plan], existing: list[datetime] = ()) -> None:
    try:
        check_window(opens_at, closes_at, [*existing, *(start for p in plans for start, _end in p.periods)])
    except RuleViolation as violation:
        raise invalid(violation) from None


def _rows(activity_id: int, plan: Plan, hold_id: int | None = None) -> list[ActivitySession]:
    return [ActivitySession(activity_id=activity_id, starts_at=start, ends_at=end,
                            space_id=plan.space["id"] if plan.space else None, place=plan.place, state="scheduled",
                            hold_id=hold_id, checkin_secret=secrets.token_hex(32))
            for start, end in plan.periods]


def insert_plain(session: Session, activity_id: int, plan: Plan) -> list[ActivitySession]:
    """Sessions without a room: there at once."""
    rows = _rows(activity_id, plan)
    session.add_all(rows)
    session.flush()
    return rows


def booking_request(activity: dict, plan: Plan, reference: str, period: tuple[datetime, datetime] | None = None,
                     ) -> dict:
    request = plan.request
    start, end = period or plan.periods[0]
    return {"space_id": plan.space["id"], "starts_at": start.isoformat(), "ends_at": end.isoformat(),
            "timezone": plan.timezone, "title": activity["title"][:200], "notes": activity["notes"][:2000],
            "rrule": None if period else rrule_text(request.get("rrule")),
            "exdates": [] if period else list(request.get("exdates") or ()), "units": 1, "reference": reference}


def described(activity: Activity) -> dict:
    return {"id": activity.id, "title": activity.title_zh or activity.title_en,
            "notes": f"{activity.title_en or activity.title_zh} (activity {activity.id})"}


def open_plan(session: Session, activity: Activity, plan: Plan, reference: str | None = None) -> tuple[int, dict]:
    """tx1 of the venue saga for a plan with a room: its hold (`reference`: a keyed request's, see venue.py)
    and its sessions, hidden until held. Returns the hold's id and what bookings is asked."""
    hold = venue.open_hold(session, activity.id, plan.space["id"], reference)
    session.add_all(_rows(activity.id, plan, hold.id))
    return hold.id, booking_request(described(activity), plan, hold.reference)


def finish_plan(db: Database, bookings: Bookings, activity_id: int, plan: Plan, hold_id: int, request: dict,
                ) -> list[ActivitySession]:
    """Bookings asked, then tx2 (held and shown, or refused / releasing and the sessions gone). Raises what the
    caller is answered on failure."""
    booking = venue.ask(db, hold_id, request, bookings.book)
    with db.transaction() as session:
        rows = venue.settle(session, hold_id, booking)
        if rows is None:
            raise Unavailable("The room's answer came too late and is being given back; try again.")
        activity = session.get(Activity, activity_id)
        if activity.site_id is None or activity.site_id == plan.space.get("site_id"):
            activity.site_id, activity.site_name = plan.space.get("site_id"), plan.space.get("site_name", "")
        return rows


def book_plan(db: Database, bookings: Bookings, activity_id: int, plan: Plan, reference: str | None = None,
              ) -> list[ActivitySession]:
    """The venue saga for a plan with a room: tx1 (hold + hidden sessions), bookings asked, tx2."""
    with db.transaction() as session:
        hold_id, request = open_plan(session, session.get(Activity, activity_id), plan, reference)
    return finish_plan(db, bookings, activity_id, plan, hold_id, request)

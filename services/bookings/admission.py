"""Whether a person may hold slots of a space: every rule of the space, checked one way for everyone.

Booking, previewing, joining the waitlist, being offered a freed slot and accepting it all ask
:func:`broken_rule` (or :func:`check_rules`, its 422) with the same inputs: the space's policy, its blackouts
and the site's over the requested periods, and the person's live slots in the space (for weekly quotas).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.bookings.catalogue import blackouts_of, invalid
from services.bookings.models import LIVE_STATES, Booking, Occurrence, Space
from services.bookings.rules import RuleViolation, SpacePolicy, check_request, may_book
from shared.db import utcnow
from shared.errors import Forbidden
from shared.identity import Caller

Period = tuple[datetime, datetime]
TeamLeads = Callable[[int], list[int]]


def authorise(caller: Caller, policy: SpacePolicy, team_id: int | None = None,
              team_leads: TeamLeads | None = None) -> None:
    """A signed-in person allowed to book the space (and, for a team, one of its leads); else 403."""
    if caller.user_id is None:
        raise Forbidden("A booking is made by a signed-in person.")
    if team_id is not None:
        leads = team_leads(team_id) if team_leads else []
        if caller.user_id not in leads and not caller.is_admin:
            raise Forbidden(f"Only the leads of team {team_id} book on its behalf.")
    if not caller.is_admin and not may_book(policy, caller.roles, [team_id] if team_id else []):
        raise Forbidden("This space is reserved for some roles or teams; you are not among them.")


def person_slots(session: Session, space: Space, person: int, periods: list[Period],
                 leaving_out: int | None = None) -> list[Period]:
    """The person's live slots in this space around the requested weeks (for weekly quotas); `leaving_out`
    names a booking not to count (the waitlist hold being accepted, which is the request itself)."""
    lo, hi = periods[0][0] - timedelta(days=8), periods[-1][1] + timedelta(days=8)
    query = (select(Occurrence.booking_id, Occurrence.starts_at, Occurrence.ends_at).join(Booking)
             .where(Booking.booker_id == person, Occurrence.space_id == space.id,
                    Occurrence.status.in_(LIVE_STATES), Occurrence.starts_at >= lo, Occurrence.starts_at < hi))
    if leaving_out is not None:
        query = query.where(Occurrence.booking_id != leaving_out)
    return sorted({(r.starts_at, r.ends_at) for r in session.execute(query).all()})


def broken_rule(session: Session, space: Space, policy: SpacePolicy, person: int | None, periods: list[Period],
                *, lock: bool = True, leaving_out: int | None = None) -> RuleViolation | None:
    """The first rule of the space (hours, notice, advance, duration, blackouts, quota) that `person` holding
    `periods` (sorted) would break now, or None.

    `lock` queues one person's concurrent requests for a space with a quota (PostgreSQL), so a quota cannot
    be overrun by two requests at once."""
    quota = policy.quota_hours_per_week is not None or policy.quota_bookings_per_week is not None
    if lock and person and quota and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :person)"), {"space": space.id, "person": person})
    # The person's other slots matter only to a weekly quota: without one, they are not read.
    existing = person_slots(session, space, person, periods, leaving_out) if person and quota else []
    blackouts = blackouts_of(session, space, periods[0][0], periods[-1][1])
    try:
        check_request(policy, periods, utcnow(), blackouts, existing)
    except RuleViolation as violation:
        return violation
    return None


def check_rules(session: Session, space: Space, policy: SpacePolicy, person: int | None, periods: list[Period],
                *, lock: bool = True, leaving_out: int | None = None) -> None:
    """:func:`broken_rule` as a 422 naming the rule broken."""
    violation = broken_rule(session, space, policy, person, periods, lock=lock, leaving_out=leaving_out)
    if violation is not None:
        raise invalid(violation)

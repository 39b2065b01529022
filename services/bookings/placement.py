"""Placing occurrences on a space: which periods conflict, which unit numbers are free, and the rows.

The check here is an early, friendly answer (409 listing every conflict). The guarantee is elsewhere:
PostgreSQL's exclusion constraint `occurrences_no_overlap`, or SQLite's serialised write transaction.
"""
from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.bookings.availability import assign_units
from services.bookings.catalogue import live_rows
from services.bookings.models import Booking, Occurrence, Space
from services.bookings.rules import RuleViolation, SpacePolicy, release_deadline
from shared.errors import Conflict

Period = tuple[datetime, datetime]


def is_overlap_violation(exc: IntegrityError) -> bool:
    """PostgreSQL refused an occurrence that overlaps a concurrent one."""
    return "occurrences_no_overlap" in str(getattr(exc, "orig", exc))


def place(session: Session, space: Space, policy: SpacePolicy, periods: list[Period], units: int,
          *, randomise: bool = False) -> tuple[dict[int, list[int]], dict[int, list[Occurrence]]]:
    """For each period (index), the unit numbers it gets, or the live occurrences in its way.

    `randomise` picks random free units instead of the lowest: after losing a race for a unit,
    concurrent requests then spread over the free units instead of colliding on the same one again.
    """
    if not periods:
        return {}, {}
    lo = min(start for start, _ in periods)
    hi = max(end for _, end in periods) + policy.buffer
    rows = sorted(live_rows(session, space, lo, hi), key=lambda o: o.starts_at)
    starts = [o.starts_at for o in rows]
    longest = timedelta(minutes=space.max_block_minutes)
    assigned: dict[int, list[int]] = {}
    conflicts: dict[int, list[Occurrence]] = {}
    for index, (start, end) in enumerate(periods):
        blocked_until = end + policy.buffer
        # Rows starting in [start - longest, blocked_until) are the only ones that can overlap.
        first, last = bisect.bisect_left(starts, start - longest), bisect.bisect_left(starts, blocked_until)
        overlapping = [o for o in rows[first:last] if o.blocked_until > start]
        try:
            lowest = assign_units(units, space.units, [(o.starts_at, o.blocked_until, (o.unit,)) for o in overlapping])
        except RuleViolation:
            conflicts[index] = overlapping
            continue
        if randomise:
            taken = {o.unit for o in overlapping}
            lowest = random.sample([u for u in range(1, space.units + 1) if u not in taken], units)
        assigned[index] = lowest
    return assigned, conflicts


def conflict_items(occurrences, caller_id: int | None) -> list[dict]:
    """Each conflicting occurrence once, in time order. Someone else's occurrence is only a busy time range
    (no id, no owner); the caller's own ones also carry their occurrence and booking ids."""
    unique = sorted({o.id: o for o in occurrences}.values(), key=lambda o: (o.starts_at, o.unit))
    items = []
    for o in unique:
        item = {"unit": o.unit, "starts_at": o.starts_at.astimezone(UTC).isoformat(),
                "ends_at": o.ends_at.astimezone(UTC).isoformat(),
                "mine": caller_id is not None and o.booking.booker_id == caller_id}
        if item["mine"]:
            item.update(occurrence_id=o.id, booking_id=o.booking_id)
        items.append(item)
    return items


def conflict_error(occurrences, caller_id: int | None,
                   detail: str = "The requested time overlaps existing bookings.") -> Conflict:
    """409 listing every conflicting period (see conflict_items)."""
    return Conflict(detail, extra={"conflicts": conflict_items(occurrences, caller_id)})


def add_occurrences(session: Session, booking: Booking, space: Space, policy: SpacePolicy,
                    periods: list[Period], assigned: dict[int, list[int]], status: str) -> list[Occurrence]:
    """One row per (period, unit); release deadlines for spaces that require check-in."""
    rows = []
    for index, (start, end) in enumerate(periods):
        for unit in assigned.get(index, ()):
            release_at = release_deadline(start, policy.auto_release_minutes) if policy.checkin_required else None
            rows.append(Occurrence(booking_id=booking.id, space_id=space.id, unit=unit, starts_at=start,
                                   ends_at=end, blocked_until=end + policy.buffer, status=status,
                                   release_at=release_at))
    session.add_all(rows)
    session.flush()
    return rows

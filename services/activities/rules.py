"""The rules of activities: their kinds, the states of activities, sessions, venue holds and sign-ups (transition
tables, shared.lifecycle), who may sign up, the sign-up window and cancel deadline, and a request's sessions.

Pure domain code: no database, no nameko, no clock (the time is handed in). Every instant is a timezone-aware
UTC datetime; repeating sessions expand in wall-clock time with shared.recurrence, as bookings does.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.lifecycle import Lifecycle, VerbRule
from shared.recurrence import (
    RuleViolation,
    expand,
    from_local,
    parse_exdate,
    parse_rule,
    to_local,
    validate_timezone,
)

KINDS = ("class", "walk", "contest", "party", "film", "workshop", "fitness", "other")
DEFAULT_TIMEZONE = "Asia/Shanghai"
# At most this many sessions come from one request (a year of weekly classes, twice over).
MAX_SESSIONS = 200


def _steps(*rules: tuple[str, tuple[str, ...], str]) -> list[VerbRule]:
    return [VerbRule(verb, frozenset(sources), target) for verb, sources, target in rules]


#: An activity: open (sign-ups taken while its window is open) until cancelled or finished.
ACTIVITY = Lifecycle("activity", ("open", "cancelled", "finished"), _steps(
    ("cancel", ("open",), "cancelled"),
    ("finish", ("open",), "finished"),
))

#: One session of an activity.
SESSION = Lifecycle("session", ("scheduled", "cancelled", "done"), _steps(
    ("move", ("scheduled",), "scheduled"),
    ("cancel", ("scheduled",), "cancelled"),
    ("finish", ("scheduled",), "done"),
))

#: The saga's record of a room asked of the bookings service. `booking`: asked, no answer recorded yet;
#: `releasing`: to be given back (the ask failed, timed out or was abandoned; or the sessions were cancelled),
#: which the compensation timer does, by the hold's reference, until bookings answers.
HOLD = Lifecycle("venue hold", ("booking", "held", "refused", "releasing", "released"), _steps(
    ("hold", ("booking",), "held"),
    ("refuse", ("booking",), "refused"),
    ("abandon", ("booking",), "releasing"),
    ("release", ("held",), "releasing"),
    ("released", ("releasing",), "released"),
))

#: A session's room as bookings holds it (ActivitySession.venue_status; NULL without a room).
VENUE_STATUSES = ("confirmed", "pending", "lost")
#: What each of bookings' events that gives a room up says of it (activity.venue_lost's `reason`).
LOST_BY = {"booking.rejected": "rejected", "booking.expired": "expired", "booking.cancelled": "cancelled",
           "booking.released": "released"}


def venue_status(occurrence_status: str) -> str:
    """A session's room standing from its bookings occurrence's status: pending until a manager approves it,
    confirmed once the slot is the session's, lost when bookings holds it no longer."""
    if occurrence_status == "pending":
        return "pending"
    if occurrence_status in ("confirmed", "checked_in"):
        return "confirmed"
    return "lost"

#: A sign-up. `offered`: freed places held for a waitlisted person until `hold_until`.
SIGNUP = Lifecycle("sign-up", ("confirmed", "waitlisted", "offered", "cancelled", "expired"), _steps(
    ("offer", ("waitlisted",), "offered"),
    ("confirm", ("offered",), "confirmed"),
    ("lapse", ("offered",), "expired"),
    ("cancel", ("confirmed", "waitlisted", "offered"), "cancelled"),
))

#: Sign-up states that count: one per person (and per household) per activity.
LIVE = ("confirmed", "waitlisted", "offered")
#: Sign-up states whose places are counted in the activity's `taken`.
HOLDING = ("confirmed", "offered")


# --------------------------------------------------------------------------- who may sign up


def eligible(groups: Collection[str], roles: Collection[str], caller_groups: Iterable[str],
             caller_roles: Iterable[str]) -> bool:
    """Whether someone with these beneficiary groups and roles may sign up: an activity naming neither groups
    nor roles is for everyone; else one of its groups or one of its roles is enough."""
    if not groups and not roles:
        return True
    return bool(set(groups) & set(caller_groups)) or bool(set(roles) & set(caller_roles))


def normalise_household(text: str | None) -> str | None:
    """A household as given ("新华路 12 号 302", "新华路12号302室 ") in one form: NFKC, case-folded, without
    spaces and a trailing 室/room word; None for nothing."""
    if text is None:
        return None
    value = unicodedata.normalize("NFKC", text).casefold()
    value = re.sub(r"\s+", "", value)
    value = re.sub(r"(室|号房|room)$", "", value)
    return value or None


# --------------------------------------------------------------------------- windows and deadlines


@dataclass(frozen=True)
class Window:
    """When sign-ups are taken: from `opens_at` (None: at once) until `closes_at` (None: the first session)."""

    opens_at: datetime | None
    closes_at: datetime | None

    def state(self, now: datetime, first_start: datetime | None) -> str:
        """`before`, `open` or `closed` at `now`."""
        if self.opens_at is not None and now < self.opens_at:
            return "before"
        closes = self.closes_at or first_start
        if closes is not None and now >= closes:
            return "closed"
        return "open"


def check_window(opens_at: datetime | None, closes_at: datetime | None,
                 session_starts: Iterable[datetime]) -> None:
    """The sign-up window must close after it opens, and open before the last session has begun (a window
    after every session is no window): RuleViolation naming the field."""
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise RuleViolation("signup_closes_at", "the sign-up window must close after it opens")
    starts = sorted(session_starts)
    if not starts:
        return
    last = starts[-1]
    if opens_at is not None and opens_at >= last:
        raise RuleViolation("signup_opens_at", "sign-up must open before the sessions (the last one starts "
                                               f"{last.isoformat()})")
    if closes_at is not None and closes_at > last:
        raise RuleViolation("signup_closes_at", "sign-up must close by the start of the last session "
                                                f"({last.isoformat()})")


def cancel_deadline(first_start: datetime | None, cancel_before_minutes: int) -> datetime | None:
    """Until when a participant may cancel their sign-up (None: any time, there is no session yet)."""
    if first_start is None:
        return None
    return first_start - timedelta(minutes=cancel_before_minutes)


def may_cancel(now: datetime, first_start: datetime | None, cancel_before_minutes: int) -> bool:
    deadline = cancel_deadline(first_start, cancel_before_minutes)
    return deadline is None or now < deadline


def offers(free: int, waiting: Iterable[tuple[int, int]]) -> list[int]:
    """Which waitlisted sign-ups (id, places), in line order, the `free` places go to: each in turn whose places
    fit in what is still free (a large party does not keep smaller ones behind it waiting for nothing)."""
    chosen = []
    for signup_id, places in waiting:
        if places <= free:
            chosen.append(signup_id)
            free -= places
        if free <= 0:
            break
    return chosen


# --------------------------------------------------------------------------- the periods a request asks for


def _instant(value: datetime, tz: str, field: str) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    try:
        return from_local(value, tz)
    except RuleViolation as violation:
        raise RuleViolation(field, violation.message) from None


def periods(starts_at: datetime, ends_at: datetime, tz: str, rrule: str | None = None,
            exdates: Iterable[str] = (), limit: int = MAX_SESSIONS,
            series_tz: str | None = None) -> list[tuple[datetime, datetime]]:
    """The UTC (start, end) of every session asked for: one, or a series repeating by `rrule` in the wall-clock
    time of `series_tz` (default `tz`; a room's series repeats in the room's zone, as bookings expands it).
    Local `starts_at`/`ends_at` are read in `tz`. RuleViolation naming the field when a session ends before it
    starts, a zone or the rule is wrong, or the rule yields nothing."""
    validate_timezone(tz)
    series_tz = series_tz or tz
    validate_timezone(series_tz)
    start = _instant(starts_at, tz, "starts_at")
    end = _instant(ends_at, tz, "ends_at")
    if end <= start:
        raise RuleViolation("ends_at", "a session must end after it starts")
    if not rrule:
        return [(start, end)]
    rule = parse_rule(rrule)
    found = expand(rule, to_local(start, series_tz), end - start, series_tz, [parse_exdate(value) for value in exdates],
                   limit)
    if not found:
        raise RuleViolation("rrule", "the rule produces no sessions (all excluded?)")
    return found


def rrule_text(rrule: str | None) -> str | None:
    """The rule as stored and sent on (normalised), or None."""
    return str(parse_rule(rrule)) if rrule else None

"""Who should be asked to take an action: hard filters plus an explainable score.

Pure domain code.  The service loads candidates (volunteers with their skills,
grids, availability and current load) and the grid tree, and calls :func:`suggest`.
Every rejection and every score component carries a plain-English reason so a
coordinator can see *why* someone is (or is not) on the list.

Times: ``now``, unavailable periods and ``last_action_at`` are timezone-aware
datetimes (UTC in the database); weekly availability windows are wall-clock times in
the volunteer's own time zone (default ``Asia/Shanghai``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_TZ",
    "TEAMS",
    "Candidate",
    "NotAssignable",
    "Rejection",
    "Suggestion",
    "WeeklyWindow",
    "check_assignable",
    "local_grids",
    "rejections",
    "suggest",
]

DEFAULT_TZ = "Asia/Shanghai"

#: The five volunteer teams of the sub-district.
TEAMS: tuple[str, ...] = ("rider_knights", "good_shops", "placemakers", "storytellers", "action_team")

# Score weights.  Locality dominates: a neighbour in the same micro-grid is usually
# faster and known to the resident.  Load and idleness each add up to 2 points so
# work spreads across the team instead of always landing on the keenest volunteer.
_SAME_MICRO_GRID = 3.0
_LOAD_WEIGHT = 2.0
_IDLE_WEIGHT = 2.0
# Idle points grow as days / (days + _IDLE_HALF_DAYS): half the points after a week,
# never quite the full 2.0, so someone never dispatched always ranks above someone
# who merely has not been asked for a long time.
_IDLE_HALF_DAYS = 7.0

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True)
class WeeklyWindow:
    """A recurring weekly slot in the volunteer's local time.

    ``weekday`` 0 = Monday.  ``end`` is exclusive.  ``end <= start`` means the window
    runs past midnight into the next day (a rider knight's 22:00-02:00 night round);
    ``end == start`` is rejected because "0 hours" and "24 hours" look the same.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) .. 6 (Sunday)")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are local wall-clock times; give them without tzinfo")
        if self.start == self.end:
            raise ValueError("a weekly window needs start != end")

    @property
    def overnight(self) -> bool:
        return self.end < self.start

    def contains(self, local: datetime) -> bool:
        """Whether a local (volunteer time zone) datetime falls inside this window."""
        clock = local.time().replace(tzinfo=None)
        day = local.weekday()
        if not self.overnight:
            return day == self.weekday and self.start <= clock < self.end
        return (day == self.weekday and clock >= self.start) or (
            day == (self.weekday + 1) % 7 and clock < self.end
        )


@dataclass(frozen=True)
class Candidate:
    """A volunteer as the dispatcher sees them.

    ``availability`` accepts :class:`WeeklyWindow` or ``(weekday, start, end)`` tuples.
    ``unavailable`` holds aware ``(start, end)`` periods (end exclusive), e.g. a trip.
    """

    volunteer_id: int
    display_name: str
    skills: Mapping[str, int] = field(default_factory=dict)
    grid_ids: AbstractSet[int] = frozenset()
    availability: Sequence[WeeklyWindow | tuple[int, time, time]] = ()
    tz: str = DEFAULT_TZ
    unavailable: Sequence[tuple[datetime, datetime]] = ()
    on_leave: bool = False
    open_actions: int = 0
    max_open_actions: int = 3
    last_action_at: datetime | None = None
    team_ids: AbstractSet[int] = frozenset()

    def __post_init__(self) -> None:
        # Normalise to immutable containers so a Candidate can be shared safely.
        windows = tuple(w if isinstance(w, WeeklyWindow) else WeeklyWindow(*w) for w in self.availability)
        object.__setattr__(self, "availability", windows)
        object.__setattr__(self, "grid_ids", frozenset(self.grid_ids))
        object.__setattr__(self, "team_ids", frozenset(self.team_ids))
        object.__setattr__(self, "skills", dict(self.skills))
        periods = tuple((start, end) for start, end in self.unavailable)
        for start, end in periods:
            _require_aware("unavailable period start", start)
            _require_aware("unavailable period end", end)
            if end <= start:
                raise ValueError("an unavailable period must end after it starts")
        object.__setattr__(self, "unavailable", periods)
        if self.last_action_at is not None:
            _require_aware("last_action_at", self.last_action_at)
        if self.open_actions < 0 or self.max_open_actions < 0:
            raise ValueError("open_actions and max_open_actions must not be negative")
        ZoneInfo(self.tz)  # fail at construction on a mistyped zone, not mid-dispatch


@dataclass(frozen=True)
class Rejection:
    """Why a candidate failed a hard filter.

    ``field`` is a stable code for the UI ("grid", "skill", "capacity", "leave",
    "availability"); ``message`` is plain English.
    """

    field: str
    message: str


@dataclass(frozen=True)
class Suggestion:
    """One candidate's verdict.

    Eligible suggestions have a score and ``reasons`` explaining it; rejected ones
    have ``rejected=True``, score 0 and ``reasons`` listing every failed filter.
    """

    volunteer_id: int
    display_name: str
    score: float
    reasons: list[str]
    rejected: bool = False
    rejections: tuple[Rejection, ...] = ()

    @property
    def eligible(self) -> bool:
        return not self.rejected


class NotAssignable(Exception):
    """A coordinator named a volunteer who fails a hard filter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


# ------------------------------------------------------------------------ grids


def _parent(grid_id: int, grid_ancestors: Mapping[int, int | None]) -> int | None:
    if grid_id not in grid_ancestors:
        raise ValueError(f"grid {grid_id} is not in the grid tree")
    return grid_ancestors[grid_id]


def local_grids(action_grid_id: int, grid_ancestors: Mapping[int, int | None]) -> frozenset[int]:
    """Grids whose volunteers count as local to an action: its grid and its big grid.

    The sub-district root is deliberately left out (unless the action itself sits on
    the root): "small things stay in the micro-grid, big ones in the big grid", so a
    volunteer registered only at sub-district level is not local to every street.
    """
    grids = {action_grid_id}
    parent = _parent(action_grid_id, grid_ancestors)
    if parent is not None and _parent(parent, grid_ancestors) is not None:
        grids.add(parent)
    return frozenset(grids)


def _grid_label(grid_id: int, grid_ancestors: Mapping[int, int | None]) -> str:
    parent = grid_ancestors.get(grid_id)
    if parent is None:
        return f"sub-district {grid_id}"
    if grid_ancestors.get(parent) is None:
        return f"big grid {grid_id}"
    return f"micro-grid {grid_id}"


# --------------------------------------------------------------------- filters


def _availability_rejection(candidate: Candidate, now: datetime) -> Rejection | None:
    zone = ZoneInfo(candidate.tz)
    for start, end in candidate.unavailable:
        if start <= now < end:
            until = end.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            return Rejection("availability", f"unavailable until {until} ({candidate.tz})")
    if not candidate.availability:
        return Rejection("availability", "no weekly availability set")
    local = now.astimezone(zone)
    if any(window.contains(local) for window in candidate.availability):
        return None
    stamp = f"{_WEEKDAYS[local.weekday()]} {local:%H:%M}"
    return Rejection("availability", f"outside weekly availability (now {stamp} {candidate.tz})")


def rejections(
    candidate: Candidate,
    *,
    required_skill: str | None,
    min_level: int = 1,
    action_grid_id: int,
    grid_ancestors: Mapping[int, int | None],
    now: datetime | None = None,
) -> list[Rejection]:
    """Every hard filter the candidate fails, in a fixed order (empty list = eligible).

    Order: grid, skill, capacity, leave, availability.  Availability is only checked
    when ``now`` is given.
    """
    found: list[Rejection] = []
    local = local_grids(action_grid_id, grid_ancestors)
    if not candidate.grid_ids & local:
        where = " or ".join(
            _grid_label(g, grid_ancestors) for g in sorted(local, key=lambda g: g != action_grid_id)
        )
        found.append(Rejection("grid", f"does not serve {where}"))
    if required_skill is not None:
        level = candidate.skills.get(required_skill)
        if level is None:
            found.append(Rejection("skill", f"lacks skill '{required_skill}'"))
        elif level < min_level:
            found.append(Rejection("skill", f"skill '{required_skill}' at level {level}, needs {min_level}"))
    if candidate.open_actions >= candidate.max_open_actions:
        found.append(
            Rejection(
                "capacity",
                f"at limit: {_plural(candidate.open_actions, 'open action')} of {candidate.max_open_actions}",
            )
        )
    if candidate.on_leave:
        found.append(Rejection("leave", "on leave"))
    if now is not None:
        missing = _availability_rejection(candidate, now)
        if missing is not None:
            found.append(missing)
    return found


def check_assignable(
    candidate: Candidate,
    *,
    required_skill: str | None = None,
    min_level: int = 1,
    action_grid_id: int,
    grid_ancestors: Mapping[int, int | None],
) -> None:
    """Raise :class:`NotAssignable` if a hand-picked volunteer fails a hard filter.

    Checks grid, skill, capacity and leave, raising for the first failure.  Weekly
    availability is *not* checked: a coordinator naming someone has usually phoned
    them and agreed a time outside their usual windows.
    """
    found = rejections(
        candidate,
        required_skill=required_skill,
        min_level=min_level,
        action_grid_id=action_grid_id,
        grid_ancestors=grid_ancestors,
    )
    if found:
        first = found[0]
        raise NotAssignable(first.field, f"{candidate.display_name}: {first.message}")


# ---------------------------------------------------------------------- scoring


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _since_text(elapsed: timedelta) -> str:
    seconds = max(elapsed.total_seconds(), 0.0)
    if seconds < 60:
        return "last action just now"
    if seconds < 3600:
        return f"last action {_plural(int(seconds // 60), 'minute')} ago"
    if seconds < 86400:
        return f"last action {_plural(int(seconds // 3600), 'hour')} ago"
    return f"last action {_plural(int(seconds // 86400), 'day')} ago"


def _score(
    candidate: Candidate,
    *,
    required_skill: str | None,
    min_level: int,
    action_grid_id: int,
    grid_ancestors: Mapping[int, int | None],
    now: datetime,
) -> tuple[float, list[str]]:
    score = 0.0
    reasons: list[str] = []

    if action_grid_id in candidate.grid_ids:
        score += _SAME_MICRO_GRID
        reasons.append(f"serves {_grid_label(action_grid_id, grid_ancestors)}")
    else:
        # Passed the grid filter, so they serve the big grid above.
        big = grid_ancestors[action_grid_id]
        reasons.append(
            f"serves {_grid_label(big, grid_ancestors)} (not {_grid_label(action_grid_id, grid_ancestors)})"
        )

    if required_skill is not None:
        level = candidate.skills[required_skill]
        reasons.append(f"skill '{required_skill}' at level {level} (needs {min_level})")

    # max_open_actions > open_actions >= 0 here, so no division by zero.
    score += _LOAD_WEIGHT * (1 - candidate.open_actions / candidate.max_open_actions)
    reasons.append(f"{_plural(candidate.open_actions, 'open action')} of {candidate.max_open_actions}")

    if candidate.last_action_at is None:
        score += _IDLE_WEIGHT
        reasons.append("never dispatched")
    else:
        elapsed = now - candidate.last_action_at
        days = max(elapsed.total_seconds(), 0.0) / 86400
        score += _IDLE_WEIGHT * days / (days + _IDLE_HALF_DAYS)
        reasons.append(_since_text(elapsed))

    # Rounded so equal situations compare equal and fall through to the id tie-break.
    return round(score, 4), reasons


def suggest(
    candidates: Iterable[Candidate],
    *,
    required_skill: str | None,
    min_level: int = 1,
    action_grid_id: int,
    grid_ancestors: Mapping[int, int | None],
    now: datetime,
    limit: int = 5,
) -> list[Suggestion]:
    """Rank candidates for an action and explain every decision.

    Hard filters (all failures are recorded): serves the action's micro-grid or its
    big grid; has ``required_skill`` at ``min_level`` or above; ``open_actions <
    max_open_actions``; not on leave; available now (inside a weekly window and not
    in an unavailable period).

    Score for those passing: +3 for the same micro-grid; up to +2 for spare capacity
    (``1 - open/max``); up to +2 for time since the last action (never dispatched gets
    the full 2).  Ties break by ``volunteer_id``.

    Returns at most ``limit`` eligible suggestions, best first, followed by *all*
    rejected candidates ordered by ``volunteer_id``.
    """
    _require_aware("now", now)
    if limit < 0:
        raise ValueError("limit must not be negative")
    if min_level < 1:
        raise ValueError("min_level must be at least 1")
    _parent(action_grid_id, grid_ancestors)  # unknown grid is a caller bug: fail loudly

    eligible: list[Suggestion] = []
    rejected: list[Suggestion] = []
    seen: set[int] = set()
    for candidate in candidates:
        if candidate.volunteer_id in seen:
            raise ValueError(f"volunteer {candidate.volunteer_id} listed twice")
        seen.add(candidate.volunteer_id)
        failed = rejections(
            candidate,
            required_skill=required_skill,
            min_level=min_level,
            action_grid_id=action_grid_id,
            grid_ancestors=grid_ancestors,
            now=now,
        )
        if failed:
            rejected.append(
                Suggestion(
                    candidate.volunteer_id,
                    candidate.display_name,
                    0.0,
                    [r.message for r in failed],
                    rejected=True,
                    rejections=tuple(failed),
                )
            )
            continue
        score, reasons = _score(
            candidate,
            required_skill=required_skill,
            min_level=min_level,
            action_grid_id=action_grid_id,
            grid_ancestors=grid_ancestors,
            now=now,
        )
        eligible.append(Suggestion(candidate.volunteer_id, candidate.display_name, score, reasons))

    eligible.sort(key=lambda s: (-s.score, s.volunteer_id))
    rejected.sort(key=lambda s: s.volunteer_id)
    return eligible[:limit] + rejected

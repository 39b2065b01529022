"""The "three whistles": time limits per level and escalation up the grid tree.

Level 1 is the micro-grid (grid workers), level 2 the big grid (branch secretary),
level 3 the sub-district command.  Small things should be settled in the micro-grid
and big ones in the big grid; when an action is not accepted or not resolved within
its category's limit for the current level, it escalates one level up.  At the
command level there is nowhere higher to go: the action is reported as overdue but
not escalated.

Pure domain code: the scheduler supplies ``now`` and a snapshot of each open action.
After escalating, the service must set ``level_started_at`` to the escalation time,
because every limit runs from the start of the current level -- that is what makes
repeated scheduler runs idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from services.volunteers.lifecycle import MAX_LEVEL, MIN_LEVEL, OPEN_STATES

__all__ = [
    "LEVEL_NAMES",
    "ActionSnapshot",
    "CategoryLimits",
    "Deadline",
    "EscalationDecision",
    "GridColourThresholds",
    "MissingLimits",
    "deadline",
    "due_escalation",
    "format_duration",
    "grid_colour",
    "handling_grid",
    "load_limits",
    "next_level_grid",
]

LEVELS: tuple[int, ...] = tuple(range(MIN_LEVEL, MAX_LEVEL + 1))
LEVEL_NAMES: Mapping[int, str] = MappingProxyType({1: "micro-grid", 2: "big grid", 3: "command"})

#: States waiting for someone to accept; the others in OPEN_STATES wait for resolution.
_AWAITING_ACCEPT = frozenset({"reported", "triaged", "dispatched", "reopened"})
_AWAITING_RESOLVE = frozenset({"accepted", "in_progress"})
assert _AWAITING_ACCEPT | _AWAITING_RESOLVE == OPEN_STATES  # keep in step with lifecycle

Kind = Literal["accept", "resolve"]


class MissingLimits(LookupError):
    """A category has no (or incomplete) time limits configured.

    Raised rather than defaulting: a silently missing limit would mean an urgent
    category never escalates.
    """

    def __init__(self, category: str | None, detail: str | None = None) -> None:
        super().__init__(category, detail)
        self.category = category
        self.detail = detail

    def __str__(self) -> str:
        text = f"no time limits configured for category {self.category!r}"
        return f"{text}: {self.detail}" if self.detail else text


def _check_level(level: Any) -> int:
    if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return level


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def format_duration(span: timedelta) -> str:
    """Short English duration for reasons: ``30 min``, ``4 h``, ``1 day 2 h 5 min``."""
    minutes = int(span.total_seconds() // 60)
    if minutes <= 0:
        return "0 min"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day" if days == 1 else f"{days} days")
    if hours:
        parts.append(f"{hours} h")
    if mins:
        parts.append(f"{mins} min")
    return " ".join(parts)


@dataclass(frozen=True)
class CategoryLimits:
    """Accept and resolve limits of one action category for every level 1..3."""

    category: str
    accept_within: Mapping[int, timedelta]
    resolve_within: Mapping[int, timedelta]

    def __post_init__(self) -> None:
        if not isinstance(self.category, str) or not self.category:
            raise ValueError("category must be a non-empty string")
        for name in ("accept_within", "resolve_within"):
            table = getattr(self, name)
            extra = set(table) - set(LEVELS)
            if extra:
                raise ValueError(f"{name} has unknown level(s) {sorted(extra)}; levels are {LEVELS}")
            missing = [lvl for lvl in LEVELS if lvl not in table]
            if missing:
                raise MissingLimits(self.category, f"{name} lacks level(s) {missing}")
            for lvl, span in table.items():
                if not isinstance(span, timedelta) or span <= timedelta(0):
                    raise ValueError(f"{name}[{lvl}] must be a positive timedelta")
            # Frozen copy: limits are shared by every action in the category.
            object.__setattr__(self, name, MappingProxyType(dict(table)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any], category: str | None = None) -> CategoryLimits:
        """Build from a JSON object with minutes per level.

        Shape::

            {"category": "elderly_fall",
             "accept_within_minutes": {"1": 15, "2": 30, "3": 60},
             "resolve_within_minutes": {"1": 120, "2": 240, "3": 480}}

        Level keys may be strings (as JSON forces) or ints.  ``category`` overrides
        or supplies the name when the object is keyed by category elsewhere.
        Raises :class:`MissingLimits` for absent tables/levels, ``ValueError`` for
        malformed values.
        """
        name = category if category is not None else data.get("category")
        if not isinstance(name, str) or not name:
            raise ValueError("limits need a category name")
        tables: dict[str, dict[int, timedelta]] = {}
        for key in ("accept_within_minutes", "resolve_within_minutes"):
            raw = data.get(key)
            if not raw:
                raise MissingLimits(name, f"{key} is missing")
            if not isinstance(raw, Mapping):
                raise ValueError(f"{key} must be an object of level -> minutes")
            table: dict[int, timedelta] = {}
            for level_key, minutes in raw.items():
                try:
                    level = int(level_key)
                except (TypeError, ValueError):
                    raise ValueError(f"{key}: level {level_key!r} is not a number") from None
                if isinstance(minutes, bool) or not isinstance(minutes, int | float):
                    raise ValueError(f"{key}[{level_key}] must be a number of minutes")
                table[level] = timedelta(minutes=minutes)
            tables[key] = table
        return cls(name, tables["accept_within_minutes"], tables["resolve_within_minutes"])

    def limit(self, kind: Kind, level: int) -> timedelta:
        """The limit of ``kind`` ("accept" or "resolve") at ``level``."""
        _check_level(level)
        if kind == "accept":
            return self.accept_within[level]
        if kind == "resolve":
            return self.resolve_within[level]
        raise ValueError(f"kind must be 'accept' or 'resolve', got {kind!r}")


def load_limits(data: Mapping[str, Mapping[str, Any] | None]) -> dict[str, CategoryLimits]:
    """Parse a ``{category: {accept_within_minutes: ..., resolve_within_minutes: ...}}`` file.

    A category listed with an empty or null body raises :class:`MissingLimits`.
    """
    result: dict[str, CategoryLimits] = {}
    for name, body in data.items():
        if not body:
            raise MissingLimits(name, "no limits given")
        result[name] = CategoryLimits.from_json(body, category=name)
    return result


def _limits_for(
    limits: CategoryLimits | Mapping[str, CategoryLimits], category: str | None
) -> CategoryLimits:
    if isinstance(limits, CategoryLimits):
        if category is not None and category != limits.category:
            raise ValueError(f"limits are for {limits.category!r}, action is {category!r}")
        return limits
    if category is None:
        raise ValueError("the action has no category to look its limits up by")
    try:
        return limits[category]
    except KeyError:
        raise MissingLimits(category) from None


# -------------------------------------------------------------------- deadlines


class Deadline(NamedTuple):
    """When the current level's clock runs out and what is being waited for."""

    kind: Kind
    at: datetime


def deadline(
    action_state: str,
    level: int,
    level_started_at: datetime,
    accepted_at: datetime | None,
    limits: CategoryLimits,
) -> Deadline | None:
    """The pending deadline of an action, or ``None`` if nothing is pending.

    * Waiting for acceptance (reported, triaged, dispatched, reopened): the accept
      limit runs from ``level_started_at``.
    * Accepted or in progress: the resolve limit runs from acceptance -- or from
      the level start if the action was accepted before it escalated to this level,
      so every level gets its full allowance.
    * Resolved, verified, closed, duplicate, cancelled: no deadline.
    """
    _check_level(level)
    if action_state not in OPEN_STATES:
        return None
    _require_aware("level_started_at", level_started_at)
    if action_state in _AWAITING_ACCEPT:
        return Deadline("accept", level_started_at + limits.accept_within[level])
    start = level_started_at
    if accepted_at is not None:
        _require_aware("accepted_at", accepted_at)
        start = max(accepted_at, level_started_at)
    return Deadline("resolve", start + limits.resolve_within[level])


@dataclass(frozen=True)
class ActionSnapshot:
    """What the escalation check needs to know about one action."""

    action_id: int
    state: str
    level: int
    level_started_at: datetime
    accepted_at: datetime | None = None
    category: str | None = None


@dataclass(frozen=True)
class EscalationDecision:
    """An overdue action and what to do about it.

    ``escalate`` is False only at level 3, where the action is "overdue at command"
    and stays put; ``next_level`` then equals ``level``.
    """

    action_id: int
    overdue: bool
    escalate: bool
    level: int
    next_level: int
    kind: Kind
    deadline: datetime
    overdue_by: timedelta
    reason: str


def due_escalation(
    action: ActionSnapshot,
    limits: CategoryLimits | Mapping[str, CategoryLimits],
    now: datetime,
) -> EscalationDecision | None:
    """Decide whether ``action`` is overdue at ``now``; ``None`` if it is not.

    ``limits`` is either the action's :class:`CategoryLimits` or a table keyed by
    category (then an unknown category raises :class:`MissingLimits`).  An action is
    overdue once ``now`` reaches the deadline.  The reason reads like
    "not accepted within 30 min at level 1".
    """
    _require_aware("now", now)
    _check_level(action.level)
    category_limits = _limits_for(limits, action.category)
    due = deadline(action.state, action.level, action.level_started_at, action.accepted_at, category_limits)
    if due is None or now < due.at:
        return None
    verb = "accepted" if due.kind == "accept" else "resolved"
    reason = f"not {verb} within {format_duration(category_limits.limit(due.kind, action.level))} at level {action.level}"
    escalate = action.level < MAX_LEVEL
    if not escalate:
        reason += f" ({LEVEL_NAMES[MAX_LEVEL]}); no higher level to escalate to"
    return EscalationDecision(
        action_id=action.action_id,
        overdue=True,
        escalate=escalate,
        level=action.level,
        next_level=action.level + 1 if escalate else action.level,
        kind=due.kind,
        deadline=due.at,
        overdue_by=now - due.at,
        reason=reason,
    )


# ----------------------------------------------------------------------- grids


def _level_of(grid_id: int, grid_levels: Mapping[int, int]) -> int:
    if grid_id not in grid_levels:
        raise ValueError(f"grid {grid_id} has no level")
    return _check_level(grid_levels[grid_id])


def _ancestors(grid_id: int, parents: Mapping[int, int | None]) -> Iterator[int]:
    """Yield the strict ancestors of ``grid_id``, nearest first, guarding against cycles."""
    seen = {grid_id}
    if grid_id not in parents:
        raise ValueError(f"grid {grid_id} is not in the grid tree")
    current = parents[grid_id]
    while current is not None:
        if current in seen:
            raise ValueError(f"grid tree has a cycle through grid {current}")
        seen.add(current)
        yield current
        if current not in parents:
            raise ValueError(f"grid {current} is not in the grid tree")
        current = parents[current]


def next_level_grid(grid_id: int, grid_levels: Mapping[int, int], parents: Mapping[int, int | None]) -> int:
    """The grid whose coordinators handle the next level up from ``grid_id``.

    Micro-grid -> its big grid -> the sub-district root.  Walks up to the nearest
    ancestor with a higher level, so a micro-grid hanging directly under the root
    escalates straight to the command.  Raises ``ValueError`` at the root.
    """
    own = _level_of(grid_id, grid_levels)
    for ancestor in _ancestors(grid_id, parents):
        if _level_of(ancestor, grid_levels) > own:
            return ancestor
    raise ValueError(f"grid {grid_id} is at level {own} ({LEVEL_NAMES[own]}); there is no higher grid")


def handling_grid(
    grid_id: int, level: int, grid_levels: Mapping[int, int], parents: Mapping[int, int | None]
) -> int:
    """The grid whose coordinators handle an action of ``grid_id`` at escalation ``level``.

    The action's own grid or its nearest ancestor whose grid level is at least ``level``.
    """
    _check_level(level)
    if _level_of(grid_id, grid_levels) >= level:
        return grid_id
    for ancestor in _ancestors(grid_id, parents):
        if _level_of(ancestor, grid_levels) >= level:
            return ancestor
    raise ValueError(f"no grid at level {level} above grid {grid_id}")


# ---------------------------------------------------------------------- colours


@dataclass(frozen=True)
class GridColourThresholds:
    """When a grid turns yellow or red on the command dashboard.

    Defaults (agreed with the sub-district office):

    * **red** when ``escalated >= 3`` or ``overdue >= 5`` -- the grid needs the
      command's attention;
    * **yellow** when ``overdue >= 1`` or ``open >= 10`` -- something is late or the
      queue is piling up;
    * **green** otherwise.

    Red is checked first, so a grid meeting both is red.
    """

    yellow_open: int = 10
    yellow_overdue: int = 1
    red_overdue: int = 5
    red_escalated: int = 3

    def __post_init__(self) -> None:
        for name in ("yellow_open", "yellow_overdue", "red_overdue", "red_escalated"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer")
        if self.red_overdue < self.yellow_overdue:
            raise ValueError("red_overdue must not be below yellow_overdue")


DEFAULT_THRESHOLDS = GridColourThresholds()


def grid_colour(
    open: int,
    overdue: int,
    escalated: int,
    thresholds: GridColourThresholds = DEFAULT_THRESHOLDS,
) -> Literal["green", "yellow", "red"]:
    """Traffic-light colour of a grid from its counts of open, overdue and escalated actions."""
    for name, value in (("open", open), ("overdue", overdue), ("escalated", escalated)):
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    if escalated >= thresholds.red_escalated or overdue >= thresholds.red_overdue:
        return "red"
    if overdue >= thresholds.yellow_overdue or open >= thresholds.yellow_open:
        return "yellow"
    return "green"

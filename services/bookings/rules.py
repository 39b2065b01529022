"""Booking policy of a space and the checks a booking request must pass.

Pure domain code: no database, no nameko, no I/O. Every instant that crosses
this module is a timezone-aware ``datetime`` in UTC; wall-clock rules (opening
hours, ISO weeks for quotas) are evaluated in the space's IANA timezone.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.recurrence import RuleViolation, validate_timezone  # noqa: F401 (this module's errors and zones)

DEFAULT_TIMEZONE = "Asia/Shanghai"

Interval = tuple[datetime, datetime]

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# A window closing at 00:00 can only mean "until midnight at the end of the
# day" because a window must close after it opens; JSON spells it "24:00".
MIDNIGHT = time(0, 0)


# --------------------------------------------------------------------------- helpers


def require_utc(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` converted to UTC; naive datetimes are a programming error."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")
    return value.astimezone(UTC)


def _hhmm(value: time, *, is_close: bool) -> str:
    return "24:00" if is_close and value == MIDNIGHT else value.strftime("%H:%M")


def _parse_hhmm(text: str, *, is_close: bool) -> time:
    if not isinstance(text, str):
        raise RuleViolation("opening_hours", f"times must be 'HH:MM' strings, got {text!r}")
    if is_close and text == "24:00":
        return MIDNIGHT
    try:
        hours, minutes = text.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise RuleViolation("opening_hours", f"invalid time {text!r}, expected 'HH:MM'") from exc


def _minutes(value: time, *, is_close: bool) -> int:
    if is_close and value == MIDNIGHT:
        return 24 * 60
    return value.hour * 60 + value.minute


# --------------------------------------------------------------------------- opening hours


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening hours: for each weekday (0=Mon .. 6=Sun) a tuple of
    ``(open, close)`` windows, sorted and non-overlapping.

    A close time of ``00:00`` means midnight at the end of the day (``"24:00"``
    in JSON). Windows cannot cross midnight: split ``22:00-02:00`` into
    ``22:00-24:00`` and ``00:00-02:00`` of the next day. A booking must fit in a
    single window, except that a window closing at midnight goes on into the next
    day's window opening at midnight (the split above, or a room open around the
    clock, takes a booking across midnight, as availability shows it open).
    Touching windows within a day (09-12, 12-18) do not combine.
    """

    windows: tuple[tuple[tuple[time, time], ...], ...] = ((),) * 7

    def __post_init__(self) -> None:
        if len(self.windows) != 7:
            raise RuleViolation("opening_hours", "opening hours need exactly 7 weekdays")
        normalised = []
        for weekday, day in enumerate(self.windows):
            spans = sorted((tuple(w) for w in day), key=lambda w: _minutes(w[0], is_close=False))
            previous_close = -1
            for open_, close in spans:
                start, end = _minutes(open_, is_close=False), _minutes(close, is_close=True)
                if end <= start:
                    raise RuleViolation(
                        "opening_hours",
                        f"{DAY_NAMES[weekday]} window {_hhmm(open_, is_close=False)}-{_hhmm(close, is_close=True)} closes before it opens",
                    )
                if start < previous_close:
                    raise RuleViolation("opening_hours", f"{DAY_NAMES[weekday]} windows overlap")
                previous_close = end
            normalised.append(tuple(spans))
        object.__setattr__(self, "windows", tuple(normalised))

    @classmethod
    def from_mapping(cls, mapping: Mapping[int, Iterable[tuple[time, time]]]) -> OpeningHours:
        """Build from ``{weekday: [(open, close), ...]}`` with ``time`` objects."""
        days: list[tuple[tuple[time, time], ...]] = [() for _ in range(7)]
        for weekday, spans in mapping.items():
            if weekday not in range(7):
                raise RuleViolation("opening_hours", f"weekday must be 0..6, got {weekday!r}")
            days[weekday] = tuple((o, c) for o, c in spans)
        return cls(tuple(days))

    @classmethod
    def parse(cls, data: Mapping[str, Sequence[Sequence[str]]]) -> OpeningHours:
        """Parse ``{"mon": [["09:00", "21:00"]], ...}``; missing days are closed."""
        if not isinstance(data, Mapping):
            raise RuleViolation("opening_hours", "opening hours must be an object keyed by weekday")
        days: list[tuple[tuple[time, time], ...]] = [() for _ in range(7)]
        for key, spans in data.items():
            day_key = str(key).lower()
            if day_key not in DAY_KEYS:
                raise RuleViolation("opening_hours", f"unknown weekday {key!r}, expected one of {DAY_KEYS}")
            parsed = []
            for span in spans or ():
                if isinstance(span, str) or len(span) != 2:
                    raise RuleViolation("opening_hours", f"window must be [open, close], got {span!r}")
                parsed.append((_parse_hhmm(span[0], is_close=False), _parse_hhmm(span[1], is_close=True)))
            days[DAY_KEYS.index(day_key)] = tuple(parsed)
        return cls(tuple(days))

    @classmethod
    def always(cls) -> OpeningHours:
        """Open around the clock every day."""
        return cls(tuple(((MIDNIGHT, MIDNIGHT),) for _ in range(7)))

    def to_json(self) -> dict[str, list[list[str]]]:
        """Inverse of :meth:`parse` (closed days are omitted)."""
        return {
            DAY_KEYS[weekday]: [[_hhmm(o, is_close=False), _hhmm(c, is_close=True)] for o, c in day]
            for weekday, day in enumerate(self.windows)
            if day
        }

    def for_weekday(self, weekday: int) -> tuple[tuple[time, time], ...]:
        """Windows of one weekday (0=Mon)."""
        return self.windows[weekday]

    def describe(self, weekday: int) -> str:
        """Human readable hours of one weekday, e.g. ``"Tue 09:00-21:00"``."""
        day = self.windows[weekday]
        if not day:
            return f"closed on {DAY_NAMES[weekday]}"
        return f"{DAY_NAMES[weekday]} " + ", ".join(
            f"{_hhmm(o, is_close=False)}-{_hhmm(c, is_close=True)}" for o, c in day
        )

    def local_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """Naive wall-clock ``(open, close)`` datetimes of a calendar date."""
        result = []
        for open_, close in self.windows[day.weekday()]:
            end_day = day + timedelta(days=1) if close == MIDNIGHT else day
            result.append((datetime.combine(day, open_), datetime.combine(end_day, close)))
        return result

    def contains(self, local_start: datetime, local_end: datetime) -> bool:
        """Whether the naive wall-clock span fits inside ONE window of the start's day, that window carried on
        past midnight by each next day's window opening at 00:00 (a room open around the clock is one span)."""
        day = local_start.date()
        for open_, close in self.local_windows(day):
            if open_ <= local_start < close:
                while local_end > close and close.time() == MIDNIGHT:
                    day += timedelta(days=1)
                    following = self.local_windows(day)
                    if not following or following[0][0] != close:
                        break
                    close = following[0][1]
                return local_end <= close
        return False


#: The brief calls the weekly mapping ``WeeklyHours``; it is the same type.
WeeklyHours = OpeningHours


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class Blackout:
    """A period (UTC) in which the space cannot be booked, e.g. maintenance."""

    starts_at: datetime
    ends_at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        start = require_utc(self.starts_at, "Blackout.starts_at")
        end = require_utc(self.ends_at, "Blackout.ends_at")
        if end <= start:
            raise RuleViolation("ends_at", "blackout must end after it starts")
        object.__setattr__(self, "starts_at", start)
        object.__setattr__(self, "ends_at", end)


@dataclass(frozen=True)
class SpacePolicy:
    """Everything that constrains bookings of one space.

    ``opening_hours=None`` means no opening-hours restriction. ``buffer`` is the
    minimum gap between two bookings of the same unit (enforced by
    :mod:`availability`, not by :func:`check_request`). ``allowed_roles`` and
    ``allowed_team_ids`` both empty means anyone signed in may book.
    """

    timezone: str = DEFAULT_TIMEZONE
    opening_hours: OpeningHours | None = None
    min_duration: timedelta = timedelta(minutes=15)
    max_duration: timedelta = timedelta(hours=24)
    max_advance: timedelta = timedelta(days=180)
    min_notice: timedelta = timedelta(0)
    buffer: timedelta = timedelta(0)
    approval_required: bool = False
    quota_hours_per_week: float | None = None
    quota_bookings_per_week: int | None = None
    checkin_required: bool = False
    auto_release_minutes: int | None = None
    allowed_roles: frozenset[str] = field(default_factory=frozenset)
    allowed_team_ids: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        validate_timezone(self.timezone)
        if self.min_duration <= timedelta(0):
            raise RuleViolation("min_duration", "minimum duration must be positive")
        if self.max_duration < self.min_duration:
            raise RuleViolation("max_duration", "maximum duration is shorter than the minimum")
        for name in ("max_advance", "min_notice", "buffer"):
            if getattr(self, name) < timedelta(0):
                raise RuleViolation(name, f"{name} must not be negative")
        if self.quota_hours_per_week is not None and self.quota_hours_per_week < 0:
            raise RuleViolation("quota", "weekly hours quota must not be negative")
        if self.quota_bookings_per_week is not None and self.quota_bookings_per_week < 0:
            raise RuleViolation("quota", "weekly bookings quota must not be negative")
        if self.auto_release_minutes is not None and self.auto_release_minutes <= 0:
            raise RuleViolation("auto_release_minutes", "auto release must be a positive number of minutes")
        # Accept any iterable from callers but keep the dataclass hashable.
        object.__setattr__(self, "allowed_roles", frozenset(self.allowed_roles))
        object.__setattr__(self, "allowed_team_ids", frozenset(self.allowed_team_ids))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def may_book(policy: SpacePolicy, roles: Iterable[str], team_ids: Iterable[int]) -> bool:
    """Whether a signed-in person with ``roles``/``team_ids`` may book the space.

    No restriction configured -> everyone; otherwise membership of ANY allowed
    role OR ANY allowed team suffices. Admin overrides belong to the caller.
    """
    if not policy.allowed_roles and not policy.allowed_team_ids:
        return True
    return bool(policy.allowed_roles & set(roles)) or bool(policy.allowed_team_ids & set(team_ids))


# --------------------------------------------------------------------------- request check


def _fmt_td(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes:
        days = minutes // (24 * 60)
        return f"{days} day" + ("s" if days != 1 else "")
    if minutes % 60 == 0 and minutes:
        return f"{minutes // 60} h"
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes} min"


def _fmt_hours(hours: float) -> str:
    return f"{hours:g} h"


def check_request(
    policy: SpacePolicy,
    occurrences: Sequence[Interval],
    now: datetime,
    blackouts: Iterable[Blackout] = (),
    existing_for_person: Iterable[Interval] = (),
) -> None:
    """Raise :class:`RuleViolation` for the first rule the request breaks.

    Rules are checked in this order, each over all occurrences (chronological),
    so the reported field is deterministic: ``ends_at`` (end after start),
    ``duration`` (min/max), ``starts_at`` (not in the past, min notice, max
    advance), ``opening_hours`` (each occurrence inside ONE window of its local
    day), ``blackout`` and finally ``quota`` (per ISO week of the space's
    timezone; an occurrence counts in the week it starts in).

    ``existing_for_person`` are the person's other live bookings in this space;
    the caller must leave out the booking being edited so it is not counted twice.
    Conflicts with other people's bookings (capacity, buffer) are not checked here:
    see :func:`services.bookings.availability.check_capacity`.
    """
    now = require_utc(now, "now")
    zone = policy.zone
    occ = sorted(
        (require_utc(s, "occurrence start"), require_utc(e, "occurrence end")) for s, e in occurrences
    )
    if not occ:
        raise RuleViolation("rrule", "the request has no occurrences (all excluded?)")

    def local(dt: datetime) -> datetime:
        return dt.astimezone(zone).replace(tzinfo=None)

    def label(start: datetime) -> str:
        return "" if len(occ) == 1 else f"occurrence on {local(start):%Y-%m-%d}: "

    for start, end in occ:
        if end <= start:
            raise RuleViolation("ends_at", label(start) + "the booking must end after it starts", start)

    for start, end in occ:
        length = end - start
        if length < policy.min_duration:
            raise RuleViolation(
                "duration",
                label(start) + f"shorter than the minimum of {_fmt_td(policy.min_duration)}",
                start,
            )
        if length > policy.max_duration:
            raise RuleViolation(
                "duration", label(start) + f"longer than the maximum of {_fmt_td(policy.max_duration)}", start
            )

    for start, _end in occ:
        if start < now:
            raise RuleViolation("starts_at", label(start) + "starts in the past", start)
        if start < now + policy.min_notice:
            raise RuleViolation(
                "starts_at", label(start) + f"needs at least {_fmt_td(policy.min_notice)} notice", start
            )
        if start > now + policy.max_advance:
            raise RuleViolation(
                "starts_at",
                label(start) + f"too far ahead (bookable at most {_fmt_td(policy.max_advance)} in advance)",
                start,
            )

    if policy.opening_hours is not None:
        hours = policy.opening_hours
        for start, end in occ:
            local_start, local_end = local(start), local(end)
            if not hours.contains(local_start, local_end):
                raise RuleViolation(
                    "opening_hours",
                    label(start) + f"outside opening hours ({hours.describe(local_start.weekday())})",
                    start,
                )

    # Sorted blackouts + bisect keeps this O((n + m) log m) for long series.
    blocked = sorted(blackouts, key=lambda b: b.starts_at)
    if blocked:
        starts = [b.starts_at for b in blocked]
        # Blackouts may overlap, so "latest end so far" is needed for the lookup.
        max_end: list[datetime] = []
        for b in blocked:
            max_end.append(b.ends_at if not max_end else max(max_end[-1], b.ends_at))
        for start, end in occ:
            i = bisect.bisect_left(starts, end)  # blackouts starting before our end
            if i and max_end[i - 1] > start:
                hit = next(b for b in blocked[:i] if b.ends_at > start)
                reason = f": {hit.reason}" if hit.reason else ""
                raise RuleViolation(
                    "blackout",
                    label(start)
                    + f"space unavailable {local(hit.starts_at):%Y-%m-%d %H:%M} to "
                    + f"{local(hit.ends_at):%Y-%m-%d %H:%M}{reason}",
                    start,
                )

    _check_quota(policy, occ, list(existing_for_person), local)


def _check_quota(
    policy: SpacePolicy,
    occ: list[Interval],
    existing: list[Interval],
    local: Callable[[datetime], datetime],
) -> None:
    """Weekly quotas; ISO weeks of the space's wall clock, keyed by (year, week)."""
    if policy.quota_hours_per_week is None and policy.quota_bookings_per_week is None:
        return
    hours: dict[tuple[int, int], float] = defaultdict(float)
    count: dict[tuple[int, int], int] = defaultdict(int)
    first_new: dict[tuple[int, int], datetime] = {}
    for start, end in [
        (require_utc(s, "existing start"), require_utc(e, "existing end")) for s, e in existing
    ]:
        week = local(start).isocalendar()[:2]
        hours[week] += (end - start).total_seconds() / 3600
        count[week] += 1
    for start, end in occ:
        week = local(start).isocalendar()[:2]
        hours[week] += (end - start).total_seconds() / 3600
        count[week] += 1
        first_new.setdefault(week, start)
    # Only weeks touched by the request can be newly over quota; report the earliest.
    for week in sorted(first_new):
        tag = f"{week[0]}-W{week[1]:02d}"
        limit_n = policy.quota_bookings_per_week
        if limit_n is not None and count[week] > limit_n:
            raise RuleViolation(
                "quota",
                f"weekly booking quota exceeded in {tag}: {count[week]} bookings, at most {limit_n} per week",
                first_new[week],
            )
        limit_h = policy.quota_hours_per_week
        # Small epsilon: durations are summed as floats.
        if limit_h is not None and hours[week] > limit_h + 1e-9:
            raise RuleViolation(
                "quota",
                f"weekly hours quota exceeded in {tag}: {_fmt_hours(round(hours[week], 2))}, "
                f"at most {_fmt_hours(limit_h)} per week",
                first_new[week],
            )


# --------------------------------------------------------------------------- check-in


def check_in_window(
    start: datetime,
    now: datetime,
    opens_before: timedelta = timedelta(minutes=15),
    closes_at: datetime | None = None,
) -> bool:
    """Whether check-in is possible at ``now`` for a booking starting at ``start``.

    Check-in opens ``opens_before`` the start and stays open until ``closes_at``
    (exclusive) - typically :func:`release_deadline` or the booking's end;
    ``None`` means no closing bound.
    """
    start, now = require_utc(start, "start"), require_utc(now, "now")
    if now < start - opens_before:
        return False
    return closes_at is None or now < require_utc(closes_at, "closes_at")


def release_deadline(start: datetime, auto_release_minutes: int | None) -> datetime | None:
    """Instant after which an un-checked-in booking is released (``None``: never)."""
    start = require_utc(start, "start")
    if auto_release_minutes is None:
        return None
    return start + timedelta(minutes=auto_release_minutes)

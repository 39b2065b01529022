"""Free/busy computation for a space (or a pool of N identical units).

Pure and fast: the caller passes only the busy occurrences overlapping the
requested window (found via an index); everything here is a sort plus a linear
sweep, O(n log n) in the number of busy intervals.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .rules import Blackout, RuleViolation, SpacePolicy, require_utc

__all__ = ["assign_units", "check_capacity", "free_intervals", "open_intervals"]

BusyInterval = tuple[datetime, datetime, int]


def _wall_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    """UTC instant of a wall-clock boundary (opening/closing time).

    Ambiguous times use ``fold=0`` like the rest of the domain. A time that does
    not exist (DST gap) maps to the first instant whose wall clock is later, i.e.
    the transition itself, so "opens 02:30" on a spring-forward night opens at
    03:00 - consistent with :func:`rules.check_request`, which compares wall clocks.
    """
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=0 and fold=1 map to either side of the transition.
    low, high = sorted((int(first.timestamp()), int(naive.replace(tzinfo=zone, fold=1).timestamp())))
    # Bisect (whole seconds) for the first instant whose wall clock reaches ``naive``.
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def _subtract(intervals: list[tuple[datetime, datetime]], holes: Iterable[tuple[datetime, datetime]]):
    """Sorted disjoint ``intervals`` minus ``holes`` (any order, may overlap)."""
    result = []
    holes = sorted(holes)
    j = 0
    for start, end in intervals:
        # Skip holes that end before this interval; they cannot matter later either.
        while j < len(holes) and holes[j][1] <= start:
            j += 1
        cursor = start
        k = j
        while k < len(holes) and holes[k][0] < end:
            h_start, h_end = holes[k]
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = max(cursor, h_end)
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def open_intervals(
    window_start: datetime, window_end: datetime, policy: SpacePolicy, blackouts: Iterable[Blackout] = ()
) -> list[tuple[datetime, datetime]]:
    """UTC intervals inside the window when the space is open and not blacked out."""
    window_start = require_utc(window_start, "window_start")
    window_end = require_utc(window_end, "window_end")
    if window_end <= window_start:
        return []
    if policy.opening_hours is None:
        spans = [(window_start, window_end)]
    else:
        zone = policy.zone
        # One extra day on each side: a local day can straddle the UTC window edge.
        day: date = window_start.astimezone(zone).date() - timedelta(days=1)
        last: date = window_end.astimezone(zone).date() + timedelta(days=1)
        spans = []
        while day <= last:
            for open_, close in policy.opening_hours.local_windows(day):
                start = max(_wall_to_utc(open_, zone), window_start)
                end = min(_wall_to_utc(close, zone), window_end)
                if start < end:
                    # Touching windows (a 24:00 close and a 00:00 open) are merged
                    # here because for free/busy display they are continuous.
                    if spans and spans[-1][1] >= start:
                        spans[-1] = (spans[-1][0], max(spans[-1][1], end))
                    else:
                        spans.append((start, end))
            day += timedelta(days=1)
    return _subtract(spans, ((b.starts_at, b.ends_at) for b in blackouts))


def _usage_steps(busy: Iterable[BusyInterval], buffer: timedelta) -> tuple[list[datetime], list[int]]:
    """Step function of units in use: ``used[i]`` holds from ``times[i]`` to ``times[i+1]``."""
    deltas: dict[datetime, int] = {}
    for start, end, units in busy:
        start, end = require_utc(start, "busy start") - buffer, require_utc(end, "busy end") + buffer
        if end <= start or units <= 0:
            continue
        deltas[start] = deltas.get(start, 0) + units
        deltas[end] = deltas.get(end, 0) - units
    times = sorted(deltas)
    used = []
    level = 0
    for t in times:
        level += deltas[t]
        used.append(level)
    return times, used


def free_intervals(
    window_start: datetime,
    window_end: datetime,
    policy: SpacePolicy,
    blackouts: Iterable[Blackout],
    busy: Iterable[BusyInterval],
    capacity_units: int = 1,
) -> list[dict]:
    """Free intervals inside ``[window_start, window_end)``.

    Each item is ``{"starts_at", "ends_at", "free_units"}`` (UTC). Honours the
    opening hours (space timezone), blackouts and ``policy.buffer`` around each
    busy interval (a busy ``(start, end, units)`` blocks ``units`` units from
    ``start - buffer`` to ``end + buffer``). Contiguous intervals with the same
    free count are merged; intervals with no free unit are omitted.
    """
    if capacity_units < 1:
        raise ValueError("capacity_units must be at least 1")
    spans = open_intervals(window_start, window_end, policy, blackouts)
    times, used = _usage_steps(busy, policy.buffer)

    result: list[dict] = []

    def emit(start: datetime, end: datetime, free: int) -> None:
        if free <= 0 or start >= end:
            return
        last = result[-1] if result else None
        if last and last["ends_at"] == start and last["free_units"] == free:
            last["ends_at"] = end
        else:
            result.append({"starts_at": start, "ends_at": end, "free_units": free})

    i = 0  # index of the first step boundary after the current position
    for span_start, span_end in spans:
        # Spans are sorted, so the pointer only moves forward: linear overall.
        while i < len(times) and times[i] <= span_start:
            i += 1
        level = used[i - 1] if i else 0
        cursor = span_start
        while i < len(times) and times[i] < span_end:
            emit(cursor, times[i], capacity_units - level)
            cursor, level = times[i], used[i]
            i += 1
        emit(cursor, span_end, capacity_units - level)
    return result


def check_capacity(
    occurrences: Sequence[tuple[datetime, datetime]],
    busy: Iterable[BusyInterval],
    buffer: timedelta = timedelta(0),
    capacity_units: int = 1,
    requested_units: int = 1,
) -> None:
    """Raise ``RuleViolation("units", ...)`` if some occurrence does not fit.

    An occurrence fits when, over ``[start, end)``, the units used by ``busy``
    (each widened by ``buffer``) plus ``requested_units`` never exceed the
    capacity. O((n + m) log m) for n occurrences and m busy intervals, plus the
    steps actually covered by the occurrences.
    """
    if requested_units > capacity_units:
        raise RuleViolation("units", f"the space has only {capacity_units} units")
    times, used = _usage_steps(busy, buffer)
    for start, end in occurrences:
        start, end = require_utc(start, "start"), require_utc(end, "end")
        i = bisect.bisect_right(times, start)
        peak = used[i - 1] if i else 0
        while i < len(times) and times[i] < end:
            peak = max(peak, used[i])
            i += 1
        if peak + requested_units > capacity_units:
            free = max(capacity_units - peak, 0)
            raise RuleViolation(
                "units",
                f"conflicts with existing bookings at {start:%Y-%m-%d %H:%M} UTC: only {free} free",
                start,
            )


def assign_units(
    requested_units: int,
    capacity: int,
    overlapping: Iterable[tuple[datetime, datetime, Iterable[int]]],
) -> list[int]:
    """Pick the lowest free unit numbers (1..capacity) for a new booking.

    ``overlapping`` are the live bookings overlapping the requested time (buffer
    included) with the unit numbers each holds; a unit is free only if no one of
    them holds it. Raises ``RuleViolation("units", "only k free")``.
    """
    if requested_units < 1:
        raise RuleViolation("units", "at least 1 unit must be requested")
    if requested_units > capacity:
        raise RuleViolation("units", f"only {capacity} units exist, {requested_units} requested")
    taken: set[int] = set()
    for _start, _end, units in overlapping:
        taken.update(units)
    free = [unit for unit in range(1, capacity + 1) if unit not in taken]
    if len(free) < requested_units:
        raise RuleViolation("units", f"only {len(free)} free, {requested_units} requested")
    return free[:requested_units]

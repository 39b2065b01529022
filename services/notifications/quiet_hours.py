"""Quiet hours: the wall-clock window (in the person's timezone) when non-critical messages wait.

Pure functions. A window may cross midnight (22:00–07:00). The answer is the aware UTC instant the
window ends, or None when `now` is outside it.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, start: str | None, end: str | None, timezone: str) -> datetime | None:
    """When the quiet window containing `now` ends (UTC), or None if `now` is not quiet."""
    if not start or not end or start == end:
        return None
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    local = now.astimezone(zone)
    begins, ends = _hhmm(start), _hhmm(end)
    clock = local.time()
    if begins < ends:  # same-day window, e.g. 12:00–14:00
        inside = begins <= clock < ends
        end_day = local.date()
    else:  # crosses midnight, e.g. 22:00–07:00
        inside = clock >= begins or clock < ends
        end_day = local.date() + timedelta(days=1) if clock >= begins else local.date()
    if not inside:
        return None
    # Build the local end time, then let zoneinfo resolve the offset of that day (DST-safe where it applies).
    return datetime.combine(end_day, ends, tzinfo=zone).astimezone(UTC)

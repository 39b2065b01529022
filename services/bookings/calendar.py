"""iCalendar (RFC 5545) export of bookings via the ``icalendar`` library.

A booking is described by a plain dict (see :func:`booking_to_vevent`). A
recurring booking exports as ONE VEVENT: ``DTSTART``/``DTEND`` in the space's
zone (``TZID``, wall clock), the ``RRULE`` and an ``EXDATE`` for every excluded
or individually cancelled occurrence, so any RFC 5545 expander reproduces
exactly the instants of :func:`services.bookings.recurrence.expand`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from shared.recurrence import is_excluded, local_instances, parse_rule

from .rules import DEFAULT_TIMEZONE, require_utc, validate_timezone

__all__ = ["PRODID", "booking_to_vevent", "build_calendar", "uid_for"]

PRODID = "-//Nuanxin//Bookings//EN"

_STATUS = {
    "confirmed": "CONFIRMED",
    "approved": "CONFIRMED",
    "checked_in": "CONFIRMED",
    "pending": "TENTATIVE",
    "tentative": "TENTATIVE",
    "cancelled": "CANCELLED",
    "canceled": "CANCELLED",
    "rejected": "CANCELLED",
    "released": "CANCELLED",
}


def uid_for(booking_id: object) -> str:
    """Stable UID of a booking, so re-imports update instead of duplicating."""
    return f"booking-{booking_id}@nuanxin"


def _status(value: str | None) -> str:
    key = (value or "confirmed").lower()
    if key not in _STATUS:
        raise ValueError(f"unknown booking status {value!r}")
    return _STATUS[key]


def _zoned(instant: datetime, zone: ZoneInfo) -> datetime:
    """``instant`` as a TZID wall-clock time, or UTC if the wall clock would be misread.

    Readers resolve an ambiguous TZID time to its first instant (fold=0); the
    second one (fold=1) therefore has to be written in UTC to stay exact.
    """
    local = instant.astimezone(zone)
    if local.replace(fold=0).astimezone(UTC) == instant:
        return local.replace(fold=0)
    return instant


def booking_to_vevent(
    booking: Mapping,
    *,
    busy_only: bool = False,
    dtstamp: datetime | None = None,
) -> icalendar.Event:
    """Build the VEVENT of one booking.

    ``booking`` keys: ``id``, ``starts_at``/``ends_at`` (aware UTC; for a series
    the start/end of the series' first requested occurrence), ``timezone``
    (default Asia/Shanghai), ``title``, ``location``, ``status`` (confirmed /
    pending / cancelled ...), optional ``rrule`` (stored rule text), ``exdates``
    (dates / naive wall-clock / aware datetimes, see
    :func:`~services.bookings.recurrence.is_excluded`), ``cancelled_occurrences``
    (aware UTC starts), ``description``, ``booked_by``, ``sequence``,
    ``updated_at``, ``busy_only``. Busy-only (other people's bookings) exports
    ``SUMMARY:Busy`` and nothing that names a person or the purpose.
    """
    return _vevent(booking, busy_only=busy_only, dtstamp=dtstamp)[0]


def _vevent(
    booking: Mapping, *, busy_only: bool, dtstamp: datetime | None
) -> tuple[icalendar.Event, tuple[datetime, datetime]]:
    """The VEVENT plus the UTC span it covers (for the VTIMEZONE range)."""
    tz = booking.get("timezone") or DEFAULT_TIMEZONE
    zone = validate_timezone(tz)
    start = require_utc(booking["starts_at"], "starts_at")
    end = require_utc(booking["ends_at"], "ends_at")
    duration = end - start
    busy_only = busy_only or bool(booking.get("busy_only"))
    stamp = require_utc(dtstamp or booking.get("updated_at") or datetime.now(UTC), "dtstamp")

    event = icalendar.Event()
    event.add("uid", uid_for(booking["id"]))
    event.add("dtstamp", stamp.replace(microsecond=0))
    event.add("summary", "Busy" if busy_only else (booking.get("title") or "Booking"))
    if booking.get("location"):
        event.add("location", booking["location"])
    if not busy_only:
        details = [booking.get("description") or "", ""]
        if booking.get("booked_by"):
            details[1] = f"Booked by {booking['booked_by']}"
        text = "\n".join(part for part in details if part)
        if text:
            event.add("description", text)
    event.add("status", _status(booking.get("status")))
    if booking.get("sequence") is not None:
        event.add("sequence", int(booking["sequence"]))

    rule_text = booking.get("rrule")
    if not rule_text:
        event.add("dtstart", _zoned(start, zone))
        event.add("dtend", _zoned(end, zone))
        return event, (start, end)

    rule = parse_rule(rule_text)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    instances = local_instances(rule, local_start, tz)
    if not instances:
        raise ValueError(f"booking {booking['id']}: the rule produces no occurrences")
    excluded = list(booking.get("exdates") or ()) + [
        require_utc(c, "cancelled occurrence") for c in booking.get("cancelled_occurrences") or ()
    ]
    # DTSTART must be an instance: readers count an unsynchronised DTSTART as an
    # extra occurrence, dateutil (and recurrence.expand) do not.
    first = instances[0].replace(tzinfo=zone, fold=0)
    event.add("dtstart", first)
    event.add("dtend", _zoned(first.astimezone(UTC) + duration, zone))
    event.add("rrule", icalendar.vRecur.from_ical(rule.to_ical_text(tz)))
    # EXDATEs are written as exact instance times (RFC 5545 matches EXDATE to
    # instances by value), which also turns a date EXDATE into that day's instances.
    exdates = [
        naive.replace(tzinfo=zone, fold=0)
        for naive in instances
        if excluded and is_excluded(naive, naive.replace(tzinfo=zone, fold=0).astimezone(UTC), excluded)
    ]
    if exdates:
        event.add("exdate", exdates)
    last = instances[-1].replace(tzinfo=zone, fold=0).astimezone(UTC) + duration
    return event, (first.astimezone(UTC), last)


def build_calendar(
    events: Iterable[Mapping],
    name: str,
    *,
    busy_only: bool = False,
    dtstamp: datetime | None = None,
) -> bytes:
    """Serialise bookings as an ``.ics`` calendar (VCALENDAR with VTIMEZONEs).

    ``busy_only=True`` exports every booking as busy-only; a booking dict can
    also ask for it individually with ``"busy_only": True``.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("name", name)  # RFC 7986 spelling of X-WR-CALNAME

    first: date | None = None
    last: date | None = None
    for booking in events:
        event, (span_start, span_end) = _vevent(booking, busy_only=busy_only, dtstamp=dtstamp)
        calendar.add_component(event)
        first = span_start.date() if first is None else min(first, span_start.date())
        last = span_end.date() if last is None else max(last, span_end.date())

    if first is not None and last is not None:
        # Only the transitions the events need (plus a year of margin);
        # icalendar's default range (1970-2038) adds dozens of irrelevant rules.
        calendar.add_missing_timezones(
            first_date=first - timedelta(days=366), last_date=last + timedelta(days=366)
        )
    return calendar.to_ical()

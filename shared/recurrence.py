"""Recurring bookings: a small RFC 5545 RRULE subset expanded in wall-clock time.

Supported: ``FREQ=DAILY|WEEKLY|MONTHLY``, ``INTERVAL``, ``BYDAY`` (``2TU``/``-1FR``
ordinals only with MONTHLY), ``BYMONTHDAY`` (MONTHLY only), and ``COUNT`` or
``UNTIL`` (not both). Weeks start on Monday (RFC default ``WKST=MO``).

Expansion runs on naive wall-clock datetimes in the space's zone (a weekly
09:00 stays 09:00 local across DST changes) via ``dateutil.rrule``; only the
results are converted to UTC. Conventions:

* a wall-clock time that does not exist (DST gap) is an error;
* an ambiguous wall-clock time (DST fold) means the FIRST of the two instants
  (``fold=0``, still on daylight time) - the same choice iCalendar clients make
  for a ``TZID`` time, so exported calendars agree with :func:`expand`;
* ``UNTIL`` is inclusive. A date ``UNTIL`` includes every occurrence on that
  local date; a UTC ``UNTIL`` includes occurrences starting at or before it;
* a ``DTSTART`` that does not match the rule is not itself an occurrence
  (dateutil semantics; the calendar export uses the first real occurrence).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as du


class RuleViolation(Exception):
    """A request (a booking, an activity's sessions, a recurrence rule) breaks a rule.

    ``field`` names the request field / rule that is broken (``"ends_at"``,
    ``"duration"``, ``"starts_at"``, ``"opening_hours"``, ``"blackout"``,
    ``"quota"``, ``"rrule"``, ``"timezone"``, ``"units"``, ...) so the API
    layer can map it onto a field error; ``message`` is human readable and names
    the rule, e.g. ``"outside opening hours (Tue 09:00-21:00)"``.
    ``occurrence`` is the UTC start of the offending occurrence when known.
    """

    def __init__(self, field: str, message: str, occurrence: datetime | None = None) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message
        self.occurrence = occurrence

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def validate_timezone(name: str) -> ZoneInfo:
    """Return the ``ZoneInfo`` for an IANA name or raise ``RuleViolation("timezone", ...)``."""
    if not isinstance(name, str) or not name or name != name.strip() or len(name) > 64:
        raise RuleViolation("timezone", f"unknown timezone {name[:64]!r}" if isinstance(name, str)
                            else f"unknown timezone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # ValueError covers malformed keys such as "../etc/passwd"; OSError a name the filesystem refuses.
        raise RuleViolation("timezone", f"unknown timezone {name!r}") from exc


__all__ = [
    "MAX_OCCURRENCES",
    "Rule",
    "RuleViolation",
    "expand",
    "first_instance",
    "from_local",
    "is_excluded",
    "local_instances",
    "parse_rule",
    "to_local",
    "validate_timezone",
]

MAX_OCCURRENCES = 500
#: How far past the start a rule is expanded at most (see :func:`local_instances`).
HORIZON = timedelta(days=100 * 365)

FREQS = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SUPPORTED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL"}

_BYDAY_RE = re.compile(r"^([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_INT_RE = re.compile(r"^\d+$")
_SIGNED_INT_RE = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Rule:
    """A parsed recurrence rule; ``str(rule)`` is its canonical RRULE text.

    ``byday`` holds ``(ordinal, weekday)`` pairs, weekday 0=Mon, ordinal ``None``
    for "every such weekday". ``until`` is a ``date`` or an aware UTC ``datetime``.
    """

    freq: str
    interval: int = 1
    byday: tuple[tuple[int | None, int], ...] = ()
    bymonthday: tuple[int, ...] = ()
    count: int | None = None
    until: date | datetime | None = None

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self, until: date | datetime | None = None) -> str:
        """Canonical ``FREQ=...;...`` text (no ``RRULE:`` prefix)."""
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.byday:
            parts.append("BYDAY=" + ",".join(f"{n or ''}{WEEKDAYS[d]}" for n, d in self.byday))
        if self.bymonthday:
            parts.append("BYMONTHDAY=" + ",".join(str(d) for d in self.bymonthday))
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        until = self.until if until is None else until
        if isinstance(until, datetime):
            parts.append(f"UNTIL={until.astimezone(UTC):%Y%m%dT%H%M%SZ}")
        elif isinstance(until, date):
            parts.append(f"UNTIL={until:%Y%m%d}")
        return ";".join(parts)

    def to_ical_text(self, tz: str) -> str:
        """RRULE text for a calendar whose DTSTART is a ``TZID`` date-time.

        RFC 5545 requires UNTIL to be a UTC date-time in that case, so a date
        UNTIL becomes the last second of that local day in UTC (same instances).
        """
        if isinstance(self.until, date) and not isinstance(self.until, datetime):
            zone = validate_timezone(tz)
            last = datetime.combine(self.until, time(23, 59, 59), tzinfo=zone)
            return self.to_text(until=last.astimezone(UTC))
        return self.to_text()


def _bad(message: str) -> RuleViolation:
    return RuleViolation("rrule", message)


def _parse_until(value: str) -> date | datetime:
    try:
        if re.fullmatch(r"\d{8}", value):
            return datetime.strptime(value, "%Y%m%d").date()
        if re.fullmatch(r"\d{8}T\d{6}Z", value):
            return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise _bad(f"UNTIL={value} is not a valid date") from exc
    if re.fullmatch(r"\d{8}T\d{6}", value):
        raise _bad("UNTIL date-time must be in UTC (end with 'Z'); floating times are not supported")
    raise _bad(f"UNTIL={value} must be YYYYMMDD or YYYYMMDDTHHMMSSZ")


def parse_rule(text: str) -> Rule:
    """Parse an RRULE (with or without a leading ``RRULE:``) into a :class:`Rule`.

    Anything outside the supported subset raises ``RuleViolation("rrule", "... not supported")``.
    """
    if not isinstance(text, str) or not text.strip():
        raise _bad("recurrence rule is empty")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    parts: dict[str, str] = {}
    for chunk in body.upper().split(";"):
        if not chunk:
            continue  # tolerate a trailing ';'
        key, sep, value = chunk.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise _bad(f"malformed rule part {chunk!r}, expected NAME=VALUE")
        if key in parts:
            raise _bad(f"{key} given twice")
        parts[key] = value

    unsupported = sorted(set(parts) - SUPPORTED_PARTS)
    if unsupported:
        raise _bad(
            f"{', '.join(unsupported)} not supported (supported: FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL)"
        )
    if "FREQ" not in parts:
        raise _bad("FREQ is required")
    freq = parts["FREQ"]
    if freq not in FREQS:
        raise _bad(f"FREQ={freq} not supported (supported: DAILY, WEEKLY, MONTHLY)")

    interval = 1
    if "INTERVAL" in parts:
        if not _INT_RE.match(parts["INTERVAL"]) or int(parts["INTERVAL"]) < 1:
            raise _bad(f"INTERVAL={parts['INTERVAL']} must be a positive integer")
        interval = int(parts["INTERVAL"])

    byday: list[tuple[int | None, int]] = []
    if "BYDAY" in parts:
        for item in parts["BYDAY"].split(","):
            match = _BYDAY_RE.match(item.strip())
            if not match:
                raise _bad(f"BYDAY value {item!r} is not a weekday like MO or 2TU")
            sign, digits, day = match.groups()
            ordinal = None
            if digits is not None:
                ordinal = int(digits) * (-1 if sign == "-" else 1)
                if freq != "MONTHLY":
                    raise _bad(f"BYDAY={item} (nth weekday) is only supported with FREQ=MONTHLY")
                if not 1 <= abs(ordinal) <= 5:
                    raise _bad(f"BYDAY={item}: the ordinal must be 1..5 or -5..-1 within a month")
            elif sign:
                raise _bad(f"BYDAY value {item!r} is not a weekday like MO or 2TU")
            entry = (ordinal, WEEKDAYS.index(day))
            if entry in byday:
                raise _bad(f"BYDAY lists {item} twice")
            byday.append(entry)

    bymonthday: list[int] = []
    if "BYMONTHDAY" in parts:
        if freq != "MONTHLY":
            raise _bad("BYMONTHDAY is only supported with FREQ=MONTHLY")
        for item in parts["BYMONTHDAY"].split(","):
            item = item.strip()
            if not _SIGNED_INT_RE.match(item) or not 1 <= abs(int(item)) <= 31:
                raise _bad(f"BYMONTHDAY={item} must be 1..31 or -31..-1")
            if int(item) in bymonthday:
                raise _bad(f"BYMONTHDAY lists {item} twice")
            bymonthday.append(int(item))

    if "COUNT" in parts and "UNTIL" in parts:
        raise _bad("COUNT and UNTIL cannot both be given")
    count = None
    if "COUNT" in parts:
        if not _INT_RE.match(parts["COUNT"]) or int(parts["COUNT"]) < 1:
            raise _bad(f"COUNT={parts['COUNT']} must be a positive integer")
        count = int(parts["COUNT"])
    until = _parse_until(parts["UNTIL"]) if "UNTIL" in parts else None

    return Rule(freq, interval, tuple(byday), tuple(bymonthday), count, until)


# --------------------------------------------------------------------------- time zones


def to_local(dt_utc: datetime, tz: str) -> datetime:
    """Naive wall-clock time in ``tz`` of an aware instant (``fold`` is preserved)."""
    if dt_utc.tzinfo is None:
        raise ValueError(f"to_local needs an aware datetime, got naive {dt_utc!r}")
    return dt_utc.astimezone(validate_timezone(tz)).replace(tzinfo=None)


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0) == naive.replace(fold=0)


def _to_utc(naive: datetime, zone: ZoneInfo, tz: str) -> datetime:
    if not _exists(naive, zone):
        raise RuleViolation(
            "starts_at",
            f"{naive:%Y-%m-%d %H:%M} does not exist in {tz} (clocks skip it for daylight saving time)",
        )
    # fold=0: an ambiguous wall time is its first (daylight time) instant.
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def from_local(naive: datetime, tz: str) -> datetime:
    """UTC instant of a naive wall-clock time in ``tz``.

    Non-existent times (DST gap) raise ``RuleViolation("starts_at", "... does not exist ...")``;
    ambiguous ones (DST fold) resolve to the first instant (``fold=0``).
    """
    if naive.tzinfo is not None:
        raise ValueError(f"from_local needs a naive wall-clock datetime, got {naive!r}")
    return _to_utc(naive, validate_timezone(tz), tz)


# --------------------------------------------------------------------------- expansion


def _dateutil_rule(rule: Rule, local_start: datetime, until: datetime | None) -> du.rrule:
    byweekday = [du.weekday(d, n) if n is not None else du.weekday(d) for n, d in rule.byday] or None
    return du.rrule(
        FREQS[rule.freq],
        dtstart=local_start,
        interval=rule.interval,
        wkst=du.MO,  # explicit: dateutil defaults to calendar.firstweekday(), RFC to MO
        until=until,
        byweekday=byweekday,
        bymonthday=list(rule.bymonthday) or None,
    )


def _check_start(local_start: datetime) -> None:
    if not isinstance(local_start, datetime) or local_start.tzinfo is not None:
        raise ValueError(f"local_start must be a naive wall-clock datetime, got {local_start!r}")
    if local_start.microsecond:
        # iCalendar cannot represent sub-second times; exports must match exactly.
        raise RuleViolation("starts_at", "start time must be whole seconds")


def local_instances(
    rule: Rule, local_start: datetime, tz: str, max_occurrences: int = MAX_OCCURRENCES
) -> list[datetime]:
    """All naive wall-clock starts generated by ``rule`` (before EXDATE removal).

    Raises ``RuleViolation("rrule", ...)`` when the rule is unbounded or yields
    more than ``max_occurrences`` instances.
    """
    _check_start(local_start)
    zone = validate_timezone(tz)
    too_many = _bad(
        f"the rule would create more than {max_occurrences} occurrences; add COUNT or an earlier UNTIL"
    )
    if rule.count is None and rule.until is None:
        raise _bad(f"the rule has no end; add COUNT or UNTIL (more than {max_occurrences} occurrences)")
    if rule.count is not None and rule.count > max_occurrences:
        raise too_many

    # dateutil scans period by period until COUNT/UNTIL is met, so a rule that
    # (almost) never matches, e.g. BYMONTHDAY=1;BYDAY=5MO, would scan up to year
    # 9999. Bounding the scan keeps the cost of any request small.
    horizon = local_start + HORIZON
    until_utc: datetime | None = None
    if isinstance(rule.until, datetime):
        until_utc = rule.until
        # Cut dateutil a day late (covers any UTC offset / fold), then filter exactly.
        du_until = until_utc.astimezone(zone).replace(tzinfo=None, fold=0) + timedelta(days=1)
    elif isinstance(rule.until, date):
        du_until = datetime.combine(rule.until, time.max)
    else:
        du_until = horizon
    if du_until > horizon + timedelta(days=1):
        raise _bad(f"UNTIL must be less than {HORIZON.days // 365} years after the start")

    # COUNT is applied here rather than by dateutil so the horizon can bound it.
    generated = _dateutil_rule(rule, local_start, du_until)
    result = []
    # Iterate lazily: never materialise a huge rule just to find out it is too big.
    for naive in generated:
        if until_utc is not None and naive.replace(tzinfo=zone, fold=0) > until_utc:
            continue
        result.append(naive)
        if len(result) > max_occurrences:
            raise too_many
        if rule.count is not None and len(result) == rule.count:
            break
    else:
        if rule.count is not None:
            raise _bad(
                f"COUNT={rule.count} is not reached within {HORIZON.days // 365} years; the rule matches too rarely"
            )
    return result


def first_instance(
    rule: Rule, local_start: datetime, tz: str, max_occurrences: int = MAX_OCCURRENCES
) -> datetime:
    """The first wall-clock occurrence the rule really generates from ``local_start``."""
    instances = local_instances(rule, local_start, tz, max_occurrences)
    if not instances:
        raise _bad("the rule produces no occurrences")
    return instances[0]


def parse_exdate(value: str) -> date | datetime:
    """An `exdates` entry: `YYYY-MM-DD` (that local day), a local `YYYY-MM-DDTHH:MM[:SS]`, or an instant with an
    offset (as UTC)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed
    except ValueError:
        raise RuleViolation("exdates", f"{value!r} is not a date or a date-time") from None


def is_excluded(local_dt: datetime, start_utc: datetime, exdates: Iterable[date | datetime]) -> bool:
    """Whether an occurrence is removed by an EXDATE.

    A ``date`` removes every occurrence on that local date, a naive ``datetime``
    the occurrence at exactly that wall-clock time, an aware ``datetime`` the
    occurrence starting at that instant (e.g. an individually cancelled one).
    """
    for ex in exdates:
        if isinstance(ex, datetime):
            if ex.tzinfo is None:
                if ex == local_dt:
                    return True
            elif ex == start_utc:
                return True
        elif isinstance(ex, date):
            if ex == local_dt.date():
                return True
        else:
            raise TypeError(f"EXDATE must be a date or datetime, got {type(ex).__name__}")
    return False


def expand(
    rule: Rule,
    local_start: datetime,
    duration: timedelta,
    tz: str,
    exdates: Sequence[date | datetime] = (),
    max_occurrences: int = MAX_OCCURRENCES,
) -> list[tuple[datetime, datetime]]:
    """Expand ``rule`` from the naive wall-clock ``local_start`` into UTC ``(start, end)`` pairs.

    ``end = start + duration`` in elapsed time. The occurrence limit applies to
    the rule itself, before EXDATE removal. A remaining occurrence at a wall time
    that does not exist (DST gap) raises ``RuleViolation("starts_at", ...)``;
    excluding it with an EXDATE is the way to keep the rest of the series.
    """
    if duration <= timedelta(0):
        raise RuleViolation("ends_at", "the booking must end after it starts")
    zone = validate_timezone(tz)
    exdates = list(exdates)
    result = []
    for naive in local_instances(rule, local_start, tz, max_occurrences):
        start = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if exdates and is_excluded(naive, start, exdates):
            continue
        start = _to_utc(naive, zone, tz)
        result.append((start, start + duration))
    return result

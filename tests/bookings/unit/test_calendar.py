"""Calendar export, checked by re-expanding the exported .ics independently.

``recurring-ical-events`` cannot be installed next to the pinned
python-dateutil 4 (it requires dateutil < 3), so the reader below follows
RFC 5545 directly: it parses the bytes with ``icalendar``, builds the time zone
from the exported VTIMEZONE (not from zoneinfo), expands the RRULE text with
``dateutil.rrule.rrulestr`` (COUNT/UNTIL handled by dateutil, unlike
``recurrence.expand``), counts DTSTART as an instance, applies EXDATEs and takes the duration as
DTEND - DTSTART.
"""

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from dateutil.rrule import rruleset, rrulestr

from services.bookings.calendar import booking_to_vevent, build_calendar, uid_for
from shared.recurrence import expand, from_local, parse_rule, to_local

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def read_back(ics: bytes) -> dict[str, list[tuple[datetime, datetime]]]:
    """UID -> UTC (start, end) of every instance, as an RFC 5545 reader sees it."""
    cal = icalendar.Calendar.from_ical(ics)
    zones = {tz["TZID"]: tz.to_tz(lookup_tzid=False) for tz in cal.walk("VTIMEZONE")}

    def resolve(prop):
        value = prop.dt
        tzid = prop.params.get("TZID")
        if tzid:
            # Re-attach the wall clock to the zone built from the VTIMEZONE.
            return value.replace(tzinfo=zones[tzid])
        assert value.tzinfo is not None, "floating times are not allowed"
        return value

    result = {}
    for event in cal.walk("VEVENT"):
        start = resolve(event["DTSTART"])
        end = resolve(event["DTEND"])
        # Exact duration (RFC 5545 3.8.5.3), independent of the wall clock.
        duration = end.astimezone(UTC) - start.astimezone(UTC)
        if "RRULE" not in event:
            instances = [start]
        else:
            rules = rruleset()
            rules.rrule(rrulestr(event["RRULE"].to_ical().decode(), dtstart=start))
            # RFC 5545 3.8.5.3: DTSTART always counts as the first instance
            # (dateutil would drop an unsynchronised one).
            rules.rdate(start)
            exdates = event.get("EXDATE", [])
            for group in exdates if isinstance(exdates, list) else [exdates]:
                for item in group.dts:
                    tzid = group.params.get("TZID")
                    rules.exdate(item.dt.replace(tzinfo=zones[tzid]) if tzid else item.dt)
            instances = list(rules)
        result[str(event["UID"])] = [(s.astimezone(UTC), s.astimezone(UTC) + duration) for s in instances]
    return result


def series(rule, local_start, tz, hours=1.5, exdates=(), cancelled=(), **extra):
    start = from_local(local_start, tz)
    booking = {
        "id": 42,
        "title": "Choir practice",
        "location": "Community hall",
        "status": "confirmed",
        "timezone": tz,
        "starts_at": start,
        "ends_at": start + timedelta(hours=hours),
        "rrule": rule,
        "exdates": list(exdates),
        "cancelled_occurrences": list(cancelled),
        "booked_by": "Wang Fang",
    }
    booking.update(extra)
    return booking


CASES = [
    # id, rule, local start, tz, exdates, cancelled (UTC)
    ("daily", "FREQ=DAILY;COUNT=10", datetime(2026, 3, 2, 9), "Asia/Shanghai", [], []),
    ("interval-2", "FREQ=DAILY;INTERVAL=2;COUNT=8", datetime(2026, 3, 2, 18, 30), "Asia/Shanghai", [], []),
    (
        "weekly-multi",
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=12",
        datetime(2026, 3, 2, 19),
        "Asia/Shanghai",
        [],
        [],
    ),
    (
        "weekly-interval-unsynced-start",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;COUNT=6",
        datetime(2026, 3, 4, 10),
        "Europe/Berlin",
        [],
        [],
    ),
    (
        "monthly-bymonthday",
        "FREQ=MONTHLY;BYMONTHDAY=31,15;COUNT=10",
        datetime(2026, 1, 1, 9),
        "Europe/Berlin",
        [],
        [],
    ),
    ("monthly-2TU", "FREQ=MONTHLY;BYDAY=2TU;COUNT=12", datetime(2026, 1, 1, 19, 30), "Europe/Berlin", [], []),
    (
        "monthly--1FR",
        "FREQ=MONTHLY;BYDAY=-1FR;COUNT=12",
        datetime(2026, 1, 1, 17),
        "America/New_York",
        [],
        [],
    ),
    ("count", "FREQ=WEEKLY;BYDAY=TU;COUNT=3", datetime(2026, 3, 3, 9), "Asia/Shanghai", [], []),
    (
        "until-date",
        "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20260430",
        datetime(2026, 3, 3, 23, 30),
        "Asia/Shanghai",
        [],
        [],
    ),
    ("until-utc", "FREQ=DAILY;UNTIL=20260310T010000Z", datetime(2026, 3, 2, 9), "Asia/Shanghai", [], []),
    (
        "exdate",
        "FREQ=DAILY;COUNT=10",
        datetime(2026, 3, 2, 9),
        "Asia/Shanghai",
        [date(2026, 3, 4), datetime(2026, 3, 6, 9)],
        [utc(2026, 3, 8, 1)],
    ),
    (
        "dst-berlin-spring",
        "FREQ=WEEKLY;BYDAY=SA,SU;COUNT=8",
        datetime(2026, 3, 21, 9),
        "Europe/Berlin",
        [],
        [],
    ),
    ("dst-berlin-autumn", "FREQ=DAILY;UNTIL=20261030", datetime(2026, 10, 20, 8), "Europe/Berlin", [], []),
    ("dst-ny-spring", "FREQ=WEEKLY;BYDAY=SU;COUNT=5", datetime(2026, 2, 22, 10), "America/New_York", [], []),
    (
        "dst-ny-gap-excluded",
        "FREQ=WEEKLY;BYDAY=SU;COUNT=4",
        datetime(2026, 3, 1, 2, 30),
        "America/New_York",
        [date(2026, 3, 8)],
        [],
    ),
    ("dst-ny-fold", "FREQ=DAILY;COUNT=4", datetime(2026, 10, 30, 1, 30), "America/New_York", [], []),
    (
        "shanghai-monthly",
        "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1;UNTIL=20271231",
        datetime(2026, 1, 1, 8),
        "Asia/Shanghai",
        [],
        [],
    ),
    (
        "rrule-prefix-and-case",
        "rrule:freq=monthly;byday=1mo,3mo;count=6",
        datetime(2026, 1, 1, 14),
        "Europe/Berlin",
        [],
        [],
    ),
]


@pytest.mark.parametrize(
    "rule, local_start, tz, exdates, cancelled", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_exported_series_expands_to_exactly_the_same_instants(rule, local_start, tz, exdates, cancelled):
    booking = series(rule, local_start, tz, exdates=exdates, cancelled=cancelled)
    ics = build_calendar([booking], "Community hall", dtstamp=STAMP)

    expected = expand(parse_rule(rule), local_start, timedelta(hours=1.5), tz, exdates=exdates + cancelled)
    assert expected, "test case must produce occurrences"
    assert read_back(ics) == {"booking-42@nuanxin": expected}


def test_series_is_one_vevent_with_tzid_rrule_and_exdates():
    booking = series(
        "FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260415",
        datetime(2026, 3, 2, 9),
        "Europe/Berlin",
        exdates=[date(2026, 3, 4)],
        cancelled=[utc(2026, 3, 30, 7)],
    )
    cal = icalendar.Calendar.from_ical(build_calendar([booking], "Hall", dtstamp=STAMP))
    (event,) = cal.walk("VEVENT")
    text = event.to_ical().decode().replace("\r\n ", "")
    assert "DTSTART;TZID=Europe/Berlin:20260302T090000" in text
    assert "DTEND;TZID=Europe/Berlin:20260302T103000" in text
    # A date UNTIL becomes the UTC end of that local day, as RFC 5545 requires.
    assert "UNTIL=20260415T215959Z" in text
    assert "EXDATE;TZID=Europe/Berlin:20260304T090000,20260330T090000" in text
    assert event["UID"] == "booking-42@nuanxin"
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == "Choir practice"
    assert event["LOCATION"] == "Community hall"
    assert "Wang Fang" in event["DESCRIPTION"]
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_unsynchronised_start_exports_first_real_occurrence():
    # Tuesday start, Monday rule: a reader would otherwise add the Tuesday.
    booking = series("FREQ=WEEKLY;BYDAY=MO;COUNT=2", datetime(2026, 3, 3, 9), "Asia/Shanghai")
    event = booking_to_vevent(booking, dtstamp=STAMP)
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 3, 9, 9)


def test_single_booking_is_a_plain_vevent():
    booking = {
        "id": 7,
        "title": "Tutoring",
        "location": "Room 2",
        "status": "pending",
        "timezone": "Asia/Shanghai",
        "starts_at": utc(2026, 3, 2, 6),
        "ends_at": utc(2026, 3, 2, 8),
    }
    ics = build_calendar([booking], "Room 2", dtstamp=STAMP)
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert "RRULE" not in event and "EXDATE" not in event
    assert event["STATUS"] == "TENTATIVE"
    assert event["UID"] == uid_for(7) == "booking-7@nuanxin"
    assert "DTSTART;TZID=Asia/Shanghai:20260302T140000" in event.to_ical().decode()
    assert read_back(ics) == {"booking-7@nuanxin": [(utc(2026, 3, 2, 6), utc(2026, 3, 2, 8))]}


def test_single_booking_in_second_half_of_fold_is_written_in_utc():
    # 06:30Z is the SECOND 01:30 in New York on 2026-11-01; a TZID time would mean the first.
    booking = {
        "id": 9,
        "timezone": "America/New_York",
        "starts_at": utc(2026, 11, 1, 6, 30),
        "ends_at": utc(2026, 11, 1, 7, 30),
        "status": "confirmed",
    }
    assert to_local(booking["starts_at"], "America/New_York") == datetime(2026, 11, 1, 1, 30)
    ics = build_calendar([booking], "x", dtstamp=STAMP)
    assert "DTSTART:20261101T063000Z" in ics.decode()
    assert read_back(ics) == {"booking-9@nuanxin": [(utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7, 30))]}


@pytest.mark.parametrize(
    "status, expected",
    [
        ("confirmed", "CONFIRMED"),
        ("pending", "TENTATIVE"),
        ("cancelled", "CANCELLED"),
        ("rejected", "CANCELLED"),
        (None, "CONFIRMED"),
    ],
)
def test_status_mapping(status, expected):
    booking = series("FREQ=DAILY;COUNT=2", datetime(2026, 3, 2, 9), "Asia/Shanghai", status=status)
    assert booking_to_vevent(booking, dtstamp=STAMP)["STATUS"] == expected


def test_unknown_status_is_rejected():
    booking = series("FREQ=DAILY;COUNT=2", datetime(2026, 3, 2, 9), "Asia/Shanghai", status="maybe")
    with pytest.raises(ValueError):
        booking_to_vevent(booking, dtstamp=STAMP)


@pytest.mark.parametrize("per_booking", [True, False])
def test_busy_only_hides_names_and_purpose(per_booking):
    booking = series(
        "FREQ=DAILY;COUNT=2",
        datetime(2026, 3, 2, 9),
        "Asia/Shanghai",
        description="Private counselling for Zhang San",
        busy_only=per_booking,
    )
    ics = build_calendar([booking], "Hall", busy_only=not per_booking, dtstamp=STAMP)
    text = ics.decode()
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert event["SUMMARY"] == "Busy"
    assert "DESCRIPTION" not in event
    for secret in ("Wang Fang", "Zhang San", "Choir", "counselling"):
        assert secret not in text
    # Still exact busy times.
    assert len(read_back(ics)["booking-42@nuanxin"]) == 2


def test_calendar_header_and_multiple_zones():
    a = series("FREQ=DAILY;COUNT=2", datetime(2026, 3, 2, 9), "Asia/Shanghai")
    b = dict(series("FREQ=DAILY;COUNT=2", datetime(2026, 3, 2, 9), "Europe/Berlin"), id=43)
    cal = icalendar.Calendar.from_ical(build_calendar([a, b], "All spaces", dtstamp=STAMP))
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"] == "-//Nuanxin//Bookings//EN"
    assert cal["X-WR-CALNAME"] == "All spaces"
    assert sorted(tz["TZID"] for tz in cal.walk("VTIMEZONE")) == ["Asia/Shanghai", "Europe/Berlin"]
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == ["booking-42@nuanxin", "booking-43@nuanxin"]


def test_empty_calendar():
    cal = icalendar.Calendar.from_ical(build_calendar([], "Nothing"))
    assert cal.walk("VEVENT") == []


def test_uid_is_stable_across_exports():
    booking = series("FREQ=DAILY;COUNT=2", datetime(2026, 3, 2, 9), "Asia/Shanghai")
    first = build_calendar([booking], "x", dtstamp=STAMP)
    second = build_calendar([booking], "x", dtstamp=STAMP)
    assert first == second

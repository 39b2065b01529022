from datetime import UTC, date, datetime, timedelta

import pytest

from services.bookings.rules import RuleViolation
from shared import recurrence
from shared.recurrence import (
    Rule,
    expand,
    first_instance,
    from_local,
    local_instances,
    parse_rule,
    to_local,
    validate_timezone,
)

H1 = timedelta(hours=1)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def local_dates(rule_text, start, tz="Asia/Shanghai", **kw):
    """Local wall-clock starts of an expansion, for readable expectations."""
    return [to_local(s, tz) for s, _ in expand(parse_rule(rule_text), start, H1, tz, **kw)]


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("FREQ=DAILY;COUNT=3", Rule("DAILY", count=3)),
        ("RRULE:FREQ=DAILY;COUNT=3", Rule("DAILY", count=3)),
        ("rrule:freq=daily;count=3;", Rule("DAILY", count=3)),
        ("FREQ=DAILY;INTERVAL=2;COUNT=5", Rule("DAILY", interval=2, count=5)),
        (
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6",
            Rule("WEEKLY", byday=((None, 0), (None, 2), (None, 4)), count=6),
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=1,-1;COUNT=4", Rule("MONTHLY", bymonthday=(1, -1), count=4)),
        ("FREQ=MONTHLY;BYDAY=2TU;COUNT=4", Rule("MONTHLY", byday=((2, 1),), count=4)),
        ("FREQ=MONTHLY;BYDAY=-1FR;COUNT=4", Rule("MONTHLY", byday=((-1, 4),), count=4)),
        ("FREQ=MONTHLY;BYDAY=+1MO;COUNT=4", Rule("MONTHLY", byday=((1, 0),), count=4)),
        ("FREQ=WEEKLY;UNTIL=20260630", Rule("WEEKLY", until=date(2026, 6, 30))),
        ("FREQ=WEEKLY;UNTIL=20260630T120000Z", Rule("WEEKLY", until=utc(2026, 6, 30, 12))),
        ("  FREQ = DAILY ; COUNT = 2 ", Rule("DAILY", count=2)),
    ],
)
def test_parse_rule_subset(text, expected):
    assert parse_rule(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=DAILY;COUNT=3",
        "FREQ=DAILY;INTERVAL=2;COUNT=5",
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20260630",
        "FREQ=MONTHLY;BYDAY=2TU,-1FR;UNTIL=20260630T155959Z",
        "FREQ=MONTHLY;BYMONTHDAY=15,-1;COUNT=12",
    ],
)
def test_to_text_round_trips(text):
    rule = parse_rule(text)
    assert str(rule) == text
    assert parse_rule(str(rule)) == rule


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("FREQ=YEARLY;COUNT=2", "FREQ=YEARLY not supported"),
        ("FREQ=HOURLY;COUNT=2", "FREQ=HOURLY not supported"),
        ("FREQ=MINUTELY;COUNT=2", "not supported"),
        ("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2;COUNT=2", "BYSETPOS not supported"),
        ("FREQ=DAILY;BYHOUR=9,17;COUNT=2", "BYHOUR not supported"),
        ("FREQ=WEEKLY;WKST=SU;COUNT=2", "WKST not supported"),
        ("FREQ=MONTHLY;BYMONTH=1;COUNT=2", "BYMONTH not supported"),
        ("FREQ=DAILY;BYMINUTE=0;COUNT=2", "BYMINUTE not supported"),
        ("FREQ=DAILY;BYYEARDAY=1;COUNT=2", "BYYEARDAY not supported"),
        ("FREQ=DAILY;X-FOO=1;COUNT=2", "not supported"),
        ("COUNT=2", "FREQ is required"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20260101", "COUNT and UNTIL"),
        ("FREQ=DAILY;COUNT=0", "COUNT=0"),
        ("FREQ=DAILY;COUNT=-1", "COUNT=-1"),
        ("FREQ=DAILY;COUNT=x", "COUNT=X"),
        ("FREQ=DAILY;INTERVAL=0;COUNT=2", "INTERVAL=0"),
        ("FREQ=DAILY;INTERVAL=1.5;COUNT=2", "INTERVAL"),
        ("FREQ=WEEKLY;BYDAY=2TU;COUNT=2", "only supported with FREQ=MONTHLY"),
        ("FREQ=DAILY;BYDAY=-1FR;COUNT=2", "only supported with FREQ=MONTHLY"),
        ("FREQ=MONTHLY;BYDAY=6TU;COUNT=2", "ordinal"),
        ("FREQ=MONTHLY;BYDAY=0TU;COUNT=2", "ordinal"),
        ("FREQ=MONTHLY;BYDAY=TUE;COUNT=2", "BYDAY value"),
        ("FREQ=MONTHLY;BYDAY=-TU;COUNT=2", "BYDAY value"),
        ("FREQ=WEEKLY;BYDAY=MO,MO;COUNT=2", "twice"),
        ("FREQ=WEEKLY;BYMONTHDAY=1;COUNT=2", "BYMONTHDAY is only supported with FREQ=MONTHLY"),
        ("FREQ=MONTHLY;BYMONTHDAY=32;COUNT=2", "BYMONTHDAY=32"),
        ("FREQ=MONTHLY;BYMONTHDAY=0;COUNT=2", "BYMONTHDAY=0"),
        ("FREQ=DAILY;UNTIL=20260230", "not a valid date"),
        ("FREQ=DAILY;UNTIL=20260101T090000", "must be in UTC"),
        ("FREQ=DAILY;UNTIL=2026-01-01", "YYYYMMDD"),
        ("FREQ=DAILY;FREQ=WEEKLY;COUNT=2", "given twice"),
        ("FREQ=DAILY;COUNT", "malformed"),
        ("", "empty"),
        ("   ", "empty"),
        ("RRULE:", "FREQ is required"),
    ],
)
def test_parse_rule_rejects(text, fragment):
    with pytest.raises(RuleViolation) as info:
        parse_rule(text)
    assert info.value.field == "rrule"
    assert fragment in info.value.message


def test_parse_rule_rejects_non_string():
    with pytest.raises(RuleViolation):
        parse_rule(None)


# ------------------------------------------------------------------ timezones


@pytest.mark.parametrize("name", ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"])
def test_validate_timezone_accepts_iana_names(name):
    assert validate_timezone(name).key == name


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "asia/shanghai ", "../../etc/passwd", "/etc/localtime", None]
)
def test_validate_timezone_rejects(name):
    with pytest.raises(RuleViolation) as info:
        validate_timezone(name)
    assert info.value.field == "timezone"


def test_to_local_and_from_local_round_trip():
    assert to_local(utc(2026, 1, 1, 1), "Asia/Shanghai") == datetime(2026, 1, 1, 9)
    assert from_local(datetime(2026, 1, 1, 9), "Asia/Shanghai") == utc(2026, 1, 1, 1)
    assert from_local(datetime(2026, 7, 1, 9), "Europe/Berlin") == utc(2026, 7, 1, 7)


def test_from_local_rejects_time_in_dst_gap():
    with pytest.raises(RuleViolation) as info:
        from_local(datetime(2026, 3, 8, 2, 30), "America/New_York")
    assert info.value.field == "starts_at"
    assert "does not exist" in info.value.message


def test_from_local_ambiguous_time_picks_first_instant():
    # 01:30 happens twice on 2026-11-01 in New York: EDT (05:30Z) then EST (06:30Z).
    assert from_local(datetime(2026, 11, 1, 1, 30), "America/New_York") == utc(2026, 11, 1, 5, 30)


def test_to_local_from_local_reject_wrong_kind():
    with pytest.raises(ValueError):
        to_local(datetime(2026, 1, 1), "UTC")
    with pytest.raises(ValueError):
        from_local(utc(2026, 1, 1), "UTC")


# ------------------------------------------------------------------ expansion shapes
# Expected dates are written out by hand (checked against a printed calendar),
# so these tests do not just compare dateutil with itself.


def test_daily():
    assert local_dates("FREQ=DAILY;COUNT=3", datetime(2026, 1, 30, 9)) == [
        datetime(2026, 1, 30, 9),
        datetime(2026, 1, 31, 9),
        datetime(2026, 2, 1, 9),
    ]


def test_daily_interval_2():
    assert local_dates("FREQ=DAILY;INTERVAL=2;COUNT=4", datetime(2026, 2, 25, 18)) == [
        datetime(2026, 2, 25, 18),
        datetime(2026, 2, 27, 18),
        datetime(2026, 3, 1, 18),
        datetime(2026, 3, 3, 18),
    ]


def test_weekly_multiple_days():
    # 2026-03-02 is a Monday.
    assert local_dates("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=5", datetime(2026, 3, 2, 19)) == [
        datetime(2026, 3, 2, 19),
        datetime(2026, 3, 4, 19),
        datetime(2026, 3, 6, 19),
        datetime(2026, 3, 9, 19),
        datetime(2026, 3, 11, 19),
    ]


def test_weekly_interval_2_weeks_start_on_monday():
    # Start on a Wednesday: Friday of the same week counts, then every other week.
    assert local_dates("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;COUNT=4", datetime(2026, 3, 4, 10)) == [
        datetime(2026, 3, 6, 10),
        datetime(2026, 3, 16, 10),
        datetime(2026, 3, 20, 10),
        datetime(2026, 3, 30, 10),
    ]


def test_monthly_bymonthday_skips_short_months():
    assert local_dates("FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4", datetime(2026, 1, 31, 9)) == [
        datetime(2026, 1, 31, 9),
        datetime(2026, 3, 31, 9),
        datetime(2026, 5, 31, 9),
        datetime(2026, 7, 31, 9),
    ]


def test_monthly_last_day_of_month():
    assert local_dates("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3", datetime(2026, 1, 1, 9)) == [
        datetime(2026, 1, 31, 9),
        datetime(2026, 2, 28, 9),
        datetime(2026, 3, 31, 9),
    ]


def test_monthly_second_tuesday():
    assert local_dates("FREQ=MONTHLY;BYDAY=2TU;COUNT=4", datetime(2026, 1, 1, 19, 30)) == [
        datetime(2026, 1, 13, 19, 30),
        datetime(2026, 2, 10, 19, 30),
        datetime(2026, 3, 10, 19, 30),
        datetime(2026, 4, 14, 19, 30),
    ]


def test_monthly_last_friday():
    assert local_dates("FREQ=MONTHLY;BYDAY=-1FR;COUNT=4", datetime(2026, 1, 1, 17)) == [
        datetime(2026, 1, 30, 17),
        datetime(2026, 2, 27, 17),
        datetime(2026, 3, 27, 17),
        datetime(2026, 4, 24, 17),
    ]


def test_monthly_interval_and_fifth_weekday_skips_months_without_one():
    # Every 5th Thursday: Jan, Apr, Jul, Oct 2026 have one.
    assert local_dates("FREQ=MONTHLY;BYDAY=5TH;COUNT=4", datetime(2026, 1, 1, 9)) == [
        datetime(2026, 1, 29, 9),
        datetime(2026, 4, 30, 9),
        datetime(2026, 7, 30, 9),
        datetime(2026, 10, 29, 9),
    ]


def test_monthly_byday_and_bymonthday_intersect():
    # Friday the 13th.
    assert local_dates("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;COUNT=3", datetime(2026, 1, 1, 20)) == [
        datetime(2026, 2, 13, 20),
        datetime(2026, 3, 13, 20),
        datetime(2026, 11, 13, 20),
    ]


def test_start_not_matching_rule_is_not_an_occurrence():
    # 2026-03-03 is a Tuesday, the rule wants Mondays.
    rule = parse_rule("FREQ=WEEKLY;BYDAY=MO;COUNT=2")
    assert first_instance(rule, datetime(2026, 3, 3, 9), "UTC") == datetime(2026, 3, 9, 9)
    assert local_dates("FREQ=WEEKLY;BYDAY=MO;COUNT=2", datetime(2026, 3, 3, 9)) == [
        datetime(2026, 3, 9, 9),
        datetime(2026, 3, 16, 9),
    ]


def test_returns_utc_pairs_with_duration():
    rule = parse_rule("FREQ=DAILY;COUNT=2")
    assert expand(rule, datetime(2026, 1, 1, 9), timedelta(minutes=90), "Asia/Shanghai") == [
        (utc(2026, 1, 1, 1), utc(2026, 1, 1, 2, 30)),
        (utc(2026, 1, 2, 1), utc(2026, 1, 2, 2, 30)),
    ]
    for start, end in expand(rule, datetime(2026, 1, 1, 9), H1, "Asia/Shanghai"):
        assert start.tzinfo is UTC and end.tzinfo is UTC


# ------------------------------------------------------------------ COUNT / UNTIL


def test_count_limits_occurrences():
    assert len(local_dates("FREQ=DAILY;COUNT=7", datetime(2026, 1, 1, 9))) == 7


def test_until_date_is_inclusive_for_the_whole_local_day():
    assert local_dates("FREQ=DAILY;UNTIL=20260103", datetime(2026, 1, 1, 23, 30)) == [
        datetime(2026, 1, 1, 23, 30),
        datetime(2026, 1, 2, 23, 30),
        datetime(2026, 1, 3, 23, 30),
    ]


def test_until_date_is_a_local_date_not_utc():
    # 07:00 Shanghai on Jan 3 is Jan 2 23:00 UTC; still on the local UNTIL date.
    dates = local_dates("FREQ=DAILY;UNTIL=20260103", datetime(2026, 1, 1, 7), "Asia/Shanghai")
    assert dates[-1] == datetime(2026, 1, 3, 7)


def test_until_datetime_is_inclusive_at_the_exact_instant():
    # 09:00 Shanghai = 01:00Z.
    rule = "FREQ=DAILY;UNTIL=20260103T010000Z"
    assert local_dates(rule, datetime(2026, 1, 1, 9))[-1] == datetime(2026, 1, 3, 9)
    rule = "FREQ=DAILY;UNTIL=20260103T005959Z"
    assert local_dates(rule, datetime(2026, 1, 1, 9))[-1] == datetime(2026, 1, 2, 9)


def test_until_before_start_yields_nothing():
    assert local_dates("FREQ=DAILY;UNTIL=20251231", datetime(2026, 1, 1, 9)) == []
    with pytest.raises(RuleViolation):
        first_instance(parse_rule("FREQ=DAILY;UNTIL=20251231"), datetime(2026, 1, 1, 9), "UTC")


# ------------------------------------------------------------------ EXDATE


def test_exdate_by_local_date():
    dates = local_dates("FREQ=DAILY;COUNT=4", datetime(2026, 1, 1, 9), exdates=[date(2026, 1, 2)])
    assert [d.day for d in dates] == [1, 3, 4]


def test_exdate_by_exact_local_datetime():
    rule = "FREQ=DAILY;COUNT=3"
    assert [d.day for d in local_dates(rule, datetime(2026, 1, 1, 9), exdates=[datetime(2026, 1, 2, 9)])] == [
        1,
        3,
    ]
    # A different time on that day does not match.
    assert len(local_dates(rule, datetime(2026, 1, 1, 9), exdates=[datetime(2026, 1, 2, 10)])) == 3


def test_exdate_by_utc_instant_of_a_cancelled_occurrence():
    dates = local_dates("FREQ=DAILY;COUNT=3", datetime(2026, 1, 1, 9), exdates=[utc(2026, 1, 2, 1)])
    assert [d.day for d in dates] == [1, 3]


def test_exdate_does_not_change_count_semantics():
    # COUNT counts generated instances; EXDATE removes from them (RFC 5545).
    dates = local_dates("FREQ=DAILY;COUNT=3", datetime(2026, 1, 1, 9), exdates=[date(2026, 1, 1)])
    assert [d.day for d in dates] == [2, 3]


def test_exdate_of_wrong_type_is_a_programming_error():
    with pytest.raises(TypeError):
        expand(parse_rule("FREQ=DAILY;COUNT=2"), datetime(2026, 1, 1, 9), H1, "UTC", exdates=["2026-01-01"])


# ------------------------------------------------------------------ DST


def test_weekly_stays_at_wall_clock_across_dst_in_berlin():
    rule = parse_rule("FREQ=WEEKLY;BYDAY=TH;COUNT=3")
    # DST starts in Berlin on 2026-03-29: 09:00 CET = 08:00Z, 09:00 CEST = 07:00Z.
    assert [s for s, _ in expand(rule, datetime(2026, 3, 19, 9), H1, "Europe/Berlin")] == [
        utc(2026, 3, 19, 8),
        utc(2026, 3, 26, 8),
        utc(2026, 4, 2, 7),
    ]


def test_duration_is_elapsed_time_across_a_transition():
    rule = parse_rule("FREQ=DAILY;COUNT=1")
    # 01:00-05:00 local on the spring-forward night is 3 wall-clock hours but 4 real ones.
    ((start, end),) = expand(rule, datetime(2026, 3, 29, 1), timedelta(hours=4), "Europe/Berlin")
    assert end - start == timedelta(hours=4)
    assert to_local(end, "Europe/Berlin") == datetime(2026, 3, 29, 6)


def test_dst_gap_raises_with_starts_at():
    rule = parse_rule("FREQ=WEEKLY;BYDAY=SU;COUNT=3")
    with pytest.raises(RuleViolation) as info:
        expand(rule, datetime(2026, 3, 1, 2, 30), H1, "America/New_York")
    assert info.value.field == "starts_at"
    assert "2026-03-08 02:30 does not exist in America/New_York" in info.value.message


def test_dst_gap_occurrence_can_be_excluded():
    rule = parse_rule("FREQ=WEEKLY;BYDAY=SU;COUNT=3")
    result = expand(rule, datetime(2026, 3, 1, 2, 30), H1, "America/New_York", exdates=[date(2026, 3, 8)])
    assert [s for s, _ in result] == [utc(2026, 3, 1, 7, 30), utc(2026, 3, 15, 6, 30)]


def test_dst_fold_picks_first_instant():
    rule = parse_rule("FREQ=DAILY;COUNT=3")
    starts = [s for s, _ in expand(rule, datetime(2026, 10, 31, 1, 30), H1, "America/New_York")]
    # 2026-11-01 01:30 is ambiguous; fold=0 = EDT = 05:30Z (not 06:30Z).
    assert starts == [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_shanghai_has_no_dst():
    rule = parse_rule("FREQ=MONTHLY;BYMONTHDAY=1;COUNT=12")
    starts = [s for s, _ in expand(rule, datetime(2026, 1, 1, 8), H1, "Asia/Shanghai")]
    assert {s.hour for s in starts} == {0}


# ------------------------------------------------------------------ limits


def test_count_above_max_occurrences():
    with pytest.raises(RuleViolation) as info:
        expand(parse_rule("FREQ=DAILY;COUNT=501"), datetime(2026, 1, 1, 9), H1, "UTC")
    assert info.value.field == "rrule"
    assert "more than 500 occurrences" in info.value.message


def test_exactly_max_occurrences_is_fine():
    assert len(expand(parse_rule("FREQ=DAILY;COUNT=500"), datetime(2026, 1, 1, 9), H1, "UTC")) == 500


def test_until_producing_too_many():
    with pytest.raises(RuleViolation) as info:
        expand(parse_rule("FREQ=DAILY;UNTIL=20300101"), datetime(2026, 1, 1, 9), H1, "UTC")
    assert "more than 500 occurrences" in info.value.message


def test_custom_max_occurrences():
    rule = parse_rule("FREQ=WEEKLY;COUNT=11")
    with pytest.raises(RuleViolation, match="more than 10 occurrences"):
        expand(rule, datetime(2026, 1, 1, 9), H1, "UTC", max_occurrences=10)
    rule = parse_rule("FREQ=WEEKLY;UNTIL=20270101")
    with pytest.raises(RuleViolation, match="more than 10 occurrences"):
        expand(rule, datetime(2026, 1, 1, 9), H1, "UTC", max_occurrences=10)


def test_unbounded_rule_is_rejected():
    with pytest.raises(RuleViolation) as info:
        expand(parse_rule("FREQ=WEEKLY"), datetime(2026, 1, 1, 9), H1, "UTC")
    assert info.value.field == "rrule"
    assert "more than 500 occurrences" in info.value.message


def test_until_beyond_horizon_is_rejected():
    with pytest.raises(RuleViolation, match="years after the start"):
        expand(
            parse_rule("FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR;UNTIL=22000101"), datetime(2026, 1, 1), H1, "UTC"
        )


def test_rule_that_never_matches_is_rejected():
    # The first Monday of a month is never on the 8th.
    with pytest.raises(RuleViolation, match="COUNT=2 is not reached"):
        expand(parse_rule("FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=8;COUNT=2"), datetime(2026, 1, 1), H1, "UTC")


def test_max_occurrences_counts_before_exdates():
    rule = parse_rule("FREQ=DAILY;COUNT=11")
    with pytest.raises(RuleViolation):
        expand(rule, datetime(2026, 1, 1, 9), H1, "UTC", exdates=[date(2026, 1, 1)], max_occurrences=10)


def test_local_instances_are_naive_wall_clock():
    rule = parse_rule("FREQ=DAILY;COUNT=2")
    assert local_instances(rule, datetime(2026, 3, 28, 9), "Europe/Berlin") == [
        datetime(2026, 3, 28, 9),
        datetime(2026, 3, 29, 9),
    ]


# ------------------------------------------------------------------ argument checks


def test_non_positive_duration():
    with pytest.raises(RuleViolation) as info:
        expand(parse_rule("FREQ=DAILY;COUNT=2"), datetime(2026, 1, 1, 9), timedelta(0), "UTC")
    assert info.value.field == "ends_at"


def test_unknown_timezone_in_expand():
    with pytest.raises(RuleViolation) as info:
        expand(parse_rule("FREQ=DAILY;COUNT=2"), datetime(2026, 1, 1, 9), H1, "Nowhere/City")
    assert info.value.field == "timezone"


def test_aware_local_start_is_a_programming_error():
    with pytest.raises(ValueError):
        expand(parse_rule("FREQ=DAILY;COUNT=2"), utc(2026, 1, 1, 9), H1, "UTC")


def test_sub_second_start_is_rejected():
    with pytest.raises(RuleViolation) as info:
        expand(parse_rule("FREQ=DAILY;COUNT=2"), datetime(2026, 1, 1, 9, 0, 0, 5), H1, "UTC")
    assert info.value.field == "starts_at"


def test_rule_violation_is_reexported():
    assert recurrence.RuleViolation is RuleViolation


def test_to_ical_text_turns_date_until_into_utc_end_of_local_day():
    rule = parse_rule("FREQ=DAILY;UNTIL=20260103")
    assert rule.to_ical_text("Asia/Shanghai") == "FREQ=DAILY;UNTIL=20260103T155959Z"
    assert rule.to_ical_text("Europe/Berlin") == "FREQ=DAILY;UNTIL=20260103T225959Z"
    other = parse_rule("FREQ=DAILY;COUNT=2")
    assert other.to_ical_text("Europe/Berlin") == "FREQ=DAILY;COUNT=2"

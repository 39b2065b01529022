from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, time, timedelta

import pytest

from services.bookings.rules import (
    Blackout,
    OpeningHours,
    RuleViolation,
    SpacePolicy,
    WeeklyHours,
    check_in_window,
    check_request,
    may_book,
    release_deadline,
    validate_timezone,
)

SH = "Asia/Shanghai"  # UTC+8, no DST


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def sh(*args):
    """A Shanghai wall-clock time as UTC."""
    return datetime(*args).replace(tzinfo=UTC) - timedelta(hours=8)


WEEKDAYS_9_21 = OpeningHours.parse({day: [["09:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri")})
# 2026-03-02 is a Monday; "now" is the Sunday before, noon in Shanghai.
NOW = sh(2026, 3, 1, 12)


def policy(**overrides):
    base = dict(
        timezone=SH,
        opening_hours=WEEKDAYS_9_21,
        min_duration=timedelta(minutes=30),
        max_duration=timedelta(hours=4),
        max_advance=timedelta(days=30),
        min_notice=timedelta(hours=2),
    )
    base.update(overrides)
    return SpacePolicy(**base)


def violation(pol, occurrences, now=NOW, blackouts=(), existing=()):
    with pytest.raises(RuleViolation) as info:
        check_request(pol, occurrences, now, blackouts, existing)
    return info.value


# ------------------------------------------------------------------ opening hours


def test_parse_and_to_json_round_trip():
    data = {"mon": [["09:00", "12:00"], ["14:00", "21:00"]], "sat": [["10:00", "24:00"]]}
    hours = OpeningHours.parse(data)
    assert hours.for_weekday(0) == ((time(9), time(12)), (time(14), time(21)))
    assert hours.for_weekday(5) == ((time(10), time(0)),)
    assert hours.for_weekday(6) == ()
    assert hours.to_json() == data
    assert OpeningHours.parse(hours.to_json()) == hours


def test_parse_sorts_windows_and_accepts_any_case():
    hours = OpeningHours.parse({"Tue": [["14:00", "18:00"], ["08:00", "12:00"]]})
    assert hours.to_json() == {"tue": [["08:00", "12:00"], ["14:00", "18:00"]]}


def test_weekly_hours_alias_and_from_mapping():
    assert WeeklyHours is OpeningHours
    hours = WeeklyHours.from_mapping({1: [(time(9), time(21))]})
    assert hours.describe(1) == "Tue 09:00-21:00"
    assert hours.describe(2) == "closed on Wed"


def test_always_open():
    hours = OpeningHours.always()
    assert hours.to_json()["sun"] == [["00:00", "24:00"]]
    assert hours.contains(datetime(2026, 3, 1, 0), datetime(2026, 3, 2, 0))


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"mon": [["21:00", "09:00"]]}, "closes before it opens"),
        ({"mon": [["09:00", "09:00"]]}, "closes before it opens"),
        ({"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}, "overlap"),
        ({"funday": [["09:00", "10:00"]]}, "unknown weekday"),
        ({"mon": [["9:00", "10:00"]]}, "invalid time"),
        ({"mon": [["09:00", "25:00"]]}, "invalid time"),
        ({"mon": [["24:00", "24:00"]]}, "invalid time"),
        ({"mon": [["09:00"]]}, "window must be"),
        ({"mon": ["09:00-10:00"]}, "window must be"),
        ({"mon": [[9, 10]]}, "HH:MM"),
        ([["09:00", "10:00"]], "keyed by weekday"),
    ],
)
def test_parse_rejects(data, fragment):
    with pytest.raises(RuleViolation) as info:
        OpeningHours.parse(data)
    assert info.value.field == "opening_hours"
    assert fragment in info.value.message


def test_touching_windows_are_allowed_but_do_not_combine():
    hours = OpeningHours.parse({"mon": [["09:00", "12:00"], ["12:00", "18:00"]]})
    assert hours.contains(datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 12))
    assert not hours.contains(datetime(2026, 3, 2, 11), datetime(2026, 3, 2, 13))


def test_opening_hours_are_frozen_and_hashable():
    with pytest.raises(FrozenInstanceError):
        WEEKDAYS_9_21.windows = ()
    assert hash(WEEKDAYS_9_21) == hash(OpeningHours.parse(WEEKDAYS_9_21.to_json()))


# ------------------------------------------------------------------ policy


def test_policy_defaults():
    pol = SpacePolicy()
    assert pol.timezone == "Asia/Shanghai"
    assert pol.opening_hours is None
    assert pol.allowed_roles == frozenset()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"timezone": "Nowhere/Land"}, "timezone"),
        ({"min_duration": timedelta(0)}, "min_duration"),
        ({"min_duration": timedelta(hours=2), "max_duration": timedelta(hours=1)}, "max_duration"),
        ({"buffer": timedelta(minutes=-5)}, "buffer"),
        ({"min_notice": timedelta(minutes=-5)}, "min_notice"),
        ({"max_advance": timedelta(days=-1)}, "max_advance"),
        ({"quota_hours_per_week": -1.0}, "quota"),
        ({"quota_bookings_per_week": -1}, "quota"),
        ({"auto_release_minutes": 0}, "auto_release_minutes"),
    ],
)
def test_policy_validation(overrides, field):
    with pytest.raises(RuleViolation) as info:
        SpacePolicy(**overrides)
    assert info.value.field == field


def test_policy_roles_become_frozensets():
    pol = SpacePolicy(allowed_roles={"coordinator"}, allowed_team_ids=[3])
    assert pol.allowed_roles == frozenset({"coordinator"})
    assert pol.allowed_team_ids == frozenset({3})
    hash(pol)


# ------------------------------------------------------------------ may_book


@pytest.mark.parametrize(
    "roles_allowed, teams_allowed, roles, teams, expected",
    [
        ((), (), set(), set(), True),
        ({"coordinator"}, (), {"coordinator", "member"}, set(), True),
        ({"coordinator"}, (), {"member"}, set(), False),
        ((), {7}, set(), {7, 8}, True),
        ((), {7}, {"coordinator"}, {8}, False),
        ({"coordinator"}, {7}, {"member"}, {7}, True),
        ({"coordinator"}, {7}, {"coordinator"}, set(), True),
        ({"coordinator"}, {7}, {"member"}, {1}, False),
    ],
)
def test_may_book(roles_allowed, teams_allowed, roles, teams, expected):
    pol = SpacePolicy(allowed_roles=frozenset(roles_allowed), allowed_team_ids=frozenset(teams_allowed))
    assert may_book(pol, roles, teams) is expected


# ------------------------------------------------------------------ check_request: happy paths


def test_valid_single_booking_passes():
    check_request(policy(), [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12))], NOW)


def test_booking_exactly_filling_a_window_passes():
    check_request(policy(max_duration=timedelta(hours=12)), [(sh(2026, 3, 2, 9), sh(2026, 3, 2, 21))], NOW)


def test_no_opening_hours_means_always_open():
    check_request(policy(opening_hours=None), [(sh(2026, 3, 8, 2), sh(2026, 3, 8, 3))], NOW)


def test_window_until_midnight():
    pol = policy(opening_hours=OpeningHours.parse({"mon": [["20:00", "24:00"]]}))
    check_request(pol, [(sh(2026, 3, 2, 22), sh(2026, 3, 3, 0))], NOW)
    v = violation(pol, [(sh(2026, 3, 2, 23), sh(2026, 3, 3, 0, 30))])
    assert v.field == "opening_hours"


def test_a_booking_across_midnight_fits_where_the_next_day_opens_at_midnight():
    overnight = policy(opening_hours=OpeningHours.parse({"mon": [["22:00", "24:00"]], "tue": [["00:00", "02:00"]]}))
    check_request(overnight, [(sh(2026, 3, 2, 23), sh(2026, 3, 3, 1))], NOW)
    assert violation(overnight, [(sh(2026, 3, 2, 23), sh(2026, 3, 3, 2, 30))]).field == "opening_hours"
    around_the_clock = policy(opening_hours=OpeningHours.always(), max_duration=timedelta(days=3))
    check_request(around_the_clock, [(sh(2026, 3, 7, 23, 10), sh(2026, 3, 8, 0, 10))], NOW)  # Sat into Sun
    check_request(around_the_clock, [(sh(2026, 3, 2, 12), sh(2026, 3, 4, 12))], NOW)  # two midnights
    late_opening = policy(opening_hours=OpeningHours.parse({"mon": [["20:00", "24:00"]], "tue": [["00:30", "02:00"]]}))
    assert violation(late_opening, [(sh(2026, 3, 2, 23), sh(2026, 3, 3, 1))]).field == "opening_hours"


# ------------------------------------------------------------------ check_request: each field


def test_end_before_start():
    v = violation(policy(), [(sh(2026, 3, 2, 12), sh(2026, 3, 2, 10))])
    assert v.field == "ends_at"
    assert "end after it starts" in v.message


def test_zero_length():
    assert violation(policy(), [(sh(2026, 3, 2, 12), sh(2026, 3, 2, 12))]).field == "ends_at"


def test_too_short():
    v = violation(policy(), [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 10, 20))])
    assert v.field == "duration"
    assert "shorter than the minimum of 30 min" in v.message


def test_too_long():
    v = violation(policy(), [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 14, 30))])
    assert v.field == "duration"
    assert "longer than the maximum of 4 h" in v.message


def test_in_the_past():
    v = violation(policy(), [(sh(2026, 3, 1, 11), sh(2026, 3, 1, 12))], now=NOW)
    assert v.field == "starts_at"
    assert "in the past" in v.message


def test_min_notice():
    v = violation(policy(opening_hours=None), [(sh(2026, 3, 1, 13), sh(2026, 3, 1, 14))])
    assert v.field == "starts_at"
    assert "needs at least 2 h notice" in v.message


def test_min_notice_boundary_is_allowed():
    check_request(policy(opening_hours=None), [(sh(2026, 3, 1, 14), sh(2026, 3, 1, 15))], NOW)


def test_too_far_ahead():
    v = violation(policy(), [(sh(2026, 4, 6, 10), sh(2026, 4, 6, 11))])
    assert v.field == "starts_at"
    assert "too far ahead" in v.message
    assert "30 days" in v.message


def test_outside_opening_hours_names_the_window():
    # 2026-03-03 is a Tuesday.
    v = violation(policy(), [(sh(2026, 3, 3, 20), sh(2026, 3, 3, 22))])
    assert v.field == "opening_hours"
    assert v.message == "outside opening hours (Tue 09:00-21:00)"


def test_closed_day():
    v = violation(policy(), [(sh(2026, 3, 7, 10), sh(2026, 3, 7, 11))])
    assert v.field == "opening_hours"
    assert "closed on Sat" in v.message


def test_must_fit_in_one_window():
    hours = OpeningHours.parse({"mon": [["09:00", "12:00"], ["13:00", "18:00"]]})
    v = violation(policy(opening_hours=hours), [(sh(2026, 3, 2, 11), sh(2026, 3, 2, 14))])
    assert v.message == "outside opening hours (Mon 09:00-12:00, 13:00-18:00)"


def test_opening_hours_are_evaluated_in_the_space_timezone():
    # 10:00 in Berlin (winter) is 09:00Z; 09:00Z is 17:00 in Shanghai.
    hours = OpeningHours.parse({"mon": [["09:00", "12:00"]]})
    berlin = policy(timezone="Europe/Berlin", opening_hours=hours, min_notice=timedelta(0))
    check_request(berlin, [(utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))], NOW)
    shanghai = policy(opening_hours=hours, min_notice=timedelta(0))
    assert violation(shanghai, [(utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))]).field == "opening_hours"


def test_opening_hours_across_dst_use_wall_clock():
    hours = OpeningHours.parse({"mon": [["09:00", "10:00"]]})
    pol = policy(timezone="Europe/Berlin", opening_hours=hours, max_advance=timedelta(days=60))
    # 09:00 local is 08:00Z before and 07:00Z after 2026-03-29.
    check_request(
        pol, [(utc(2026, 3, 23, 8), utc(2026, 3, 23, 9)), (utc(2026, 3, 30, 7), utc(2026, 3, 30, 8))], NOW
    )
    v = violation(pol, [(utc(2026, 3, 30, 8), utc(2026, 3, 30, 9))])
    assert v.field == "opening_hours"


def test_blackout():
    blackout = Blackout(sh(2026, 3, 2, 11), sh(2026, 3, 2, 15), "floor polishing")
    v = violation(policy(), [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12))], blackouts=[blackout])
    assert v.field == "blackout"
    assert "floor polishing" in v.message
    assert "2026-03-02 11:00" in v.message  # shown in local time


def test_blackout_touching_is_fine():
    blackout = Blackout(sh(2026, 3, 2, 12), sh(2026, 3, 2, 15), "x")
    check_request(policy(), [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12))], NOW, [blackout])


def test_long_blackout_found_among_later_short_ones():
    blackouts = [
        Blackout(sh(2026, 3, 1, 0), sh(2026, 3, 10, 0), "renovation"),
        Blackout(sh(2026, 3, 2, 6), sh(2026, 3, 2, 7), "cleaning"),
    ]
    v = violation(policy(), [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12))], blackouts=blackouts)
    assert "renovation" in v.message


def test_blackout_requires_aware_and_ordered():
    with pytest.raises(ValueError):
        Blackout(datetime(2026, 3, 2, 11), datetime(2026, 3, 2, 12))
    with pytest.raises(RuleViolation):
        Blackout(utc(2026, 3, 2, 12), utc(2026, 3, 2, 11))


def test_quota_bookings_per_week():
    pol = policy(quota_bookings_per_week=2)
    existing = [(sh(2026, 3, 3, 10), sh(2026, 3, 3, 11)), (sh(2026, 3, 4, 10), sh(2026, 3, 4, 11))]
    v = violation(pol, [(sh(2026, 3, 5, 10), sh(2026, 3, 5, 11))], existing=existing)
    assert v.field == "quota"
    assert "2026-W10" in v.message
    assert "at most 2 per week" in v.message
    # The following week is a fresh quota.
    check_request(pol, [(sh(2026, 3, 9, 10), sh(2026, 3, 9, 11))], NOW, (), existing)


def test_quota_hours_per_week_counts_the_whole_series():
    pol = policy(quota_hours_per_week=5)
    series = [(sh(2026, 3, d, 10), sh(2026, 3, d, 12)) for d in (2, 3, 4)]  # 6 h in one week
    v = violation(pol, series)
    assert v.field == "quota"
    assert "6 h, at most 5 h per week" in v.message
    check_request(pol, series[:2], NOW)


def test_quota_hours_with_existing_bookings():
    pol = policy(quota_hours_per_week=3.5)
    existing = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12))]
    check_request(pol, [(sh(2026, 3, 3, 10), sh(2026, 3, 3, 11, 30))], NOW, (), existing)
    v = violation(pol, [(sh(2026, 3, 3, 10), sh(2026, 3, 3, 12))], existing=existing)
    assert "4 h" in v.message


def test_quota_weeks_are_iso_weeks_in_the_space_timezone():
    pol = policy(quota_bookings_per_week=1, opening_hours=None, min_notice=timedelta(0))
    # Monday 07:00 Shanghai = Sunday 23:00 UTC: in UTC both would be ISO week 10.
    sunday = (sh(2026, 3, 8, 10), sh(2026, 3, 8, 11))
    monday = (sh(2026, 3, 9, 7), sh(2026, 3, 9, 8))
    assert monday[0] == utc(2026, 3, 8, 23)
    check_request(pol, [sunday, monday], NOW)


def test_quota_reports_first_offending_week():
    pol = policy(quota_bookings_per_week=1)
    occ = [(sh(2026, 3, d, 10), sh(2026, 3, d, 11)) for d in (2, 3, 9, 10)]
    v = violation(pol, occ)
    assert "2026-W10" in v.message
    assert v.occurrence == sh(2026, 3, 2, 10)


def test_rules_are_checked_in_documented_order():
    pol = policy(quota_bookings_per_week=0)
    blackout = Blackout(sh(2026, 3, 1, 0), sh(2026, 3, 31, 0), "closed")
    bad_everything = [(sh(2026, 2, 28, 22), sh(2026, 2, 28, 22, 10))]  # short, past, closed
    assert violation(pol, bad_everything, blackouts=[blackout]).field == "duration"
    past_closed = [(sh(2026, 2, 28, 22), sh(2026, 2, 28, 23))]
    assert violation(pol, past_closed, blackouts=[blackout]).field == "starts_at"
    closed = [(sh(2026, 3, 2, 22), sh(2026, 3, 2, 23))]
    assert violation(pol, closed, blackouts=[blackout]).field == "opening_hours"
    blacked = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 11))]
    assert violation(pol, blacked, blackouts=[blackout]).field == "blackout"
    assert violation(pol, blacked).field == "quota"


def test_series_messages_name_the_occurrence():
    occ = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 11)), (sh(2026, 3, 7, 10), sh(2026, 3, 7, 11))]
    v = violation(policy(), occ)
    assert v.message == "occurrence on 2026-03-07: outside opening hours (closed on Sat)"
    assert v.occurrence == sh(2026, 3, 7, 10)


def test_series_reaching_too_far_ahead():
    occ = [
        (sh(2026, 3, 2, 10) + timedelta(weeks=w), sh(2026, 3, 2, 11) + timedelta(weeks=w)) for w in range(6)
    ]
    v = violation(policy(), occ)
    assert v.field == "starts_at"
    assert v.message.startswith("occurrence on 2026-04-06: too far ahead")


def test_empty_request():
    assert violation(policy(), []).field == "rrule"


def test_naive_datetimes_are_programming_errors():
    with pytest.raises(ValueError):
        check_request(policy(), [(datetime(2026, 3, 2, 10), datetime(2026, 3, 2, 11))], NOW)
    with pytest.raises(ValueError):
        check_request(policy(), [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 11))], datetime(2026, 3, 1))
    with pytest.raises(TypeError):
        check_request(policy(), [("2026-03-02", sh(2026, 3, 2, 11))], NOW)


def test_rule_violation_str_and_attributes():
    err = RuleViolation("quota", "too much")
    assert (err.field, err.message, err.occurrence) == ("quota", "too much", None)
    assert str(err) == "quota: too much"


# ------------------------------------------------------------------ check-in helpers


START = utc(2026, 3, 2, 2)


@pytest.mark.parametrize(
    "now, expected",
    [
        (START - timedelta(minutes=16), False),
        (START - timedelta(minutes=15), True),
        (START, True),
        (START + timedelta(minutes=14, seconds=59), True),
        (START + timedelta(minutes=15), False),
    ],
)
def test_check_in_window(now, expected):
    closes = release_deadline(START, 15)
    assert check_in_window(START, now, closes_at=closes) is expected


def test_check_in_window_custom_opening_and_no_close():
    assert check_in_window(START, START - timedelta(minutes=30), opens_before=timedelta(minutes=30))
    assert not check_in_window(START, START - timedelta(minutes=31), opens_before=timedelta(minutes=30))
    assert check_in_window(START, START + timedelta(days=1))


def test_release_deadline():
    assert release_deadline(START, 20) == START + timedelta(minutes=20)
    assert release_deadline(START, None) is None
    with pytest.raises(ValueError):
        release_deadline(datetime(2026, 3, 2), 20)


@pytest.mark.parametrize("name", ["A" * 300, "Asia/" + "x" * 250, "a" * 65])
def test_an_overlong_timezone_name_is_a_rule_violation_not_a_crash(name):
    with pytest.raises(RuleViolation) as info:
        validate_timezone(name)
    assert info.value.field == "timezone"

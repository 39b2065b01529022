"""The rules of activities: transition tables, who may sign up, households, the sign-up window, the cancel
deadline, who freed places go to, and a request's sessions expanded as bookings expands a series."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.activities import rules
from shared.lifecycle import IllegalTransition
from shared.recurrence import RuleViolation

T0 = datetime(2026, 12, 14, 11, 0, tzinfo=UTC)  # Monday 19:00 in Shanghai


def test_sign_up_states_move_only_along_the_table():
    assert rules.SIGNUP.next("waitlisted", "offer") == "offered"
    assert rules.SIGNUP.next("offered", "confirm") == "confirmed"
    assert rules.SIGNUP.next("offered", "lapse") == "expired"
    for state in rules.LIVE:
        assert rules.SIGNUP.next(state, "cancel") == "cancelled"
    with pytest.raises(IllegalTransition) as refused:
        rules.SIGNUP.next("confirmed", "confirm")
    assert refused.value.allowed == ["cancel"]
    assert rules.SIGNUP.allowed("expired") == [] and rules.SIGNUP.allowed("cancelled") == []
    assert set(rules.HOLDING) < set(rules.LIVE)


def test_venue_holds_end_released_or_refused():
    assert rules.HOLD.next("booking", "hold") == "held"
    assert rules.HOLD.next("booking", "refuse") == "refused"
    assert rules.HOLD.next("booking", "abandon") == "releasing"
    assert rules.HOLD.next("held", "release") == "releasing"
    assert rules.HOLD.next("releasing", "released") == "released"
    assert rules.HOLD.allowed("refused") == [] and rules.HOLD.allowed("released") == []
    with pytest.raises(IllegalTransition):
        rules.HOLD.next("released", "release")


def test_activities_and_sessions():
    assert rules.ACTIVITY.next("open", "cancel") == "cancelled"
    with pytest.raises(IllegalTransition):
        rules.ACTIVITY.next("cancelled", "cancel")
    assert rules.SESSION.next("scheduled", "move") == "scheduled"
    with pytest.raises(IllegalTransition):
        rules.SESSION.next("cancelled", "move")


@pytest.mark.parametrize(("groups", "roles", "mine", "my_roles", "expected"), [
    ((), (), (), ("resident",), True),
    (("rider",), (), ("rider",), ("resident",), True),
    (("rider",), (), ("courier",), ("resident",), False),
    (("rider", "courier"), ("volunteer",), (), ("volunteer",), True),
    ((), ("coordinator",), ("rider",), ("resident",), False),
])
def test_who_may_sign_up(groups, roles, mine, my_roles, expected):
    assert rules.eligible(groups, roles, mine, my_roles) is expected


@pytest.mark.parametrize(("given", "expected"), [
    ("番禺路 60 号 302", "番禺路60号302"), (" 番禺路60号302室", "番禺路60号302"), ("Flat 3 ROOM", "flat3"),
    ("ＡＢＣ １２", "abc12"), ("   ", None), (None, None),
])
def test_households_are_normalised(given, expected):
    assert rules.normalise_household(given) == expected


def test_the_sign_up_window():
    first = T0
    window = rules.Window(T0 - timedelta(days=7), None)
    assert window.state(T0 - timedelta(days=8), first) == "before"
    assert window.state(T0 - timedelta(days=1), first) == "open"
    assert window.state(T0, first) == "closed"  # closes when the first session starts
    assert rules.Window(None, T0 - timedelta(days=2)).state(T0 - timedelta(days=1), first) == "closed"
    assert rules.Window(None, None).state(T0, None) == "open"  # no session yet


def test_a_window_after_the_sessions_is_refused():
    starts = [T0, T0 + timedelta(weeks=1)]
    rules.check_window(T0 - timedelta(days=7), T0 + timedelta(weeks=1), starts)
    with pytest.raises(RuleViolation) as late:
        rules.check_window(T0 + timedelta(weeks=2), None, starts)
    assert late.value.field == "signup_opens_at"
    with pytest.raises(RuleViolation) as closes:
        rules.check_window(None, T0 + timedelta(weeks=1, minutes=1), starts)
    assert closes.value.field == "signup_closes_at"
    with pytest.raises(RuleViolation) as backwards:
        rules.check_window(T0, T0 - timedelta(days=1), [])
    assert backwards.value.field == "signup_closes_at"


def test_the_cancel_deadline():
    assert rules.cancel_deadline(T0, 120) == T0 - timedelta(hours=2)
    assert rules.may_cancel(T0 - timedelta(hours=3), T0, 120)
    assert not rules.may_cancel(T0 - timedelta(hours=1), T0, 120)
    assert rules.may_cancel(T0 + timedelta(days=1), None, 120)  # no session yet


def test_freed_places_go_in_line_to_each_whose_places_fit():
    assert rules.offers(2, [(1, 1), (2, 3), (3, 1), (4, 1)]) == [1, 3]
    assert rules.offers(3, [(1, 3), (2, 1)]) == [1]
    assert rules.offers(0, [(1, 1)]) == []
    assert rules.offers(1, [(1, 2)]) == []


def test_a_course_of_eight_weekly_classes_repeats_in_wall_clock_time():
    local = datetime(2026, 12, 14, 19, 0)
    periods = rules.periods(local, datetime(2026, 12, 14, 20, 30), "Asia/Shanghai", "FREQ=WEEKLY;COUNT=8")
    assert len(periods) == 8
    assert periods[0] == (T0, T0 + timedelta(hours=1, minutes=30))
    assert all(b[0] - a[0] == timedelta(weeks=1) for a, b in zip(periods, periods[1:], strict=False))
    skipped = rules.periods(local, datetime(2026, 12, 14, 20, 30), "Asia/Shanghai", "FREQ=WEEKLY;COUNT=8",
                            ["2026-12-21"])
    assert len(skipped) == 7 and T0 + timedelta(weeks=1) not in [p[0] for p in skipped]


def test_a_series_repeats_in_the_rooms_zone():
    start = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)  # 19:00 in Berlin, winter time
    found = rules.periods(start, start + timedelta(hours=1), "UTC", "FREQ=WEEKLY;COUNT=5", series_tz="Europe/Berlin")
    assert found[-1][0].hour == 17  # 19:00 Berlin summer time, after the change


@pytest.mark.parametrize(("starts", "ends", "tz", "rrule", "field"), [
    (T0, T0, "Asia/Shanghai", None, "ends_at"),
    (T0, T0 - timedelta(hours=1), "Asia/Shanghai", None, "ends_at"),
    (T0, T0 + timedelta(hours=1), "Mars/Olympus", None, "timezone"),
    (T0, T0 + timedelta(hours=1), "Asia/Shanghai", "FREQ=HOURLY", "rrule"),
])
def test_bad_sessions_name_their_field(starts, ends, tz, rrule, field):
    with pytest.raises(RuleViolation) as bad:
        rules.periods(starts, ends, tz, rrule)
    assert bad.value.field == field


def test_a_rule_is_stored_normalised():
    assert rules.rrule_text(None) is None
    assert "FREQ=WEEKLY" in rules.rrule_text("freq=weekly;count=3")

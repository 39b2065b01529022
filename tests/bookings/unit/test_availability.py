import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.bookings.availability import assign_units, check_capacity, free_intervals, open_intervals
from services.bookings.rules import Blackout, OpeningHours, RuleViolation, SpacePolicy

SH = "Asia/Shanghai"


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def sh(*args):
    """A Shanghai wall-clock time as UTC."""
    return datetime(*args).replace(tzinfo=UTC) - timedelta(hours=8)


def iv(start, end, free=1):
    return {"starts_at": start, "ends_at": end, "free_units": free}


HOURS = OpeningHours.parse(
    {d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
)
DAY_START, DAY_END = sh(2026, 3, 2, 0), sh(2026, 3, 3, 0)  # a Shanghai Monday


def pol(**kw):
    base = dict(timezone=SH, opening_hours=HOURS)
    base.update(kw)
    return SpacePolicy(**base)


# ------------------------------------------------------------------ free_intervals


def test_empty_day_is_free_during_opening_hours():
    assert free_intervals(DAY_START, DAY_END, pol(), [], []) == [iv(sh(2026, 3, 2, 9), sh(2026, 3, 2, 21))]


def test_no_opening_hours_means_whole_window():
    assert free_intervals(DAY_START, DAY_END, pol(opening_hours=None), [], []) == [iv(DAY_START, DAY_END)]


def test_window_clips_opening_hours():
    result = free_intervals(sh(2026, 3, 2, 12), sh(2026, 3, 2, 14), pol(), [], [])
    assert result == [iv(sh(2026, 3, 2, 12), sh(2026, 3, 2, 14))]


def test_empty_or_inverted_window():
    assert free_intervals(DAY_END, DAY_START, pol(), [], []) == []
    assert free_intervals(DAY_START, DAY_START, pol(), [], []) == []


def test_busy_splits_the_day():
    busy = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12), 1)]
    assert free_intervals(DAY_START, DAY_END, pol(), [], busy) == [
        iv(sh(2026, 3, 2, 9), sh(2026, 3, 2, 10)),
        iv(sh(2026, 3, 2, 12), sh(2026, 3, 2, 21)),
    ]


def test_buffer_around_busy_intervals():
    busy = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12), 1)]
    result = free_intervals(DAY_START, DAY_END, pol(buffer=timedelta(minutes=15)), [], busy)
    assert result == [
        iv(sh(2026, 3, 2, 9), sh(2026, 3, 2, 9, 45)),
        iv(sh(2026, 3, 2, 12, 15), sh(2026, 3, 2, 21)),
    ]


def test_back_to_back_busy_leave_no_sliver():
    busy = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 11), 1), (sh(2026, 3, 2, 11), sh(2026, 3, 2, 12), 1)]
    assert free_intervals(DAY_START, DAY_END, pol(), [], busy) == [
        iv(sh(2026, 3, 2, 9), sh(2026, 3, 2, 10)),
        iv(sh(2026, 3, 2, 12), sh(2026, 3, 2, 21)),
    ]


def test_blackout_is_removed():
    blackout = Blackout(sh(2026, 3, 2, 13), sh(2026, 3, 2, 15), "repairs")
    assert free_intervals(DAY_START, DAY_END, pol(), [blackout], []) == [
        iv(sh(2026, 3, 2, 9), sh(2026, 3, 2, 13)),
        iv(sh(2026, 3, 2, 15), sh(2026, 3, 2, 21)),
    ]


def test_overlapping_blackouts():
    blackouts = [
        Blackout(sh(2026, 3, 2, 13), sh(2026, 3, 2, 15)),
        Blackout(sh(2026, 3, 2, 8), sh(2026, 3, 2, 10)),
        Blackout(sh(2026, 3, 2, 14), sh(2026, 3, 2, 16)),
    ]
    assert free_intervals(DAY_START, DAY_END, pol(), blackouts, []) == [
        iv(sh(2026, 3, 2, 10), sh(2026, 3, 2, 13)),
        iv(sh(2026, 3, 2, 16), sh(2026, 3, 2, 21)),
    ]


def test_pool_counts_free_units_and_merges_equal_neighbours():
    busy = [
        (sh(2026, 3, 2, 10), sh(2026, 3, 2, 12), 1),
        (sh(2026, 3, 2, 11), sh(2026, 3, 2, 13), 2),
        (sh(2026, 3, 2, 13), sh(2026, 3, 2, 14), 2),  # same count as 12-13: merged
    ]
    result = free_intervals(DAY_START, DAY_END, pol(), [], busy, capacity_units=3)
    assert result == [
        iv(sh(2026, 3, 2, 9), sh(2026, 3, 2, 10), 3),
        iv(sh(2026, 3, 2, 10), sh(2026, 3, 2, 11), 2),
        # 11-12 uses all 3 units: omitted
        iv(sh(2026, 3, 2, 12), sh(2026, 3, 2, 14), 1),
        iv(sh(2026, 3, 2, 14), sh(2026, 3, 2, 21), 3),
    ]


def test_overbooked_pool_is_omitted_not_negative():
    busy = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12), 5)]
    result = free_intervals(DAY_START, DAY_END, pol(), [], busy, capacity_units=2)
    assert [r["free_units"] for r in result] == [2, 2]


def test_busy_outside_window_is_harmless():
    busy = [(sh(2026, 3, 1, 10), sh(2026, 3, 1, 12), 1), (sh(2026, 3, 5, 10), sh(2026, 3, 5, 12), 1)]
    assert free_intervals(DAY_START, DAY_END, pol(), [], busy) == [iv(sh(2026, 3, 2, 9), sh(2026, 3, 2, 21))]


def test_busy_covering_whole_window():
    busy = [(sh(2026, 3, 1, 0), sh(2026, 3, 4, 0), 1)]
    assert free_intervals(DAY_START, DAY_END, pol(), [], busy) == []


def test_multi_day_window_and_opening_hours_in_space_timezone():
    hours = OpeningHours.parse({"mon": [["09:00", "12:00"]], "tue": [["09:00", "12:00"]]})
    berlin = SpacePolicy(timezone="Europe/Berlin", opening_hours=hours)
    result = free_intervals(utc(2026, 3, 1), utc(2026, 3, 5), berlin, [], [])
    assert result == [
        iv(utc(2026, 3, 2, 8), utc(2026, 3, 2, 11)),
        iv(utc(2026, 3, 3, 8), utc(2026, 3, 3, 11)),
    ]


def test_overnight_hours_via_midnight_windows_are_continuous():
    hours = OpeningHours.parse({"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]})
    result = free_intervals(sh(2026, 3, 2, 0), sh(2026, 3, 4, 0), pol(opening_hours=hours), [], [])
    assert result == [iv(sh(2026, 3, 2, 20), sh(2026, 3, 3, 2))]


def test_opening_hours_follow_dst_wall_clock():
    hours = OpeningHours.parse({"sat": [["09:00", "10:00"]], "sun": [["09:00", "10:00"]]})
    berlin = SpacePolicy(timezone="Europe/Berlin", opening_hours=hours)
    result = free_intervals(utc(2026, 3, 28), utc(2026, 3, 30), berlin, [], [])
    assert result == [
        iv(utc(2026, 3, 28, 8), utc(2026, 3, 28, 9)),
        iv(utc(2026, 3, 29, 7), utc(2026, 3, 29, 8)),
    ]


def test_opening_time_inside_dst_gap_opens_at_the_transition():
    # New York, 2026-03-08: clocks jump 02:00 -> 03:00 (07:00Z).
    hours = OpeningHours.parse({"sun": [["02:30", "05:00"]]})
    ny = SpacePolicy(timezone="America/New_York", opening_hours=hours)
    result = free_intervals(utc(2026, 3, 8), utc(2026, 3, 9), ny, [], [])
    assert result == [iv(utc(2026, 3, 8, 7), utc(2026, 3, 8, 9))]


def test_open_intervals_helper():
    blackout = Blackout(sh(2026, 3, 2, 9), sh(2026, 3, 2, 10))
    assert open_intervals(DAY_START, DAY_END, pol(), [blackout]) == [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 21))]


def test_results_are_utc():
    busy = [(datetime(2026, 3, 2, 12, tzinfo=ZoneInfo(SH)), datetime(2026, 3, 2, 13, tzinfo=ZoneInfo(SH)), 1)]
    result = free_intervals(DAY_START, DAY_END, pol(), [], busy)
    assert result[0]["ends_at"] == sh(2026, 3, 2, 12)
    assert all(r["starts_at"].tzinfo is UTC and r["ends_at"].tzinfo is UTC for r in result)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        free_intervals(DAY_START, DAY_END, pol(), [], [], capacity_units=0)
    with pytest.raises(ValueError):
        free_intervals(datetime(2026, 3, 2), DAY_END, pol(), [], [])


def _oracle(window_start, minutes, policy, blackouts, busy, capacity):
    """Minute-by-minute free units, computed the slow and obvious way."""
    zone = ZoneInfo(policy.timezone)
    result = []
    for m in range(minutes):
        t = window_start + timedelta(minutes=m)
        local = t.astimezone(zone).replace(tzinfo=None)
        is_open = policy.opening_hours.contains(local, local + timedelta(minutes=1))
        blocked = any(b.starts_at <= t < b.ends_at for b in blackouts)
        used = sum(u for s, e, u in busy if s - policy.buffer <= t < e + policy.buffer)
        result.append(capacity - used if is_open and not blocked else 0)
    return result


@pytest.mark.parametrize("seed", range(25))
def test_matches_brute_force_oracle(seed):
    rnd = random.Random(seed)
    capacity = rnd.choice([1, 1, 2, 3, 5])
    hours = OpeningHours.parse(
        {
            "mon": [["08:00", "12:00"], ["13:30", "22:00"]],
            "tue": [["00:00", "24:00"]],
            "wed": [["10:00", "11:00"]],
        }
    )
    policy = SpacePolicy(timezone=SH, opening_hours=hours, buffer=timedelta(minutes=rnd.choice([0, 10, 30])))
    start = sh(2026, 3, 2, 0)
    minutes = 3 * 24 * 60

    def rand_span(max_len):
        a = start + timedelta(minutes=rnd.randrange(-120, minutes))
        return a, a + timedelta(minutes=rnd.randrange(1, max_len))

    busy = [(*rand_span(240), rnd.randint(1, capacity)) for _ in range(rnd.randint(0, 40))]
    blackouts = [Blackout(*rand_span(300)) for _ in range(rnd.randint(0, 3))]

    result = free_intervals(start, start + timedelta(minutes=minutes), policy, blackouts, busy, capacity)

    got = [0] * minutes
    for item in result:
        assert item["free_units"] > 0
        assert item["starts_at"] < item["ends_at"]
        first = int((item["starts_at"] - start).total_seconds() // 60)
        last = int((item["ends_at"] - start).total_seconds() // 60)
        for m in range(first, last):
            got[m] = item["free_units"]
    expected = [max(v, 0) for v in _oracle(start, minutes, policy, blackouts, busy, capacity)]
    assert got == expected
    # Maximal merging: touching neighbours always differ in free count.
    for a, b in zip(result, result[1:], strict=False):
        assert a["ends_at"] <= b["starts_at"]
        if a["ends_at"] == b["starts_at"]:
            assert a["free_units"] != b["free_units"]


def test_many_busy_intervals_merge_into_ordered_disjoint_free_intervals():
    # 100 000 busy intervals in one window (far more than a real day); its speed is measured in
    # bench/bookings_availability.py.
    rnd = random.Random(1)
    start = sh(2026, 3, 2, 0)
    end = start + timedelta(days=1)
    busy = []
    for _ in range(100_000):
        a = start + timedelta(seconds=rnd.randrange(0, 86_400))
        busy.append((a, a + timedelta(minutes=rnd.randrange(1, 120)), 1))
    result = free_intervals(start, end, pol(), [], busy, capacity_units=5000)
    assert result
    for a, b in zip(result, result[1:], strict=False):
        assert a["ends_at"] <= b["starts_at"]
        if a["ends_at"] == b["starts_at"]:
            assert a["free_units"] != b["free_units"]
    assert all(start <= i["starts_at"] < i["ends_at"] <= end and 0 < i["free_units"] <= 5000 for i in result)


# ------------------------------------------------------------------ check_capacity


def test_check_capacity_single_unit():
    busy = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12), 1)]
    check_capacity([(sh(2026, 3, 2, 12), sh(2026, 3, 2, 13))], busy)
    with pytest.raises(RuleViolation) as info:
        check_capacity([(sh(2026, 3, 2, 11), sh(2026, 3, 2, 13))], busy)
    assert info.value.field == "units"
    assert "only 0 free" in info.value.message


def test_check_capacity_respects_buffer():
    busy = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12), 1)]
    with pytest.raises(RuleViolation):
        check_capacity([(sh(2026, 3, 2, 12, 10), sh(2026, 3, 2, 13))], busy, buffer=timedelta(minutes=15))
    check_capacity([(sh(2026, 3, 2, 12, 15), sh(2026, 3, 2, 13))], busy, buffer=timedelta(minutes=15))


def test_check_capacity_pool_uses_peak_not_sum():
    busy = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 11), 2), (sh(2026, 3, 2, 11), sh(2026, 3, 2, 12), 2)]
    check_capacity([(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12))], busy, capacity_units=3, requested_units=1)
    with pytest.raises(RuleViolation, match="only 1 free"):
        check_capacity([(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12))], busy, capacity_units=3, requested_units=2)


def test_check_capacity_reports_the_conflicting_occurrence():
    busy = [(sh(2026, 3, 9, 10), sh(2026, 3, 9, 11), 1)]
    series = [(sh(2026, 3, d, 10), sh(2026, 3, d, 11)) for d in (2, 9, 16)]
    with pytest.raises(RuleViolation) as info:
        check_capacity(series, busy)
    assert info.value.occurrence == sh(2026, 3, 9, 10)


def test_check_capacity_more_than_capacity():
    with pytest.raises(RuleViolation, match="only 2 units"):
        check_capacity([(sh(2026, 3, 2, 10), sh(2026, 3, 2, 11))], [], capacity_units=2, requested_units=3)


# ------------------------------------------------------------------ assign_units


def test_assign_lowest_free_units():
    overlapping = [
        (sh(2026, 3, 2, 10), sh(2026, 3, 2, 11), [1, 3]),
        (sh(2026, 3, 2, 10), sh(2026, 3, 2, 12), [4]),
    ]
    assert assign_units(2, 6, overlapping) == [2, 5]
    assert assign_units(1, 6, []) == [1]


def test_assign_all_units():
    assert assign_units(4, 4, []) == [1, 2, 3, 4]


def test_assign_not_enough():
    overlapping = [(sh(2026, 3, 2, 10), sh(2026, 3, 2, 11), [1, 2, 3])]
    with pytest.raises(RuleViolation) as info:
        assign_units(2, 4, overlapping)
    assert info.value.field == "units"
    assert "only 1 free" in info.value.message


@pytest.mark.parametrize("requested, capacity", [(0, 3), (-1, 3), (4, 3)])
def test_assign_invalid_request(requested, capacity):
    with pytest.raises(RuleViolation) as info:
        assign_units(requested, capacity, [])
    assert info.value.field == "units"

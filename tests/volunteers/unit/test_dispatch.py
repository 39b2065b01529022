"""Dispatch suggestions: hard filters with reasons, explainable scores, named dispatch."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from services.volunteers.dispatch import (
    TEAMS,
    Candidate,
    NotAssignable,
    Rejection,
    WeeklyWindow,
    check_assignable,
    local_grids,
    rejections,
    suggest,
)

# Grid tree: sub-district 1 -> big grids 10, 20 -> micro-grids 11, 12 (under 10), 21 (under 20).
TREE: dict[int, int | None] = {1: None, 10: 1, 20: 1, 11: 10, 12: 10, 21: 20}

# Monday 6 May 2024, 10:00 in Shanghai (02:00 UTC).
NOW = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
MONDAY_MORNING = WeeklyWindow(0, time(9, 0), time(12, 0))


def volunteer(volunteer_id: int = 1, **overrides) -> Candidate:
    """A candidate who passes every filter for an action in micro-grid 11 needing first_aid 2."""
    base = {
        "volunteer_id": volunteer_id,
        "display_name": f"Volunteer {volunteer_id}",
        "skills": {"first_aid": 2},
        "grid_ids": {11},
        "availability": [MONDAY_MORNING],
        "open_actions": 0,
        "max_open_actions": 3,
    }
    base.update(overrides)
    return Candidate(**base)


def run(candidates, **overrides):
    kwargs = {
        "required_skill": "first_aid",
        "min_level": 2,
        "action_grid_id": 11,
        "grid_ancestors": TREE,
        "now": NOW,
    }
    kwargs.update(overrides)
    return suggest(candidates, **kwargs)


def rejection_fields(candidate, **overrides):
    kwargs = {
        "required_skill": "first_aid",
        "min_level": 2,
        "action_grid_id": 11,
        "grid_ancestors": TREE,
        "now": NOW,
    }
    kwargs.update(overrides)
    return [r.field for r in rejections(candidate, **kwargs)]


def test_teams():
    assert TEAMS == ("rider_knights", "good_shops", "placemakers", "storytellers", "action_team")


# --------------------------------------------------------------- weekly windows


class TestWeeklyWindow:
    @pytest.mark.parametrize(
        ("local", "inside"),
        [
            (datetime(2024, 5, 6, 9, 0), True),  # start is inclusive
            (datetime(2024, 5, 6, 11, 59), True),
            (datetime(2024, 5, 6, 12, 0), False),  # end is exclusive
            (datetime(2024, 5, 6, 8, 59), False),
            (datetime(2024, 5, 7, 10, 0), False),  # Tuesday
        ],
    )
    def test_daytime_window(self, local, inside):
        assert MONDAY_MORNING.contains(local) is inside

    @pytest.mark.parametrize(
        ("local", "inside"),
        [
            (datetime(2024, 5, 12, 22, 0), True),  # Sunday night
            (datetime(2024, 5, 12, 23, 59), True),
            (datetime(2024, 5, 13, 0, 0), True),  # Monday after midnight (wraps Sun -> Mon)
            (datetime(2024, 5, 13, 1, 59), True),
            (datetime(2024, 5, 13, 2, 0), False),
            (datetime(2024, 5, 12, 21, 59), False),
            (datetime(2024, 5, 12, 1, 0), False),  # early Sunday belongs to Saturday's window
        ],
    )
    def test_overnight_window_wraps_week(self, local, inside):
        night = WeeklyWindow(6, time(22, 0), time(2, 0))
        assert night.overnight
        assert night.contains(local) is inside

    def test_window_until_midnight(self):
        evening = WeeklyWindow(4, time(18, 0), time(0, 0))
        assert evening.contains(datetime(2024, 5, 10, 23, 30))
        assert not evening.contains(datetime(2024, 5, 11, 0, 0))

    @pytest.mark.parametrize(
        "args",
        [
            (7, time(9), time(10)),
            (-1, time(9), time(10)),
            (0, time(9), time(9)),
            (0, time(9, tzinfo=UTC), time(10)),
        ],
    )
    def test_invalid(self, args):
        with pytest.raises(ValueError):
            WeeklyWindow(*args)


# ------------------------------------------------------------------- candidate


class TestCandidate:
    def test_normalises_containers(self):
        c = volunteer(availability=[(0, time(9), time(12))], grid_ids=[11, 12], team_ids={3})
        assert c.availability == (MONDAY_MORNING,)
        assert c.grid_ids == frozenset({11, 12})
        assert c.team_ids == frozenset({3})
        assert c.tz == "Asia/Shanghai"

    def test_skills_copied(self):
        skills = {"first_aid": 2}
        c = volunteer(skills=skills)
        skills["first_aid"] = 0
        assert c.skills["first_aid"] == 2

    @pytest.mark.parametrize(
        "overrides",
        [
            {"unavailable": [(datetime(2024, 5, 1), datetime(2024, 5, 9, tzinfo=UTC))]},
            {"unavailable": [(NOW, NOW)]},
            {"unavailable": [(NOW, NOW - timedelta(hours=1))]},
            {"last_action_at": datetime(2024, 5, 1)},
            {"open_actions": -1},
            {"max_open_actions": -1},
        ],
    )
    def test_invalid(self, overrides):
        with pytest.raises(ValueError):
            volunteer(**overrides)

    def test_unknown_time_zone(self):
        with pytest.raises(Exception, match="Mars"):  # zoneinfo.ZoneInfoNotFoundError
            volunteer(tz="Mars/Olympus_Mons")


# ----------------------------------------------------------------------- grids


class TestLocalGrids:
    def test_micro_grid_includes_its_big_grid(self):
        assert local_grids(11, TREE) == {11, 10}

    def test_big_grid_alone(self):
        # The root is never "local": sub-district-wide registration is too broad.
        assert local_grids(10, TREE) == {10}

    def test_root(self):
        assert local_grids(1, TREE) == {1}

    def test_unknown_grid(self):
        with pytest.raises(ValueError, match="99"):
            local_grids(99, TREE)


# --------------------------------------------------------------------- filters


class TestHardFilters:
    def test_passes_all(self):
        assert rejection_fields(volunteer()) == []

    def test_big_grid_volunteer_passes(self):
        assert rejection_fields(volunteer(grid_ids={10})) == []

    @pytest.mark.parametrize("grids", [{12}, {20}, {21}, {1}, set()])
    def test_outside_grid(self, grids):
        found = rejections(
            volunteer(grid_ids=grids),
            required_skill=None,
            action_grid_id=11,
            grid_ancestors=TREE,
            now=NOW,
        )
        assert found == [Rejection("grid", "does not serve micro-grid 11 or big grid 10")]

    def test_outside_grid_message_for_big_grid_action(self):
        found = rejections(
            volunteer(grid_ids={11}), required_skill=None, action_grid_id=10, grid_ancestors=TREE
        )
        assert found == [Rejection("grid", "does not serve big grid 10")]

    def test_lacks_skill(self):
        found = rejections(
            volunteer(skills={"cooking": 3}),
            required_skill="first_aid",
            min_level=2,
            action_grid_id=11,
            grid_ancestors=TREE,
            now=NOW,
        )
        assert found == [Rejection("skill", "lacks skill 'first_aid'")]

    def test_skill_too_low(self):
        found = rejections(
            volunteer(skills={"first_aid": 1}),
            required_skill="first_aid",
            min_level=2,
            action_grid_id=11,
            grid_ancestors=TREE,
        )
        assert found == [Rejection("skill", "skill 'first_aid' at level 1, needs 2")]

    @pytest.mark.parametrize("level", [2, 3, 5])
    def test_skill_at_or_above_level(self, level):
        assert rejection_fields(volunteer(skills={"first_aid": level})) == []

    def test_no_skill_required(self):
        assert rejection_fields(volunteer(skills={}), required_skill=None) == []

    @pytest.mark.parametrize(
        ("open_actions", "limit", "text"),
        [
            (3, 3, "at limit: 3 open actions of 3"),
            (4, 3, "at limit: 4 open actions of 3"),
            (1, 1, "at limit: 1 open action of 1"),
            (0, 0, "at limit: 0 open actions of 0"),
        ],
    )
    def test_at_limit(self, open_actions, limit, text):
        c = volunteer(open_actions=open_actions, max_open_actions=limit)
        found = rejections(c, required_skill=None, action_grid_id=11, grid_ancestors=TREE)
        assert found == [Rejection("capacity", text)]

    def test_on_leave(self):
        found = rejections(
            volunteer(on_leave=True), required_skill=None, action_grid_id=11, grid_ancestors=TREE
        )
        assert found == [Rejection("leave", "on leave")]

    def test_outside_weekly_window(self):
        found = rejections(
            volunteer(availability=[(1, time(9), time(12))]),
            required_skill=None,
            action_grid_id=11,
            grid_ancestors=TREE,
            now=NOW,
        )
        assert found == [
            Rejection("availability", "outside weekly availability (now Mon 10:00 Asia/Shanghai)")
        ]

    def test_no_windows_means_not_available(self):
        found = rejections(
            volunteer(availability=[]), required_skill=None, action_grid_id=11, grid_ancestors=TREE, now=NOW
        )
        assert found == [Rejection("availability", "no weekly availability set")]

    def test_unavailable_period(self):
        trip = (NOW - timedelta(days=1), datetime(2024, 5, 8, 10, 0, tzinfo=UTC))
        found = rejections(
            volunteer(unavailable=[trip]),
            required_skill=None,
            action_grid_id=11,
            grid_ancestors=TREE,
            now=NOW,
        )
        # Shown in the volunteer's local time.
        assert found == [Rejection("availability", "unavailable until 2024-05-08 18:00 (Asia/Shanghai)")]

    @pytest.mark.parametrize(
        ("start", "end", "blocked"),
        [
            (NOW, NOW + timedelta(hours=1), True),  # start inclusive
            (NOW - timedelta(hours=1), NOW, False),  # end exclusive
            (NOW + timedelta(minutes=1), NOW + timedelta(hours=1), False),
        ],
    )
    def test_unavailable_period_bounds(self, start, end, blocked):
        fields = rejection_fields(volunteer(unavailable=[(start, end)]))
        assert ("availability" in fields) is blocked

    def test_window_evaluated_in_volunteer_time_zone(self):
        # 02:00 UTC Monday is 03:00 in London (BST): outside 09-12 there, inside in Shanghai.
        london = volunteer(tz="Europe/London")
        assert rejection_fields(london) == ["availability"]
        early = volunteer(tz="Europe/London", availability=[(0, time(3), time(4))])
        assert rejection_fields(early) == []

    def test_availability_skipped_without_now(self):
        assert rejection_fields(volunteer(availability=[]), now=None) == []

    def test_all_failures_recorded_in_order(self):
        c = volunteer(
            grid_ids={21},
            skills={},
            open_actions=3,
            on_leave=True,
            availability=[],
        )
        assert rejection_fields(c) == ["grid", "skill", "capacity", "leave", "availability"]


# --------------------------------------------------------------------- suggest


class TestSuggest:
    def test_same_micro_grid_beats_big_grid(self):
        near = volunteer(2, grid_ids={11})
        far = volunteer(1, grid_ids={10})
        result = run([far, near])
        assert [s.volunteer_id for s in result] == [2, 1]
        assert result[0].reasons[0] == "serves micro-grid 11"
        assert result[1].reasons[0] == "serves big grid 10 (not micro-grid 11)"

    def test_fewer_open_actions_better(self):
        busy = volunteer(1, open_actions=2)
        free = volunteer(2, open_actions=0)
        result = run([busy, free])
        assert [s.volunteer_id for s in result] == [2, 1]
        assert "2 open actions of 3" in result[1].reasons
        assert "0 open actions of 3" in result[0].reasons

    def test_longer_idle_better(self):
        recent = volunteer(1, last_action_at=NOW - timedelta(hours=5))
        idle = volunteer(2, last_action_at=NOW - timedelta(days=3, hours=2))
        result = run([recent, idle])
        assert [s.volunteer_id for s in result] == [2, 1]
        assert "last action 3 days ago" in result[0].reasons
        assert "last action 5 hours ago" in result[1].reasons

    def test_never_dispatched_beats_any_idle_time(self):
        veteran = volunteer(1, last_action_at=NOW - timedelta(days=3650))
        newcomer = volunteer(2, last_action_at=None)
        result = run([veteran, newcomer])
        assert [s.volunteer_id for s in result] == [2, 1]
        assert "never dispatched" in result[0].reasons
        assert result[0].score > result[1].score

    @pytest.mark.parametrize(
        ("ago", "text"),
        [
            (timedelta(seconds=20), "last action just now"),
            (timedelta(minutes=1), "last action 1 minute ago"),
            (timedelta(minutes=45), "last action 45 minutes ago"),
            (timedelta(hours=1), "last action 1 hour ago"),
            (timedelta(days=1), "last action 1 day ago"),
            (timedelta(days=12, hours=23), "last action 12 days ago"),
            (-timedelta(minutes=5), "last action just now"),  # clock skew: not negative
        ],
    )
    def test_idle_reason_text(self, ago, text):
        (only,) = run([volunteer(last_action_at=NOW - ago)])
        assert only.reasons[-1] == text

    def test_reasons_complete_and_in_order(self):
        (only,) = run(
            [volunteer(skills={"first_aid": 3}, open_actions=1, last_action_at=NOW - timedelta(days=7))]
        )
        assert only.reasons == [
            "serves micro-grid 11",
            "skill 'first_aid' at level 3 (needs 2)",
            "1 open action of 3",
            "last action 7 days ago",
        ]
        # 3 (micro-grid) + 2 * 2/3 (load) + 2 * 7/14 (idle)
        assert only.score == pytest.approx(3 + 4 / 3 + 1, abs=1e-4)
        assert only.eligible and not only.rejected and only.rejections == ()

    def test_no_skill_reason_when_none_required(self):
        (only,) = run([volunteer()], required_skill=None)
        assert not any("skill" in r for r in only.reasons)

    def test_maximum_score(self):
        (only,) = run([volunteer()])
        assert only.score == 7.0

    def test_tie_broken_by_volunteer_id(self):
        result = run([volunteer(9), volunteer(3), volunteer(5)])
        assert [s.volunteer_id for s in result] == [3, 5, 9]
        assert len({s.score for s in result}) == 1

    def test_deterministic_regardless_of_input_order(self):
        people = [volunteer(i, open_actions=i % 3, grid_ids={11} if i % 2 else {10}) for i in range(1, 9)]
        assert run(people) == run(list(reversed(people)))

    def test_limit_applies_to_eligible_only(self):
        eligible = [volunteer(i) for i in range(1, 8)]
        rejected = [volunteer(100 + i, on_leave=True) for i in range(3)]
        result = run(eligible + rejected, limit=2)
        assert [s.volunteer_id for s in result] == [1, 2, 100, 101, 102]

    def test_limit_zero_returns_only_rejected(self):
        result = run([volunteer(1), volunteer(2, on_leave=True)], limit=0)
        assert [s.volunteer_id for s in result] == [2]

    def test_rejected_returned_with_reasons(self):
        result = run([volunteer(2, grid_ids={21}, on_leave=True), volunteer(1)])
        assert [s.volunteer_id for s in result] == [1, 2]
        rejected = result[1]
        assert rejected.rejected and not rejected.eligible
        assert rejected.score == 0.0
        assert rejected.reasons == ["does not serve micro-grid 11 or big grid 10", "on leave"]
        assert [r.field for r in rejected.rejections] == ["grid", "leave"]

    def test_rejected_sorted_by_id(self):
        result = run([volunteer(7, on_leave=True), volunteer(3, on_leave=True)])
        assert [s.volunteer_id for s in result] == [3, 7]

    def test_empty(self):
        assert run([]) == []

    def test_accepts_any_iterable(self):
        assert [s.volunteer_id for s in run(volunteer(i) for i in (2, 1))] == [1, 2]

    def test_duplicate_candidate_rejected(self):
        with pytest.raises(ValueError, match="twice"):
            run([volunteer(1), volunteer(1)])

    @pytest.mark.parametrize(
        "overrides",
        [
            {"now": datetime(2024, 5, 6, 2, 0)},
            {"limit": -1},
            {"min_level": 0},
            {"action_grid_id": 99},
        ],
    )
    def test_invalid_arguments(self, overrides):
        with pytest.raises(ValueError):
            run([volunteer()], **overrides)

    def test_action_on_big_grid(self):
        on_big = volunteer(1, grid_ids={10})
        on_micro = volunteer(2, grid_ids={11})
        result = run([on_big, on_micro], action_grid_id=10)
        assert result[0].volunteer_id == 1
        assert result[0].reasons[0] == "serves big grid 10"
        assert result[1].rejected

    def test_suggestion_is_frozen(self):
        (only,) = run([volunteer()])
        with pytest.raises(AttributeError):
            only.score = 1.0  # type: ignore[misc]


# ------------------------------------------------------------- named dispatch


def assign(candidate, **overrides):
    kwargs = {"required_skill": "first_aid", "min_level": 2, "action_grid_id": 11, "grid_ancestors": TREE}
    kwargs.update(overrides)
    check_assignable(candidate, **kwargs)


class TestCheckAssignable:
    def test_ok(self):
        assign(volunteer())

    def test_ok_outside_weekly_window(self):
        # The coordinator has arranged a time with them; windows do not block.
        assign(volunteer(availability=[], unavailable=[(NOW, NOW + timedelta(days=1))]))

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"grid_ids": {21}}, "grid", "Volunteer 1: does not serve micro-grid 11 or big grid 10"),
            ({"skills": {}}, "skill", "Volunteer 1: lacks skill 'first_aid'"),
            ({"skills": {"first_aid": 1}}, "skill", "Volunteer 1: skill 'first_aid' at level 1, needs 2"),
            ({"open_actions": 3}, "capacity", "Volunteer 1: at limit: 3 open actions of 3"),
            ({"on_leave": True}, "leave", "Volunteer 1: on leave"),
        ],
    )
    def test_not_assignable(self, overrides, field, message):
        with pytest.raises(NotAssignable) as excinfo:
            assign(volunteer(**overrides))
        assert excinfo.value.field == field
        assert excinfo.value.message == message
        assert str(excinfo.value) == message

    def test_first_failure_wins(self):
        with pytest.raises(NotAssignable) as excinfo:
            assign(volunteer(grid_ids={21}, on_leave=True, skills={}))
        assert excinfo.value.field == "grid"

    def test_skill_optional(self):
        assign(volunteer(skills={}), required_skill=None)

    def test_exception_picklable(self):
        err = NotAssignable("leave", "on leave")
        copy = pickle.loads(pickle.dumps(err))
        assert (copy.field, copy.message) == ("leave", "on leave")

    def test_candidate_replace_revalidates(self):
        # dataclasses.replace goes through __post_init__, so invalid edits are caught.
        with pytest.raises(ValueError):
            replace(volunteer(), open_actions=-2)

"""Three-level escalation: limits, deadlines, decisions, grid routing, dashboard colour."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from services.volunteers.escalation import (
    LEVEL_NAMES,
    ActionSnapshot,
    CategoryLimits,
    Deadline,
    GridColourThresholds,
    MissingLimits,
    deadline,
    due_escalation,
    format_duration,
    grid_colour,
    handling_grid,
    load_limits,
    next_level_grid,
)
from services.volunteers.lifecycle import ACTION_STATES

T0 = datetime(2024, 5, 6, 1, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)

LIMITS_JSON = {
    "category": "stairwell_light",
    "accept_within_minutes": {"1": 30, "2": 60, "3": 120},
    "resolve_within_minutes": {"1": 240, "2": 480, "3": 1440},
}
LIMITS = CategoryLimits.from_json(LIMITS_JSON)

ACCEPT_STATES = ["reported", "triaged", "dispatched", "reopened"]
RESOLVE_STATES = ["accepted", "in_progress"]
NO_DEADLINE_STATES = ["resolved", "verified", "closed", "duplicate", "cancelled"]


def test_state_groups_cover_every_action_state():
    assert set(ACCEPT_STATES + RESOLVE_STATES + NO_DEADLINE_STATES) == set(ACTION_STATES)


def test_level_names():
    assert dict(LEVEL_NAMES) == {1: "micro-grid", 2: "big grid", 3: "command"}


# ---------------------------------------------------------------------- limits


class TestCategoryLimits:
    def test_from_json(self):
        assert LIMITS.category == "stairwell_light"
        assert LIMITS.accept_within == {1: 30 * MIN, 2: 60 * MIN, 3: 120 * MIN}
        assert LIMITS.resolve_within[3] == timedelta(days=1)

    def test_from_json_int_keys_and_fractional_minutes(self):
        limits = CategoryLimits.from_json(
            {"accept_within_minutes": {1: 0.5, 2: 1, 3: 2}, "resolve_within_minutes": {1: 5, 2: 6, 3: 7}},
            category="noise",
        )
        assert limits.category == "noise"
        assert limits.accept_within[1] == timedelta(seconds=30)

    def test_category_argument_overrides(self):
        assert CategoryLimits.from_json(LIMITS_JSON, category="other").category == "other"

    @pytest.mark.parametrize("missing", ["accept_within_minutes", "resolve_within_minutes"])
    def test_missing_table(self, missing):
        data = {k: v for k, v in LIMITS_JSON.items() if k != missing}
        with pytest.raises(MissingLimits) as excinfo:
            CategoryLimits.from_json(data)
        assert excinfo.value.category == "stairwell_light"
        assert missing in str(excinfo.value)

    def test_missing_level(self):
        data = {**LIMITS_JSON, "resolve_within_minutes": {"1": 10, "2": 20}}
        with pytest.raises(MissingLimits, match=r"resolve_within lacks level\(s\) \[3\]"):
            CategoryLimits.from_json(data)

    @pytest.mark.parametrize(
        "table",
        [
            {"1": 30, "2": 60, "3": 0},
            {"1": 30, "2": -5, "3": 60},
            {"1": 30, "2": "60", "3": 60},
            {"1": 30, "2": True, "3": 60},
            {"1": 30, "2": 60, "3": 90, "4": 120},
            {"one": 30, "2": 60, "3": 90},
            [30, 60, 90],
        ],
    )
    def test_malformed(self, table):
        with pytest.raises(ValueError):
            CategoryLimits.from_json({**LIMITS_JSON, "accept_within_minutes": table})

    def test_needs_category_name(self):
        data = {k: v for k, v in LIMITS_JSON.items() if k != "category"}
        with pytest.raises(ValueError, match="category"):
            CategoryLimits.from_json(data)

    def test_direct_construction_validates(self):
        with pytest.raises(MissingLimits):
            CategoryLimits("x", {1: MIN}, {1: MIN, 2: MIN, 3: MIN})
        with pytest.raises(ValueError):
            CategoryLimits("x", {1: MIN, 2: MIN, 3: 30}, {1: MIN, 2: MIN, 3: MIN})  # type: ignore[dict-item]

    def test_tables_are_read_only(self):
        with pytest.raises(TypeError):
            LIMITS.accept_within[1] = MIN  # type: ignore[index]

    def test_limit_lookup(self):
        assert LIMITS.limit("accept", 2) == 60 * MIN
        assert LIMITS.limit("resolve", 1) == 240 * MIN
        with pytest.raises(ValueError):
            LIMITS.limit("verify", 1)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            LIMITS.limit("accept", 4)

    def test_load_limits(self):
        table = load_limits(
            {
                "stairwell_light": {k: v for k, v in LIMITS_JSON.items() if k != "category"},
                "elderly_fall": {
                    "accept_within_minutes": {"1": 5, "2": 10, "3": 15},
                    "resolve_within_minutes": {"1": 60, "2": 90, "3": 120},
                },
            }
        )
        assert set(table) == {"stairwell_light", "elderly_fall"}
        assert table["elderly_fall"].category == "elderly_fall"
        assert table["elderly_fall"].accept_within[1] == 5 * MIN

    @pytest.mark.parametrize("body", [None, {}])
    def test_load_limits_empty_category(self, body):
        with pytest.raises(MissingLimits, match="noise"):
            load_limits({"noise": body})

    def test_missing_limits_picklable(self):
        err = MissingLimits("noise", "no limits given")
        copy = pickle.loads(pickle.dumps(err))
        assert (copy.category, copy.detail) == ("noise", "no limits given")
        assert str(copy) == "no time limits configured for category 'noise': no limits given"


# -------------------------------------------------------------------- deadline


class TestDeadline:
    @pytest.mark.parametrize("state", ACCEPT_STATES)
    @pytest.mark.parametrize(("level", "minutes"), [(1, 30), (2, 60), (3, 120)])
    def test_accept_deadline_from_level_start(self, state, level, minutes):
        assert deadline(state, level, T0, None, LIMITS) == Deadline("accept", T0 + minutes * MIN)

    @pytest.mark.parametrize("state", ACCEPT_STATES)
    def test_accept_deadline_ignores_old_acceptance(self, state):
        # A reopened action waits for a new acceptance, whatever happened before.
        assert deadline(state, 1, T0, T0 - timedelta(days=2), LIMITS).kind == "accept"

    @pytest.mark.parametrize("state", RESOLVE_STATES)
    @pytest.mark.parametrize(("level", "minutes"), [(1, 240), (2, 480), (3, 1440)])
    def test_resolve_deadline_from_acceptance(self, state, level, minutes):
        accepted = T0 + 20 * MIN
        assert deadline(state, level, T0, accepted, LIMITS) == Deadline("resolve", accepted + minutes * MIN)

    @pytest.mark.parametrize("state", RESOLVE_STATES)
    def test_resolve_deadline_from_level_start_when_accepted_earlier(self, state):
        # Accepted at level 1, escalated to level 2 later: level 2 gets its full allowance.
        accepted = T0 - timedelta(hours=5)
        assert deadline(state, 2, T0, accepted, LIMITS) == Deadline("resolve", T0 + 480 * MIN)

    @pytest.mark.parametrize("state", RESOLVE_STATES)
    def test_resolve_deadline_without_acceptance_time(self, state):
        assert deadline(state, 1, T0, None, LIMITS) == Deadline("resolve", T0 + 240 * MIN)

    @pytest.mark.parametrize("state", NO_DEADLINE_STATES)
    @pytest.mark.parametrize("level", [1, 2, 3])
    def test_no_deadline_when_not_open(self, state, level):
        assert deadline(state, level, T0, T0, LIMITS) is None

    @pytest.mark.parametrize("level", [0, 4, True, "1"])
    def test_bad_level(self, level):
        with pytest.raises(ValueError):
            deadline("reported", level, T0, None, LIMITS)

    def test_naive_times_rejected(self):
        with pytest.raises(ValueError):
            deadline("reported", 1, datetime(2024, 5, 6), None, LIMITS)
        with pytest.raises(ValueError):
            deadline("accepted", 1, T0, datetime(2024, 5, 6), LIMITS)

    def test_deadline_is_a_tuple(self):
        kind, at = deadline("reported", 1, T0, None, LIMITS)
        assert (kind, at) == ("accept", T0 + 30 * MIN)


# -------------------------------------------------------------- due_escalation


def snapshot(state="dispatched", level=1, accepted_at=None, category=None, started=T0):
    return ActionSnapshot(
        action_id=501,
        state=state,
        level=level,
        level_started_at=started,
        accepted_at=accepted_at,
        category=category,
    )


class TestDueEscalation:
    @pytest.mark.parametrize("state", ACCEPT_STATES)
    def test_not_yet_due(self, state):
        assert due_escalation(snapshot(state), LIMITS, T0 + 29 * MIN) is None

    @pytest.mark.parametrize("level", [1, 2])
    def test_overdue_escalates(self, level):
        limit = LIMITS.accept_within[level]
        decision = due_escalation(snapshot(level=level), LIMITS, T0 + limit)  # due exactly at the deadline
        assert decision is not None
        assert decision.overdue and decision.escalate
        assert decision.level == level
        assert decision.next_level == level + 1
        assert decision.kind == "accept"
        assert decision.deadline == T0 + limit
        assert decision.overdue_by == timedelta(0)
        assert decision.action_id == 501

    def test_reason_accept(self):
        decision = due_escalation(snapshot(), LIMITS, T0 + 31 * MIN)
        assert decision.reason == "not accepted within 30 min at level 1"
        assert decision.overdue_by == MIN

    def test_reason_resolve(self):
        decision = due_escalation(
            snapshot("in_progress", level=2, accepted_at=T0), LIMITS, T0 + timedelta(hours=9)
        )
        assert decision.kind == "resolve"
        assert decision.reason == "not resolved within 8 h at level 2"
        assert decision.next_level == 3

    @pytest.mark.parametrize(("state", "accepted_at"), [("dispatched", None), ("accepted", T0)])
    def test_level_three_overdue_but_not_escalated(self, state, accepted_at):
        decision = due_escalation(
            snapshot(state, level=3, accepted_at=accepted_at), LIMITS, T0 + timedelta(days=2)
        )
        assert decision.overdue is True
        assert decision.escalate is False
        assert decision.level == decision.next_level == 3
        assert "at level 3 (command)" in decision.reason
        assert "no higher level" in decision.reason

    @pytest.mark.parametrize("state", NO_DEADLINE_STATES)
    def test_closed_states_never_due(self, state):
        assert due_escalation(snapshot(state), LIMITS, T0 + timedelta(days=30)) is None

    def test_after_escalation_clock_restarts(self):
        # The service sets level_started_at when escalating, so the next run is quiet.
        escalated_at = T0 + 31 * MIN
        assert due_escalation(snapshot(level=2, started=escalated_at), LIMITS, escalated_at + MIN) is None

    def test_limits_table_lookup(self):
        table = {"stairwell_light": LIMITS}
        decision = due_escalation(snapshot(category="stairwell_light"), table, T0 + timedelta(hours=1))
        assert decision is not None and decision.escalate

    def test_limits_table_missing_category(self):
        with pytest.raises(MissingLimits) as excinfo:
            due_escalation(snapshot(category="graffiti"), {"stairwell_light": LIMITS}, T0)
        assert excinfo.value.category == "graffiti"

    def test_limits_table_needs_category(self):
        with pytest.raises(ValueError, match="category"):
            due_escalation(snapshot(), {"stairwell_light": LIMITS}, T0)

    def test_limits_for_other_category_rejected(self):
        with pytest.raises(ValueError, match="graffiti"):
            due_escalation(snapshot(category="graffiti"), LIMITS, T0)

    def test_matching_category_accepted(self):
        assert due_escalation(snapshot(category="stairwell_light"), LIMITS, T0) is None

    def test_naive_now_rejected(self):
        with pytest.raises(ValueError):
            due_escalation(snapshot(), LIMITS, datetime(2024, 5, 6, 3, 0))

    @pytest.mark.parametrize("level", [0, 4])
    def test_bad_level(self, level):
        with pytest.raises(ValueError):
            due_escalation(snapshot(level=level), LIMITS, T0)


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(0), "0 min"),
        (timedelta(seconds=30), "0 min"),
        (30 * MIN, "30 min"),
        (60 * MIN, "1 h"),
        (90 * MIN, "1 h 30 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=2, hours=3, minutes=5), "2 days 3 h 5 min"),
    ],
)
def test_format_duration(span, text):
    assert format_duration(span) == text


# ----------------------------------------------------------------------- grids

# Root 1 (level 3) -> big grids 10, 20 (level 2) -> micro-grids 11, 12, 21 (level 1);
# micro-grid 30 hangs directly under the root (no big grid yet).
LEVELS = {1: 3, 10: 2, 20: 2, 11: 1, 12: 1, 21: 1, 30: 1}
PARENTS: dict[int, int | None] = {1: None, 10: 1, 20: 1, 11: 10, 12: 10, 21: 20, 30: 1}


class TestNextLevelGrid:
    @pytest.mark.parametrize(("grid", "expected"), [(11, 10), (12, 10), (21, 20), (10, 1), (20, 1), (30, 1)])
    def test_next(self, grid, expected):
        assert next_level_grid(grid, LEVELS, PARENTS) == expected

    def test_chain_to_root(self):
        assert next_level_grid(next_level_grid(11, LEVELS, PARENTS), LEVELS, PARENTS) == 1

    def test_root_has_no_next(self):
        with pytest.raises(ValueError, match="command"):
            next_level_grid(1, LEVELS, PARENTS)

    def test_unknown_grid(self):
        with pytest.raises(ValueError):
            next_level_grid(99, LEVELS, PARENTS)

    def test_missing_level(self):
        with pytest.raises(ValueError):
            next_level_grid(11, {11: 1}, PARENTS)

    def test_cycle_detected(self):
        with pytest.raises(ValueError, match="cycle"):
            next_level_grid(11, {11: 1, 12: 1}, {11: 12, 12: 11})

    def test_dangling_parent(self):
        with pytest.raises(ValueError):
            next_level_grid(11, {11: 1}, {11: 77})


class TestHandlingGrid:
    @pytest.mark.parametrize(
        ("grid", "level", "expected"),
        [(11, 1, 11), (11, 2, 10), (11, 3, 1), (10, 1, 10), (10, 2, 10), (10, 3, 1), (30, 2, 1), (1, 1, 1)],
    )
    def test_handling(self, grid, level, expected):
        assert handling_grid(grid, level, LEVELS, PARENTS) == expected

    def test_bad_level(self):
        with pytest.raises(ValueError):
            handling_grid(11, 4, LEVELS, PARENTS)

    def test_no_grid_high_enough(self):
        with pytest.raises(ValueError):
            handling_grid(11, 3, {11: 1, 10: 2}, {11: 10, 10: None})


# ---------------------------------------------------------------------- colour


class TestGridColour:
    @pytest.mark.parametrize(
        ("open_", "overdue", "escalated", "colour"),
        [
            (0, 0, 0, "green"),
            (9, 0, 2, "green"),
            (10, 0, 0, "yellow"),  # queue piling up
            (1, 1, 0, "yellow"),  # something late
            (4, 4, 2, "yellow"),
            (5, 5, 0, "red"),  # many late
            (3, 0, 3, "red"),  # many escalated
            (50, 10, 10, "red"),
        ],
    )
    def test_default_thresholds(self, open_, overdue, escalated, colour):
        assert grid_colour(open_, overdue, escalated) == colour

    def test_defaults_documented_values(self):
        t = GridColourThresholds()
        assert (t.yellow_open, t.yellow_overdue, t.red_overdue, t.red_escalated) == (10, 1, 5, 3)

    def test_custom_thresholds(self):
        lenient = GridColourThresholds(yellow_open=20, yellow_overdue=2, red_overdue=8, red_escalated=5)
        assert grid_colour(15, 1, 4, lenient) == "green"
        assert grid_colour(20, 0, 0, lenient) == "yellow"
        assert grid_colour(0, 8, 0, lenient) == "red"
        assert grid_colour(0, 0, 5, thresholds=lenient) == "red"

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"yellow_open": 0},
            {"red_escalated": -1},
            {"yellow_overdue": True},
            {"yellow_overdue": 3, "red_overdue": 2},
        ],
    )
    def test_invalid_thresholds(self, kwargs):
        with pytest.raises(ValueError):
            GridColourThresholds(**kwargs)

    @pytest.mark.parametrize("counts", [(-1, 0, 0), (0, -1, 0), (0, 0, -1)])
    def test_negative_counts(self, counts):
        with pytest.raises(ValueError):
            grid_colour(*counts)

"""Action and micro-wish state machines.

The expected tables are written out here independently of the module's tables, so a
wrong edit to the module's data shows up as a failing test rather than being copied.
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.volunteers.lifecycle import (
    ACTION_STATES,
    ACTION_VERBS,
    FINAL_STATES,
    OPEN_STATES,
    SETTLED_STATES,
    IllegalTransition,
    Transition,
    allowed_verbs,
    available_verbs,
    follow_up,
    may,
    next_state,
)

OPEN = ["reported", "triaged", "dispatched", "accepted", "in_progress", "reopened"]

# Minimal valid flags per verb (escalate uses level 1 so it is legal everywhere).
FLAGS = {
    "decline": {"others_remaining": True},
    "resolve": {"outcome": "fixed the stairwell light"},
    "reopen": {"reason": "light is out again"},
    "escalate": {"level": 1},
    "merge": {"survivor_id": 42},
}

# (state, verb, flags, expected target) -- every legal action transition.
LEGAL_ACTION = [
    ("reported", "triage", {}, "triaged"),
    *[(s, "dispatch", {}, "dispatched") for s in ("reported", "triaged", "reopened", "dispatched")],
    ("dispatched", "accept", {}, "accepted"),
    ("dispatched", "decline", {"others_remaining": True}, "dispatched"),
    ("dispatched", "decline", {"others_remaining": False}, "triaged"),
    ("accepted", "start", {}, "in_progress"),
    ("accepted", "resolve", FLAGS["resolve"], "resolved"),
    ("in_progress", "resolve", FLAGS["resolve"], "resolved"),
    ("resolved", "verify", {}, "verified"),
    ("verified", "close", {}, "closed"),
    *[(s, "reopen", FLAGS["reopen"], "reopened") for s in ("resolved", "verified", "closed")],
    *[(s, "dispute", FLAGS["reopen"], "reopened") for s in ("resolved", "verified", "closed")],
    *[(s, "escalate", {"level": lvl}, s) for s in OPEN for lvl in (1, 2)],
    *[(s, "merge", FLAGS["merge"], "duplicate") for s in OPEN],
    *[(s, "cancel", {}, "cancelled") for s in OPEN],
]

LEGAL_PAIRS = {(state, verb) for state, verb, _, _ in LEGAL_ACTION}
ALL_VERBS = [*ACTION_VERBS, "dispute"]
ILLEGAL_ACTION = [(s, v) for s in ACTION_STATES for v in ALL_VERBS if (s, v) not in LEGAL_PAIRS]


def _label(value):
    return str(value) if not isinstance(value, dict) else ",".join(f"{k}={v}" for k, v in value.items())


class TestActionStates:
    def test_state_partition(self):
        # Every state is exactly one of open / settled / final.
        assert OPEN_STATES | SETTLED_STATES | FINAL_STATES == set(ACTION_STATES)
        assert not OPEN_STATES & SETTLED_STATES
        assert not OPEN_STATES & FINAL_STATES
        assert not SETTLED_STATES & FINAL_STATES
        assert set(OPEN) == OPEN_STATES

    def test_action_states_listed_once(self):
        assert len(ACTION_STATES) == len(set(ACTION_STATES)) == 11

    def test_every_verb_target_is_a_known_state(self):
        for rule in ACTION_VERBS.values():
            assert rule.sources <= set(ACTION_STATES)
            targets = (
                []
                if rule.target is None
                else [rule.target]
                if isinstance(rule.target, str)
                else [rule.target.if_true, rule.target.if_false]
            )
            assert set(targets) <= set(ACTION_STATES)


class TestNextState:
    @pytest.mark.parametrize(("state", "verb", "flags", "expected"), LEGAL_ACTION, ids=_label)
    def test_legal_transition(self, state, verb, flags, expected):
        assert next_state(state, verb, **flags) == expected

    @pytest.mark.parametrize(("state", "verb"), ILLEGAL_ACTION)
    def test_illegal_transition(self, state, verb):
        canonical = "reopen" if verb == "dispute" else verb
        with pytest.raises(IllegalTransition) as excinfo:
            next_state(state, verb, **FLAGS.get(canonical, {}))
        err = excinfo.value
        assert err.state == state
        assert err.verb == verb
        assert err.kind == "action"
        assert err.allowed == allowed_verbs(state)
        # The message names every allowed transition (or says there are none).
        text = str(err)
        assert f"cannot {verb}" in text and f"The action is {state};" in text
        if err.allowed:
            assert f"Possible from {state}: {', '.join(err.allowed)}." in text
        else:
            assert f"Possible from {state}: none (it is final)." in text

    def test_unknown_verb_is_illegal_and_lists_alternatives(self):
        with pytest.raises(IllegalTransition, match="Possible from reported: triage, dispatch, escalate"):
            next_state("reported", "teleport")

    def test_unknown_state_is_a_value_error(self):
        with pytest.raises(ValueError, match="unknown state"):
            next_state("lost", "triage")

    @pytest.mark.parametrize("state", OPEN)
    def test_escalate_beyond_command_is_illegal(self, state):
        with pytest.raises(IllegalTransition, match="cannot escalate further") as excinfo:
            next_state(state, "escalate", level=3)
        assert "escalate" not in excinfo.value.allowed
        assert excinfo.value.detail

    @pytest.mark.parametrize("level", [0, 4, -1, "2", 2.0, True])
    def test_escalate_rejects_bad_level(self, level):
        with pytest.raises(ValueError, match="level"):
            next_state("reported", "escalate", level=level)

    def test_escalate_takes_optional_reason(self):
        assert next_state("accepted", "escalate", level=2, reason="overdue") == "accepted"

    @pytest.mark.parametrize(
        ("state", "verb", "missing"),
        [
            ("dispatched", "decline", "others_remaining"),
            ("accepted", "resolve", "outcome"),
            ("closed", "reopen", "reason"),
            ("resolved", "dispute", "reason"),
            ("reported", "escalate", "level"),
            ("triaged", "merge", "survivor_id"),
        ],
    )
    def test_required_flag_missing(self, state, verb, missing):
        with pytest.raises(ValueError, match=missing):
            next_state(state, verb)

    @pytest.mark.parametrize(
        ("state", "verb", "flags"),
        [
            ("accepted", "resolve", {"outcome": "   "}),
            ("accepted", "resolve", {"outcome": 3}),
            ("closed", "reopen", {"reason": ""}),
            ("dispatched", "decline", {"others_remaining": "yes"}),
            ("dispatched", "decline", {"others_remaining": 1}),
            ("triaged", "merge", {"survivor_id": 0}),
            ("triaged", "merge", {"survivor_id": "7"}),
            ("triaged", "merge", {"survivor_id": True}),
            ("reported", "cancel", {"reason": 12}),
        ],
        ids=_label,
    )
    def test_invalid_flag_values(self, state, verb, flags):
        with pytest.raises(ValueError):
            next_state(state, verb, **flags)

    def test_unknown_flag_is_a_type_error(self):
        # A typo must not pass silently.
        with pytest.raises(TypeError, match="outcom"):
            next_state("accepted", "resolve", outcome="done", outcom="done")
        with pytest.raises(TypeError):
            next_state("reported", "triage", note="x")

    def test_merge_into_itself_rejected(self):
        with pytest.raises(ValueError, match="itself"):
            next_state("reported", "merge", survivor_id=5, action_id=5)
        assert next_state("reported", "merge", survivor_id=5, action_id=6) == "duplicate"

    def test_decline_reason_optional(self):
        assert next_state("dispatched", "decline", others_remaining=False, reason="ill") == "triaged"

    def test_illegal_checked_before_flags(self):
        # A wrong state is reported as such even if flags are also missing.
        with pytest.raises(IllegalTransition):
            next_state("closed", "resolve")

    def test_happy_path_walk(self):
        state = "reported"
        for verb, flags in [
            ("triage", {}),
            ("dispatch", {}),
            ("decline", {"others_remaining": True}),
            ("accept", {}),
            ("start", {}),
            ("resolve", {"outcome": "done"}),
            ("verify", {}),
        ]:
            state = next_state(state, verb, **flags)
        assert state == "verified"
        assert follow_up(state) == "close"
        state = next_state(state, follow_up(state))
        assert state == "closed"
        assert follow_up(state) is None
        assert next_state(state, "dispute", reason="not fixed") == "reopened"


EXPECTED_ALLOWED = {
    "reported": ["triage", "dispatch", "escalate", "merge", "cancel"],
    "triaged": ["dispatch", "escalate", "merge", "cancel"],
    "dispatched": ["dispatch", "accept", "decline", "escalate", "merge", "cancel"],
    "accepted": ["start", "resolve", "escalate", "merge", "cancel"],
    "in_progress": ["resolve", "escalate", "merge", "cancel"],
    "resolved": ["verify", "reopen"],
    "verified": ["close", "reopen"],
    "closed": ["reopen"],
    "reopened": ["dispatch", "escalate", "merge", "cancel"],
    "duplicate": [],
    "cancelled": [],
}


@pytest.mark.parametrize(("state", "expected"), EXPECTED_ALLOWED.items())
def test_allowed_verbs(state, expected):
    assert allowed_verbs(state) == expected


def test_allowed_verbs_unknown_state():
    with pytest.raises(ValueError):
        allowed_verbs("nowhere")


def test_allowed_verbs_covers_all_states():
    assert set(EXPECTED_ALLOWED) == set(ACTION_STATES)


# verb -> roles that may always do it
ROLE_TABLE = {
    "triage": {"coordinator"},
    "dispatch": {"coordinator"},
    "accept": {"assignee"},
    "decline": {"assignee"},
    "start": {"assignee"},
    "resolve": {"assignee", "coordinator"},
    "verify": {"coordinator", "reporter"},
    "close": {"coordinator", "reporter", "system"},
    "reopen": {"coordinator", "reporter"},
    "dispute": {"coordinator", "reporter"},
    "escalate": {"coordinator", "system"},
    "merge": {"coordinator"},
    "cancel": {"coordinator"},
}
ROLES = ["reporter", "coordinator", "assignee", "system"]


class TestMay:
    @pytest.mark.parametrize(("verb", "role"), [(v, r) for v in ROLE_TABLE for r in ROLES])
    def test_single_role(self, verb, role):
        assert may(verb, {role}) is (role in ROLE_TABLE[verb])

    @pytest.mark.parametrize("verb", ROLE_TABLE)
    def test_no_relation_may_do_nothing(self, verb):
        assert may(verb, set()) is False

    def test_any_matching_relation_suffices(self):
        assert may("accept", {"reporter", "assignee"})
        assert not may("triage", {"reporter", "assignee"})

    def test_accepts_any_collection(self):
        assert may("triage", ["coordinator"])
        assert may("triage", frozenset({"coordinator"}))

    @pytest.mark.parametrize("state", OPEN)
    def test_reporter_may_cancel_only_while_reported(self, state):
        assert may("cancel", {"reporter"}, state=state) is (state == "reported")

    def test_reporter_cancel_needs_state(self):
        # Without the state we cannot know the report is untouched: refuse.
        assert may("cancel", {"reporter"}) is False

    def test_coordinator_cancel_regardless_of_state(self):
        assert all(may("cancel", {"coordinator"}, state=s) for s in OPEN)

    def test_unknown_verb(self):
        with pytest.raises(ValueError, match="unknown verb"):
            may("teleport", {"coordinator"})


class TestAvailableVerbs:
    def test_reporter_on_fresh_report(self):
        assert available_verbs("reported", {"reporter"}) == ["cancel"]

    def test_reporter_after_triage_cannot_cancel(self):
        assert available_verbs("triaged", {"reporter"}) == []

    def test_assignee_on_dispatched(self):
        assert available_verbs("dispatched", {"assignee"}) == ["accept", "decline"]

    def test_reporter_on_resolved(self):
        assert available_verbs("resolved", {"reporter"}) == ["verify", "reopen"]

    def test_system_on_in_progress(self):
        assert available_verbs("in_progress", {"system"}) == ["escalate"]

    def test_final_states_offer_nothing(self):
        for state in FINAL_STATES:
            assert available_verbs(state, set(ROLES)) == []


class TestIllegalTransitionException:
    def test_attributes_and_message(self):
        err = IllegalTransition("action", "closed", "accept", ["reopen"])
        assert err.allowed == ["reopen"]
        assert str(err) == "The action is closed; it cannot accept. Possible from closed: reopen."

    def test_detail_in_message(self):
        err = IllegalTransition("action", "reported", "escalate", ["triage"], detail="already at level 3")
        assert "(already at level 3)" in str(err)

    def test_picklable(self):
        # Exceptions cross process boundaries in workers; they must round-trip.
        err = IllegalTransition("action", "closed", "accept", ["reopen"], detail="x")
        copy = pickle.loads(pickle.dumps(err))
        assert (copy.kind, copy.state, copy.verb, copy.allowed, copy.detail) == (
            "action", "closed", "accept", ["reopen"], "x")
        assert str(copy) == str(err)

    def test_allowed_list_is_copied(self):
        allowed = ["reopen"]
        err = IllegalTransition("action", "closed", "accept", allowed)
        allowed.append("x")
        assert err.allowed == ["reopen"]


# --------------------------------------------------------------------- timeline

AT = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)


class TestTransition:
    def test_record(self):
        entry = Transition("accept", "dispatched", "accepted", 17, AT, note="on my way")
        assert entry.changes_state
        assert entry.note == "on my way"

    def test_system_actor_and_same_state(self):
        entry = Transition("escalate", "dispatched", "dispatched", None, AT)
        assert entry.actor_id is None
        assert not entry.changes_state
        assert entry.note is None

    def test_naive_time_rejected(self):
        with pytest.raises(ValueError, match="timezone-aware"):
            Transition("accept", "dispatched", "accepted", 17, datetime(2024, 5, 6, 9, 30))

    def test_any_offset_accepted(self):
        shanghai = timezone(timedelta(hours=8))
        assert Transition("triage", "reported", "triaged", 1, AT.astimezone(shanghai)).at == AT

    def test_frozen(self):
        entry = Transition("accept", "dispatched", "accepted", 17, AT)
        with pytest.raises(AttributeError):
            entry.verb = "decline"  # type: ignore[misc]

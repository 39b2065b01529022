"""shared.lifecycle: the one transition-table mechanism (actions, charity items, wishes, bookings…)."""
from __future__ import annotations

import pickle
from types import SimpleNamespace

import pytest

from shared.errors import Conflict
from shared.lifecycle import Branch, IllegalTransition, Lifecycle, VerbRule, as_conflict


def _reason_is_text(state, verb, flags):
    if "reason" in flags and not isinstance(flags["reason"], str):
        raise ValueError("'reason' must be a text")


DOOR = Lifecycle(
    "door",
    ("closed", "open", "locked", "gone"),
    [
        VerbRule("open", frozenset({"closed"}), "open", frozenset({"tenant"})),
        VerbRule("close", frozenset({"open"}), "closed", frozenset({"tenant"}),
                 conditional_roles={"guest": frozenset({"open"})}),
        VerbRule("lock", frozenset({"closed"}), "locked", frozenset({"tenant"}), optional=("reason",)),
        VerbRule("knock", frozenset({"closed", "locked"}), None),
        VerbRule("try", frozenset({"locked"}), Branch("has_key", if_true="closed", if_false="locked"),
                 frozenset({"tenant"}), required=("has_key",)),
        VerbRule("remove", frozenset({"closed", "open", "locked"}), "gone", frozenset({"landlord"})),
    ],
    aliases={"shut": "close"},
    check=_reason_is_text,
)


def test_allowed_lists_the_verbs_of_a_state_in_table_order():
    assert DOOR.allowed("closed") == ["open", "lock", "knock", "remove"]
    assert DOOR.allowed("gone") == []
    with pytest.raises(ValueError, match="unknown state 'ajar'"):
        DOOR.allowed("ajar")


def test_next_follows_targets_branches_and_unchanged_states():
    assert DOOR.next("closed", "open") == "open"
    assert DOOR.next("open", "shut") == "closed"  # another name for close
    assert DOOR.next("locked", "knock") == "locked"
    assert DOOR.next("locked", "try", has_key=True) == "closed"
    assert DOOR.next("locked", "try", has_key=False) == "locked"


def test_a_step_the_table_does_not_have_is_illegal_and_names_what_is_possible():
    with pytest.raises(IllegalTransition) as refused:
        DOOR.next("gone", "open")
    assert (refused.value.kind, refused.value.state, refused.value.verb, refused.value.allowed) == (
        "door", "gone", "open", [])
    assert str(refused.value) == "The door is gone; it cannot open. Possible from gone: none (it is final)."
    with pytest.raises(IllegalTransition, match="Possible from open: close, remove."):
        DOOR.next("open", "teleport")


def test_flags_are_checked():
    with pytest.raises(ValueError, match="requires: has_key"):
        DOOR.next("locked", "try")
    with pytest.raises(TypeError, match="does not take flag"):
        DOOR.next("closed", "open", reason="x")
    with pytest.raises(ValueError, match="must be a text"):
        DOOR.next("closed", "lock", reason=3)
    assert DOOR.next("closed", "lock", reason="night") == "locked"
    with pytest.raises(ValueError, match="unknown state"):
        DOOR.next("ajar", "open")


def test_can_and_sources():
    assert DOOR.can("closed", "open") and not DOOR.can("open", "open") and not DOOR.can("open", "fly")
    assert DOOR.can("open", "shut")
    assert DOOR.sources("remove") == ["closed", "open", "locked"]  # in the order of the states
    with pytest.raises(ValueError, match="unknown verb"):
        DOOR.sources("fly")


def test_may_checks_roles_and_state_dependent_grants():
    assert DOOR.may("open", {"tenant"})
    assert not DOOR.may("open", {"guest"})
    assert not DOOR.may("close", {"guest"})  # without the state the grant is not given
    assert DOOR.may("shut", {"guest"}, state="open")
    assert DOOR.may("knock", set())  # a rule naming no roles is not checked by the table
    assert DOOR.available("closed", {"guest"}) == ["knock"]
    with pytest.raises(ValueError, match="unknown verb"):
        DOOR.may("fly", {"tenant"})


def test_move_sets_the_state_attribute_only_when_the_step_exists():
    row = SimpleNamespace(status="closed", state="open")
    assert DOOR.move(row, "open") == "open" and row.status == "open"
    assert DOOR.move(row, "close", attr="state") == "closed" and row.state == "closed"
    with pytest.raises(IllegalTransition):
        DOOR.move(row, "open", attr="status")
    assert row.status == "open"


def test_a_refusal_is_answered_as_the_apis_409():
    refusal = DOOR.refuse("open", "lock", detail="someone is inside")
    assert str(refusal) == "The door is open; it cannot lock (someone is inside). Possible from open: close, remove."
    conflict = refusal.conflict()
    assert isinstance(conflict, Conflict) and conflict.status == 409
    assert conflict.to_problem() == {
        "type": "about:blank", "title": "Conflict", "status": 409, "detail": str(refusal),
        "state": "open", "allowed": ["close", "remove"]}

    @as_conflict()
    def use_case():
        DOOR.next("gone", "open")

    with pytest.raises(Conflict) as answered:
        use_case()
    assert answered.value.extra == {"state": "gone", "allowed": []}
    with pytest.raises(KeyError), as_conflict():
        raise KeyError("other errors pass through")


def test_a_refusal_survives_pickling_and_copies_allowed():
    allowed = ["close"]
    refusal = IllegalTransition("door", "open", "lock", allowed, detail="x")
    allowed.append("y")
    copy = pickle.loads(pickle.dumps(refusal))
    assert (copy.kind, copy.state, copy.verb, copy.allowed, copy.detail) == ("door", "open", "lock", ["close"], "x")
    assert str(copy) == str(refusal)


def test_a_table_naming_an_unknown_state_is_refused():
    with pytest.raises(ValueError, match="unknown state"):
        Lifecycle("door", ("closed",), [VerbRule("open", frozenset({"closed"}), "open")])

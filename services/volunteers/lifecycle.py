"""The state machine of actions (reported problems), expressed as data (a micro-wish's is charity's: `charity.rules`).

Pure domain code: no database, no nameko, no clock.  The service layer loads a row,
asks this module which state the row may move to, checks the actor with :func:`may`,
and records a :class:`Transition` on the timeline.

Two kinds of failure are kept apart on purpose so the gateway can map them to
different HTTP statuses:

* :class:`IllegalTransition` -- the verb is not possible from the current state
  (a conflict with the row as it is: 409).
* ``ValueError`` / ``TypeError`` -- the caller's input is wrong (a missing outcome
  text, a blank reason, an unknown flag: 400/422).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ACTION_STATES",
    "ACTION_VERBS",
    "AUTO_FOLLOW_UP",
    "Branch",
    "FINAL_STATES",
    "IllegalTransition",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "OPEN_STATES",
    "ROLES",
    "SETTLED_STATES",
    "Transition",
    "VERB_ALIASES",
    "VerbRule",
    "allowed_verbs",
    "available_verbs",
    "follow_up",
    "may",
    "next_state",
]

#: Grid / escalation levels: 1 micro-grid (grid workers), 2 big grid (branch
#: secretary), 3 sub-district command.  Nothing escalates past the command.
MIN_LEVEL = 1
MAX_LEVEL = 3


class IllegalTransition(Exception):
    """A verb was applied to a state that does not allow it.

    ``allowed`` lists the verbs that *are* possible from ``state`` so the message
    (and an API error body built from the attributes) tells the caller what to do
    instead.  ``detail`` explains guard failures such as escalating past level 3.
    """

    def __init__(self, state: str, action: str, allowed: list[str], detail: str | None = None) -> None:
        # Pass the raw arguments to Exception so pickling / copying rebuilds the
        # exception faithfully (Exception.__reduce__ calls cls(*args)).
        super().__init__(state, action, list(allowed), detail)
        self.state = state
        self.action = action
        self.allowed = list(allowed)
        self.detail = detail

    def __str__(self) -> str:
        allowed_text = ", ".join(self.allowed) if self.allowed else "none"
        message = f"cannot {self.action!r} an item in state {self.state!r}"
        if self.detail:
            message += f" ({self.detail})"
        return f"{message}; allowed transitions: {allowed_text}"


@dataclass(frozen=True)
class Branch:
    """A target that depends on a boolean flag supplied by the caller.

    Used by ``decline``: the state machine cannot know whether other candidates are
    still waiting to answer, so the service tells it.
    """

    flag: str
    if_true: str
    if_false: str

    def resolve(self, flags: Mapping[str, Any]) -> str:
        return self.if_true if flags[self.flag] else self.if_false


@dataclass(frozen=True)
class VerbRule:
    """One row of a transition table.

    ``target`` is the resulting state, ``None`` for "state unchanged" (escalation only
    changes the level), or a :class:`Branch`.  ``roles`` may always perform the verb;
    ``conditional_roles`` maps a role to the states in which it is additionally
    allowed (the reporter may cancel only while the report is still untouched).
    ``required`` flags must be supplied; ``optional`` flags may be.
    """

    verb: str
    sources: frozenset[str]
    target: str | Branch | None
    roles: frozenset[str]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    conditional_roles: Mapping[str, frozenset[str]] = field(default_factory=dict)


# --------------------------------------------------------------------------- actions

ACTION_STATES: tuple[str, ...] = (
    "reported",
    "triaged",
    "dispatched",
    "accepted",
    "in_progress",
    "resolved",
    "verified",
    "closed",
    "reopened",
    "duplicate",
    "cancelled",
)

#: Work is still pending: these states carry deadlines and can escalate, be merged or
#: be cancelled.
OPEN_STATES: frozenset[str] = frozenset(
    {"reported", "triaged", "dispatched", "accepted", "in_progress", "reopened"}
)
#: Work is done but the reporter may still dispute it.
SETTLED_STATES: frozenset[str] = frozenset({"resolved", "verified", "closed"})
#: No verb leads out of these.
FINAL_STATES: frozenset[str] = frozenset({"duplicate", "cancelled"})

#: Who can act.  "system" is the scheduler (escalation timer, auto-close).
ROLES: frozenset[str] = frozenset({"reporter", "coordinator", "assignee", "system"})

_COORDINATOR = frozenset({"coordinator"})

ACTION_VERBS: Mapping[str, VerbRule] = {
    rule.verb: rule
    for rule in (
        VerbRule("triage", frozenset({"reported"}), "triaged", _COORDINATOR),
        # dispatched -> dispatched is a re-dispatch to new candidates after everyone
        # asked so far declined (or the coordinator wants to widen the circle).
        VerbRule(
            "dispatch",
            frozenset({"reported", "triaged", "reopened", "dispatched"}),
            "dispatched",
            _COORDINATOR,
        ),
        VerbRule("accept", frozenset({"dispatched"}), "accepted", frozenset({"assignee"})),
        # Declining keeps the action dispatched while other candidates may still
        # accept; when the last one declines it goes back to the coordinator's queue.
        VerbRule(
            "decline",
            frozenset({"dispatched"}),
            Branch("others_remaining", if_true="dispatched", if_false="triaged"),
            frozenset({"assignee"}),
            required=("others_remaining",),
            optional=("reason",),
        ),
        VerbRule("start", frozenset({"accepted"}), "in_progress", frozenset({"assignee"})),
        VerbRule(
            "resolve",
            frozenset({"accepted", "in_progress"}),
            "resolved",
            frozenset({"assignee", "coordinator"}),
            required=("outcome",),
        ),
        # verify lands in "verified"; the service then applies the automatic
        # follow-up "close" (see AUTO_FOLLOW_UP) so the timeline shows both steps.
        VerbRule("verify", frozenset({"resolved"}), "verified", frozenset({"coordinator", "reporter"})),
        VerbRule(
            "close",
            frozenset({"verified"}),
            "closed",
            frozenset({"coordinator", "reporter", "system"}),
        ),
        VerbRule(
            "reopen",
            frozenset({"resolved", "verified", "closed"}),
            "reopened",
            frozenset({"reporter", "coordinator"}),
            required=("reason",),
        ),
        VerbRule(
            "escalate",
            OPEN_STATES,
            None,
            frozenset({"coordinator", "system"}),
            required=("level",),
            optional=("reason",),
        ),
        VerbRule(
            "merge",
            OPEN_STATES,
            "duplicate",
            _COORDINATOR,
            required=("survivor_id",),
            optional=("action_id",),
        ),
        VerbRule(
            "cancel",
            OPEN_STATES,
            "cancelled",
            _COORDINATOR,
            optional=("reason",),
            conditional_roles={"reporter": frozenset({"reported"})},
        ),
    )
}

#: Alternative names accepted by the API.  "dispute" is what the reporter sees in the
#: mini-programme; it is the same transition as "reopen".
VERB_ALIASES: Mapping[str, str] = {"dispute": "reopen"}

#: Transitions the service applies on its own right after reaching a state.
AUTO_FOLLOW_UP: Mapping[str, str] = {"verified": "close"}


# --------------------------------------------------------------------- flag checks


def _non_blank_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name!r} must be a non-empty text")


def _optional_text(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name!r} must be a text")


def _positive_id(name: str, value: Any) -> None:
    # bool is an int subclass; True as an id is always a bug.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name!r} must be a positive integer id")


def _level(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_LEVEL <= value <= MAX_LEVEL:
        raise ValueError(f"{name!r} must be an integer between {MIN_LEVEL} and {MAX_LEVEL}")


def _boolean(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name!r} must be True or False")


_FLAG_CHECKS: Mapping[str, Callable[[str, Any], None]] = {
    "outcome": _non_blank_text,
    "survivor_id": _positive_id,
    "action_id": _positive_id,
    "level": _level,
    "others_remaining": _boolean,
}


def _check_flag(name: str, value: Any, required: bool) -> None:
    if name == "reason":
        # A reason is mandatory where it is required (reopen) and free otherwise.
        (_non_blank_text if required else _optional_text)(name, value)
        return
    _FLAG_CHECKS[name](name, value)


# ----------------------------------------------------------------- generic engine


def _canonical(verb: str, aliases: Mapping[str, str]) -> str:
    return aliases.get(verb, verb)


def _allowed(table: Mapping[str, VerbRule], state: str) -> list[str]:
    return [verb for verb, rule in table.items() if state in rule.sources]


def _next(
    table: Mapping[str, VerbRule],
    states: Collection[str],
    aliases: Mapping[str, str],
    state: str,
    verb: str,
    flags: Mapping[str, Any],
) -> str:
    if state not in states:
        raise ValueError(f"unknown state {state!r}")
    canonical = _canonical(verb, aliases)
    rule = table.get(canonical)
    if rule is None or state not in rule.sources:
        raise IllegalTransition(state, verb, _allowed(table, state))

    # Strict about flag names: a typo such as ``outcom=`` must not pass silently.
    unknown = sorted(set(flags) - set(rule.required) - set(rule.optional))
    if unknown:
        raise TypeError(f"{canonical!r} does not take flag(s): {', '.join(unknown)}")
    missing = [name for name in rule.required if flags.get(name) is None]
    if missing:
        raise ValueError(f"{canonical!r} requires: {', '.join(missing)}")
    for name, value in flags.items():
        _check_flag(name, value, required=name in rule.required)

    if canonical == "escalate" and flags["level"] >= MAX_LEVEL:
        raise IllegalTransition(
            state,
            verb,
            [v for v in _allowed(table, state) if v != "escalate"],
            detail=f"already at level {MAX_LEVEL} (command); cannot escalate further",
        )
    if canonical == "merge" and flags.get("action_id") == flags["survivor_id"]:
        raise ValueError("an action cannot be merged into itself")

    if rule.target is None:
        return state
    if isinstance(rule.target, Branch):
        return rule.target.resolve(flags)
    return rule.target


def _may(
    table: Mapping[str, VerbRule],
    aliases: Mapping[str, str],
    verb: str,
    actor_relations: Collection[str],
    state: str | None,
) -> bool:
    rule = table.get(_canonical(verb, aliases))
    if rule is None:
        raise ValueError(f"unknown verb {verb!r}")
    relations = set(actor_relations)
    if relations & rule.roles:
        return True
    # State-dependent grants only apply when the caller tells us the state; without
    # it we answer conservatively.
    return state is not None and any(
        role in relations and state in states for role, states in rule.conditional_roles.items()
    )


# ------------------------------------------------------------------- action API


def allowed_verbs(state: str) -> list[str]:
    """Verbs possible from an action ``state``, in table order (empty for final states).

    Role checks are separate (:func:`may`); this answers "what could happen next".
    """
    if state not in ACTION_STATES:
        raise ValueError(f"unknown action state {state!r}")
    return _allowed(ACTION_VERBS, state)


def next_state(state: str, verb: str, **flags: Any) -> str:
    """Return the state an action reaches by applying ``verb`` in ``state``.

    Flags by verb: ``decline(others_remaining: bool, reason=None)``,
    ``resolve(outcome: str)``, ``reopen``/``dispute(reason: str)``,
    ``escalate(level: int, reason=None)`` (current level; the state is unchanged and
    level 3 cannot escalate), ``merge(survivor_id: int, action_id=None)``,
    ``cancel(reason=None)``.

    Raises :class:`IllegalTransition` if the verb is impossible from ``state``,
    ``ValueError`` for missing/invalid flag values and ``TypeError`` for flags the
    verb does not take.
    """
    return _next(ACTION_VERBS, ACTION_STATES, VERB_ALIASES, state, verb, flags)


def may(verb: str, actor_relations: Collection[str], *, state: str | None = None) -> bool:
    """Whether an actor with these relations to the action may perform ``verb``.

    ``actor_relations`` is a subset of :data:`ROLES` describing how the actor relates
    to *this* action (e.g. ``{"reporter"}``, ``{"assignee", "coordinator"}``).  Pass
    ``state`` for state-dependent grants: the reporter may cancel only while the
    action is still ``reported``; without ``state`` that grant is not given.
    """
    return _may(ACTION_VERBS, VERB_ALIASES, verb, actor_relations, state)


def available_verbs(state: str, actor_relations: Collection[str]) -> list[str]:
    """Verbs this actor may perform right now (for buttons in the UI)."""
    return [verb for verb in allowed_verbs(state) if may(verb, actor_relations, state=state)]


def follow_up(state: str) -> str | None:
    """The verb the service applies automatically after reaching ``state``, if any."""
    return AUTO_FOLLOW_UP.get(state)


# ------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Transition:
    """One timeline entry of an action or wish.

    ``actor_id`` is ``None`` for the system (escalation timer, automatic close).
    ``at`` must be timezone-aware: timelines are compared across services.
    """

    verb: str
    from_state: str
    to_state: str
    actor_id: int | None
    at: datetime
    note: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("Transition.at must be timezone-aware")

    @property
    def changes_state(self) -> bool:
        """False for same-state transitions (escalation, re-dispatch, decline with others left)."""
        return self.from_state != self.to_state

"""The state machine of actions (reported problems), expressed as data (a micro-wish's is charity's: `charity.rules`).

Pure domain code: no database, no nameko, no clock.  The service layer loads a row,
asks this module which state the row may move to, checks the actor with :func:`may`,
and records a :class:`Transition` on the timeline.

The table is a :class:`shared.lifecycle.Lifecycle` (:data:`ACTIONS`), the one mechanism of
every state change; the functions here are its answers for actions.  Failures are
shared.lifecycle's: :class:`IllegalTransition` (409) versus ``ValueError`` /
``TypeError`` (the caller's input is wrong: 400/422).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.lifecycle import Branch, IllegalTransition, Lifecycle, VerbRule

__all__ = [
    "ACTIONS",
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


def _check(state: str, verb: str, flags: Mapping[str, Any]) -> None:
    """The flag values of an allowed step, and the guards the table cannot express."""
    rule = ACTION_VERBS[verb]
    for name, value in flags.items():
        if name == "reason":
            # A reason is mandatory where it is required (reopen) and free otherwise.
            (_non_blank_text if name in rule.required else _optional_text)(name, value)
        else:
            _FLAG_CHECKS[name](name, value)
    if verb == "escalate" and flags["level"] >= MAX_LEVEL:
        raise IllegalTransition(
            ACTIONS.kind,
            state,
            verb,
            [v for v in ACTIONS.allowed(state) if v != "escalate"],
            detail=f"already at level {MAX_LEVEL} (command); cannot escalate further",
        )
    if verb == "merge" and flags.get("action_id") == flags["survivor_id"]:
        raise ValueError("an action cannot be merged into itself")


#: The actions' transition table.
ACTIONS = Lifecycle("action", ACTION_STATES, ACTION_VERBS.values(), VERB_ALIASES, check=_check)


# ------------------------------------------------------------------- action API


def allowed_verbs(state: str) -> list[str]:
    """Verbs possible from an action ``state``, in table order (empty for final states).

    Role checks are separate (:func:`may`); this answers "what could happen next".
    """
    return ACTIONS.allowed(state)


def next_state(state: str, verb: str, **flags: Any) -> str:
    """Return the state an action reaches by applying ``verb`` in ``state``.

    Flags by verb: ``decline(others_remaining: bool, reason=None)``,
    ``resolve(outcome: str)``, ``reopen``/``dispute(reason: str)``,
    ``escalate(level: int, reason=None)`` (current level; the state is unchanged and
    level 3 cannot escalate), ``merge(survivor_id: int, action_id=None)``,
    ``cancel(reason=None)``.

    Raises :class:`IllegalTransition` if the verb is impossible from ``state``,
    ``ValueError`` for an unknown state or missing/invalid flag values and
    ``TypeError`` for flags the verb does not take.
    """
    return ACTIONS.next(state, verb, **flags)


def may(verb: str, actor_relations: Collection[str], *, state: str | None = None) -> bool:
    """Whether an actor with these relations to the action may perform ``verb``.

    ``actor_relations`` is a subset of :data:`ROLES` describing how the actor relates
    to *this* action (e.g. ``{"reporter"}``, ``{"assignee", "coordinator"}``).  Pass
    ``state`` for state-dependent grants: the reporter may cancel only while the
    action is still ``reported``; without ``state`` that grant is not given.
    """
    return ACTIONS.may(verb, actor_relations, state=state)


def available_verbs(state: str, actor_relations: Collection[str]) -> list[str]:
    """Verbs this actor may perform right now (for buttons in the UI)."""
    return ACTIONS.available(state, actor_relations)


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

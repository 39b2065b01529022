"""Transition tables: the one way a row's state changes, for every kind of row that has states.

Pure values (no database, no nameko, no clock). A :class:`Lifecycle` is a table of :class:`VerbRule` rows
(verb, the states it leaves, the state it leads to, who may do it, the flags it takes). Actions, charity
items, micro-wishes, bookings, their occurrences and waitlist entries each have one.

Two kinds of failure are kept apart so they answer different HTTP statuses:

* :class:`IllegalTransition` -- the verb is not a step from the row's state (a conflict with the row as it
  is). :meth:`IllegalTransition.conflict` (or :class:`as_conflict` around a use case) makes it the API's
  409, whose members ``state`` and ``allowed`` name where the row stands and what is possible from there.
* ``ValueError`` / ``TypeError`` -- the caller's input is wrong (an unknown state or verb, a missing or
  invalid flag, a flag the verb does not take: 400/422).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import ContextDecorator
from dataclasses import dataclass, field
from typing import Any

from shared.errors import Conflict

__all__ = ["Branch", "IllegalTransition", "Lifecycle", "VerbRule", "as_conflict"]


class IllegalTransition(Exception):
    """`verb` is not a step from `state` for this `kind` of row; `allowed` lists the verbs that are.

    ``detail`` explains a guard that refused a step the table has (escalating past the top level, someone
    else moving the row first).
    """

    def __init__(self, kind: str, state: str, verb: str, allowed: Iterable[str], detail: str | None = None) -> None:
        # The raw arguments go to Exception so pickling / copying rebuilds it (Exception.__reduce__).
        super().__init__(kind, state, verb, list(allowed), detail)
        self.kind = kind
        self.state = state
        self.verb = verb
        self.allowed = list(allowed)
        self.detail = detail

    def __str__(self) -> str:
        possible = ", ".join(self.allowed) if self.allowed else "none (it is final)"
        why = f" ({self.detail})" if self.detail else ""
        return (f"The {self.kind} is {self.state}; it cannot {self.verb.replace('_', ' ')}{why}. "
                f"Possible from {self.state}: {possible}.")

    def conflict(self) -> Conflict:
        """The API's answer: 409 saying so, with members `state` and `allowed`."""
        return Conflict(str(self), extra={"state": self.state, "allowed": self.allowed})


class as_conflict(ContextDecorator):  # noqa: N801 (used like a function: `@as_conflict()`, `with as_conflict():`)
    """Around a use case: an :class:`IllegalTransition` escaping it is answered as its 409."""

    def __enter__(self) -> as_conflict:
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        if isinstance(exc, IllegalTransition):
            raise exc.conflict() from None
        return False


@dataclass(frozen=True)
class Branch:
    """A target that depends on a boolean flag supplied by the caller (the table cannot know it)."""

    flag: str
    if_true: str
    if_false: str

    def resolve(self, flags: Mapping[str, Any]) -> str:
        return self.if_true if flags[self.flag] else self.if_false


@dataclass(frozen=True)
class VerbRule:
    """One row of a transition table.

    ``target`` is the resulting state, ``None`` for "state unchanged", or a :class:`Branch`. ``roles`` may
    always perform the verb; ``conditional_roles`` maps a role to the states in which it is additionally
    allowed. A rule with neither is not checked by the table (the service decides who may). ``required``
    flags must be supplied to :meth:`Lifecycle.next`; ``optional`` flags may be.
    """

    verb: str
    sources: frozenset[str]
    target: str | Branch | None
    roles: frozenset[str] = frozenset()
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    conditional_roles: Mapping[str, frozenset[str]] = field(default_factory=dict)


#: Checks a step's flag values (and any guard of the domain) once the table allows it:
#: ``check(state, verb, flags)`` with the canonical verb; raises ValueError or IllegalTransition.
Check = Callable[[str, str, Mapping[str, Any]], None]


class Lifecycle:
    """One kind of row's transition table: its states, its verbs (in the order :meth:`allowed` lists them)
    and the other names the API accepts for some verbs."""

    def __init__(self, kind: str, states: Iterable[str], verbs: Iterable[VerbRule],
                 aliases: Mapping[str, str] | None = None, check: Check | None = None) -> None:
        self.kind = kind
        self.states = tuple(states)
        self.verbs: Mapping[str, VerbRule] = {rule.verb: rule for rule in verbs}
        self.aliases: Mapping[str, str] = dict(aliases or {})
        self._check = check
        for rule in self.verbs.values():
            targets = [rule.target.if_true, rule.target.if_false] if isinstance(rule.target, Branch) else [
                rule.target]
            unknown = (set(rule.sources) | {t for t in targets if t is not None}) - set(self.states)
            if unknown:
                raise ValueError(f"{kind} verb {rule.verb!r} names unknown state(s): {', '.join(sorted(unknown))}")

    def __repr__(self) -> str:
        return f"Lifecycle({self.kind!r})"

    def _state(self, state: str) -> str:
        if state not in self.states:
            raise ValueError(f"unknown state {state!r} ({self.kind})")
        return state

    def rule(self, verb: str) -> VerbRule:
        """The row of `verb` (or of the verb it is another name for); ValueError for an unknown verb."""
        rule = self.verbs.get(self.aliases.get(verb, verb))
        if rule is None:
            raise ValueError(f"unknown verb {verb!r} ({self.kind})")
        return rule

    def allowed(self, state: str) -> list[str]:
        """The verbs possible from `state`, in the table's order (empty for a final state)."""
        self._state(state)
        return [verb for verb, rule in self.verbs.items() if state in rule.sources]

    def can(self, state: str, verb: str) -> bool:
        """Whether `verb` is a step from `state` (flags and guards aside)."""
        rule = self.verbs.get(self.aliases.get(verb, verb))
        return rule is not None and state in rule.sources

    def sources(self, verb: str) -> list[str]:
        """The states from which `verb` is a step, in the order of the states (for a guarded UPDATE's WHERE)."""
        rule = self.rule(verb)
        return [state for state in self.states if state in rule.sources]

    def refuse(self, state: str, verb: str, detail: str | None = None) -> IllegalTransition:
        """The refusal of `verb` from `state`, naming the verbs possible from there."""
        return IllegalTransition(self.kind, state, verb, self.allowed(state), detail)

    def next(self, state: str, verb: str, **flags: Any) -> str:
        """The state `verb` leads to from `state`.

        IllegalTransition when it is not a step from `state`; ValueError for an unknown state, a missing or
        invalid flag; TypeError for a flag the verb does not take (a typo must not pass silently).
        """
        self._state(state)
        if not self.can(state, verb):
            raise self.refuse(state, verb)
        rule = self.rule(verb)
        unknown = sorted(set(flags) - set(rule.required) - set(rule.optional))
        if unknown:
            raise TypeError(f"{rule.verb!r} does not take flag(s): {', '.join(unknown)}")
        missing = [name for name in rule.required if flags.get(name) is None]
        if missing:
            raise ValueError(f"{rule.verb!r} requires: {', '.join(missing)}")
        if self._check is not None:
            self._check(state, rule.verb, flags)
        if rule.target is None:
            return state
        if isinstance(rule.target, Branch):
            return rule.target.resolve(flags)
        return rule.target

    def move(self, row: Any, verb: str, attr: str = "status", **flags: Any) -> str:
        """Set the row's state attribute to the state `verb` leads to (or raise as :meth:`next`); returns it."""
        after = self.next(getattr(row, attr), verb, **flags)
        setattr(row, attr, after)
        return after

    def may(self, verb: str, relations: Collection[str], state: str | None = None) -> bool:
        """Whether an actor with these relations to the row may perform `verb`.

        Pass `state` for state-dependent grants (``conditional_roles``); without it they are not given. A
        rule that names no roles is not checked here (True).
        """
        rule = self.rule(verb)
        if not rule.roles and not rule.conditional_roles:
            return True
        relations = set(relations)
        if relations & rule.roles:
            return True
        return state is not None and any(
            role in relations and state in states for role, states in rule.conditional_roles.items())

    def available(self, state: str, relations: Collection[str]) -> list[str]:
        """The verbs this actor may perform from `state` now (buttons in a UI)."""
        return [verb for verb in self.allowed(state) if self.may(verb, relations, state=state)]

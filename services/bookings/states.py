"""The states of bookings, their occurrences and waitlist entries, as data: (state, verb) -> next state.

Pure domain code (no database, no nameko). Every status change of the service goes through
:meth:`Lifecycle.move` (or, for a guarded bulk UPDATE, :meth:`Lifecycle.next`), so a step that the table
does not allow is refused with a 409 that lists the steps that are possible from where the row stands.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.errors import Conflict


@dataclass(frozen=True)
class Lifecycle:
    """One kind of row's transition table."""

    kind: str
    steps: Mapping[tuple[str, str], str]

    def allowed(self, state: str) -> list[str]:
        """The verbs possible from `state`, in the table's order."""
        return [verb for (source, verb) in self.steps if source == state]

    def can(self, state: str, verb: str) -> bool:
        return (state, verb) in self.steps

    def next(self, state: str, verb: str) -> str:
        """The state `verb` leads to from `state`; 409 listing the allowed verbs when it is not a step."""
        try:
            return self.steps[(state, verb)]
        except KeyError:
            allowed = self.allowed(state)
            possible = ", ".join(allowed) if allowed else "none (it is final)"
            raise Conflict(f"The {self.kind} is {state}; it cannot {verb.replace('_', ' ')}. "
                           f"Possible from {state}: {possible}.",
                           extra={"state": state, "allowed": allowed}) from None

    def move(self, row, verb: str) -> str:
        """Set `row.status` to the state `verb` leads to (or 409); returns it."""
        row.status = self.next(row.status, verb)
        return row.status

    def sources(self, verb: str) -> list[str]:
        """The states from which `verb` is a step (for the WHERE of a guarded UPDATE)."""
        return [source for (source, name) in self.steps if name == verb]


#: A booking (the rule): `offered` is a waitlist hold that is not yet taken.
BOOKING = Lifecycle("booking", {
    ("pending", "approve"): "confirmed",
    ("pending", "reject"): "rejected",
    ("pending", "cancel"): "cancelled",
    ("pending", "expire"): "expired",
    ("confirmed", "cancel"): "cancelled",
    ("confirmed", "release"): "released",
    ("offered", "accept"): "confirmed",
    ("offered", "accept_for_approval"): "pending",
    ("offered", "lapse"): "lapsed",
    ("offered", "cancel"): "cancelled",
})

#: One occurrence row (one slot, one unit). `held`: kept for the first in line on the waitlist.
OCCURRENCE = Lifecycle("occurrence", {
    ("pending", "approve"): "confirmed",
    ("pending", "reject"): "rejected",
    ("pending", "cancel"): "cancelled",
    ("pending", "expire"): "expired",
    ("confirmed", "check_in"): "checked_in",
    ("confirmed", "cancel"): "cancelled",
    ("confirmed", "release"): "released",
    ("checked_in", "cancel"): "cancelled",
    ("held", "accept"): "confirmed",
    ("held", "accept_for_approval"): "pending",
    ("held", "lapse"): "lapsed",
    ("held", "cancel"): "cancelled",
})

#: A waitlist entry. `skipped`: when the freed slot was to be offered, the person broke a rule of the
#: space (the entry's `reason` says which); `closed`: the slot began before it freed up.
WAITLIST = Lifecycle("waitlist entry", {
    ("waiting", "offer"): "offered",
    ("waiting", "skip"): "skipped",
    ("waiting", "close"): "closed",
    ("waiting", "leave"): "left",
    ("offered", "accept"): "accepted",
    ("offered", "lapse"): "lapsed",
    ("offered", "leave"): "left",
})

#: Occurrence states that hold their slot (the exclusion constraint covers them).
LIVE_STATES = ("pending", "confirmed", "checked_in", "held")
WAITLIST_STATES = ("waiting", "offered", "accepted", "lapsed", "left", "closed", "skipped")


#: Where rows start: a new waitlist entry waits; a slot offered from the waitlist is a booking `offered`
#: whose occurrences are `held` (live, so the slot is as exclusive as any booking).
WAITING = "waiting"
OFFERED, HELD = "offered", "held"


def requested(approval_required: bool) -> str:
    """The state a new booking (and its occurrences) starts in: pending when the space needs approval."""
    return "pending" if approval_required else "confirmed"


def approval_verb(approval_required: bool) -> str:
    """Taking a held slot: it waits for a manager's approval when the space needs one."""
    return "accept_for_approval" if approval_required else "accept"

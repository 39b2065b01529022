"""The states of bookings, their occurrences and waitlist entries: transition tables (shared.lifecycle).

Pure domain code (no database, no nameko). Every status change of the service goes through
:meth:`Lifecycle.move` (or, for a guarded bulk UPDATE, :meth:`Lifecycle.next`), so a step that the table
does not allow is refused (IllegalTransition; the use cases answer it with `as_conflict`: a 409 that lists
the steps possible from where the row stands). Who may take a step is the use cases' to check: the tables
name no roles.
"""
from __future__ import annotations

from shared.lifecycle import Lifecycle, VerbRule


def _steps(*rules: tuple[str, tuple[str, ...], str]) -> list[VerbRule]:
    return [VerbRule(verb, frozenset(sources), target) for verb, sources, target in rules]


#: A booking (the rule): `offered` is a waitlist hold that is not yet taken.
BOOKING = Lifecycle(
    "booking",
    ("pending", "confirmed", "rejected", "cancelled", "expired", "released", "offered", "lapsed"),
    _steps(
        ("approve", ("pending",), "confirmed"),
        ("reject", ("pending",), "rejected"),
        ("accept", ("offered",), "confirmed"),
        ("accept_for_approval", ("offered",), "pending"),
        ("lapse", ("offered",), "lapsed"),
        ("cancel", ("pending", "confirmed", "offered"), "cancelled"),
        ("expire", ("pending",), "expired"),
        ("release", ("confirmed",), "released"),
    ),
)

#: One occurrence row (one slot, one unit). `held`: kept for the first in line on the waitlist.
OCCURRENCE = Lifecycle(
    "occurrence",
    ("pending", "confirmed", "checked_in", "held", "cancelled", "rejected", "expired", "released", "lapsed"),
    _steps(
        ("approve", ("pending",), "confirmed"),
        ("reject", ("pending",), "rejected"),
        ("check_in", ("confirmed",), "checked_in"),
        ("accept", ("held",), "confirmed"),
        ("accept_for_approval", ("held",), "pending"),
        ("lapse", ("held",), "lapsed"),
        ("cancel", ("pending", "confirmed", "checked_in", "held"), "cancelled"),
        ("expire", ("pending",), "expired"),
        ("release", ("confirmed",), "released"),
    ),
)

WAITLIST_STATES = ("waiting", "offered", "accepted", "lapsed", "left", "closed", "skipped")

#: A waitlist entry. `skipped`: when the freed slot was to be offered, the person broke a rule of the
#: space (the entry's `reason` says which); `closed`: the slot began before it freed up.
WAITLIST = Lifecycle(
    "waitlist entry",
    WAITLIST_STATES,
    _steps(
        ("offer", ("waiting",), "offered"),
        ("skip", ("waiting",), "skipped"),
        ("close", ("waiting",), "closed"),
        ("accept", ("offered",), "accepted"),
        ("lapse", ("offered",), "lapsed"),
        ("leave", ("waiting", "offered"), "left"),
    ),
)

#: Occurrence states that hold their slot (the exclusion constraint covers them).
LIVE_STATES = ("pending", "confirmed", "checked_in", "held")


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

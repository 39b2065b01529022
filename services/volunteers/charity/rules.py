"""The rules of charity, as plain Python: periods, redemption windows, eligibility, codes, the states of a
charity item and the lifecycle of a micro-wish.

No database, no nameko, no clock. Everything that depends on the wall clock takes the merchant's local time
(an aware datetime in the shop's IANA zone), so "a day" is a Shanghai day, not a UTC one.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.lifecycle import Lifecycle, VerbRule

PERIODS = ("day", "week", "total")
ITEM_STATES = ("active", "paused", "suspended", "ended")
# Kinds of worker who count as "all outdoor workers" (the group `outdoor` on an item).
OUTDOOR_GROUPS = frozenset({"rider", "courier", "sanitation", "outdoor"})

# No 0/O, 1/I/L: a code read aloud or typed from a phone screen at the counter is never ambiguous.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
QR_PREFIX = "nuanxin:claim:"

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
ALL_WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)


# ----------------------------------------------------------------------------- periods

def period_key(period: str, day: date) -> str:
    """The key of the stock or per-person period that contains `day` (a local date)."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "total":
        return "total"
    raise ValueError(f"unknown period {period!r}")


# -------------------------------------------------------------------------- redemption hours

@dataclass(frozen=True)
class RedemptionHours:
    """Daily hours during which a claim can be redeemed; `end` 24:00 means midnight."""

    start: time = time(0, 0)
    end_minutes: int = 24 * 60
    weekdays: frozenset[int] = frozenset(ALL_WEEKDAYS)

    @classmethod
    def parse(cls, data: dict | None) -> RedemptionHours:
        data = data or {}
        start = _minutes(data.get("start") or "00:00")
        end = _minutes(data.get("end") or "24:00")
        if end <= start:
            raise ValueError("end must be after start")
        weekdays = frozenset(data.get("weekdays") or ALL_WEEKDAYS)
        if not weekdays <= set(ALL_WEEKDAYS):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
        return cls(time(start // 60, start % 60), end, weekdays)

    def window_on(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        # Aware arithmetic in one zone is wall-clock arithmetic: 24:00 is the next local midnight.
        midnight = datetime.combine(day, time(0, 0), zone)
        return datetime.combine(day, self.start, zone), midnight + timedelta(minutes=self.end_minutes)

    def describe(self) -> str:
        end = f"{self.end_minutes // 60:02d}:{self.end_minutes % 60:02d}"
        return f"{self.start:%H:%M}–{end}"


def _minutes(text: str) -> int:
    if not HHMM.match(text):
        raise ValueError(f"{text!r} is not a time HH:MM")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def claim_window(hours: RedemptionHours, valid_from: date, valid_until: date | None,
                 now_local: datetime) -> tuple[datetime, datetime] | None:
    """The redemption window a claim made at `now_local` is for: the one open now, else the next one.

    None when no window is left in the item's valid period (looking at most a week ahead: hours repeat
    weekly, so a week without a window means there will be none).
    """
    zone = now_local.tzinfo
    first = max(now_local.date(), valid_from)
    for offset in range(8):
        day = first + timedelta(days=offset)
        if valid_until is not None and day > valid_until:
            return None
        if day.isoweekday() not in hours.weekdays:
            continue
        start, end = hours.window_on(day, zone)
        if end > now_local:
            return start, end
    return None


# ------------------------------------------------------------------------------ eligibility

def eligible(item_groups: Iterable[str], confirmed_groups: Iterable[str]) -> bool:
    """Whether a person with these confirmed groups may claim an item meant for `item_groups`."""
    wanted, have = set(item_groups), set(confirmed_groups)
    if wanted & have:
        return True
    return "outdoor" in wanted and bool(have & OUTDOOR_GROUPS)


# ------------------------------------------------------------------------------------ codes

def new_code() -> str:
    """A random one-time code of 8 unambiguous characters (31^8 ≈ 8.5e11 possibilities)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """A code as typed at the counter (any case, spaces or dashes) in canonical form, or None."""
    code = re.sub(r"[\s-]", "", text or "").upper()
    if code.startswith(QR_PREFIX.upper()):
        code = code[len(QR_PREFIX):]
    return code if _CODE_RE.match(code) else None


def qr_payload(code: str) -> str:
    return QR_PREFIX + code


# -------------------------------------------------------------------- charity item states

# owner: the merchant whose item it is; coordinator: a coordinator whose grids cover the shop.
ITEM_VERBS: dict[str, VerbRule] = {
    rule.verb: rule
    for rule in (
        VerbRule("pause", frozenset({"active"}), "paused", frozenset({"owner"})),
        # The owner resumes its own pause; only a coordinator lifts a suspension.
        VerbRule("resume", frozenset({"paused", "suspended"}), "active", frozenset({"coordinator"}),
                 conditional_roles={"owner": frozenset({"paused"})}),
        VerbRule("end", frozenset({"active", "paused", "suspended"}), "ended", frozenset({"owner", "coordinator"})),
        VerbRule("suspend", frozenset({"active", "paused"}), "suspended", frozenset({"coordinator"})),
    )
}
EDITABLE_STATES = frozenset({"active", "paused", "suspended"})
#: A charity item's transition table (shared.lifecycle, as every state change).
ITEMS = Lifecycle("item", ITEM_STATES, ITEM_VERBS.values())


def item_allowed_verbs(state: str) -> list[str]:
    return ITEMS.allowed(state)


def item_next_state(state: str, verb: str) -> str:
    """The state a charity item reaches by `verb`; IllegalTransition (naming what is allowed) otherwise."""
    return ITEMS.next(state, verb)


def item_may(verb: str, relations: Collection[str], state: str) -> bool:
    return ITEMS.may(verb, relations, state)


# ------------------------------------------------------------------------- micro-wishes

WISH_STATES: tuple[str, ...] = (
    "draft", "submitted", "published", "rejected", "adopted", "delivered", "fulfilled", "withdrawn")
#: Before adoption the owner may still withdraw.
WISH_OPEN_STATES: frozenset[str] = frozenset({"draft", "submitted", "published"})

#: "owner" posted the wish (often a grid worker on behalf of a resident); "beneficiary" receives it;
#: "volunteer" is anyone who may adopt; "adopter" is the one who did.
WISH_ROLES: frozenset[str] = frozenset({"owner", "beneficiary", "coordinator", "volunteer", "adopter"})
_COORDINATOR = frozenset({"coordinator"})

#: The verbs are the API's (POST /wishes/{id}/<verb>): the owner's confirmation of receipt is `fulfil`.
WISH_VERBS: Mapping[str, VerbRule] = {
    rule.verb: rule
    for rule in (
        VerbRule("submit", frozenset({"draft"}), "submitted", frozenset({"owner"})),
        # A coordinator may vet a draft directly (wishes typed in on a resident's behalf).
        VerbRule("publish", frozenset({"draft", "submitted"}), "published", _COORDINATOR),
        VerbRule("reject", frozenset({"draft", "submitted"}), "rejected", _COORDINATOR, optional=("reason",)),
        # Only a published wish can be adopted, so a second adopter finds it already "adopted" and gets
        # IllegalTransition: exactly one adopter.
        VerbRule("adopt", frozenset({"published"}), "adopted", frozenset({"volunteer"})),
        VerbRule("deliver", frozenset({"adopted"}), "delivered", frozenset({"adopter"})),
        VerbRule("fulfil", frozenset({"delivered"}), "fulfilled", frozenset({"beneficiary"})),
        VerbRule("withdraw", WISH_OPEN_STATES, "withdrawn", frozenset({"owner"}), optional=("reason",)),
    )
}


def _check_wish(state: str, verb: str, flags: Mapping) -> None:
    reason = flags.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValueError("'reason' must be a text")


#: A micro-wish's transition table.
WISHES = Lifecycle("wish", WISH_STATES, WISH_VERBS.values(), check=_check_wish)


def wish_allowed_verbs(state: str) -> list[str]:
    """Verbs possible from a micro-wish `state`, in table order."""
    return WISHES.allowed(state)


def wish_next_state(state: str, verb: str, **flags) -> str:
    """The state a micro-wish reaches by `verb`. Only `reject` and `withdraw` take a flag (an optional text
    `reason`). IllegalTransition when the verb is not possible from `state`; ValueError for an unknown state
    or a reason that is not a text; TypeError for a flag the verb does not take."""
    return WISHES.next(state, verb, **flags)


def wish_may(verb: str, relations: Collection[str]) -> bool:
    """Whether an actor with these relations (a subset of WISH_ROLES) may do `verb` to a wish."""
    return WISHES.may(verb, relations)

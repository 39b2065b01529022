"""The rules of charity items, as plain Python: periods, redemption windows, eligibility, codes, states.

No database, no nameko. Everything that depends on the wall clock takes the merchant's local time
(an aware datetime in the shop's IANA zone), so "a day" is a Shanghai day, not a UTC one.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.volunteers.lifecycle import IllegalTransition, VerbRule

PERIODS = ("day", "week", "total")
PLEDGE_STATES = ("active", "paused", "suspended", "ended")
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


# ------------------------------------------------------------------------- pledge states

# owner: the merchant whose item it is; coordinator: a coordinator whose grids cover the shop.
PLEDGE_VERBS: dict[str, VerbRule] = {
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


def pledge_allowed_verbs(state: str) -> list[str]:
    return [verb for verb, rule in PLEDGE_VERBS.items() if state in rule.sources]


def pledge_next_state(state: str, verb: str) -> str:
    """The state a pledge reaches by `verb`; IllegalTransition (naming what is allowed) otherwise."""
    rule = PLEDGE_VERBS.get(verb)
    if rule is None or state not in rule.sources:
        raise IllegalTransition(state, verb, pledge_allowed_verbs(state))
    return rule.target


def pledge_may(verb: str, relations: Collection[str], state: str) -> bool:
    rule = PLEDGE_VERBS[verb]
    relations = set(relations)
    return bool(relations & rule.roles) or any(
        role in relations and state in states for role, states in rule.conditional_roles.items())

"""Check-in's rules, pure (no database, no nameko): the session's rotating code, the participant's ticket,
the minutes a helper is credited and where each person stands on a session's attendance list.

The code the organiser shows is an HMAC of the session's random `checkin_secret` and the current 30-second
step, as six digits; the code of the step before is still taken (a phone scanning at a step's end), anything
older is expired. The ticket is a token signed with the suite's key (as access tokens are, with their own
`typ` so neither can stand for the other) naming the sign-up, its person and the activity.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from shared import config

PERIOD_SECONDS = 30
DIGITS = 6
# How many steps back a refused code is still recognised as this session's (and called expired, not wrong).
RECOGNISED_STEPS = 24 * 3600 // PERIOD_SECONDS
CODE_PATTERN = re.compile(r"^[0-9]{6}$")

TICKET_TYPE = "activity_ticket"
TICKET_ALGORITHM = "HS256"

DIRECTIONS = ("in", "out")
ROLES = ("participant", "helper")
METHODS = ("code", "ticket", "manual")
# Code check-in opens this long before a session starts and closes this long after it ends.
CODE_OPENS = timedelta(minutes=60)
CODE_CLOSES = timedelta(minutes=60)


class CodeRefused(ValueError):
    """A code that is not taken: `reason` is "expired" (this session's, too old) or "wrong"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TicketRefused(ValueError):
    """A ticket that is not one of ours, or was tampered with."""


# ------------------------------------------------------------------------------------------------- codes

def step_of(moment: datetime) -> int:
    """The 30-second step `moment` falls in (counted from the Unix epoch)."""
    return int(moment.timestamp()) // PERIOD_SECONDS


def code_at(secret: str, step: int) -> str:
    """The six-digit code of `step` for a session's secret (HMAC-SHA256, truncated as HOTP does)."""
    digest = hmac.new(secret.encode(), step.to_bytes(8, "big"), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** DIGITS).zfill(DIGITS)


def current_code(secret: str, now: datetime) -> dict:
    """What the organiser's screen shows: the code, until when it is the current one, and the period."""
    step = step_of(now)
    expires_at = datetime.fromtimestamp((step + 1) * PERIOD_SECONDS, UTC)
    return {"code": code_at(secret, step), "expires_at": expires_at, "period_seconds": PERIOD_SECONDS}


def check_code(secret: str, code: str, now: datetime) -> None:
    """Accept the current step's code and the one before; raise `CodeRefused("expired")` for an older code
    of this session (within a day) and `CodeRefused("wrong")` for anything else."""
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        raise CodeRefused("wrong")
    step = step_of(now)
    if any(hmac.compare_digest(code_at(secret, step - back), code) for back in (0, 1)):
        return
    if any(code_at(secret, step - back) == code for back in range(2, RECOGNISED_STEPS)):
        raise CodeRefused("expired")
    raise CodeRefused("wrong")


def code_window(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """When participants may check in or out by code: from an hour before the start to an hour after the end."""
    return starts_at - CODE_OPENS, ends_at + CODE_CLOSES


# ------------------------------------------------------------------------------------------------ ticket

@dataclass(frozen=True)
class Ticket:
    signup_id: int
    user_id: int
    activity_id: int


def sign_ticket(signup_id: int, user_id: int, activity_id: int, now: datetime) -> str:
    """The participant's ticket: a signed token naming their sign-up, themselves and the activity."""
    claims = {"typ": TICKET_TYPE, "sub": str(user_id), "signup": signup_id, "activity": activity_id, "iat": now}
    return jwt.encode(claims, config.secret_key(), algorithm=TICKET_ALGORITHM)


def read_ticket(token: str) -> Ticket:
    """The sign-up a ticket names; `TicketRefused` when it is not a ticket we signed."""
    try:
        claims = jwt.decode((token or "").strip(), config.secret_key(), algorithms=[TICKET_ALGORITHM],
                            options={"require": ["sub", "iat"]})
    except jwt.PyJWTError:
        raise TicketRefused("not a ticket of this service") from None
    sub, signup, activity = claims.get("sub"), claims.get("signup"), claims.get("activity")
    # Signed by us, yet read like any input: its members must be what a ticket carries.
    if claims.get("typ") != TICKET_TYPE or not isinstance(sub, str) or not sub.isascii() or not sub.isdigit() \
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (signup, activity)):
        raise TicketRefused("not a ticket of this service")
    return Ticket(signup_id=signup, user_id=int(sub), activity_id=activity)


# ------------------------------------------------------------------------------------------- hours, list

def credited_minutes(checked_in_at: datetime, checked_out_at: datetime,
                     starts_at: datetime, ends_at: datetime) -> int:
    """A helper's minutes for a session: from check-in to check-out, never more than the session lasts
    (nor negative), in whole minutes."""
    worked = max((checked_out_at - checked_in_at).total_seconds(), 0)
    length = max((ends_at - starts_at).total_seconds(), 0)
    return int(min(worked, length) // 60)


def standing(checked_in_at: datetime | None, checked_out_at: datetime | None, ended: bool) -> str:
    """Where someone on a session's list stands: `left` (in and out), `present` (in), `no_show` (never came,
    the session has ended) or `expected` (not yet come, the session has not ended)."""
    if checked_in_at is not None:
        return "left" if checked_out_at is not None else "present"
    return "no_show" if ended else "expected"

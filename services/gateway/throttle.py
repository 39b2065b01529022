"""Login throttling that an attacker cannot aim at other people.

Failures are counted per *account at an address* (`pair:<username>|<ip>`) and per *address*
(`address:<ip>`), never per account alone: whoever guesses from one address slows only that address's
sign-ins, so the account's owner signing in from anywhere else is never held up by them. After a few free
failures each further one makes the key wait a doubling delay (1 s, 2 s, 4 s…), up to the longest wait at
the limit; while a key waits, every sign-in on it is answered 429 with Retry-After — even with the right
password, or guessing would simply continue.

The address key has a higher limit (many people share one NAT or proxy) and does not hold up an account
that signed in successfully from that address lately (`known:<username>|<ip>`): a neighbour behind the
same proxy who is guessing cannot keep the regulars out. Unknown usernames are throttled like real ones, so
the answers never reveal which accounts exist. See docs/security.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from services.gateway.models import LoginThrottle
from shared import config
from shared.db import Database, utcnow
from shared.errors import DomainError


class TooManyAttempts(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str = "", retry_after: int = 1):
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    free_failures: int
    max_failures: int
    window: timedelta
    lock: timedelta


def account_limits() -> Limits:
    """Limits of one account at one address."""
    return Limits(config.env_int("NUANXIN_LOGIN_FREE_FAILURES", 3),
                  config.env_int("NUANXIN_LOGIN_MAX_FAILURES", 10),
                  timedelta(seconds=config.env_int("NUANXIN_LOGIN_WINDOW_SECONDS", 900)),
                  timedelta(seconds=config.env_int("NUANXIN_LOGIN_LOCK_SECONDS", 900)))


def address_limits() -> Limits:
    account = account_limits()
    return Limits(config.env_int("NUANXIN_LOGIN_FREE_FAILURES_PER_ADDRESS", 20),
                  config.env_int("NUANXIN_LOGIN_MAX_FAILURES_PER_ADDRESS", 100), account.window, account.lock)


def known_for() -> timedelta:
    """How long a successful sign-in keeps an account known at its address."""
    return timedelta(days=config.env_int("NUANXIN_LOGIN_KNOWN_DAYS", 30))


def lock_for(failures: int, limits: Limits) -> timedelta:
    """How long a key waits after its `failures`-th failure in the window (pure policy)."""
    if failures >= limits.max_failures:
        return limits.lock
    if failures <= limits.free_failures:
        return timedelta(0)
    exponent = min(failures - limits.free_failures - 1, 30)  # 2**30 s is far beyond any lock
    return min(timedelta(seconds=2 ** exponent), limits.lock)


@dataclass(frozen=True)
class Attempt:
    """One sign-in (or password check): who, in their normalised username, and from which address."""

    username: str
    address: str | None

    @property
    def _who(self) -> str:
        return f"{self.username[:64]}|{(self.address or '-')[:100]}"

    @property
    def pair_key(self) -> str:
        return f"pair:{self._who}"

    @property
    def known_key(self) -> str:
        return f"known:{self._who}"

    @property
    def address_key(self) -> str | None:
        return f"address:{self.address[:150]}" if self.address else None

    def counted(self) -> dict[str, Limits]:
        """The keys a failure counts on."""
        keys = {self.pair_key: account_limits()}
        if self.address_key:
            keys[self.address_key] = address_limits()
        return keys


def _retry_after(locked_until: datetime, now: datetime) -> int:
    return max(1, math.ceil((locked_until - now).total_seconds()))


def check(db: Database, attempt: Attempt) -> None:
    """Raise TooManyAttempts (429) while this account-at-address waits, or while the address waits and the
    account has not signed in from it lately."""
    now = utcnow()
    keys = [k for k in (attempt.pair_key, attempt.address_key, attempt.known_key) if k]
    with db.read() as session:
        rows = {r.key: r for r in session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))}
        rows = {key: (r.window_started_at, r.locked_until) for key, r in rows.items()}
    known = attempt.known_key in rows and rows[attempt.known_key][0] + known_for() > now
    applying = [attempt.pair_key] + ([attempt.address_key] if attempt.address_key and not known else [])
    waits = [rows[k][1] for k in applying if k in rows and rows[k][1] is not None and rows[k][1] > now]
    if waits:
        raise TooManyAttempts("Too many failed sign-ins from here; wait before trying again.",
                              retry_after=_retry_after(max(waits), now))


def _upsert(session, db: Database, key: str, now: datetime) -> LoginThrottle:
    dialect = postgresql if not db.is_sqlite else sqlite
    session.execute(dialect.insert(LoginThrottle).values(key=key, failures=0, window_started_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    return session.scalars(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()).one()


def record_failure(db: Database, attempt: Attempt) -> None:
    """Count one failure on the account-at-address and on the address (rows are locked, so concurrent
    failures all count)."""
    now = utcnow()
    with db.transaction() as session:
        for key, limits in attempt.counted().items():
            row = _upsert(session, db, key, now)
            if row.window_started_at + limits.window < now:
                row.failures, row.window_started_at = 0, now
            row.failures += 1
            pause = lock_for(row.failures, limits)
            if pause:
                row.locked_until = now + pause


def record_success(db: Database, attempt: Attempt) -> None:
    """A good sign-in clears the account-at-address's failures and makes the account known at the address
    (the address keeps its own count)."""
    now = utcnow()
    with db.transaction() as session:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == attempt.pair_key))
        row = _upsert(session, db, attempt.known_key, now)
        row.window_started_at = now

"""Login throttling: failed sign-ins slow an account (and an address) down, then lock it for a while.

Each key (`account:<username>`, `address:<ip>`) counts failures in a window. After a few free failures
every further one locks the key for a doubling delay (1 s, 2 s, 4 s…), and at the limit for the full lock
time. While a key is locked every sign-in on it is answered 429 with Retry-After — even with the right
password, or guessing would simply continue. Unknown usernames are throttled like real ones, so the
answers never reveal which accounts exist. Addresses get a higher limit: many people share one NAT.
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
    return Limits(config.env_int("NUANXIN_LOGIN_FREE_FAILURES", 3),
                  config.env_int("NUANXIN_LOGIN_MAX_FAILURES", 10),
                  timedelta(seconds=config.env_int("NUANXIN_LOGIN_WINDOW_SECONDS", 900)),
                  timedelta(seconds=config.env_int("NUANXIN_LOGIN_LOCK_SECONDS", 900)))


def address_limits() -> Limits:
    account = account_limits()
    return Limits(config.env_int("NUANXIN_LOGIN_FREE_FAILURES_PER_ADDRESS", 20),
                  config.env_int("NUANXIN_LOGIN_MAX_FAILURES_PER_ADDRESS", 100), account.window, account.lock)


def lock_for(failures: int, limits: Limits) -> timedelta:
    """How long a key stays locked after its `failures`-th failure in the window (pure policy)."""
    if failures >= limits.max_failures:
        return limits.lock
    if failures <= limits.free_failures:
        return timedelta(0)
    exponent = min(failures - limits.free_failures - 1, 30)  # 2**30 s is far beyond any lock
    return min(timedelta(seconds=2 ** exponent), limits.lock)


def keys_for(username: str, address: str | None) -> dict[str, Limits]:
    keys = {f"account:{username.strip().lower()[:150]}": account_limits()}
    if address:
        keys[f"address:{address[:150]}"] = address_limits()
    return keys


def _retry_after(locked_until: datetime, now: datetime) -> int:
    return max(1, math.ceil((locked_until - now).total_seconds()))


def check(db: Database, keys: dict[str, Limits]) -> None:
    """Raise TooManyAttempts (429) while any of the keys is locked."""
    now = utcnow()
    with db.read() as session:
        locks = session.scalars(select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(list(keys)), LoginThrottle.locked_until > now)).all()
    if locks:
        raise TooManyAttempts("Too many failed sign-ins; wait before trying again.",
                              retry_after=_retry_after(max(locks), now))


def record_failure(db: Database, keys: dict[str, Limits]) -> None:
    """Count one failed sign-in on every key (rows are locked, so concurrent failures all count)."""
    now = utcnow()
    dialect = postgresql if not db.is_sqlite else sqlite
    with db.transaction() as session:
        for key, limits in keys.items():
            session.execute(dialect.insert(LoginThrottle)
                            .values(key=key, failures=0, window_started_at=now)
                            .on_conflict_do_nothing(index_elements=["key"]))
            row = session.scalars(select(LoginThrottle).where(LoginThrottle.key == key)
                                  .with_for_update()).one()
            if row.window_started_at + limits.window < now:
                row.failures, row.window_started_at = 0, now
            row.failures += 1
            pause = lock_for(row.failures, limits)
            if pause:
                row.locked_until = now + pause


def record_success(db: Database, username: str) -> None:
    """A good sign-in clears the account's failures (the address keeps its count)."""
    with db.transaction() as session:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(list(keys_for(username, None)))))

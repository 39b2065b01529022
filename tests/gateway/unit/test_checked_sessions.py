"""The gateway's memory of checked sessions: how long a caller read from the database is used, and forgetting."""
from __future__ import annotations

from services.gateway.auth import CheckedSessions
from shared.identity import Caller


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _caller(user_id: int, *roles: str) -> Caller:
    return Caller(user_id=user_id, roles=frozenset(roles or ("resident",)))


def test_a_caller_is_used_until_the_bound_from_when_its_read_began():
    clock = Clock()
    checked = CheckedSessions(ttl=1.0, clock=clock)
    checked.put("s1", 7, _caller(7), checked_at=clock.now - 0.2)  # the read began 0.2 s ago
    assert checked.get("s1", 7).user_id == 7
    clock.now += 0.79
    assert checked.get("s1", 7) is not None
    clock.now += 0.01
    assert checked.get("s1", 7) is None  # 1 s after the read began: read again


def test_a_session_named_with_another_account_is_not_taken():
    checked = CheckedSessions(ttl=1.0, clock=Clock())
    checked.put("s1", 7, _caller(7), checked_at=100.0)
    assert checked.get("s1", 8) is None
    assert checked.get("s2", 7) is None


def test_forgetting_a_session_or_an_account():
    checked = CheckedSessions(ttl=10.0, clock=Clock())
    for sid, account in (("a1", 1), ("a2", 1), ("b1", 2)):
        checked.put(sid, account, _caller(account), checked_at=100.0)
    checked.forget_session("a1")
    assert checked.get("a1", 1) is None and checked.get("a2", 1) is not None
    checked.forget_account(1)
    assert checked.get("a2", 1) is None and checked.get("b1", 2) is not None


def test_it_holds_at_most_its_size_dropping_expired_then_oldest():
    clock = Clock()
    checked = CheckedSessions(ttl=1.0, size=3, clock=clock)
    checked.put("old", 1, _caller(1), checked_at=clock.now - 5)  # expired
    checked.put("a", 2, _caller(2), checked_at=clock.now)
    checked.put("b", 3, _caller(3), checked_at=clock.now)
    checked.put("c", 4, _caller(4), checked_at=clock.now)  # full: the expired one goes
    assert [checked.get(s, a) is not None for s, a in (("a", 2), ("b", 3), ("c", 4))] == [True] * 3
    checked.put("d", 5, _caller(5), checked_at=clock.now)  # full of fresh ones: the oldest goes
    assert checked.get("a", 2) is None and checked.get("d", 5) is not None
    assert len(checked._entries) == 3


def test_a_bound_of_zero_reads_every_time():
    checked = CheckedSessions(ttl=0, clock=Clock())
    checked.put("s1", 7, _caller(7), checked_at=100.0)
    assert checked.get("s1", 7) is None

"""The password policy and the login-throttle policy (pure functions, no database)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.gateway.passwords import common_passwords, password_problems
from services.gateway.throttle import Limits, lock_for


def test_the_shipped_list_is_large_and_lower_case():
    words = common_passwords()
    assert len(words) > 3000
    assert all(w == w.lower() for w in words)
    assert {"password123", "qwertyuiop", "1234567890", "woaini1314"} <= words


@pytest.mark.parametrize("password", ["Password123", "QWERTYUIOP", "1234567890", "woaini1314520",
                                      "iloveyou2024!", "aaaaaaaaaaaa", "abcdefghijk", "9876543210"])
def test_common_and_monotonous_passwords_are_refused(password):
    problems = password_problems(password, username="someone")
    assert any("common" in p for p in problems), problems


def test_short_passwords_and_own_names_are_refused():
    assert password_problems("Xy7#kq", username="lin") == ["at least 10 characters"]
    assert password_problems("zhangwei-Rt93#kq", username="zhangwei") == ["must not contain your username or name"]
    assert password_problems("a" * 257)[0] == "at most 256 characters"


def test_a_good_password_passes():
    assert password_problems("tea-kettle-on-Yanping-7", username="lin", display_name="林") == []


LIMITS = Limits(free_failures=3, max_failures=8, window=timedelta(minutes=15), lock=timedelta(minutes=15))


def test_free_failures_then_a_doubling_delay_then_the_full_lock():
    assert [lock_for(n, LIMITS) for n in (1, 2, 3)] == [timedelta(0)] * 3
    assert [lock_for(n, LIMITS).total_seconds() for n in (4, 5, 6, 7)] == [1, 2, 4, 8]
    assert lock_for(8, LIMITS) == timedelta(minutes=15)
    assert lock_for(30, LIMITS) == timedelta(minutes=15)


def test_the_delay_never_exceeds_the_lock():
    limits = Limits(free_failures=0, max_failures=100, window=timedelta(minutes=1), lock=timedelta(seconds=5))
    assert lock_for(50, limits) == timedelta(seconds=5)

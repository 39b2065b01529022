"""Password policy: long enough, not a common password, not built from the account's own name.

The list of common passwords ships with the package (`common_passwords.txt`, lower-cased); it is read
once per process and never fetched at run time.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 10
MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _monotonous(password: str) -> bool:
    """One repeated character, or a run like 'abcdefghij' / '9876543210'."""
    if len(set(password)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(password, password[1:], strict=False)}
    return len(steps) == 1 and steps <= {-1, 1}


def password_problems(password: str, *, username: str = "", display_name: str = "") -> list[str]:
    """Why a password is refused (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in common_passwords() or lowered.rstrip("0123456789!@#.") in common_passwords() \
            or _monotonous(lowered):
        problems.append("too common: choose a password that is not on lists of leaked passwords")
    for own in (username, display_name):
        if own and len(own) >= 3 and own.lower() in lowered:
            problems.append("must not contain your username or name")
            break
    return problems

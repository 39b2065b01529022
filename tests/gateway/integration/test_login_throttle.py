"""Login throttling cannot be aimed at other people (issue 10, item 7).

Each client here connects from its own loopback address (127.0.0.x), as people behind different addresses
would. Reproduced before: failures from one address locked the account for everyone for 15 minutes, and an
address's failures locked out everyone behind it.
"""
from __future__ import annotations

import http.client
import json
import uuid
from urllib.parse import urlsplit

import pytest

from tests.support.suite import RunningSuite

pytestmark = pytest.mark.integration

WRONG = "wrong-password-1"
# Short ladders, so every wait in these tests is the long one (15 minutes) and no step depends on speed.
LIMITS = {"NUANXIN_LOGIN_FREE_FAILURES": "3", "NUANXIN_LOGIN_MAX_FAILURES": "4",
          "NUANXIN_LOGIN_FREE_FAILURES_PER_ADDRESS": "5", "NUANXIN_LOGIN_MAX_FAILURES_PER_ADDRESS": "6"}


@pytest.fixture(scope="module")
def suite():
    running = RunningSuite("sqlite", env=LIMITS).start()
    yield running
    running.stop()


def _sign_in_from(suite, address: str, username: str, password: str) -> tuple[int, dict, dict]:
    """POST /auth/token from a given loopback source address: (status, headers, body)."""
    url = urlsplit(suite.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30, source_address=(address, 0))
    try:
        connection.request("POST", "/api/v1/auth/token", body=json.dumps({"username": username, "password": password}),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_an_attackers_failures_do_not_lock_the_owner_out_from_another_address(suite):
    victim = suite.user()
    username, password = victim.user["username"], victim.user["password"]
    attacker, owner = "127.0.0.2", "127.0.0.3"
    statuses = [_sign_in_from(suite, attacker, username, WRONG)[0] for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]  # the 4th failure starts the long wait
    status, headers, body = _sign_in_from(suite, attacker, username, password)
    assert status == 429 and int(headers["Retry-After"]) >= 1 and body["retry_after"] >= 1
    assert headers["Content-Type"] == "application/problem+json"
    # The owner, elsewhere, signs in at once; and with any case of the username.
    assert _sign_in_from(suite, owner, username, password)[0] == 200
    assert _sign_in_from(suite, owner, username.upper(), password)[0] == 200
    # The account is one identity whatever its case: the attacker's address still waits for it.
    assert _sign_in_from(suite, attacker, username.upper(), password)[0] == 429


def test_an_address_spraying_guesses_does_not_keep_its_regulars_out(suite):
    sprayer, elsewhere = "127.0.0.4", "127.0.0.5"
    regular = suite.user()
    assert _sign_in_from(suite, sprayer, regular.user["username"], regular.user["password"])[0] == 200
    newcomer = suite.user()
    # One guess each at many names (real or not) from one address: past its higher limit it waits.
    statuses = [_sign_in_from(suite, sprayer, f"nobody{uuid.uuid4().hex[:8]}", WRONG)[0] for _ in range(7)]
    assert statuses == [401] * 6 + [429]
    status, headers, _ = _sign_in_from(suite, sprayer, newcomer.user["username"], newcomer.user["password"])
    assert status == 429 and int(headers["Retry-After"]) >= 1
    # Someone who signed in from that address before is not held up by the others' guessing...
    assert _sign_in_from(suite, sprayer, regular.user["username"], regular.user["password"])[0] == 200
    # ...and the newcomer signs in from anywhere else.
    assert _sign_in_from(suite, elsewhere, newcomer.user["username"], newcomer.user["password"])[0] == 200

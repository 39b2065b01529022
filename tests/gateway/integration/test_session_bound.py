"""The bound on a session's staleness: a change made anywhere reaches every gateway process within it.

The gateway does not read a request's session from the database when its process checked that session less
than NUANXIN_SESSION_CHECK_SECONDS ago (services/gateway/auth.py). Here several connections with one access
token (spread over the suite's gateway processes) keep asking while the session is revoked or the account
changed — through the API on yet another connection, or straight in the database as another host would —
and every answer given with the old state must come from a request sent before the change was done plus
the bound.
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from tests.support.suite import SESSION_CHECK_SECONDS

pytestmark = pytest.mark.integration

WATCHERS = 6


class Watchers:
    """Connections with one token, each asking `path` over and over; the state each answer shows."""

    def __init__(self, suite, token: str, path: str, old_status: int = 200):
        self.clients = [suite.client(token) for _ in range(WATCHERS)]
        self.path, self.old_status = path, old_status
        self.answers: list[tuple[float, int]] = []  # (when the request was sent, status)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._watch, args=(c,), daemon=True) for c in self.clients]

    def _watch(self, client):
        while not self.stop.is_set():
            sent = time.monotonic()
            status = client.get(self.path, params={"limit": 1}).status_code
            with self.lock:
                self.answers.append((sent, status))
            time.sleep(0.01)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len([s for _, s in self.answers if s == self.old_status]) < 3 * WATCHERS:  # every process warm
            assert time.monotonic() < deadline, f"the watchers were not answered: {self.answers[-5:]}"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def settle(self, changed_at: float, new_status: int) -> float:
        """Wait until every answer shows the new state; returns how long after the change the last request
        answered with the old state was sent (negative: none was)."""
        deadline = changed_at + SESSION_CHECK_SECONDS + 5
        while True:
            with self.lock:
                after = [(sent, status) for sent, status in self.answers if sent > changed_at]
            recent = after[-2 * WATCHERS:]
            if len(recent) == 2 * WATCHERS and all(status == new_status for _, status in recent):
                break
            assert time.monotonic() < deadline, f"the change never reached every process: {recent}"
            time.sleep(0.05)
        with self.lock:
            unexpected = {s for _, s in self.answers if s not in (self.old_status, new_status)}
            stale = [sent - changed_at for sent, status in self.answers if status == self.old_status]
        assert not unexpected, f"answers other than {self.old_status}/{new_status}: {unexpected}"
        return max(stale)


def _logout(suite, user, admin):
    assert suite.client(user.token).post("/auth/logout").status_code == 204


def _password_change(suite, user, admin):
    response = suite.client(user.token).post("/me/password", json={
        "current_password": user.user["password"], "new_password": "Another-lantern-on-Xinhua-7"})
    assert response.status_code == 204, response.text


def _deactivation(suite, user, admin):
    assert admin.post(f"/accounts/{user.id}/deactivate").status_code == 200


def _revoked_elsewhere(suite, user, admin):
    """As another host's gateway would: nothing in these processes hears of it."""
    with suite.database("gateway").transaction() as session:
        session.execute(text("UPDATE sign_in_sessions SET revoked_at = CURRENT_TIMESTAMP WHERE account_id = :a"),
                        {"a": user.id})


@pytest.mark.parametrize("change", [_logout, _password_change, _deactivation, _revoked_elsewhere],
                         ids=["logout", "password change", "deactivation", "revoked in the database"])
def test_an_ended_session_is_refused_everywhere_within_the_bound(suite, change):
    admin = suite.user(roles=["resident", "admin"])
    user = suite.user()
    with Watchers(suite, user.token, "/me") as watchers:
        change(suite, user, admin)
        changed_at = time.monotonic()
        lag = watchers.settle(changed_at, new_status=401)
    assert lag < SESSION_CHECK_SECONDS, f"a request sent {lag:.3f} s after the change was still let in"


def test_a_role_taken_away_stops_counting_everywhere_within_the_bound(suite):
    admin = suite.user(roles=["resident", "admin"])
    user = suite.user(roles=["resident", "admin"])
    with Watchers(suite, user.token, "/accounts") as watchers:  # only coordinators and admins list accounts
        assert admin.delete(f"/accounts/{user.id}/roles/admin").status_code == 200
        changed_at = time.monotonic()
        lag = watchers.settle(changed_at, new_status=403)
    assert lag < SESSION_CHECK_SECONDS, f"a request sent {lag:.3f} s after the change still had the role"

"""What the web app needs from the API: an account keeps its elderly mode, and the inbox badge is polled
cheaply — GET /notifications/unread answers an ETag and an empty 304 while nothing changed."""
from __future__ import annotations

import pytest

from tests.support.suite import wait_for

pytestmark = pytest.mark.integration


def test_an_account_keeps_its_elderly_mode(suite):
    person = suite.user()
    assert person.get("/me").json()["elderly_mode"] is False
    changed = person.patch("/me", json={"elderly_mode": True})
    assert changed.status_code == 200 and changed.json()["elderly_mode"] is True
    assert person.get("/me").json()["elderly_mode"] is True
    refused = person.patch("/me", json={"elderly_mode": "very"})
    assert refused.status_code == 422 and "elderly_mode" in refused.json()["errors"]
    assert person.get("/me").json()["elderly_mode"] is True


def unchanged_pair(person):
    """Two reads of the badge, the second sending the first's ETag: (first, second) once nothing arrived
    between them, else None. The suite is shared with other tests, so an entry may land in between; a 200
    must then carry a new state and a new ETag, never the same one."""
    first = person.get("/notifications/unread")
    second = person.get("/notifications/unread", headers={"If-None-Match": first.headers["ETag"]})
    if second.status_code == 200:
        assert second.json() != first.json() and second.headers["ETag"] != first.headers["ETag"]
        return None
    return first, second


def test_the_unread_badge_answers_304_until_something_changes(suite):
    person = suite.user()
    wait_for(lambda: person.get("/notifications/unread").json()["unread_count"] >= 1, timeout=15,
             message="the welcome message")
    first, again = wait_for(lambda: unchanged_pair(person), timeout=15, message="a 304 while nothing changed")
    tag = first.headers["ETag"]
    assert first.json()["unread_count"] >= 1 and first.json()["latest_id"] is not None
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag

    # Reading the message changes the answer.
    latest = first.json()["latest_id"]
    assert person.post(f"/notifications/{latest}/read").status_code == 200
    changed = person.get("/notifications/unread", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    entry = next(i for i in person.get("/notifications?limit=100").json()["items"] if i["id"] == latest)
    assert entry["read_at"] is not None
    current, unchanged = wait_for(lambda: unchanged_pair(person), timeout=15, message="a 304 after the change")
    assert unchanged.status_code == 304 and unchanged.headers["ETag"] == current.headers["ETag"]

    # Strangers learn nothing.
    assert suite.client().get("/notifications/unread").status_code == 401

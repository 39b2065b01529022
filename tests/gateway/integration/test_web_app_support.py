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


def test_the_unread_badge_answers_304_until_something_changes(suite):
    person = suite.user()
    first = wait_for(lambda: (r := person.get("/notifications/unread")).json()["unread_count"] >= 1 and r,
                     timeout=15, message="the welcome message")
    tag = first.headers["ETag"]
    assert first.json() == {"unread_count": 1, "latest_id": first.json()["latest_id"]}
    again = person.get("/notifications/unread", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag

    # Reading the message changes the answer.
    assert person.post(f"/notifications/{first.json()['latest_id']}/read").status_code == 200
    changed = person.get("/notifications/unread", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.json()["unread_count"] == 0
    assert changed.headers["ETag"] != tag
    assert person.get("/notifications/unread", headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304

    # Strangers learn nothing.
    assert suite.client().get("/notifications/unread").status_code == 401

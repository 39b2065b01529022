"""The inbox over HTTP on SQLite: newest first, pages, unread count, read one / read all, retention;
and a broadcast's bulk fan-out on SQLite."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from services.notifications.models import InboxEntry
from services.notifications.operations import purge_inbox
from shared.db import utcnow
from tests.notifications.integration.conftest import entries, known, publish
from tests.notifications.samples import sample_payload
from tests.support.suite import wait_for

pytestmark = pytest.mark.integration


def test_inbox_pages_newest_first_and_marks_read(sqlite_suite):
    suite = sqlite_suite
    person, stranger = suite.user(), suite.user()
    known(suite, person)
    sent = [publish(suite, "booking.confirmed", sample_payload("booking.confirmed", booker_id=person.id,
                                                               booking_id=i, manager_ids=[]))
            for i in range(1, 6)]
    sent.append(publish(suite, "wish.adopted", sample_payload("wish.adopted", owner_id=person.id)))
    # The welcome (account.registered) plus six.
    wait_for(lambda: person.get("/notifications").json()["unread_count"] == 7, timeout=15, message="7 unread")

    first = person.get("/notifications", params={"limit": 4}).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    second = person.get("/notifications", params={"limit": 4, "cursor": first["next_cursor"]}).json()
    assert len(second["items"]) == 3 and second["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 7
    assert first["items"][0]["type"] == "wish.adopted"
    assert second["items"][-1]["type"] == "account.registered"
    charity = person.get("/notifications", params={"category": "charity"}).json()["items"]
    assert [i["type"] for i in charity] == ["wish.adopted"]

    newest = first["items"][0]["id"]
    assert stranger.post(f"/notifications/{newest}/read").status_code == 404
    read = person.post(f"/notifications/{newest}/read")
    assert read.status_code == 200 and read.json() == {"marked": 1, "unread_count": 6}
    assert person.post(f"/notifications/{newest}/read").json() == {"marked": 0, "unread_count": 6}
    unread = person.get("/notifications", params={"unread": "true", "limit": 100}).json()["items"]
    assert newest not in [i["id"] for i in unread] and len(unread) == 6
    assert person.post("/notifications/read-all").json() == {"marked": 6, "unread_count": 0}
    assert person.get("/notifications").json()["unread_count"] == 0

    bad = person.get("/notifications", params={"limit": 0, "cursor": "x" * 65})
    assert bad.status_code == 422 and {"limit", "cursor"} <= set(bad.json()["errors"])
    assert person.get("/notifications", params={"cursor": "abc"}).status_code == 422

    # Entries older than the retention period are purged; newer ones stay.
    db = suite.database("notifications")
    with db.transaction() as session:
        session.execute(update(InboxEntry).where(InboxEntry.source_key == sent[0]["event_id"])
                        .values(created_at=utcnow() - timedelta(days=400)))
    assert purge_inbox(db, keep_days=365) >= 1
    assert not entries(suite, person.id, sent[0]["event_id"])
    assert entries(suite, person.id, sent[1]["event_id"])


def test_a_broadcast_to_a_role_fans_out_on_sqlite(sqlite_suite):
    suite = sqlite_suite
    managers = [suite.user(roles=["resident", "space_manager"], locale=loc) for loc in ("zh-CN", "en")]
    for manager in managers:
        known(suite, manager)
    admin = suite.user(roles=["admin"])
    response = admin.post("/broadcasts", json={"title": "停电通知", "body": "周六 9:00–12:00 服务中心停电。",
                                               "severity": "warning",
                                               "audience": [{"kind": "role", "role": "space_manager"}]})
    assert response.status_code == 201, response.text
    broadcast = response.json()
    assert broadcast["targeted"] >= 2
    done = wait_for(lambda: (b := admin.get(f"/broadcasts/{broadcast['id']}").json())["state"] == "done" and b,
                    timeout=15, message="the fan-out")
    assert done["sent"] == done["targeted"]
    titles = {m.id: m.get("/notifications").json()["items"][0]["title"] for m in managers}
    assert titles == {managers[0].id: "【提醒】停电通知", managers[1].id: "[Notice] 停电通知"}

"""Broadcasts over HTTP: audiences resolved by the volunteers service, coordinator scopes, progress,
group channels, scheduling that fires once with two replicas; action deadline reminders."""
from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.notifications.models import Broadcast, Reminder
from tests.notifications.integration.conftest import add_channel, entries, known, publish
from tests.notifications.samples import sample_payload
from tests.support.peers import WebhookPeer
from tests.support.suite import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def district(fast_suite):
    """新华路街道 → 宜北 → two micro-grids, a coordinator of micro-grid 7, a volunteer in each."""
    tag = uuid.uuid4().hex[:6]
    ensure = lambda data: fast_suite.rpc("volunteers", "ensure_grid", data)  # noqa: E731
    root = ensure({"name": f"新华路街道-{tag}", "level": 3})
    north = ensure({"name": f"宜北-{tag}", "level": 2, "parent_id": root["id"]})
    seven = ensure({"name": f"微网格7-{tag}", "level": 1, "parent_id": north["id"]})
    eight = ensure({"name": f"微网格8-{tag}", "level": 1, "parent_id": north["id"]})
    gridworker = fast_suite.user(roles=["resident", "coordinator"], grids=[seven["id"]])
    ensure({"name": seven["name"], "level": 1, "parent_id": north["id"], "coordinator_ids": [gridworker.id]})
    known(fast_suite, gridworker)
    riders = [fast_suite.user(roles=["resident", "volunteer"], locale=locale) for locale in ("zh-CN", "en")]
    for rider, grid in zip(riders, (seven, eight), strict=True):
        fast_suite.rpc("volunteers", "ensure_volunteer", rider.id,
                       {"display_name": rider.user["username"], "grid_ids": [grid["id"]]})
        known(fast_suite, rider)
    admin = fast_suite.user(roles=["admin"])
    return {"root": root, "north": north, "seven": seven, "eight": eight, "gridworker": gridworker,
            "riders": riders, "admin": admin}


def _count(suite) -> int:
    with suite.database("notifications").read() as session:
        return session.scalar(select(func.count()).select_from(Broadcast))


def test_a_coordinator_broadcasts_within_their_grid_and_sees_progress(fast_suite, district):
    gridworker, (rider7, rider8) = district["gridworker"], district["riders"]
    response = gridworker.post("/broadcasts", json={
        "title": "台风“贝碧嘉”预警", "body": "请检查店招并告知商户最近的避难点。",
        "audience": [{"kind": "grid", "id": district["seven"]["id"], "only": "volunteers"}]})
    assert response.status_code == 201, response.text
    broadcast = response.json()
    assert response.headers["Location"] == f"/api/v1/broadcasts/{broadcast['id']}"
    assert broadcast["targeted"] == 1

    def done():
        body = gridworker.get(f"/broadcasts/{broadcast['id']}").json()
        return body if body["state"] == "done" else None

    progress = wait_for(done, timeout=10, message="the fan-out")
    assert progress["sent"] == 1 and progress["failed"] == 0
    inbox = rider7.get("/notifications").json()["items"]
    assert inbox[0]["title"] == "台风“贝碧嘉”预警" and inbox[0]["data"]["broadcast_id"] == broadcast["id"]
    assert not [i for i in rider8.get("/notifications").json()["items"]
                if i["data"].get("broadcast_id") == broadcast["id"]]
    # Someone else's broadcast is not theirs to read.
    assert rider7.get(f"/broadcasts/{broadcast['id']}").status_code == 403


def test_coordinators_cannot_reach_beyond_their_scope_and_nothing_is_written(fast_suite, district):
    gridworker = district["gridworker"]
    before = _count(fast_suite)
    for audience in ([{"kind": "grid", "id": district["north"]["id"]}], [{"kind": "everyone"}],
                     [{"kind": "role", "role": "merchant"}]):
        response = gridworker.post("/broadcasts", json={"title": "t", "body": "b", "audience": audience})
        assert response.status_code == 403, response.text
    resident = district["riders"][0]
    assert resident.post("/broadcasts", json={"title": "t", "body": "b",
                                              "audience": [{"kind": "everyone"}]}).status_code == 403
    bad = district["admin"].post("/broadcasts", json={"title": "", "body": "b", "audience": []})
    assert bad.status_code == 422 and {"title", "audience"} <= set(bad.json()["errors"])
    assert _count(fast_suite) == before


def test_an_admin_reaches_a_big_grid_in_each_persons_language_and_its_group_channel(fast_suite, district):
    admin, gridworker, riders = district["admin"], district["gridworker"], district["riders"]
    with WebhookPeer() as hook:
        # The grid's coordinator configures its group robot; someone outside the scope may not.
        add_channel(gridworker, "robot", hook.url("/grid7"), grid_id=district["seven"]["id"])
        assert gridworker.post("/notification-channels", json={
            "name": "robot", "url": hook.url("/north"), "grid_id": district["north"]["id"]}).status_code == 403
        listed = gridworker.get("/notification-channels", params={"grid_id": district["seven"]["id"]}).json()["items"]
        assert [c["name"] for c in listed] == ["robot"] and "127.0.0.1" not in str(listed)
        # Quiet hours do not hold a critical broadcast.
        riders[1].put("/notification-preferences", json={"quiet_hours": {"start": "00:00", "end": "23:59"}})
        add_channel(riders[1], "hook", hook.url("/rider8"))
        response = admin.post("/broadcasts", json={
            "title": "台风红色预警", "body": "今晚 20:00 起停止户外作业。", "severity": "critical",
            "audience": [{"kind": "grid", "id": district["north"]["id"], "only": "volunteers"},
                         {"kind": "grid", "id": district["seven"]["id"]}]})
        assert response.status_code == 201, response.text
        broadcast = response.json()
        assert broadcast["targeted"] == 3  # two riders and the grid worker, each once
        wait_for(lambda: hook.received("/grid7") and hook.received("/rider8"), timeout=10,
                 message="the group robot and the rider's hook")
        progress = wait_for(lambda: (b := admin.get(f"/broadcasts/{broadcast['id']}").json())["channels"]["sent"]
                            == 2 and b, timeout=10, message="channel progress")
    assert progress["sent"] == 3 and progress["failed"] == 0 and progress["channels"]["pending"] == 0
    assert hook.received("/grid7")[0]["body"]["title"] == "【紧急】台风红色预警"
    assert hook.received("/rider8")[0]["body"]["title"] == "[URGENT] 台风红色预警"  # an English speaker
    ids = [b["id"] for b in admin.get("/broadcasts").json()["items"]]
    assert broadcast["id"] in ids


def test_a_scheduled_broadcast_fires_once_with_two_replicas(fast_suite, district):
    admin, gridworker = district["admin"], district["gridworker"]
    send_at = datetime.now(UTC) + timedelta(seconds=1.5)
    with WebhookPeer() as hook:
        add_channel(gridworker, f"hook{uuid.uuid4().hex[:6]}", hook.url("/scheduled"))
        response = admin.post("/broadcasts", json={
            "title": "明早 9 点议事会", "body": "治理议事厅。", "send_at": send_at.isoformat(),
            "audience": [{"kind": "grid", "id": district["seven"]["id"], "only": "coordinators"}]})
        assert response.status_code == 201, response.text
        broadcast = response.json()
        assert broadcast["state"] == "scheduled"
        time.sleep(0.5)
        assert not entries(fast_suite, gridworker.id, f"broadcast:{broadcast['id']}")  # not yet
        wait_for(lambda: hook.received("/scheduled"), timeout=10, message="the scheduled broadcast")
        time.sleep(1.0)  # a second replica's duplicate would arrive by now
        assert len(hook.received("/scheduled")) == 1
    with fast_suite.database("notifications").read() as session:
        row = session.get(Broadcast, broadcast["id"])
        assert (row.state, row.fan_out_runs, row.inboxed) == ("done", 1, 1)
        assert row.done_at >= send_at


def test_an_actions_deadline_reminds_the_assignee_once_and_resolution_cancels_it(fast_suite, district):
    rider = district["riders"][0]
    soon = datetime.now(UTC) + timedelta(minutes=30, seconds=1)  # reminders fire 30 minutes ahead
    publish(fast_suite, "action.dispatched", sample_payload(
        "action.dispatched", action_id=900_001, title="店招松动", assignee_ids=[rider.id], follower_ids=[],
        reporter_id=None, actor_id=None, team_id=None, deadline_at=soon))
    later = datetime.now(UTC) + timedelta(hours=5)
    publish(fast_suite, "action.accepted", sample_payload(
        "action.accepted", action_id=900_002, title="共享单车堵门", assignee_ids=[rider.id], follower_ids=[],
        reporter_id=None, actor_id=None, team_id=None, deadline_at=later))
    publish(fast_suite, "action.dispatched", sample_payload(
        "action.dispatched", action_id=900_001, title="店招松动", assignee_ids=[rider.id], follower_ids=[],
        reporter_id=None, actor_id=None, team_id=None, deadline_at=soon))  # told twice: still one reminder

    def reminded():
        return [i for i in rider.get("/notifications").json()["items"] if i["type"] == "action.deadline_near"]

    found = wait_for(reminded, timeout=15, message="the deadline reminder")
    assert found[0]["title"].startswith("【提醒】时限将至:店招松动")
    publish(fast_suite, "action.resolved", sample_payload(
        "action.resolved", action_id=900_002, title="共享单车堵门", assignee_ids=[rider.id], follower_ids=[],
        coordinator_ids=[], reporter_id=None, actor_id=rider.id, team_id=None))

    def states():
        with fast_suite.database("notifications").read() as session:
            return {r.key.split(":")[1]: r.state for r in session.scalars(
                select(Reminder).where(Reminder.key.like("action:90000%")))}

    wait_for(lambda: states() == {"900001": "fired", "900002": "cancelled"}, timeout=10,
             message="one fired, one cancelled")
    time.sleep(0.5)
    assert len(reminded()) == 1


def test_a_preview_counts_the_recipients_writes_nothing_and_the_english_text_reaches_english_readers(
        fast_suite, district):
    admin, gridworker, (rider7, rider8) = district["admin"], district["gridworker"], district["riders"]
    body = {"title": "暴雨预警", "body": "请收好门口的货架。", "title_en": "Rainstorm warning",
            "body_en": "Bring in the racks by your door.", "severity": "warning",
            "audience": [{"kind": "grid", "id": district["seven"]["id"], "only": "volunteers"},
                         {"kind": "grid", "id": district["eight"]["id"], "only": "volunteers"},
                         {"kind": "grid", "id": district["north"]["id"], "only": "volunteers"}]}
    before = _count(fast_suite)
    preview = admin.post("/broadcasts/preview", json=body)
    assert preview.status_code == 200, preview.text
    answer = preview.json()
    assert answer["targeted"] == 2  # each rider once, though the district names both again
    assert [item["people"] for item in answer["audience"]] == [1, 1, 2]
    assert answer["audience"][0] == {"kind": "grid", "id": district["seven"]["id"], "only": "volunteers",
                                     "people": 1}
    # Authorised and checked as sending it; a half English text is refused beside its field.
    assert gridworker.post("/broadcasts/preview", json=body).status_code == 403
    assert rider7.post("/broadcasts/preview", json=body).status_code == 403
    half = admin.post("/broadcasts/preview", json={**body, "body_en": None})
    assert half.status_code == 422 and set(half.json()["errors"]) == {"body_en"}
    past = admin.post("/broadcasts/preview", json={**body, "expires_at": "2020-01-01T00:00:00+00:00"})
    assert past.status_code == 422 and "expires_at" in past.json()["errors"]
    assert _count(fast_suite) == before

    sent = admin.post("/broadcasts", json=body)
    assert sent.status_code == 201, sent.text
    broadcast = sent.json()
    assert broadcast["targeted"] == 2 and broadcast["title_en"] == "Rainstorm warning"
    done = wait_for(lambda: (b := admin.get(f"/broadcasts/{broadcast['id']}").json())["state"] == "done" and b,
                    timeout=10, message="the fan-out")
    assert done["sent"] == 2 and isinstance(done["by_channel"], list)

    def told(rider):
        return [i for i in rider.get("/notifications").json()["items"]
                if i["data"].get("broadcast_id") == broadcast["id"]]

    assert [(i["title"], i["body"]) for i in told(rider7)] == [("【提醒】暴雨预警", "请收好门口的货架。")]
    assert [(i["title"], i["body"]) for i in told(rider8)] == [("[Notice] Rainstorm warning",
                                                                "Bring in the racks by your door.")]


def test_a_broadcasts_channel_messages_are_counted_per_kind_of_channel(fast_suite, district):
    admin, rider7 = district["admin"], district["riders"][0]
    with WebhookPeer() as hook:
        add_channel(rider7, f"json{uuid.uuid4().hex[:4]}", hook.url("/per-kind"))
        response = admin.post("/broadcasts", json={
            "title": "停电通知", "body": "明日 9:00-11:00 停电。", "title_en": "Power cut",
            "body_en": "Tomorrow 9:00-11:00.",
            "audience": [{"kind": "grid", "id": district["seven"]["id"], "only": "volunteers"}]})
        assert response.status_code == 201, response.text
        broadcast = response.json()
        wait_for(lambda: hook.received("/per-kind"), timeout=10, message="the rider's hook")
        progress = wait_for(lambda: (b := admin.get(f"/broadcasts/{broadcast['id']}").json())["channels"]["sent"]
                            == 1 and b, timeout=10, message="channel progress")
    assert hook.received("/per-kind")[0]["body"]["title"] == "停电通知"  # a Chinese reader
    assert len(progress["by_channel"]) == 1
    kind = progress["by_channel"][0]
    assert (kind["sent"], kind["pending"], kind["failed"]) == (1, 0, 0) and kind["scheme"]

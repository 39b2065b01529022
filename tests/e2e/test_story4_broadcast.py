"""Story 4, the warning: the command broadcasts a typhoon alert to every merchant and volunteer in three
micro-grids. Each person is told once, in their language, on their own channels even in quiet hours (it
is critical); the grid robots hear it once; the command watches the progress."""
from __future__ import annotations

import uuid

from tests.support.peers import WebhookPeer
from tests.support.suite import wait_for


def test_the_command_broadcasts_a_typhoon_alert_to_merchants_and_volunteers_in_three_grids(suite):
    tag = uuid.uuid4().hex[:6]
    command = suite.user(roles=["resident", "admin"], display_name="街道城运中心")
    root = suite.rpc("volunteers", "ensure_grid", {"name": f"新华路街道-{tag}", "level": 3})
    north = suite.rpc("volunteers", "ensure_grid", {"name": f"宜北-{tag}", "level": 2, "parent_id": root["id"]})
    grids = [suite.rpc("volunteers", "ensure_grid", {"name": f"微网格{n}-{tag}", "level": 1,
                                                     "parent_id": north["id"]}) for n in (5, 6, 7)]
    outside = suite.rpc("volunteers", "ensure_grid", {"name": f"微网格9-{tag}", "level": 1,
                                                      "parent_id": north["id"]})
    merchants, riders = [], []
    for index, grid in enumerate(grids + [outside]):
        shop = suite.user(roles=["resident", "merchant"], locale="en" if index == 1 else "zh-CN")
        suite.rpc("volunteers", "ensure_merchant", {"name": f"U巷咖啡{index}-{tag}", "street_area": "U巷",
                                                    "grid_id": grid["id"], "user_id": shop.id})
        rider = suite.user(roles=["resident", "volunteer"])
        suite.rpc("volunteers", "ensure_volunteer", rider.id, {"display_name": f"骑士{index}",
                                                               "grid_ids": [grid["id"]]})
        merchants.append(shop)
        riders.append(rider)

    with WebhookPeer() as hook:
        # The shop owner in grid 6 sleeps, but a typhoon warning wakes them on their own channel.
        merchants[1].put("/notification-preferences", json={"quiet_hours": {"start": "00:00", "end": "23:59"}})
        assert merchants[1].post("/notification-channels", json={
            "name": "phone", "url": hook.url("/merchant6")}).status_code == 201
        assert command.post("/notification-channels", json={
            "name": "wecom", "url": hook.url("/grid5-robot"), "grid_id": grids[0]["id"]}).status_code == 201

        audience = [{"kind": "grid", "id": g["id"], "only": only} for g in grids
                    for only in ("merchants", "volunteers")]
        response = command.post("/broadcasts", json={
            "title": "台风“普拉桑”红色预警", "severity": "critical",
            "body": "请今晚 18:00 前检查并加固店招,收起外摆;最近的避难点:新华路街道党群服务中心。",
            "audience": audience})
        assert response.status_code == 201, response.text
        broadcast = response.json()
        assert broadcast["targeted"] == 6

        progress = wait_for(lambda: (b := command.get(f"/broadcasts/{broadcast['id']}").json())["state"] == "done"
                            and b, timeout=20, message="the fan-out")
        assert progress["sent"] == 6 and progress["failed"] == 0
        wait_for(lambda: hook.received("/merchant6"), timeout=15, message="the sleeping merchant's phone")
        # The grid robot is addressed through the grid's own channel only when the whole grid is targeted.
        assert not hook.received("/grid5-robot")
        assert hook.received("/merchant6")[0]["body"]["title"] == "[URGENT] 台风“普拉桑”红色预警"

    for person in merchants[:3] + riders[:3]:
        items = [i for i in person.get("/notifications").json()["items"]
                 if i["data"].get("broadcast_id") == broadcast["id"]]
        assert len(items) == 1 and items[0]["severity"] == "critical", person.id
    for person in (merchants[3], riders[3]):
        assert not [i for i in person.get("/notifications").json()["items"]
                    if i["data"].get("broadcast_id") == broadcast["id"]]

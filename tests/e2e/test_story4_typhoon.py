"""Story 4 over HTTP: a typhoon warning, one storefront check per shop in three grids, the map turns green.

"The command ... creates one storefront check per shop; the map fills green as volunteers tick the
checklists." (The broadcast to every merchant and volunteer is the notifications service's part.)
"""
from __future__ import annotations

from sqlalchemy import select

from services.notifications.models import Reminder
from tests.support.suite import wait_for
from tests.volunteers.integration.world import make_world

CHECKLIST = ["店招已加固", "已告知最近的避险点", "门口杂物已收起"]


def _colours(client, *grid_ids):
    status = {g["grid_id"]: g for g in client.get("/grid-status").json()["items"]}
    return [status[g]["colour"] for g in grid_ids], status


def test_story4_typhoon_storefront_checks(suite):
    world = make_world(suite)
    third = suite.rpc("volunteers", "ensure_grid", {"name": f"第5微网格 {world.tag}", "level": 1,
                                                    "parent_id": world.big["id"]})
    grids = [world.micro["id"], world.other_micro["id"], third["id"]]
    shops = [suite.rpc("volunteers", "ensure_merchant", {"name": f"{name} {grid} {world.tag}", "grid_id": grid,
                                                        "status": "approved", "user_id": None})
             for grid in grids for name in ("理发店", "面馆", "便利店", "咖啡馆")]
    team = suite.rpc("volunteers", "ensure_team", {"name": f"行动队 {world.tag}", "kind": "action_team",
                                                   "join_policy": "open"})
    volunteers = [world.volunteer(grid_ids=[world.big["id"]]) for _ in range(2)]
    for volunteer in volunteers:
        assert volunteer.post(f"/teams/{team['id']}/join").json()["status"] == "active"

    before, _ = _colours(world.command, world.big["id"], world.root["id"])
    assert before == ["green", "green"]

    created = world.command.post("/actions/mass", json={
        "title": "台风“普拉桑”店招检查", "category": world.category, "grid_ids": grids, "team_id": team["id"],
        "checklist": CHECKLIST, "description": "登陆前走访每一家沿街商铺"})
    assert created.status_code == 201, created.text
    parent = created.json()
    assert parent["progress"] == {"total": 12, "done": 0, "by_state": {"dispatched": 12},
                                  "checklist_items": 36, "checklist_done": 0}

    # Twelve open checks under 宜北: the map is no longer green there (yellow from 10 open actions up).
    during, status = _colours(world.command, world.big["id"], world.root["id"])
    assert during == ["yellow", "yellow"] and status[world.big["id"]]["open"] == 12

    checks = world.command.get(f"/actions?parent_id={parent['id']}&limit=100").json()["items"]
    assert sorted(c["merchant_id"] for c in checks) == sorted(s["id"] for s in shops)
    for index, check in enumerate(checks):
        volunteer = volunteers[index % 2]
        assert volunteer.post(f"/actions/{check['id']}/accept").status_code == 200
        if index == 0:  # resolving before the list is ticked names the endpoint that ticks it
            early = volunteer.post(f"/actions/{check['id']}/resolve", json={"outcome": "已检查"})
            assert early.status_code == 409 and early.json()["allowed"] == ["checklist"], early.text
        for item in range(len(CHECKLIST)):
            assert volunteer.post(f"/actions/{check['id']}/checklist", json={"index": item}).status_code == 200
        done = volunteer.post(f"/actions/{check['id']}/resolve", json={"outcome": "已检查"})
        assert done.json()["state"] == "closed", done.text
        if index == 5:  # half way: progress is visible to the command
            progress = world.command.get(f"/actions/{parent['id']}").json()["progress"]
            assert progress["done"] == 6 and progress["checklist_done"] == 18

    final = world.command.get(f"/actions/{parent['id']}").json()
    assert final["state"] == "closed" and final["progress"]["done"] == 12
    after, status = _colours(world.command, world.big["id"], world.root["id"], *grids)
    assert after == ["green"] * 5 and status[world.big["id"]]["open"] == 0
    # The grid worker of one micro-grid sees only their part of the map.
    assert {g["grid_id"] for g in world.gridworker.get("/grid-status").json()["items"]} == {world.micro["id"]}
    assert sum(v.get("/volunteers/me").json()["open_actions"] for v in volunteers) == 0

    # The command heard of the whole as one thing: its closing, no message per check, no "please verify"
    # for checks that closed themselves, and no digest left to repeat what the closing said.
    def closed_told():
        items = world.command.get("/notifications?limit=100").json()["items"]
        return [i for i in items if i["type"] == "action.closed" and i["data"].get("action_id") == parent["id"]]

    wait_for(closed_told, timeout=20, message="the mass action's closing in the command's inbox")
    check_ids = {c["id"] for c in checks}
    items = world.command.get("/notifications?limit=100").json()["items"]
    assert [i["title"] for i in items if i["data"].get("action_id") in check_ids] == []
    with suite.database("notifications").read() as session:
        assert not session.scalars(select(Reminder.id).where(Reminder.key.like(f"digest:{parent['id']}:%"),
                                                             Reminder.state == "scheduled")).all()

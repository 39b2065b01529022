"""Through the real gateway: vetting queues tell their grid's coordinators, a broadcast that has already
expired is refused, and a volunteer dispatched with others is released when one of them accepts."""
from __future__ import annotations

import pytest

from tests.support.suite import wait_for
from tests.volunteers.integration.world import make_world

pytestmark = pytest.mark.integration


def _entries(client, type_name: str, **data):
    items = client.get("/notifications?limit=100").json()["items"]
    return [i for i in items if i["type"] == type_name and all(i["data"].get(k) == v for k, v in data.items())]


def test_a_shop_and_a_wish_waiting_for_vetting_tell_the_coordinators_of_their_grid(suite):
    world = make_world(suite)
    shop_owner = suite.user(roles=["resident", "merchant"])
    shop = shop_owner.post("/merchants", json={"name": f"U巷咖啡 {world.tag}", "grid_id": world.micro["id"]})
    assert shop.status_code == 201, shop.text
    told = wait_for(lambda: _entries(world.gridworker, "merchant.registered", merchant_id=shop.json()["id"]),
                    timeout=20, message="the grid worker told of the shop to approve")
    assert world.micro["name"] in told[0]["body"] and f"U巷咖啡 {world.tag}" in told[0]["title"]

    elder = suite.user(roles=["resident"], groups=["elderly"])
    wish = elder.post("/wishes", json={"title": f"一台收音机 {world.tag}", "story": "想听戏", "estimated_value": 80,
                                       "grid_id": world.micro["id"]})
    assert wish.status_code == 201, wish.text
    wait_for(lambda: _entries(world.gridworker, "wish.submitted", wish_id=wish.json()["id"]), timeout=20,
             message="the grid worker told of the wish to vet")
    # Another micro-grid's worker is not theirs to vet.
    assert not _entries(world.other_gridworker, "wish.submitted", wish_id=wish.json()["id"])


def test_a_broadcast_that_has_already_expired_is_refused_and_sends_nothing(suite):
    world = make_world(suite)
    before = world.command.get("/broadcasts").json()["items"]
    refused = world.command.post("/broadcasts", json={
        "title": "台风预警", "body": "请加固店招", "expires_at": "2020-01-01T00:00:00+08:00",
        "audience": [{"kind": "grid", "id": world.micro["id"]}]})
    assert refused.status_code == 422, refused.text
    assert "expires_at" in refused.json()["errors"]
    assert world.command.get("/broadcasts").json()["items"] == before


def test_when_one_accepts_the_others_asked_are_released(suite):
    world = make_world(suite)
    first, second = world.volunteer(), world.volunteer()
    action = world.report(world.suite.user())
    dispatched = world.gridworker.post(f"/actions/{action['id']}/dispatch",
                                       json={"volunteer_ids": [first.id, second.id]})
    assert dispatched.status_code == 200, dispatched.text
    [request] = wait_for(lambda: _entries(second, "action.dispatched", action_id=action["id"]), timeout=20,
                         message="the second volunteer asked")
    assert first.post(f"/actions/{action['id']}/accept").status_code == 200

    released = wait_for(lambda: _entries(second, "action.accepted", action_id=action["id"]), timeout=20,
                        message="the second volunteer released")
    assert released[0]["data"]["audience"] == "released" and released[0]["title"].startswith("已由他人接单")
    wait_for(lambda: next(i for i in second.get("/notifications?limit=100").json()["items"]
                          if i["id"] == request["id"])["superseded_at"], timeout=20, message="the request superseded")
    # The answered request is not news any more: not unread, not counted (the welcome and the release are).
    unread = second.get("/notifications?unread=true&limit=100").json()
    assert request["id"] not in [i["id"] for i in unread["items"]]
    assert unread["unread_count"] == len(unread["items"]) == 2
    # The one who accepted has answered their own request too.
    wait_for(lambda: _entries(first, "action.dispatched", action_id=action["id"])[0]["superseded_at"], timeout=20,
             message="the accepter's request answered")

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
    # The welcome comes from the gateway's account event, in no set order with the volunteers' events.
    wait_for(lambda: _entries(second, "account.registered"), timeout=20, message="the welcome")
    unread = second.get("/notifications?unread=true&limit=100").json()
    assert request["id"] not in [i["id"] for i in unread["items"]]
    assert unread["unread_count"] == len(unread["items"]) == 2
    # The one who accepted has answered their own request too.
    wait_for(lambda: _entries(first, "action.dispatched", action_id=action["id"])[0]["superseded_at"], timeout=20,
             message="the accepter's request answered")


def _superseded(client, entry_id: int):
    return next(i for i in client.get("/notifications?limit=100").json()["items"] if i["id"] == entry_id)["superseded_at"]


def test_cancelling_a_dispatched_action_releases_everyone_still_asked(suite):
    world = make_world(suite)
    first, second = world.volunteer(), world.volunteer()
    reporter = world.suite.user()
    action = world.report(reporter)
    assert world.gridworker.post(f"/actions/{action['id']}/dispatch",
                                 json={"volunteer_ids": [first.id, second.id]}).status_code == 200
    requests = {v.id: wait_for(lambda v=v: _entries(v, "action.dispatched", action_id=action["id"]), timeout=20,
                               message="asked to accept")[0] for v in (first, second)}
    cancelled = world.gridworker.post(f"/actions/{action['id']}/cancel", json={"reason": "已自行修好"})
    assert cancelled.status_code == 200, cancelled.text

    for volunteer in (first, second):
        [told] = wait_for(lambda v=volunteer: _entries(v, "action.cancelled", action_id=action["id"]), timeout=20,
                          message="the asked volunteer released")
        assert told["data"]["audience"] == "released" and told["title"].startswith("已取消,无需处理"), told
        wait_for(lambda v=volunteer: _superseded(v, requests[v.id]["id"]), timeout=20, message="the request superseded")
        unread = volunteer.get("/notifications?unread=true&limit=100").json()["items"]
        assert requests[volunteer.id]["id"] not in [i["id"] for i in unread]
    # The reporter hears it was called off; the one who cancelled it is not told of their own act.
    [heard] = wait_for(lambda: _entries(reporter, "action.cancelled", action_id=action["id"]), timeout=20,
                       message="the reporter told")
    assert heard["title"].startswith("已取消:") and "已自行修好" in heard["body"]
    assert not _entries(world.gridworker, "action.cancelled", action_id=action["id"])


def test_merging_a_duplicate_releases_those_asked_and_tells_its_reporter_which_case_it_joined(suite):
    world = make_world(suite)
    rider = world.volunteer()
    reporter = world.suite.user()
    survivor = world.report(world.suite.user(), title=f"店招松动(先报) {world.tag}")
    duplicate = world.report(reporter, title=f"店招要掉了 {world.tag}")
    assert world.gridworker.post(f"/actions/{duplicate['id']}/dispatch",
                                 json={"volunteer_ids": [rider.id]}).status_code == 200
    [request] = wait_for(lambda: _entries(rider, "action.dispatched", action_id=duplicate["id"]), timeout=20,
                         message="the rider asked")
    merged = world.gridworker.post(f"/actions/{duplicate['id']}/merge", json={"survivor_id": survivor["id"]})
    assert merged.status_code == 200, merged.text

    [released] = wait_for(lambda: _entries(rider, "action.merged", action_id=duplicate["id"]), timeout=20,
                          message="the rider released")
    assert released["data"]["audience"] == "released" and released["title"].startswith("已合并,无需处理")
    wait_for(lambda: _superseded(rider, request["id"]), timeout=20, message="the rider's request superseded")
    # An accept now answers 409 (the case is settled), not a silent wait.
    assert rider.post(f"/actions/{duplicate['id']}/accept").status_code == 409

    [heard] = wait_for(lambda: _entries(reporter, "action.merged", action_id=duplicate["id"]), timeout=20,
                       message="the duplicate's reporter told which case it joined")
    assert heard["data"]["survivor_id"] == survivor["id"]
    assert f"店招松动(先报) {world.tag}" in heard["body"] and f"#{survivor['id']}" in heard["body"]

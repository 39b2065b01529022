"""A coordinator of a shop's grid (who may approve it) rejects a pending shop with a reason; its owner reads
the reason; nobody else may; bad input is 422 with field messages; the shop may still be approved later."""
from __future__ import annotations

import pytest

from shared.errors import Forbidden, Invalid, NotFound
from tests.volunteers.integration.world import make_world


def _register(world, owner) -> dict:
    response = owner.post("/merchants", json={"name": f"理发店 {world.tag} {owner.id}", "grid_id": world.micro["id"],
                                              "category": "barber", "street_area": "U巷"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_pending_shop_is_rejected_with_a_reason_its_owner_reads(suite):
    world = make_world(suite)
    owner = suite.user(roles=["resident", "merchant"])
    other_merchant = suite.user(roles=["resident", "merchant"])
    shop = _register(world, owner)
    assert shop["status"] == "pending" and shop["rejection_reason"] == ""

    # Neither another grid's coordinator (the pending shop is not theirs to see) nor a merchant may reject it.
    assert world.other_gridworker.post(f"/merchants/{shop['id']}/reject", json={"reason": "不行"}).status_code == 404
    assert other_merchant.post(f"/merchants/{shop['id']}/reject", json={"reason": "不行"}).status_code == 403
    for body, field in (({}, "reason"), ({"reason": ""}, "reason"), ({"reason": "x" * 1001}, "reason")):
        response = world.gridworker.post(f"/merchants/{shop['id']}/reject", json=body)
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"], response.json()
    assert owner.get(f"/merchants/{shop['id']}").json()["status"] == "pending"

    rejected = world.gridworker.post(f"/merchants/{shop['id']}/reject", json={"reason": "营业执照照片看不清,请重新拍摄"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejected_at"].endswith("+00:00")

    mine = owner.get(f"/merchants/{shop['id']}").json()
    assert mine["status"] == "rejected" and mine["rejection_reason"] == "营业执照照片看不清,请重新拍摄"
    listed = {m["id"]: m for m in owner.get("/merchants", params={"mine": "true"}).json()["items"]}
    assert listed[shop["id"]]["rejection_reason"] == "营业执照照片看不清,请重新拍摄"
    # Not public, and no longer waiting in the coordinators' queue.
    assert suite.client().get(f"/merchants/{shop['id']}").status_code == 404
    waiting = world.gridworker.get("/merchants", params={"grid_id": world.micro["id"], "status": "pending"}).json()
    assert shop["id"] not in {m["id"] for m in waiting["items"]}
    by_status = world.gridworker.get("/merchants", params={"grid_id": world.micro["id"], "status": "rejected"}).json()
    assert shop["id"] in {m["id"] for m in by_status["items"]}

    again = world.gridworker.post(f"/merchants/{shop['id']}/reject", json={"reason": "再说一次"})
    assert again.status_code == 409 and again.json()["state"] == "rejected" and again.json()["allowed"] == ["approve"]

    # A coordinator above the grid may approve it after all: the reason goes.
    approved = world.secretary.post(f"/merchants/{shop['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["rejection_reason"] == ""
    late = world.gridworker.post(f"/merchants/{shop['id']}/reject", json={"reason": "晚了"})
    assert late.status_code == 409 and late.json()["state"] == "approved"


def test_rejecting_over_rpc_authorises_the_caller(suite):
    world = make_world(suite)
    owner = suite.user(roles=["resident", "merchant"])
    shop = _register(world, owner)
    with pytest.raises(Forbidden):
        suite.rpc("volunteers", "reject_merchant", shop["id"], {"reason": "x"}, caller=suite.caller_of(owner))
    with pytest.raises(NotFound):
        suite.rpc("volunteers", "reject_merchant", shop["id"], {"reason": "x"},
                  caller=suite.caller_of(world.other_gridworker))
    with pytest.raises(Invalid):
        suite.rpc("volunteers", "reject_merchant", shop["id"], {"reason": 5}, caller=suite.caller_of(world.gridworker))
    done = suite.rpc("volunteers", "reject_merchant", shop["id"], {"reason": "重复登记"},
                     caller=suite.caller_of(world.gridworker))
    assert done["status"] == "rejected" and done["rejection_reason"] == "重复登记"

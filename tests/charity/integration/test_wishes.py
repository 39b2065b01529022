"""Micro-wishes over HTTP: post, vet, adopt, deliver, confirm receipt; who may do what."""
from __future__ import annotations

from tests.charity.support import coordinator, grid_tree


def test_a_wish_from_post_to_receipt(suite):
    grids = grid_tree(suite)
    driver = suite.user(roles=["resident"], groups=["outdoor"])
    gridworker = coordinator(suite, grids["lane"])
    shop = suite.user(roles=["resident", "merchant"], display_name="U巷咖啡")
    stranger = suite.user(roles=["resident"])

    assert stranger.post("/wishes", json={"title": "电饭煲", "story": "…", "estimated_value": 200}).status_code == 403
    bad = driver.post("/wishes", json={"title": "", "story": "家里的电饭煲坏了", "estimated_value": 0})
    assert bad.status_code == 422 and {"title", "estimated_value"} <= set(bad.json()["errors"])

    wish = driver.post("/wishes", json={"title": "一台电饭煲", "story": "网约车司机家里的电饭煲坏了,孩子要吃饭",
                                        "estimated_value": 300, "grid_id": grids["lane"]}).json()
    path = f"/wishes/{wish['id']}"
    assert wish["state"] == "submitted"
    # Not public before vetting; only a coordinator of its grid publishes it.
    assert stranger.get(path).status_code == 404
    assert wish["id"] not in [w["id"] for w in suite.client().get("/wishes").json()["items"]]
    vetting = gridworker.get("/wishes", params={"state": "submitted", "grid_id": grids["lane"]}).json()["items"]
    assert [w["id"] for w in vetting] == [wish["id"]]
    assert coordinator(suite, grids["south"]).post(f"{path}/publish", json={}).status_code == 404
    early = shop.post(f"{path}/adopt", json={})
    assert early.status_code == 404
    assert gridworker.post(f"{path}/publish", json={}).json()["state"] == "published"
    assert wish["id"] in [w["id"] for w in suite.client().get("/wishes").json()["items"]]

    # Only merchants and partners adopt, never the owner; then the adopter delivers, the owner confirms.
    assert stranger.post(f"{path}/adopt", json={}).status_code == 403
    assert driver.post(f"{path}/adopt", json={}).status_code == 403
    too_soon = driver.post(f"{path}/fulfil", json={})
    assert too_soon.status_code == 409 and too_soon.json()["allowed"] == ["adopt", "withdraw"]
    adopted = shop.post(f"{path}/adopt", json={}).json()
    assert adopted["state"] == "adopted" and adopted["adopter_id"] == shop.id and adopted["adopter_name"] == "U巷咖啡"
    assert driver.post(f"{path}/withdraw", json={}).status_code == 409
    assert stranger.post(f"{path}/deliver", json={}).status_code == 403
    assert shop.post(f"{path}/deliver", json={"note": "已送到家"}).json()["state"] == "delivered"
    assert shop.post(f"{path}/fulfil", json={}).status_code == 403
    done = driver.post(f"{path}/fulfil", json={"note": "谢谢!"}).json()
    assert done["state"] == "fulfilled"
    assert [(t["verb"], t["to_state"]) for t in done["timeline"]] == [
        ("submit", "submitted"), ("publish", "published"), ("adopt", "adopted"), ("deliver", "delivered"),
        ("fulfil", "fulfilled")]
    assert [w["id"] for w in shop.get("/wishes", params={"mine": "true"}).json()["items"]] == [wish["id"]]


def test_a_rejected_or_withdrawn_wish_goes_nowhere(suite):
    grids = grid_tree(suite)
    rider = suite.user(roles=["resident"], groups=["rider"])
    gridworker = coordinator(suite, grids["north"])
    first = rider.post("/wishes", json={"title": "新头盔", "story": "头盔裂了", "estimated_value": 150,
                                        "grid_id": grids["lane2"]}).json()
    rejected = gridworker.post(f"/wishes/{first['id']}/reject", json={"note": "请走骑士团装备申领"}).json()
    assert rejected["state"] == "rejected" and rejected["note"] == "请走骑士团装备申领"
    assert rider.post(f"/wishes/{first['id']}/withdraw", json={}).status_code == 409
    second = rider.post("/wishes", json={"title": "雨衣", "story": "雨季送餐", "estimated_value": 80}).json()
    assert rider.post(f"/wishes/{second['id']}/withdraw", json={}).json()["state"] == "withdrawn"
    assert gridworker.post(f"/wishes/{second['id']}/publish", json={}).status_code == 409

"""The demo neighbourhood's grid worker (named on 第7微网格 by the seed) is held to that grid, and works in it.

The requests of issue 10, item 6, as they were reproduced on the seeded demo.
"""
from __future__ import annotations

import pytest

from tests.gateway.integration.test_cli import seeded_demo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(suite):
    people = seeded_demo(suite, ("gridworker", "secretary", "rider", "canteen", "coffee"), timeout=240)
    grids = {g["name"]: g["id"] for g in people["gridworker"].get("/grids").json()["items"]}
    return people, grids


def test_the_demo_grid_worker_broadcasts_to_their_grid(demo):
    people, grids = demo
    sent = people["gridworker"].post("/broadcasts", json={
        "title": "台风预警", "body": "请检查店招。", "audience": [{"kind": "grid", "id": grids["第7微网格"]}]})
    assert sent.status_code == 201, sent.text
    outside = people["gridworker"].post("/broadcasts", json={
        "title": "t", "body": "b", "audience": [{"kind": "grid", "id": grids["第5微网格"]}]})
    assert outside.status_code == 403, outside.text


def test_the_demo_grid_worker_is_held_to_their_grid_for_roles_and_groups(demo):
    people, _grids = demo
    worker = people["gridworker"]
    own = worker.put(f"/accounts/{worker.user['id']}/groups", json={"groups": ["rider"]})
    assert own.status_code == 403 and own.headers["Content-Type"] == "application/problem+json"
    assert worker.get("/me").json()["groups"] == []
    coffee = next(p for p in worker.get("/pledges", params={"group": "rider", "limit": 100}).json()["items"]
                  if p["title"] == "骑手免费咖啡一杯")
    assert worker.post(f"/pledges/{coffee['id']}/claims").status_code == 403
    canteen = people["canteen"].user  # its shop is in 第5微网格
    assert worker.delete(f"/accounts/{canteen['id']}/roles/merchant").status_code == 403
    assert "merchant" in people["canteen"].get("/me").json()["roles"]
    secretary = people["secretary"].user
    assert worker.post(f"/accounts/{secretary['id']}/roles", json={"role": "volunteer"}).status_code == 403
    assert "volunteer" not in people["secretary"].get("/me").json()["roles"]


def test_the_demo_grid_worker_confirms_a_rider_of_their_grid(demo):
    people, _grids = demo
    rider = people["rider"].user  # a volunteer of 第7微网格
    confirmed = people["gridworker"].put(f"/accounts/{rider['id']}/groups", json={"groups": ["courier", "rider"]})
    assert confirmed.status_code == 200 and confirmed.json()["groups"] == ["courier", "rider"], confirmed.text
    restored = people["gridworker"].put(f"/accounts/{rider['id']}/groups", json={"groups": ["rider"]})
    assert restored.status_code == 200 and restored.json()["groups"] == ["rider"]

"""Coordinators are held to their grids for roles and groups, and the grid tree is the one record of scope.

Each refused request was reproduced against the earlier code (issue 10, item 6): a coordinator confirmed a
beneficiary group on their own account and claimed a rider's coffee, removed the merchant role of a shop in
another grid, and granted roles to another coordinator; and a grid's own coordinator (named on the grid
node, as the demo's grid worker is) was refused a broadcast to that grid.
"""
from __future__ import annotations

import pytest

from tests.charity.support import grid_tree, open_shop, register_pledge
from tests.support.suite import within_session_bound

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def district(suite):
    grids = grid_tree(suite)  # root → north → lane, lane2; root → south
    lane_worker = suite.user(roles=["resident", "coordinator"], grids=[grids["lane"]])
    south_worker = suite.user(roles=["resident", "coordinator"], grids=[grids["south"]])
    admin = suite.user(roles=["resident", "admin"])
    owner = suite.user(roles=["resident", "merchant"])
    shop = open_shop(suite, owner, grids["lane"], approver=lane_worker)
    pledge = register_pledge(owner, shop["id"])
    return {"grids": grids, "lane_worker": lane_worker, "south_worker": south_worker, "admin": admin,
            "owner": owner, "shop": shop, "pledge": pledge}


def _person_in(suite, grid_id: int, roles=("resident",)):
    """Someone who belongs to a grid through their volunteer profile."""
    person = suite.user(roles=list(roles))
    suite.rpc("volunteers", "ensure_volunteer", person.id, {"display_name": person.user["username"],
                                                            "grid_ids": [grid_id]})
    return person


def _account(suite, user_id: int) -> dict:
    from services.gateway.accounts import get_account

    return get_account(suite.database("gateway"), user_id)


def _problem(response, status: int = 403) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json()


def test_a_coordinator_cannot_confirm_a_group_on_their_own_account(suite, district):
    worker, pledge = district["lane_worker"], district["pledge"]
    _problem(worker.put(f"/accounts/{worker.id}/groups", json={"groups": ["rider"]}))
    assert _account(suite, worker.id)["groups"] == []
    # ...so the rider's free coffee stays out of reach.
    assert worker.post(f"/pledges/{pledge['id']}/claims").status_code == 403


def test_a_coordinator_cannot_touch_a_shop_in_another_grid(suite, district):
    owner = district["owner"]
    _problem(district["south_worker"].delete(f"/accounts/{owner.id}/roles/merchant"))
    _problem(district["south_worker"].put(f"/accounts/{owner.id}/groups", json={"groups": ["courier"]}))
    assert _account(suite, owner.id)["roles"] == ["merchant", "resident"]
    assert _account(suite, owner.id)["groups"] == []


def test_a_coordinator_cannot_act_on_another_coordinator(suite, district):
    grids = district["grids"]
    # Even a coordinator of the same grid, even one who also volunteers there.
    colleague = suite.user(roles=["resident", "coordinator"], grids=[grids["lane"]])
    suite.rpc("volunteers", "ensure_volunteer", colleague.id, {"display_name": "同事", "grid_ids": [grids["lane"]]})
    worker = district["lane_worker"]
    for request in (lambda: worker.post(f"/accounts/{colleague.id}/roles", json={"role": "volunteer"}),
                    lambda: worker.delete(f"/accounts/{colleague.id}/roles/volunteer"),
                    lambda: worker.put(f"/accounts/{colleague.id}/groups", json={"groups": ["rider"]}),
                    lambda: worker.post(f"/accounts/{district['admin'].id}/roles", json={"role": "merchant"})):
        _problem(request())
    assert _account(suite, colleague.id)["roles"] == ["coordinator", "resident"]
    assert _account(suite, colleague.id)["groups"] == []
    # Nor grant coordinator or admin to anyone, nor change their own roles.
    resident = _person_in(suite, grids["lane"])
    assert worker.post(f"/accounts/{resident.id}/roles",
                       json={"role": "coordinator", "grids": [grids["lane"]]}).status_code == 403
    assert worker.post(f"/accounts/{resident.id}/roles", json={"role": "admin"}).status_code == 403
    assert worker.post(f"/accounts/{worker.id}/roles", json={"role": "merchant"}).status_code == 403
    assert _account(suite, resident.id)["roles"] == ["resident"]


def test_a_coordinator_acts_only_on_people_inside_their_grids(suite, district):
    grids, worker = district["grids"], district["lane_worker"]
    outsider = _person_in(suite, grids["lane2"])  # a sibling micro-grid
    nowhere = suite.user()  # belongs to no grid yet: only an admin acts on them
    for person in (outsider, nowhere):
        _problem(worker.post(f"/accounts/{person.id}/roles", json={"role": "merchant"}))
        _problem(worker.put(f"/accounts/{person.id}/groups", json={"groups": ["rider"]}))
        assert _account(suite, person.id)["roles"] == ["resident"] and _account(suite, person.id)["groups"] == []
    assert district["admin"].put(f"/accounts/{nowhere.id}/groups", json={"groups": ["elderly"]}).status_code == 200


def test_a_coordinator_confirms_a_rider_in_their_grid_who_then_claims_the_coffee(suite, district):
    grids, pledge = district["grids"], district["pledge"]
    rider = _person_in(suite, grids["lane"])
    confirmed = district["lane_worker"].put(f"/accounts/{rider.id}/groups", json={"groups": ["rider"]})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["groups"] == ["rider"]
    assert rider.post(f"/pledges/{pledge['id']}/claims").status_code == 201
    # A coordinator of a grid above covers the grids below it.
    north_worker = suite.user(roles=["resident", "coordinator"], grids=[grids["north"]])
    granted = north_worker.post(f"/accounts/{rider.id}/roles", json={"role": "volunteer"})
    assert granted.status_code == 200 and granted.json()["roles"] == ["resident", "volunteer"]


def test_the_grid_nodes_coordinator_broadcasts_to_their_grid(suite, district):
    """The demo case: a grid worker named on the grid node (not on their account) broadcasts to it."""
    grids = district["grids"]
    worker = suite.user(roles=["resident", "coordinator"])
    grid = suite.rpc("volunteers", "get_grid", grids["lane2"])
    suite.rpc("volunteers", "ensure_grid", {"name": grid["name"], "level": 1, "parent_id": grids["north"],
                                            "coordinator_ids": [worker.id]})
    sent = worker.post("/broadcasts", json={"title": "台风预警", "body": "请检查店招。",
                                            "audience": [{"kind": "grid", "id": grids["lane2"]}]})
    assert sent.status_code == 201, sent.text
    refused = worker.post("/broadcasts", json={"title": "t", "body": "b",
                                               "audience": [{"kind": "grid", "id": grids["lane"]}]})
    assert "outside your scope" in _problem(refused)["detail"]


def test_an_admin_grants_and_revokes_coordinator_on_the_grid_tree(suite, district):
    grids, admin = district["grids"], district["admin"]
    person = suite.user()
    audience = [{"kind": "grid", "id": grids["south"]}]
    granted = admin.post(f"/accounts/{person.id}/roles", json={"role": "coordinator", "grids": [grids["south"]]})
    assert granted.status_code == 200, granted.text
    assert "coordinator" in granted.json()["roles"] and "grids" not in granted.json()
    assert person.id in admin.get(f"/grids/{grids['south']}").json()["coordinator_ids"]
    assert person.post("/broadcasts", json={"title": "t", "body": "b", "audience": audience}).status_code == 201

    unknown = admin.post(f"/accounts/{suite.user().id}/roles", json={"role": "coordinator", "grids": [2**31 - 1]})
    assert "grids" in _problem(unknown, 422)["errors"]

    revoked = admin.delete(f"/accounts/{person.id}/roles/coordinator")
    assert revoked.status_code == 200 and "coordinator" not in revoked.json()["roles"]
    assert person.id not in admin.get(f"/grids/{grids['south']}").json()["coordinator_ids"]
    # The person's gateway process learns of it within the session bound (a read changes nothing meanwhile).
    within_session_bound(lambda: person.get("/accounts", params={"limit": 1}), lambda r: r.status_code == 403)
    _problem(person.post("/broadcasts", json={"title": "t", "body": "b", "audience": audience}))


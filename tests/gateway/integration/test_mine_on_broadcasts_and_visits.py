"""`mine=true` narrows /broadcasts and /visits to what the caller did, as it narrows every list with a "mine"
sense; left out, an admin sees every broadcast and a coordinator every visit in their grids."""
from __future__ import annotations

import pytest

from tests.charity.support import open_shop, unique
from tests.volunteers.integration.world import make_world

pytestmark = pytest.mark.integration


def _ids(client, path: str, **params) -> set[int]:
    answer = client.get(path, params={"limit": 100, **params})
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["items"]}


def test_broadcasts_mine_true_lists_only_those_i_sent(suite):
    world = make_world(suite)
    admin = suite.user(roles=["resident", "admin"])

    def send(client) -> int:
        sent = client.post("/broadcasts", json={"title": unique("停水通知"), "body": "明日 9 点起停水",
                                                "audience": [{"kind": "grid", "id": world.micro["id"]}]})
        assert sent.status_code == 201, sent.text
        return sent.json()["id"]

    admins, workers = send(admin), send(world.gridworker)
    assert {admins, workers} <= _ids(admin, "/broadcasts")
    assert admins in _ids(admin, "/broadcasts", mine="true")
    assert workers not in _ids(admin, "/broadcasts", mine="true")
    # A coordinator only ever sees their own: mine=true changes nothing for them.
    assert _ids(world.gridworker, "/broadcasts", mine="true") == _ids(world.gridworker, "/broadcasts") \
        and workers in _ids(world.gridworker, "/broadcasts")


def test_visits_mine_true_lists_only_the_visits_i_made(suite):
    world = make_world(suite)
    shop = open_shop(suite, suite.user(roles=["resident", "merchant"]), world.micro["id"], world.gridworker)

    def visit(client) -> int:
        made = client.post("/visits", json={"merchant_id": shop["id"], "findings": "灭火器在有效期内"})
        assert made.status_code == 201, made.text
        return made.json()["id"]

    workers, secretarys = visit(world.gridworker), visit(world.secretary)
    assert {workers, secretarys} <= _ids(world.secretary, "/visits")
    assert _ids(world.secretary, "/visits", mine="true") == {secretarys}
    assert _ids(world.gridworker, "/visits", mine="true") == {workers}
    bad = world.gridworker.get("/visits", params={"mine": "maybe"})
    assert bad.status_code == 422 and "mine" in bad.json()["errors"]

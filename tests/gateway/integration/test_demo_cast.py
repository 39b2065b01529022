"""The demo neighbourhood has every person, grid, team and shop the docs' stories name, and each person sees
their place in it: a coordinator's grids are in /me."""
from __future__ import annotations

import pytest

from services.seed import PEOPLE
from tests.gateway.integration.test_cli import seeded_demo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cast(suite):
    return seeded_demo(suite, [person.username for person in PEOPLE])

def _items(body):
    return body["items"] if isinstance(body, dict) else body


def test_every_coordinator_sees_the_grids_they_coordinate_in_me(cast):
    def names(username):
        return [g["name"] for g in cast[username].get("/me").json()["grids"]]

    assert names("gridworker") == ["第7微网格"]
    for n in range(1, 7):
        assert names(f"gridworker{n}") == [f"第{n}微网格"]
    assert names("secretary") == ["宜北", "第4微网格", "第5微网格", "第6微网格", "第7微网格"]
    assert names("secretary2")[0] == "宜南"
    command = names("command")
    assert command[0] == "新华路街道" and len(command) == 1 + 2 + 7
    assert names("rider") == [] and names("demo") == []
    assert "admin" in cast["admin"].get("/me").json()["roles"]


def test_the_stories_find_their_people(cast):
    me = {username: client.get("/me").json() for username, client in cast.items()}
    assert me["courier"]["groups"] == ["courier"]
    assert me["rider"]["groups"] == me["rider2"]["groups"] == ["rider"]
    teams = {t["name"]: t for t in _items(cast["demo"].get("/teams").json())}
    assert set(teams) >= {"骑士团", "好店家", "营造师", "讲述者", "行动队"}
    members = _items(cast["demo"].get(f"/teams/{teams['行动队']['id']}/members").json())
    active = {m["user_id"] for m in members if m["status"] == "active"}
    assert {me["fixer"]["id"], me["fixer2"]["id"]} <= active
    knights = _items(cast["demo"].get(f"/teams/{teams['骑士团']['id']}/members").json())
    assert {me["rider"]["id"], me["rider2"]["id"]} <= {m["user_id"] for m in knights if m["status"] == "active"}


def test_the_typhoon_grids_hold_the_merchants(cast):
    grids = {}
    stack = _items(cast["demo"].get("/grids").json())
    while stack:
        grid = stack.pop()
        stack.extend(grid.get("children") or [])
        grids[grid["name"]] = grid["id"]
    counts = {}
    for name in ("第5微网格", "第6微网格", "第7微网格"):
        shops = cast["command"].get("/merchants", params={"grid_id": grids[name], "limit": 100}).json()["items"]
        counts[name] = {s["name"] for s in shops}
    assert len(counts["第7微网格"]) >= 14 and "U巷咖啡" in counts["第7微网格"]
    assert "中潭一哩食堂" in counts["第5微网格"] and "阿强理发" in counts["第6微网格"]
    report = cast["command"].get(f"/reports/grids/{grids['宜北']}/merchants").json()
    assert report["good_shops"] >= 28

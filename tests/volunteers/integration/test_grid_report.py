"""The console's grid report over HTTP: a grid's subtree over a period — actions by category and level,
time to close, escalations, charity items claimed and redeemed, visits — as JSON and as CSV, for
coordinators of the grid (or above) only; bad periods are 422 with field messages."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from tests.volunteers.integration.world import EVERY_DAY, make_world

TODAY = date.today()
# Two days either side of the machine's date: today in Shanghai (a day ahead of UTC from 16:00 UTC) is inside.
PERIOD = {"from": (TODAY - timedelta(days=2)).isoformat(), "to": (TODAY + timedelta(days=2)).isoformat()}


def _ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def _world_with_a_month(suite):
    world = make_world(suite)
    courier = suite.user()
    rider = world.volunteer()
    done, escalated, waiting = (world.report(courier)["id"] for _ in range(3))
    world.report(courier, grid_id=world.other_micro["id"])  # another micro-grid: in 宜北's report, not 第7's
    _ok(world.gridworker.post(f"/actions/{done}/dispatch", json={"volunteer_ids": [rider.id]}))
    for verb, body in (("accept", None), ("start", None), ("resolve", {"outcome": "好了"})):
        _ok(rider.post(f"/actions/{done}/{verb}", json=body))
    _ok(courier.post(f"/actions/{done}/verify", json={"rating": 5}))
    _ok(world.gridworker.post(f"/actions/{escalated}/escalate", json={"reason": "需要支部协调"}))

    owner = suite.user(roles=["resident", "merchant"])
    shop = _ok(owner.post("/merchants", json={"name": f"U巷咖啡 {world.tag}", "grid_id": world.micro["id"]}), 201)
    _ok(world.gridworker.post(f"/merchants/{shop['id']}/approve", json={}))
    pledge = _ok(owner.post("/pledges", json={
        "merchant_id": shop["id"], "title": "骑手免费咖啡一杯", "beneficiary_groups": ["rider"], "stock": 50,
        "stock_period": "day", "per_person_limit": 5, "per_person_period": "day"}), 201)
    beneficiary = suite.user(groups=["rider"])
    codes = [_ok(beneficiary.post(f"/pledges/{pledge['id']}/claims"), 201)["code"] for _ in range(2)]
    _ok(owner.post(f"/claims/{codes[0]}/redeem"))
    _ok(world.gridworker.post("/visits", json={"merchant_id": shop["id"], "findings": "门口堆放纸箱",
                                               "needs_follow_up": True, "follow_up_category": world.category}), 201)
    return world, {"done": done, "escalated": escalated, "waiting": waiting}


def test_the_report_counts_the_grid_subtree_over_the_period(suite):
    world, _ = _world_with_a_month(suite)
    report = _ok(world.gridworker.get(f"/reports/grids/{world.micro['id']}", params=PERIOD))
    assert report["grid"]["id"] == world.micro["id"] and report["grid"]["grid_ids"] == [world.micro["id"]]
    assert report["period"]["from"] == PERIOD["from"] and report["period"]["starts_at"].endswith("+00:00")
    actions = report["actions"]
    # 3 reported + the visit's follow-up action
    assert actions["reported"] == 4
    assert actions["by_category"] == [{"category": world.category, "label": "店招松动", "count": 4}]
    assert actions["by_level"] == [{"level": 1, "count": 3}, {"level": 2, "count": 1}, {"level": 3, "count": 0}]
    assert actions["closed"] == 1
    ttc = actions["time_to_close"]
    assert ttc["median_minutes"] is not None and 0 <= ttc["median_minutes"] == ttc["mean_minutes"] < 10
    assert actions["escalations"] == 1 and actions["escalated_actions"] == 1
    assert report["charity"] == {"claimed": 2, "redeemed": 1}
    assert report["visits"] == {"count": 1, "shops_visited": 1, "needing_follow_up": 1}

    # The big grid counts its whole subtree; a period before anything happened counts nothing.
    big = _ok(world.secretary.get(f"/reports/grids/{world.big['id']}", params=PERIOD))
    assert big["actions"]["reported"] == 5 and set(big["grid"]["grid_ids"]) == {
        world.big["id"], world.micro["id"], world.other_micro["id"]}
    empty = _ok(world.secretary.get(f"/reports/grids/{world.big['id']}",
                                    params={"from": "2020-01-01", "to": "2020-01-31"}))
    assert empty["actions"]["reported"] == 0 and empty["actions"]["time_to_close"]["median_minutes"] is None
    assert empty["charity"] == {"claimed": 0, "redeemed": 0}


def test_the_same_report_as_csv(suite):
    world, _ = _world_with_a_month(suite)
    path = f"/reports/grids/{world.micro['id']}"
    as_json = _ok(world.gridworker.get(path, params=PERIOD))
    for response in (world.gridworker.get(path, params={**PERIOD, "format": "csv"}),
                     world.gridworker.get(path, params=PERIOD, headers={"Accept": "text/csv"})):
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == ["section", "key", "value"]
        values = {(section, key): value for section, key, value in rows[1:]}
        assert values[("actions", "reported")] == str(as_json["actions"]["reported"])
        assert values[("actions_by_category", world.category)] == "4"
        assert values[("actions_by_level", "2")] == "1"
        assert values[("charity", "redeemed")] == "1" and values[("visits", "count")] == "1"
        assert values[("actions", "median_minutes_to_close")] == str(as_json["actions"]["time_to_close"]["median_minutes"])
    # JSON stays the default for a browser's ordinary Accept.
    default = world.gridworker.get(path, params=PERIOD, headers={"Accept": "application/json, text/plain, */*"})
    assert default.headers["Content-Type"].startswith("application/json")


def test_only_coordinators_of_the_grid_and_bad_periods(suite):
    world = make_world(suite)
    volunteer = suite.user(roles=["resident", "volunteer"])
    _ok(volunteer.post("/volunteers/me", json={"display_name": "志愿者", "grid_ids": [world.micro["id"]],
                                               "availability": EVERY_DAY}), 201)
    path = f"/reports/grids/{world.micro['id']}"
    assert world.other_gridworker.get(path, params=PERIOD).status_code == 403
    assert volunteer.get(path, params=PERIOD).status_code == 403
    assert world.gridworker.get(f"/reports/grids/{world.big['id']}", params=PERIOD).status_code == 403  # above them
    assert world.command.get(path, params=PERIOD).status_code == 200
    assert world.gridworker.get("/reports/grids/999999999", params=PERIOD).status_code == 404
    for params, field in (({"from": PERIOD["to"], "to": PERIOD["from"]}, "to"),
                          ({"from": "2024-01-01", "to": "2025-06-01"}, "to"),
                          ({"from": "2026-13-01", "to": PERIOD["to"]}, "from"),
                          ({"to": PERIOD["to"]}, "from"),
                          ({**PERIOD, "format": "xml"}, "format")):
        response = world.gridworker.get(path, params=params)
        assert response.status_code == 422, (params, response.text)
        assert field in response.json()["errors"], response.json()

"""The demo seed: 28 good shops in one initiative, the coffee owner's items, the rice-cooker wish; twice."""
from __future__ import annotations

from services.volunteers.charity import seed as charity_seed
from tests.charity.support import make_grid, unique


def test_seed_is_idempotent_and_counts_twenty_eight_good_shops(sqlite_suite):
    suite = sqlite_suite
    north = make_grid(suite, unique("宜北"), None, 2)
    for name in ("第5微网格", "第6微网格", "第7微网格"):
        make_grid(suite, name, north, 1)
    coffee, rider = suite.user(roles=["resident", "merchant"]), suite.user(roles=["resident"], groups=["rider"])
    people = {"coffee": {"id": coffee.id}, "rider": {"id": rider.id}}
    for _ in range(2):
        charity_seed.seed(suite.rpc, people)

    report = coffee.get(f"/reports/grids/{north}/merchants").json()
    assert report["merchants"] == report["good_shops"] == 28
    assert report["by_street_area"] == {"U巷": 14, "中潭一哩街区": 14}
    assert report["with_live_items"] == 1  # only U巷咖啡 has an owner account among the demo people given

    mine = coffee.get("/pledges", params={"mine": "true"}).json()["items"]
    assert sorted(p["title"] for p in mine) == ["雨天爱心雨伞", "骑手免费咖啡一杯"]
    coffee_item = next(p for p in mine if p["stock"] == 10)
    assert rider.post(f"/pledges/{coffee_item['id']}/claims").status_code == 201

    wishes = rider.get("/wishes", params={"mine": "true"}).json()["items"]
    assert [(w["title"], w["state"]) for w in wishes] == [("一台电饭煲", "published")]

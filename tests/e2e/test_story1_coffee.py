"""Story 1 over HTTP: a coffee-shop owner registers "one free coffee a day for riders, 10 a day"; a rider
claims one and shows the code; the owner confirms it; nobody gets the 11th coffee."""
from __future__ import annotations

import json

from sqlalchemy import text

from tests.charity.support import coordinator, grid_tree, unique, users
from tests.support.suite import wait_for


def test_nobody_gets_the_eleventh_coffee(suite):
    grids = grid_tree(suite)
    owner = suite.user(roles=["resident", "merchant"], display_name="U巷咖啡 李老板")
    gridworker = coordinator(suite, grids["lane"])

    # The owner registers the shop; the grid worker approves it.
    shop = owner.post("/merchants", json={
        "name": unique("U巷咖啡"), "address": "新华路U巷 12号", "grid_id": grids["lane"], "category": "cafe",
        "street_area": "U巷", "opening_hours": {"mon": "08:00-20:00"}, "contact": "021-0000 0000",
        "good_shop": True})
    assert shop.status_code == 201, shop.text
    shop = shop.json()
    assert shop["status"] == "pending"
    approved = gridworker.post(f"/merchants/{shop['id']}/approve", json={"note": "走访确认"})
    assert approved.status_code == 200, approved.text

    # "One free coffee a day for riders, 10 a day."
    created = owner.post("/pledges", json={
        "merchant_id": shop["id"], "title": "骑手免费咖啡一杯", "title_en": "One free coffee a day for riders",
        "description": "外卖骑手每天可领一杯美式咖啡", "beneficiary_groups": ["rider"],
        "stock": 10, "stock_period": "day", "per_person_limit": 1, "per_person_period": "day"})
    assert created.status_code == 201, created.text
    pledge = created.json()
    assert pledge["remaining"] == 10

    # Riders see it when browsing near their grid.
    rider, *others = users(suite, 11, roles=["resident"], groups=["rider"])
    browse = rider.get("/pledges", params={"grid_id": grids["north"], "group": "rider"}).json()
    assert pledge["id"] in [p["id"] for p in browse["items"]]

    # A rider claims one and gets a code to show at the counter.
    claim = rider.post(f"/pledges/{pledge['id']}/claims")
    assert claim.status_code == 201, claim.text
    claim = claim.json()
    assert len(claim["code"]) == 8 and claim["qr_payload"].endswith(claim["code"])
    mine = rider.get("/claims").json()["items"]
    assert [c["code"] for c in mine] == [claim["code"]]

    # The owner confirms it (typed in lower case with a space, as people do); it works once.
    typed = f"{claim['code'][:4].lower()} {claim['code'][4:].lower()}"
    redeemed = owner.post(f"/claims/{typed}/redeem")
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["state"] == "redeemed"
    again = owner.post(f"/claims/{claim['code']}/redeem")
    assert again.status_code == 409 and again.json()["errors"]["code"] == ["already redeemed"]

    # The same rider cannot have a second coffee today.
    second = rider.post(f"/pledges/{pledge['id']}/claims")
    assert second.status_code == 409 and second.json()["per_person_limit"] == 1

    # Nine more riders get the other nine; the eleventh gets none.
    statuses = [r.post(f"/pledges/{pledge['id']}/claims").status_code for r in others]
    assert statuses == [201] * 9 + [409]
    assert owner.get(f"/pledges/{pledge['id']}").json()["remaining"] == 0

    # The shop sees its ten claims (without codes) and the events went out through the outbox.
    seen = owner.get(f"/pledges/{pledge['id']}/claims", params={"limit": 100}).json()["items"]
    assert len(seen) == 10 and all("code" not in c for c in seen)

    def outbox_types():
        with suite.database("volunteers").read() as session:
            rows = session.execute(text("SELECT type, envelope, sent_at FROM outbox")).all()
        mine = [(t, sent) for t, envelope, sent in rows
                if json.loads(envelope)["payload"].get("pledge_id") == pledge["id"]]
        return mine if all(sent is not None for _, sent in mine) else None

    types = [t for t, _ in wait_for(outbox_types, timeout=10, message="the pledge's events published")]
    assert types.count("pledge.published") == 1
    assert types.count("pledge.claimed") == 10
    assert types.count("pledge.redeemed") == 1
    assert types.count("pledge.exhausted") == 1

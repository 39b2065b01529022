"""Merchants, items, claims and redemptions over HTTP on PostgreSQL: rules, bad input, authorisation."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from services.volunteers.charity.models import CharityItem, Claim, Merchant
from services.volunteers.charity.rules import new_code
from tests.charity.support import coordinator, grid_tree, open_shop, register_pledge, unique

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def world(suite):
    """Two shops in one micro-grid, owned by two merchants, and the grid's coordinator."""
    grids = grid_tree(suite)
    gridworker = coordinator(suite, grids["lane"])
    owner, rival = suite.user(roles=["resident", "merchant"]), suite.user(roles=["resident", "merchant"])
    return {"grids": grids, "gridworker": gridworker, "owner": owner, "rival": rival,
            "shop": open_shop(suite, owner, grids["lane"], gridworker),
            "rival_shop": open_shop(suite, rival, grids["lane"], gridworker),
            "rider": suite.user(roles=["resident"], groups=["rider"])}


def row(suite, model, row_id):
    with suite.database("volunteers").read() as session:
        item = session.get(model, row_id)
        return {c.key: getattr(item, c.key) for c in model.__table__.columns}


def item_count(suite, merchant_id):
    with suite.database("volunteers").read() as session:
        return session.scalar(select(func.count()).select_from(CharityItem).where(CharityItem.merchant_id == merchant_id))


@pytest.mark.parametrize(("change", "field"), [
    ({"stock": 0}, "stock"),
    ({"stock": -3}, "stock"),
    ({"beneficiary_groups": ["pilots"]}, "beneficiary_groups"),
    ({"beneficiary_groups": []}, "beneficiary_groups"),
    ({"valid_from": "2030-05-10", "valid_until": "2030-05-01"}, "valid_until"),
    ({"stock_period": "month"}, "stock_period"),
    ({"redemption_hours": {"start": "11:00", "end": "08:00"}}, "redemption_hours"),
    ({"title": "x" * 201}, "title"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_items_are_refused_with_field_messages_and_nothing_written(suite, world, change, field):
    before = item_count(suite, world["shop"]["id"])
    body = {"merchant_id": world["shop"]["id"], "title": "免费理发", "beneficiary_groups": ["rider"], "stock": 5,
            **change}
    response = world["owner"].post("/pledges", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"], response.json()
    assert item_count(suite, world["shop"]["id"]) == before


def test_an_item_for_another_merchants_shop_is_forbidden(suite, world):
    before = item_count(suite, world["shop"]["id"])
    response = world["rival"].post("/pledges", json={"merchant_id": world["shop"]["id"], "title": "冒名咖啡",
                                                     "beneficiary_groups": ["rider"], "stock": 5})
    assert response.status_code == 403  # the shop is public, so 403 (docs/api.md)
    assert item_count(suite, world["shop"]["id"]) == before


def test_items_of_a_pending_shop_stay_hidden_until_approval(suite, world):
    owner = suite.user(roles=["resident", "merchant"])
    shop = owner.post("/merchants", json={"name": unique("中潭一哩面馆"), "grid_id": world["grids"]["lane2"],
                                          "street_area": "中潭一哩街区", "category": "canteen"}).json()
    pledge = register_pledge(owner, shop["id"], title="环卫工人免费早餐", beneficiary_groups=["sanitation"])
    sweeper = suite.user(roles=["resident"], groups=["sanitation"])
    assert sweeper.get(f"/pledges/{pledge['id']}").status_code == 404
    assert sweeper.post(f"/pledges/{pledge['id']}/claims").status_code == 404
    assert sweeper.get(f"/merchants/{shop['id']}").status_code == 404
    assert pledge["id"] not in [p["id"] for p in suite.client().get("/pledges").json()["items"]]
    # A coordinator of another big grid cannot approve it; the micro-grid's can.
    assert coordinator(suite, world["grids"]["south"]).post(f"/merchants/{shop['id']}/approve", json={}) \
        .status_code == 404
    assert world["gridworker"].post(f"/merchants/{shop['id']}/approve", json={}).status_code == 404
    approver = coordinator(suite, world["grids"]["north"])
    assert approver.post(f"/merchants/{shop['id']}/approve", json={}).status_code == 200
    assert approver.post(f"/merchants/{shop['id']}/approve", json={}).status_code == 409
    public = suite.client().get("/pledges", params={"grid_id": world["grids"]["lane2"]}).json()["items"]
    assert [p["id"] for p in public] == [pledge["id"]]
    assert public[0]["remaining"] == 10
    assert sweeper.post(f"/pledges/{pledge['id']}/claims").status_code == 201


def test_browse_filters_by_grid_subtree_and_group(suite, world):
    pledge = register_pledge(world["owner"], world["shop"]["id"], title="户外工作者免费雨伞",
                             beneficiary_groups=["outdoor"], stock=3, stock_period="total")
    register_pledge(world["rival"], world["rival_shop"]["id"], title="骑手热汤")
    anonymous = suite.client()

    def ids(**params):
        return [p["id"] for p in anonymous.get("/pledges", params={"limit": 100, **params}).json()["items"]]

    assert pledge["id"] in ids(grid_id=world["grids"]["root"], group="courier")
    assert pledge["id"] in ids(grid_id=world["grids"]["lane"], group="rider")
    assert pledge["id"] not in ids(grid_id=world["grids"]["south"])
    assert pledge["id"] not in ids(grid_id=world["grids"]["lane"], group="elderly")
    assert anonymous.get("/pledges", params={"group": "pilots"}).status_code == 422
    first = anonymous.get("/pledges", params={"grid_id": world["grids"]["lane"], "limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    rest = anonymous.get("/pledges", params={"grid_id": world["grids"]["lane"], "cursor": first["next_cursor"]}).json()
    assert first["items"][0]["id"] not in [p["id"] for p in rest["items"]] and rest["items"]
    assert anonymous.get("/pledges", params={"cursor": "abc"}).status_code == 422


def test_eligibility_comes_from_confirmed_groups(suite, world):
    pledge = register_pledge(world["owner"], world["shop"]["id"], title="骑手充电宝")
    unconfirmed = suite.user(roles=["resident"])
    refused = unconfirmed.post(f"/pledges/{pledge['id']}/claims")
    assert refused.status_code == 403
    assert "confirmed beneficiary group" in refused.json()["detail"]
    courier = suite.user(roles=["resident"], groups=["courier"])
    wrong_group = courier.post(f"/pledges/{pledge['id']}/claims")
    assert wrong_group.status_code == 403 and "rider" in wrong_group.json()["detail"]
    with suite.database("volunteers").read() as session:
        assert session.scalar(select(func.count()).select_from(Claim).where(Claim.pledge_id == pledge["id"])) == 0


def test_owner_pauses_edits_and_ends_coordinator_suspends(suite, world):
    owner, rider, gridworker = world["owner"], world["rider"], world["gridworker"]
    pledge = register_pledge(owner, world["shop"]["id"], title="免费理发", stock=2)
    path = f"/pledges/{pledge['id']}"
    assert owner.get(path).headers["ETag"] == '"1"'

    paused = owner.post(f"{path}/pause", json={"note": "店休"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    refused = rider.post(f"{path}/claims")
    assert refused.status_code == 409 and refused.json()["errors"] == {"pledge_id": ["item is paused"]}
    twice = owner.post(f"{path}/pause", json={})
    assert twice.status_code == 409 and set(twice.json()["allowed"]) == {"resume", "end", "suspend"}

    # Edits are optimistic: If-Match must name the version read.
    edited = owner.patch(path, json={"stock": 5}, headers={"If-Match": '"2"'})
    assert edited.status_code == 200, edited.text
    assert edited.headers["ETag"] == '"3"' and edited.json()["stock"] == 5
    stale = owner.patch(path, json={"stock": 7}, headers={"If-Match": '"2"'})
    assert stale.status_code == 412
    backwards = owner.patch(path, json={"valid_from": "2031-01-10", "valid_until": "2031-01-01"})
    assert backwards.status_code == 422 and "valid_until" in backwards.json()["errors"]
    assert row(suite, CharityItem, pledge["id"])["stock"] == 5

    # Another merchant changes nothing (the paused item is not public: it does not exist for them).
    before = row(suite, CharityItem, pledge["id"])
    assert world["rival"].patch(path, json={"stock": 99}).status_code == 404
    assert world["rival"].post(f"{path}/end", json={}).status_code == 404
    assert world["rival"].get(f"{path}/claims").status_code == 404
    assert row(suite, CharityItem, pledge["id"]) == before

    assert owner.post(f"{path}/resume", json={}).json()["status"] == "active"
    assert owner.post(f"{path}/suspend", json={}).status_code == 403
    assert coordinator(suite, world["grids"]["south"]).post(f"{path}/suspend", json={}).status_code == 403
    assert gridworker.post(f"{path}/suspend", json={"note": "投诉核查中"}).json()["status"] == "suspended"
    assert owner.post(f"{path}/resume", json={}).status_code == 403
    assert gridworker.post(f"{path}/resume", json={}).json()["status"] == "active"
    assert owner.post(f"{path}/end", json={}).json()["status"] == "ended"
    ended = rider.post(f"{path}/claims")
    assert ended.status_code == 409 and ended.json()["errors"] == {"pledge_id": ["item is ended"]}
    assert owner.patch(path, json={"stock": 3}).status_code == 409


def test_redemption_answers_wrong_expired_early_and_foreign_codes(suite, world):
    owner, rival = world["owner"], world["rival"]
    pledge = register_pledge(owner, world["shop"]["id"], title="热饮一杯", stock=5, per_person_limit=3)
    rider = suite.user(roles=["resident"], groups=["rider"])
    code = rider.post(f"/pledges/{pledge['id']}/claims").json()["code"]

    wrong = owner.post(f"/claims/{new_code()}/redeem")
    assert wrong.status_code == 404 and wrong.json()["errors"] == {"code": ["unknown code"]}
    assert owner.post("/claims/not-a-code/redeem").status_code == 404

    # Another shop's code looks exactly like a wrong one, and the claim does not move.
    foreign = rival.post(f"/claims/{code}/redeem")
    assert foreign.status_code == 404 and foreign.json()["detail"] == wrong.json()["detail"]
    claim_id = rider.get("/claims").json()["items"][0]["id"]
    assert row(suite, Claim, claim_id)["state"] == "claimed"
    assert suite.user(roles=["resident"]).post(f"/claims/{code}/redeem").status_code == 403

    # Past its window: expired, whatever the timer has done so far.
    with suite.database("volunteers").transaction() as session:
        session.execute(update(Claim).where(Claim.id == claim_id)
                        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    expired = owner.post(f"/claims/{code}/redeem")
    assert expired.status_code == 409 and expired.json()["errors"] == {"code": ["expired"]}

    # An item redeemable only tomorrow: claimed today, the code works from tomorrow's opening.
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).isoweekday()
    later = register_pledge(owner, world["shop"]["id"], title="周末蛋糕",
                            redemption_hours={"start": "09:00", "end": "18:00", "weekdays": [tomorrow]})
    early = rider.post(f"/pledges/{later['id']}/claims").json()
    assert datetime.fromisoformat(early["window_starts_at"]) > datetime.now(UTC)
    too_soon = owner.post(f"/claims/{early['code']}/redeem")
    assert too_soon.status_code == 409
    assert too_soon.json()["errors"] == {"code": ["redeemable during 09:00–18:00"]}
    assert row(suite, Claim, early["id"])["state"] == "claimed"


def test_claims_are_private_to_their_claimant(suite, world):
    pledge = register_pledge(world["owner"], world["shop"]["id"], title="骑手能量饮料")
    rider, other = suite.user(roles=["resident"], groups=["rider"]), suite.user(roles=["resident"], groups=["rider"])
    assert rider.post(f"/pledges/{pledge['id']}/claims").status_code == 201
    assert other.get("/claims").json()["items"] == []
    assert len(rider.get("/claims", params={"state": "claimed"}).json()["items"]) == 1
    assert rider.get(f"/pledges/{pledge['id']}/claims").status_code == 403  # a public item: 403, not 404
    # Ids that could exist but do not (ids outside 1..2147483647 are refused by the path's schema, 422).
    for path in ("/pledges/2147483647", "/merchants/2147483647", "/wishes/2147483647"):
        assert rider.get(path).status_code == 404, path


def test_reports_count_a_shops_month_and_a_grids_shops(suite, world):
    owner = suite.user(roles=["resident", "merchant"])
    shop = open_shop(suite, owner, world["grids"]["lane2"], street_area="中潭一哩街区", category="barber")
    pledge = register_pledge(owner, shop["id"], title="免费理发", stock=5, per_person_limit=5)
    rider = world["rider"]
    codes = [rider.post(f"/pledges/{pledge['id']}/claims").json()["code"] for _ in range(3)]
    assert owner.post(f"/claims/{codes[0]}/redeem").status_code == 200
    month = datetime.now(SHANGHAI).strftime("%Y-%m")
    report = owner.get(f"/reports/merchants/{shop['id']}", params={"month": month})
    assert report.status_code == 200, report.text
    assert report.json()["totals"] == {"claims": 3, "redemptions": 1, "expired": 0, "open": 2}
    assert world["rival"].get(f"/reports/merchants/{shop['id']}", params={"month": month}).status_code == 403
    assert owner.get(f"/reports/merchants/{shop['id']}", params={"month": "2026-13"}).status_code == 422

    grid = owner.get(f"/reports/grids/{world['grids']['north']}/merchants").json()
    with suite.database("volunteers").read() as session:
        expected = session.scalar(select(func.count()).select_from(Merchant).where(
            Merchant.grid_id.in_([world["grids"]["lane"], world["grids"]["lane2"]]), Merchant.status == "approved"))
    assert grid["merchants"] == expected >= 3
    assert grid["by_category"]["barber"] == 1

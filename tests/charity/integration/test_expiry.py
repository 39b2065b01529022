"""Unredeemed claims expire at the end of their window and give the unit back — exactly once, with two
replicas of the volunteers service running the timer."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update

from services.volunteers.charity.models import CharityItemStock, Claim
from tests.charity.support import grid_tree, open_shop, register_pledge
from tests.support.suite import wait_for


def test_each_claim_expires_once_with_two_replicas(suite_factory):
    suite = suite_factory("postgres", env={"NUANXIN_CLAIM_EXPIRY_INTERVAL": "0.2"}, replicas={"volunteers": 2})
    grids = grid_tree(suite)
    owner = suite.user(roles=["resident", "merchant"])
    shop = open_shop(suite, owner, grids["lane"])
    pledge = register_pledge(owner, shop["id"], stock=3, per_person_limit=3)
    rider = suite.user(roles=["resident"], groups=["rider"])
    claims = [rider.post(f"/pledges/{pledge['id']}/claims").json() for _ in range(3)]
    assert rider.post(f"/pledges/{pledge['id']}/claims").status_code == 409
    assert owner.post(f"/claims/{claims[0]['code']}/redeem").status_code == 200

    # The redemption window of all three ends now; the redeemed one must stay redeemed.
    db = suite.database("volunteers")
    with db.transaction() as session:
        session.execute(update(Claim).where(Claim.pledge_id == pledge["id"])
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    def states():
        with db.read() as session:
            rows = session.execute(select(Claim.id, Claim.state, Claim.slot)
                                   .where(Claim.pledge_id == pledge["id"]).order_by(Claim.id)).all()
        return rows if [r.state for r in rows] == ["redeemed", "expired", "expired"] else None

    rows = wait_for(states, timeout=15, message="the two open claims to expire")
    assert [r.slot for r in rows] == [1, None, None]
    with db.read() as session:
        assert session.scalar(select(CharityItemStock.taken).where(CharityItemStock.pledge_id == pledge["id"])) == 1
        events = [json.loads(e)["payload"]["claim_id"] for (e,) in session.execute(
            text("SELECT envelope FROM outbox WHERE type = 'claim.expired'")).all()]
    assert sorted(events) == [claims[1]["id"], claims[2]["id"]]

    # Their units and the rider's slots came back.
    assert owner.get(f"/pledges/{pledge['id']}").json()["remaining"] == 2
    assert rider.post(f"/pledges/{pledge['id']}/claims").status_code == 201
    assert [c["state"] for c in rider.get("/claims", params={"state": "expired"}).json()["items"]] == ["expired"] * 2

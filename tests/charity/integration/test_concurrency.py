"""Stock, per-person limits, redemption and adoption hold under real parallel HTTP requests, on both
databases: never one coffee too many."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from services.volunteers.charity.models import CharityItemStock, Claim, Wish, WishTransition
from tests.charity.support import coordinator, grid_tree, open_shop, register_pledge, users


def fire(requests_to_send, workers: int = 32) -> list:
    """Send every request at once (as far as the pool allows); answers in order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda send: send(), requests_to_send))


@pytest.fixture(scope="module")
def world(any_suite):
    """Per database: a grid tree, an approved shop with its owner, its coordinator, and five riders."""
    grids = grid_tree(any_suite)
    owner = any_suite.user(roles=["resident", "merchant"])
    gridworker = coordinator(any_suite, grids["north"])
    return {"suite": any_suite, "grids": grids, "owner": owner, "gridworker": gridworker,
            "shop": open_shop(any_suite, owner, grids["lane"], gridworker),
            "riders": users(any_suite, 5, roles=["resident"], groups=["rider"])}


def test_hundred_simultaneous_claims_for_ten_remaining(world):
    suite, owner, riders = world["suite"], world["owner"], world["riders"]
    pledge = register_pledge(owner, world["shop"]["id"], stock=12, per_person_limit=30)
    for rider in riders[:2]:
        assert rider.post(f"/pledges/{pledge['id']}/claims").status_code == 201
    assert owner.get(f"/pledges/{pledge['id']}").json()["remaining"] == 10

    # Five riders press "claim" twenty times each, all at once: 100 claims for 10 coffees.
    answers = fire([lambda r=rider: r.post(f"/pledges/{pledge['id']}/claims") for _ in range(20) for rider in riders])
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 10, 409: 90}, [a.text for a in answers if a.status_code not in (201, 409)]
    refused = {a.json()["detail"] for a in answers if a.status_code == 409}
    assert refused == {"None left: every unit of this period is claimed."}
    codes = [a.json()["code"] for a in answers if a.status_code == 201]
    assert len(set(codes)) == 10

    with suite.database("volunteers").read() as session:
        assert session.scalar(select(func.count()).select_from(Claim).where(Claim.pledge_id == pledge["id"])) == 12
        taken = session.scalars(select(CharityItemStock.taken).where(CharityItemStock.pledge_id == pledge["id"])).all()
        assert taken == [12]
    assert owner.get(f"/pledges/{pledge['id']}").json()["remaining"] == 0


def test_one_person_pressing_claim_ten_times_at_once_gets_their_limit(world):
    suite, owner = world["suite"], world["owner"]
    pledge = register_pledge(owner, world["shop"]["id"], stock=50, per_person_limit=2, beneficiary_groups=["outdoor"])
    courier = suite.user(roles=["resident"], groups=["courier"])

    answers = fire([lambda: courier.post(f"/pledges/{pledge['id']}/claims") for _ in range(10)], workers=10)
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 2, 409: 8}, [a.text for a in answers]
    with suite.database("volunteers").read() as session:
        slots = session.scalars(select(Claim.slot).where(Claim.pledge_id == pledge["id"])).all()
        assert sorted(slots) == [1, 2]
    assert owner.get(f"/pledges/{pledge['id']}").json()["remaining"] == 48


def test_a_code_redeems_once_however_many_times_it_is_scanned(world):
    owner, rider = world["owner"], world["riders"][0]
    pledge = register_pledge(owner, world["shop"]["id"])
    code = rider.post(f"/pledges/{pledge['id']}/claims").json()["code"]

    answers = fire([lambda: owner.post(f"/claims/{code}/redeem") for _ in range(10)], workers=10)
    assert Counter(a.status_code for a in answers) == {200: 1, 409: 9}, [a.text for a in answers]
    mine = rider.get("/claims", params={"limit": 100}).json()["items"]
    assert [c["state"] for c in mine if c["code"] == code] == ["redeemed"]


def test_twenty_adopters_one_wish_exactly_one_wins(world):
    suite, driver = world["suite"], world["riders"][1]
    wish = driver.post("/wishes", json={"title": "一台电饭煲", "story": "网约车司机家里的电饭煲坏了", "estimated_value": 300,
                                        "grid_id": world["grids"]["lane"]})
    assert wish.status_code == 201, wish.text
    wish = wish.json()
    assert world["gridworker"].post(f"/wishes/{wish['id']}/publish", json={}).status_code == 200
    adopters = [world["owner"], *users(suite, 3, roles=["resident", "merchant"])]

    # Four shops, each pressing "adopt" five times: twenty adoptions at once.
    answers = fire([lambda a=a: a.post(f"/wishes/{wish['id']}/adopt", json={}) for _ in range(5) for a in adopters],
                   workers=20)
    assert Counter(a.status_code for a in answers) == {200: 1, 409: 19}, [a.text for a in answers]
    winner = next(a.json() for a in answers if a.status_code == 200)
    loser = next(a.json() for a in answers if a.status_code == 409)
    assert loser["state"] == "adopted" and "adopt" not in loser["allowed"]
    with suite.database("volunteers").read() as session:
        assert session.get(Wish, wish["id"]).adopter_id == winner["adopter_id"]
        verbs = session.scalars(select(WishTransition.verb).where(WishTransition.wish_id == wish["id"])).all()
        assert verbs == ["submit", "publish", "adopt"]

"""Builders for charity tests: grids straight into the volunteers database, shops and items over HTTP."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from services.volunteers.models import Grid


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_grid(suite, name: str | None = None, parent_id: int | None = None, level: int = 1) -> int:
    """A grid row (the grid engineer's RPCs are not needed to place a shop on the map)."""
    with suite.database("volunteers").transaction() as session:
        grid = Grid(name=name or unique("网格"), parent_id=parent_id, level=level, coordinator_ids=[])
        session.add(grid)
        session.flush()
        return grid.id


def grid_tree(suite) -> dict[str, int]:
    """A sub-district with a big grid and two micro-grids, plus an unrelated big grid."""
    root = make_grid(suite, unique("新华路街道"), None, 3)
    north = make_grid(suite, unique("宜北"), root, 2)
    return {"root": root, "north": north, "lane": make_grid(suite, unique("U巷"), north, 1),
            "lane2": make_grid(suite, unique("番禺路"), north, 1), "south": make_grid(suite, unique("宜南"), root, 2)}


def coordinator(suite, grid_id: int):
    return suite.user(roles=["resident", "coordinator"], grids=[grid_id])


def open_shop(suite, owner, grid_id: int, approver=None, **fields) -> dict:
    """A shop registered by `owner` over HTTP and approved by a coordinator of its grid."""
    response = owner.post("/merchants", json={"name": unique("U巷咖啡"), "grid_id": grid_id, "category": "cafe",
                                              "street_area": "U巷", "good_shop": True, **fields})
    assert response.status_code == 201, response.text
    shop = response.json()
    approver = approver or coordinator(suite, grid_id)
    approved = approver.post(f"/merchants/{shop['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    return approved.json()


def register_pledge(owner, merchant_id: int, **fields) -> dict:
    body = {"merchant_id": merchant_id, "title": "骑手免费咖啡一杯", "title_en": "A free coffee for riders",
            "beneficiary_groups": ["rider"], "stock": 10, "stock_period": "day", "per_person_limit": 1,
            "per_person_period": "day", **fields}
    response = owner.post("/pledges", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def users(suite, count: int, **kwargs) -> list:
    """Many signed-in accounts at once (each costs a password hash and a sign-in)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda _: suite.user(**kwargs), range(count)))

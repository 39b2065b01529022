"""A wish's timeline names who acted, as they were called when they acted, not only their account id."""
from __future__ import annotations

from tests.charity.support import coordinator, grid_tree


def test_every_step_of_a_wish_names_its_actor(suite):
    grids = grid_tree(suite)
    owner = suite.user(roles=["resident"], groups=["outdoor"], display_name="网约车司机 李师傅")
    gridworker = coordinator(suite, grids["lane"])
    shop = suite.user(roles=["resident", "merchant"], display_name="U巷咖啡")
    wish = owner.post("/wishes", json={"title": "一台电饭煲", "story": "家里的电饭煲坏了", "estimated_value": 300,
                                       "grid_id": grids["lane"]})
    assert wish.status_code == 201, wish.text
    path = f"/wishes/{wish.json()['id']}"
    assert gridworker.post(f"{path}/publish", json={}).status_code == 200
    assert shop.post(f"{path}/adopt", json={}).status_code == 200
    timeline = owner.get(path).json()["timeline"]
    gridworker_name = gridworker.get("/me").json()["display_name"]
    assert gridworker_name
    assert [(t["verb"], t["actor_id"], t["actor_name"]) for t in timeline] == [
        ("submit", owner.id, "网约车司机 李师傅"), ("publish", gridworker.id, gridworker_name),
        ("adopt", shop.id, "U巷咖啡")]

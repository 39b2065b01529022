"""Visits to merchants, the not-visited report, and volunteer profiles as coordinators see them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.volunteers.integration.world import make_world


def test_visits_follow_up_and_the_overdue_report(suite):
    world = make_world(suite)
    fresh, stale, never = (suite.rpc("volunteers", "ensure_merchant", {
        "name": f"{name} {world.tag}", "grid_id": world.micro["id"], "status": "approved", "user_id": None})
        for name in ("面馆", "理发店", "新开的花店"))
    long_ago = (datetime.now(UTC) - timedelta(days=45)).isoformat()
    assert world.gridworker.post("/visits", json={"merchant_id": stale["id"], "visited_at": long_ago,
                                                  "findings": "一切正常"}).status_code == 201
    visit = world.gridworker.post("/visits", json={"merchant_id": fresh["id"], "findings": "门口堆放纸箱",
                                                   "needs_follow_up": True, "follow_up_category": world.category})
    assert visit.status_code == 201, visit.text
    action = world.gridworker.get(f"/actions/{visit.json()['action_id']}").json()
    assert action["merchant_id"] == fresh["id"] and action["state"] == "reported"

    overdue = world.gridworker.get(f"/visits/overdue?grid_id={world.micro['id']}").json()["items"]
    assert [m["merchant_id"] for m in overdue[0]["merchants"]] == [never["id"], stale["id"]]
    assert world.other_gridworker.get(f"/visits/overdue?grid_id={world.micro['id']}").status_code == 403
    assert world.other_gridworker.post("/visits", json={"merchant_id": fresh["id"]}).status_code == 403
    assert world.gridworker.post("/visits", json={"merchant_id": fresh["id"], "needs_follow_up": True}
                                 ).status_code == 422
    assert len(world.gridworker.get(f"/visits?merchant_id={fresh['id']}").json()["items"]) == 1


def test_profiles_are_patched_listed_and_kept_private(suite):
    world = make_world(suite)
    rider = world.volunteer(skills={"repair": 2, "delivery": 3})
    assert rider.post("/volunteers/me", json={"display_name": "again"}).status_code == 409
    patched = rider.patch("/volunteers/me", json={"on_leave": True, "max_open_actions": 5})
    assert patched.json()["on_leave"] is True and patched.json()["max_open_actions"] == 5
    bad = rider.patch("/volunteers/me", json={"grid_ids": [99999999], "availability": [
        {"weekday": 7, "start": "25:00", "end": "10:00"}]})
    assert bad.status_code == 422 and "availability" in bad.json()["errors"]
    assert rider.patch("/volunteers/me", json={"grid_ids": [99999999]}).status_code == 422
    listed = world.gridworker.get(f"/volunteers?grid_id={world.micro['id']}&skill=delivery").json()["items"]
    assert [v["id"] for v in listed] == [rider.id]
    assert rider.get("/volunteers").status_code == 403
    assert suite.user().get(f"/volunteers/{rider.id}").status_code == 403
    assert world.gridworker.get(f"/volunteers/{rider.id}").json()["skills"] == {"repair": 2, "delivery": 3}

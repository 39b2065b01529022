"""Actions carry names: the reporter's (as they reported, like the timeline's actor_name), who accepted, and
who was asked — each as far as the caller may see them — so the console asks no one for names one by one.
The migration fills the names of existing actions from their timelines."""
from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from shared.migrations import upgrade
from tests.volunteers.integration.world import make_world


def test_reporter_acceptor_and_those_asked_are_named(suite):
    world = make_world(suite)
    courier = suite.user(display_name="快递小哥 李强")
    rider, other = world.volunteer(), world.volunteer()
    action = world.report(courier)
    assert action["reporter_name"] == "快递小哥 李强"
    assert action["accepted_by_name"] is None and action["assignees"] == []

    ask = world.gridworker.post(f"/actions/{action['id']}/dispatch", json={"volunteer_ids": [rider.id, other.id]})
    assert ask.status_code == 200, ask.text
    assert sorted(ask.json()["assignees"], key=lambda a: a["user_id"]) == sorted([
        {"user_id": rider.id, "display_name": f"志愿者 {rider.id}", "status": "asked"},
        {"user_id": other.id, "display_name": f"志愿者 {other.id}", "status": "asked"}], key=lambda a: a["user_id"])
    # Someone asked sees themselves, not the others; the reporter sees nobody asked yet.
    seen_by_rider = rider.get(f"/actions/{action['id']}").json()
    assert [a["user_id"] for a in seen_by_rider["assignees"]] == [rider.id]
    assert seen_by_rider["reporter_name"] == "快递小哥 李强"
    assert courier.get(f"/actions/{action['id']}").json()["assignees"] == []

    assert other.post(f"/actions/{action['id']}/decline", json={"reason": "在外地"}).status_code == 200
    accepted = rider.post(f"/actions/{action['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted_by_name"] == rider.user["display_name"]  # the name they accepted under

    by_coordinator = {a["user_id"]: a for a in world.gridworker.get(f"/actions/{action['id']}").json()["assignees"]}
    assert by_coordinator[other.id]["status"] == "declined" and by_coordinator[rider.id]["status"] == "accepted"
    assert by_coordinator[rider.id]["display_name"] == rider.user["display_name"]
    seen_by_courier = courier.get(f"/actions/{action['id']}").json()
    assert seen_by_courier["accepted_by_name"] == rider.user["display_name"]
    assert [(a["user_id"], a["status"]) for a in seen_by_courier["assignees"]] == [(rider.id, "accepted")]

    # The list carries the same, one page at a time.
    listed = {a["id"]: a for a in world.gridworker.get("/actions", params={"grid_id": world.micro["id"]}).json()["items"]}
    assert listed[action["id"]]["reporter_name"] == "快递小哥 李强"
    assert {a["user_id"] for a in listed[action["id"]]["assignees"]} == {rider.id, other.id}
    timeline = world.gridworker.get(f"/actions/{action['id']}/timeline").json()["items"]
    assert timeline[0]["actor_name"] == listed[action["id"]]["reporter_name"]

    # Reopened, nobody holds it: the acceptor's name goes with them.
    rider.post(f"/actions/{action['id']}/start")
    rider.post(f"/actions/{action['id']}/resolve", json={"outcome": "好了"})
    reopened = courier.post(f"/actions/{action['id']}/reopen", json={"reason": "又松了"})
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["accepted_by_name"] is None and reopened.json()["assignees"] == []


def test_the_migration_names_existing_actions_from_their_timelines(tmp_path):
    url = f"sqlite:///{tmp_path / 'volunteers.db'}"
    upgrade("volunteers", url, "5d2c8e1f4a90")  # before actions carried names
    engine = create_engine(url)
    at = "2026-11-01 00:00:00+00:00"
    with engine.begin() as db:
        db.execute(text("INSERT INTO grids (id, name, level, coordinator_ids, created_at) "
                        "VALUES (1, 'g', 1, '[]', :at)"), {"at": at})
        db.execute(text("INSERT INTO action_categories (name, label, accept_within_minutes, resolve_within_minutes, "
                        "min_skill_level) VALUES ('sign', '', '{}', '{}', 1)"))
        empty = json.dumps([])
        for action_id, accepted_by in ((1, 7), (2, None)):
            db.execute(text(
                "INSERT INTO actions (id, kind, title, category, description, location, photo_urls, grid_id, state, "
                "level, level_started_at, escalations, reporter_id, follower_ids, candidate_ids, declined_ids, "
                "accepted_by, outcome, feedback, checklist, created_at, version) VALUES (:id, 'single', 't', 'sign', "
                "'', '', :e, 1, 'accepted', 1, :at, 0, 5, :e, :e, :e, :by, '', '', :e, :at, 1)"),
                {"id": action_id, "e": empty, "at": at, "by": accepted_by})
        for action_id, verb, actor, name in ((1, "report", 5, "李强"), (1, "accept", 8, "别人"),
                                             (1, "accept", 7, "老马"), (2, "report", 5, "李强")):
            db.execute(text("INSERT INTO action_timeline (action_id, verb, from_state, to_state, actor_id, actor_name, "
                            "at, note, data) VALUES (:a, :v, 'x', 'y', :actor, :name, :at, '', '{}')"),
                       {"a": action_id, "v": verb, "actor": actor, "name": name, "at": at})
    upgrade("volunteers", url)
    with engine.connect() as db:
        rows = db.execute(text("SELECT id, reporter_name, accepted_by_name FROM actions ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "李强", "老马"), (2, "李强", "")]

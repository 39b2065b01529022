"""Actions over HTTP: the closed loop, dispatch rules, authorisation, bad input, merge and mass actions."""
from __future__ import annotations

from sqlalchemy import text

from tests.volunteers.integration.world import make_world


def _count(suite, table: str) -> int:
    with suite.database("volunteers").read() as session:
        return session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _action_row(suite, action_id: int) -> dict:
    with suite.database("volunteers").read() as session:
        return dict(session.execute(text("SELECT state, level, version, (SELECT count(*) FROM action_candidates c "
                                         "WHERE c.action_id = actions.id) AS candidates FROM actions WHERE id = :i"),
                                    {"i": action_id}).mappings().one())


def test_closed_loop_with_timeline_hours_and_rating(suite):
    world = make_world(suite)
    courier = suite.user(groups=["courier"])
    rider = world.volunteer()
    action = world.report(courier, latitude=31.2, longitude=121.42, photo_urls=["https://img.example/sign.jpg"])
    assert action["state"] == "reported" and action["level"] == 1 and action["deadline_kind"] == "accept"
    assert action["allowed"] == ["cancel"]  # the reporter may only withdraw an untouched report

    suggested = world.gridworker.get(f"/actions/{action['id']}/suggestions").json()["items"]
    assert suggested[0]["volunteer_id"] == rider.id and suggested[0]["eligible"]
    assert any("serves micro-grid" in reason for reason in suggested[0]["reasons"])

    dispatched = world.gridworker.post(f"/actions/{action['id']}/dispatch", json={"volunteer_ids": [rider.id]})
    assert dispatched.status_code == 200, dispatched.text
    assert rider.get("/actions?mine=true").json()["items"][0]["id"] == action["id"]
    assert rider.post(f"/actions/{action['id']}/accept").json()["state"] == "accepted"
    assert rider.post(f"/actions/{action['id']}/start").json()["state"] == "in_progress"
    resolved = rider.post(f"/actions/{action['id']}/resolve", json={"outcome": "店招已加固"})
    assert resolved.json()["state"] == "resolved" and resolved.json()["deadline_at"] is None
    closed = courier.post(f"/actions/{action['id']}/verify", json={"rating": 5, "feedback": "谢谢"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed" and closed.json()["rating"] == 5

    timeline = courier.get(f"/actions/{action['id']}/timeline").json()["items"]
    assert [e["verb"] for e in timeline] == ["report", "dispatch", "accept", "start", "resolve", "verify", "close"]
    assert timeline[2]["actor_id"] == rider.id and timeline[4]["note"] == "店招已加固"
    for type_name in ("action.reported", "action.dispatched", "action.accepted", "action.resolved",
                      "action.closed"):
        assert len(world.outbox(type_name, action["id"])) == 1, type_name
    dispatched_event = world.outbox("action.dispatched", action["id"])[0]
    assert dispatched_event["assignee_ids"] == [rider.id]
    assert dispatched_event["coordinator_ids"] == [world.gridworker.id]
    assert dispatched_event["follower_ids"] == [courier.id] and dispatched_event["deadline_at"]

    fixed = world.gridworker.post(f"/actions/{action['id']}/hours", json={"minutes": 45, "reason": "含路程"})
    assert fixed.status_code == 200 and fixed.json()["minutes"] == 45
    assert rider.get("/volunteers/me").json()["hours_total"] == 0.75

    disputed = courier.post(f"/actions/{action['id']}/reopen", json={"reason": "又松了"})
    assert disputed.json()["state"] == "reopened"
    assert world.outbox("action.reopened", action["id"])[0]["assignee_ids"] == [rider.id]


def test_illegal_transition_names_the_allowed_verbs(suite):
    world = make_world(suite)
    action = world.report(suite.user())
    rider = world.volunteer()
    response = world.gridworker.post(f"/actions/{action['id']}/resolve", json={"outcome": "done"})
    assert response.status_code == 409
    problem = response.json()
    assert problem["state"] == "reported" and "dispatch" in problem["allowed"] and "resolve" not in problem["allowed"]
    world.gridworker.post(f"/actions/{action['id']}/dispatch", json={"volunteer_ids": [rider.id]})
    assert rider.post(f"/actions/{action['id']}/accept").status_code == 200
    twice = rider.post(f"/actions/{action['id']}/accept")
    assert twice.status_code == 409 and "resolve" in twice.json()["allowed"]


def test_coordinator_outside_the_grid_is_refused_and_nothing_changes(suite):
    world = make_world(suite)
    action = world.report(suite.user())
    rider = world.volunteer()
    before = _action_row(suite, action["id"])
    events = _count(suite, "outbox")
    for path, body in ((f"/actions/{action['id']}/dispatch", {"volunteer_ids": [rider.id]}),
                       (f"/actions/{action['id']}/escalate", {"reason": "not mine"})):
        refused = world.other_gridworker.post(path, json=body)
        assert refused.status_code == 403, refused.text
    # A volunteer never asked cannot accept; a stranger cannot even see it.
    assert rider.post(f"/actions/{action['id']}/accept").status_code == 403
    assert suite.user().get(f"/actions/{action['id']}").status_code == 403
    assert _action_row(suite, action["id"]) == before
    assert _count(suite, "outbox") == events
    # The branch secretary above both micro-grids may act.
    assert world.secretary.post(f"/actions/{action['id']}/dispatch",
                                json={"volunteer_ids": [rider.id]}).status_code == 200


def test_bad_input_is_422_with_field_messages_and_writes_nothing(suite):
    world = make_world(suite)
    reporter = suite.user()
    actions_before = _count(suite, "actions")
    for body, field in (({"grid_id": 99999999}, "grid_id"), ({"category": "no_such_category"}, "category"),
                        ({"latitude": 95, "longitude": 121}, "latitude"), ({"latitude": 31.2}, "latitude"),
                        ({"photo_urls": ["ftp://x"]}, "photo_urls"), ({"surprise": 1}, "surprise")):
        response = reporter.post("/actions", json={"title": "t", "category": world.category,
                                                   "grid_id": world.micro["id"], **body})
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["errors"], (body, response.json())
    assert _count(suite, "actions") == actions_before

    action = world.report(reporter)
    unskilled = world.volunteer(skills={"delivery": 3})
    far = world.volunteer(grid_ids=[world.other_micro["id"]])
    before = _action_row(suite, action["id"])
    for body in ({"volunteer_ids": [unskilled.id]}, {"volunteer_ids": [far.id]},
                 {"volunteer_ids": [987654321]}, {"team_id": 987654321},
                 {"volunteer_ids": [far.id], "team_id": 1}, {}):
        response = world.gridworker.post(f"/actions/{action['id']}/dispatch", json=body)
        assert response.status_code == 422, (body, response.text)
    messages = world.gridworker.post(f"/actions/{action['id']}/dispatch",
                                     json={"volunteer_ids": [unskilled.id, far.id]}).json()["errors"]["volunteer_ids"]
    assert any("lacks skill 'repair'" in m for m in messages) and any("does not serve" in m for m in messages)
    assert _action_row(suite, action["id"]) == before


def test_decline_returns_to_the_queue_and_suggestions_explain(suite):
    world = make_world(suite)
    action = world.report(suite.user())
    first, second = world.volunteer(), world.volunteer()
    busy = world.volunteer(max_open_actions=1)
    world.volunteer(on_leave=True)
    world.gridworker.post(f"/actions/{action['id']}/dispatch", json={"volunteer_ids": [first.id, second.id]})
    assert first.post(f"/actions/{action['id']}/decline", json={"reason": "在送单"}).json()["state"] == "dispatched"
    assert second.post(f"/actions/{action['id']}/decline").json()["state"] == "triaged"
    assert first.post(f"/actions/{action['id']}/accept").status_code == 409  # back with the coordinators

    other = world.report(suite.user())
    world.gridworker.post(f"/actions/{other['id']}/dispatch", json={"volunteer_ids": [busy.id]})
    busy.post(f"/actions/{other['id']}/accept")
    suggestions = world.gridworker.get(f"/actions/{action['id']}/suggestions?limit=10").json()["items"]
    rejected = {s["volunteer_id"]: s for s in suggestions if not s["eligible"]}
    assert rejected[busy.id]["rejections"][0]["field"] == "capacity"
    assert any(r["field"] == "leave" for s in rejected.values() for r in s["rejections"])
    scores = [s["score"] for s in suggestions if s["eligible"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 2


def test_merge_makes_the_duplicates_reporter_follow_the_survivor(suite):
    world = make_world(suite)
    first_reporter, second_reporter = suite.user(), suite.user()
    survivor = world.report(first_reporter)
    duplicate = world.report(second_reporter)
    merged = world.gridworker.post(f"/actions/{duplicate['id']}/merge", json={"survivor_id": survivor["id"]})
    assert merged.status_code == 200 and merged.json()["state"] == "duplicate"
    assert second_reporter.id in world.gridworker.get(f"/actions/{survivor['id']}").json()["follower_ids"]
    assert second_reporter.get(f"/actions/{survivor['id']}").status_code == 200
    itself = world.gridworker.post(f"/actions/{survivor['id']}/merge", json={"survivor_id": survivor["id"]})
    assert itself.status_code == 422
    assert world.gridworker.post(f"/actions/{duplicate['id']}/cancel").status_code == 409


def test_manual_escalation_reaches_the_next_level(suite):
    world = make_world(suite)
    action = world.report(suite.user())
    up = world.gridworker.post(f"/actions/{action['id']}/escalate", json={"reason": "需要支部协调"})
    assert up.status_code == 200 and up.json()["level"] == 2
    event = world.outbox("action.escalated", action["id"])[0]
    assert event["coordinator_ids"] == [world.secretary.id] and event["automatic"] is False
    assert (event["from_level"], event["to_level"]) == (1, 2)
    world.secretary.post(f"/actions/{action['id']}/escalate", json={"reason": "需要街道统筹"})
    top = world.command.post(f"/actions/{action['id']}/escalate", json={"reason": "no higher"})
    assert top.status_code == 409 and "escalate" not in top.json()["allowed"]
    assert world.outbox("action.escalated", action["id"])[1]["coordinator_ids"] == [world.command.id]


def test_mass_action_checks_every_merchant_and_closes_when_all_do(suite):
    world = make_world(suite)
    shops = [suite.rpc("volunteers", "ensure_merchant", {"name": f"店{i} {world.tag}", "status": "approved",
                                                        "grid_id": grid["id"], "user_id": None})
             for i, grid in enumerate([world.micro, world.micro, world.other_micro])]
    team = suite.rpc("volunteers", "ensure_team", {"name": f"行动队 {world.tag}", "kind": "action_team",
                                                   "join_policy": "open"})
    doer = world.volunteer()
    doer.post(f"/teams/{team['id']}/join")
    refused = world.gridworker.post("/actions/mass", json={
        "title": "台风店招检查", "category": world.category, "grid_ids": [world.micro["id"], world.other_micro["id"]]})
    assert refused.status_code == 403
    parent = world.secretary.post("/actions/mass", json={
        "title": "台风店招检查", "category": world.category, "team_id": team["id"],
        "grid_ids": [world.micro["id"], world.other_micro["id"]], "checklist": ["店招已加固", "已告知避险点"]})
    assert parent.status_code == 201, parent.text
    parent = parent.json()
    assert parent["kind"] == "mass" and parent["progress"]["total"] == 3 and parent["grid_id"] == world.big["id"]
    children = world.secretary.get(f"/actions?parent_id={parent['id']}").json()["items"]
    assert {c["merchant_id"] for c in children} == {s["id"] for s in shops}
    for child in children:
        assert doer.post(f"/actions/{child['id']}/accept").status_code == 200
        early = doer.post(f"/actions/{child['id']}/resolve", json={"outcome": "ok"})
        assert early.status_code == 409  # the checklist comes first
        for index in range(2):
            doer.post(f"/actions/{child['id']}/checklist", json={"index": index})
        done = doer.post(f"/actions/{child['id']}/resolve", json={"outcome": "ok"})
        assert done.json()["state"] == "closed", done.text
    final = world.secretary.get(f"/actions/{parent['id']}").json()
    assert final["state"] == "closed" and final["progress"]["done"] == 3
    assert final["progress"]["checklist_done"] == 6
    assert world.secretary.get(f"/teams/{team['id']}").json()["hours_total"] >= 0

"""A coordinator gives a reported problem its steps when dispatching it; the volunteer ticks them all before
resolving, and bad steps are refused with field messages."""
from __future__ import annotations

from tests.volunteers.integration.world import make_world


def test_dispatch_sets_the_checklist_that_resolving_needs_ticked(suite):
    world = make_world(suite)
    reporter = suite.user(groups=["rider"])
    rider = world.volunteer()
    action = world.report(reporter)
    assert action["checklist"] == []

    dispatched = world.gridworker.post(f"/actions/{action['id']}/dispatch", json={
        "volunteer_ids": [rider.id], "checklist": ["拍照记录", "加固店招"]})
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["checklist"] == [{"item": "拍照记录", "done": False}, {"item": "加固店招", "done": False}]
    assert rider.post(f"/actions/{action['id']}/accept").status_code == 200
    assert rider.post(f"/actions/{action['id']}/start").status_code == 200

    early = rider.post(f"/actions/{action['id']}/resolve", json={"outcome": "已加固"})
    assert early.status_code == 409 and early.json()["allowed"] == ["checklist"]
    for index in (0, 1):
        ticked = rider.post(f"/actions/{action['id']}/checklist", json={"index": index})
        assert ticked.status_code == 200, ticked.text
    resolved = rider.post(f"/actions/{action['id']}/resolve", json={"outcome": "已加固"})
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    verbs = [e["verb"] for e in reporter.get(f"/actions/{action['id']}/timeline").json()["items"]]
    assert verbs == ["report", "dispatch", "accept", "start", "tick", "tick", "resolve"]


def test_a_dispatch_without_a_checklist_keeps_the_list_and_bad_steps_are_refused(suite):
    world = make_world(suite)
    rider = world.volunteer()
    action = world.report(suite.user())

    refused = world.gridworker.post(f"/actions/{action['id']}/dispatch", json={
        "volunteer_ids": [rider.id], "checklist": [""]})
    assert refused.status_code == 422 and "checklist" in refused.json()["errors"]
    assert world.gridworker.get(f"/actions/{action['id']}").json()["state"] == "reported"

    world.gridworker.post(f"/actions/{action['id']}/dispatch", json={"volunteer_ids": [rider.id],
                                                                       "checklist": ["拍照记录"]})
    again = world.gridworker.post(f"/actions/{action['id']}/dispatch", json={"volunteer_ids": [rider.id]})
    assert again.status_code == 200 and again.json()["checklist"] == [{"item": "拍照记录", "done": False}]

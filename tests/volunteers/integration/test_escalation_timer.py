"""The escalation timer with two replicas of the volunteers service: one escalation event per level."""
from __future__ import annotations

import time

from tests.support.suite import wait_for
from tests.volunteers.integration.world import make_world

# Seconds, written as minutes: accept within 1.2 s at every level, so an untouched report climbs fast.
FAST = {"accept_within_minutes": {"1": 0.02, "2": 0.02, "3": 0.02},
        "resolve_within_minutes": {"1": 600, "2": 600, "3": 600}}


def test_overdue_actions_escalate_once_per_level_with_two_replicas(suite_factory):
    running = suite_factory("postgres", replicas={"volunteers": 2},
                            env={"NUANXIN_ESCALATION_INTERVAL": "0.2"})
    world = make_world(running, category_limits=FAST)
    actions = [world.report(running.user()) for _ in range(3)]

    def all_at_command():
        return all(world.gridworker.get(f"/actions/{a['id']}").json()["level"] == 3 for a in actions)

    wait_for(all_at_command, timeout=30, message="three actions escalated to the command")
    time.sleep(1.5)  # more timer ticks on both replicas: nothing more may happen at the top
    for action in actions:
        events = world.outbox("action.escalated", action["id"])
        assert [(e["from_level"], e["to_level"]) for e in events] == [(1, 2), (2, 3)], events
        assert events[0]["coordinator_ids"] == [world.secretary.id]
        assert events[1]["coordinator_ids"] == [world.command.id]
        assert all(e["automatic"] and e["reason"].startswith("not accepted within") for e in events)
        timeline = world.gridworker.get(f"/actions/{action['id']}/timeline").json()["items"]
        assert [e["verb"] for e in timeline].count("escalate") == 2
    status = {g["grid_id"]: g for g in world.command.get("/grid-status").json()["items"]}
    assert status[world.micro["id"]]["escalated"] == 3 and status[world.micro["id"]]["colour"] == "red"

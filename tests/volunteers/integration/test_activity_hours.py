"""Hours credited for helping run an activity's session (`activity.hours_credited`, published through the
broker as the activities outbox does) count once among the volunteer's and the team's hours, however often
the event or the credit arrives."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from services.volunteers.models import WorkLog, infra
from tests.notifications.integration.conftest import publish
from tests.support.suite import wait_for
from tests.volunteers.integration.world import make_world

ENDED = datetime(2026, 12, 15, 13, 0, tzinfo=UTC)


def _credit(user_id: int, minutes: int, team_id: int | None, credit_id: str | None = None) -> dict:
    return {"credit_id": credit_id or str(uuid.uuid4()), "session_id": 501, "activity_id": 77, "user_id": user_id,
            "minutes": minutes, "title_zh": "行走党课·新华路", "title_en": "Walking lesson: Xinhua Road",
            "team_id": team_id, "ended_at": ENDED}


def _applied(suite, event_id: str) -> bool:
    with suite.database("volunteers").read() as session:
        row = session.get(infra.InboundEvent, event_id)
        return row is not None and row.status == "done"


def _logs(suite, user_id: int) -> list[WorkLog]:
    with suite.database("volunteers").read() as session:
        rows = session.scalars(select(WorkLog).where(WorkLog.user_id == user_id).order_by(WorkLog.id)).all()
        return [(r.action_id, r.activity_id, r.activity_session_id, r.minutes, r.team_id, r.title) for r in rows]


def test_an_activity_credit_delivered_twice_counts_once_for_the_volunteer_and_the_team(suite):
    world = make_world(suite)
    team = suite.rpc("volunteers", "ensure_team", {"name": f"故事汇 {world.tag}", "kind": "storytellers",
                                                   "join_policy": "open"})
    helper = world.volunteer()
    assert helper.post(f"/teams/{team['id']}/join").status_code in (200, 201)
    assert helper.get("/volunteers/me").json()["hours_total"] == 0

    envelope = publish(suite, "activity.hours_credited", _credit(helper.id, 90, team["id"]))
    publish(suite, "activity.hours_credited", {}, envelope=envelope)  # the broker redelivers it
    wait_for(lambda: _applied(suite, envelope["event_id"]), timeout=15, message="the credit applied")
    # The same credit again under a new event id (a producer's retry after a lost acknowledgement).
    again = publish(suite, "activity.hours_credited", dict(envelope["payload"]))
    wait_for(lambda: _applied(suite, again["event_id"]), timeout=15, message="the repeated credit handled")

    assert _logs(suite, helper.id) == [(None, 77, 501, 90, team["id"], "行走党课·新华路")]
    assert helper.get("/volunteers/me").json()["hours_total"] == 1.5
    assert helper.get(f"/teams/{team['id']}").json()["hours_total"] == 1.5
    # A coordinator sees the same total on the volunteer's profile.
    assert world.gridworker.get(f"/volunteers/{helper.id}").json()["hours_total"] == 1.5


def test_activity_hours_add_to_hours_logged_on_actions(suite):
    world = make_world(suite)
    courier = suite.user(groups=["courier"])
    rider = world.volunteer()
    action = world.report(courier)
    assert world.gridworker.post(f"/actions/{action['id']}/dispatch",
                                 json={"volunteer_ids": [rider.id]}).status_code == 200
    assert rider.post(f"/actions/{action['id']}/accept").status_code == 200
    assert rider.post(f"/actions/{action['id']}/resolve", json={"outcome": "店招已加固"}).status_code == 200
    assert world.gridworker.post(f"/actions/{action['id']}/hours",
                                 json={"minutes": 30, "reason": "含路程"}).status_code == 200
    first = publish(suite, "activity.hours_credited", _credit(rider.id, 45, None))
    second = publish(suite, "activity.hours_credited", _credit(rider.id, 15, None))
    for envelope in (first, second):
        wait_for(lambda envelope=envelope: _applied(suite, envelope["event_id"]), timeout=15,
                 message="a credit applied")
    assert rider.get("/volunteers/me").json()["hours_total"] == 1.5  # 30 + 45 + 15 minutes
    # Correcting the action's hours still finds the action's own log, not the activities'.
    fixed = world.gridworker.post(f"/actions/{action['id']}/hours", json={"minutes": 60, "reason": "核实"})
    assert fixed.status_code == 200 and fixed.json()["minutes"] == 60
    assert rider.get("/volunteers/me").json()["hours_total"] == 2
    assert [log[0] for log in _logs(suite, rider.id)] == [action["id"], None, None]

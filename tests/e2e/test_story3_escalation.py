"""Story 3 over HTTP: a loose shop sign in micro-grid 7, dispatched, escalated, handled, confirmed, closed.

"A courier reports a loose shop sign in micro-grid 7; the grid worker dispatches it to a rider knight nearby;
nobody accepts in 30 minutes, so it escalates to the branch secretary, who assigns the action team; it is
fixed, the courier confirms, the case closes; everyone involved was told at each step."

The demo seed's own `shop_sign` category is used (30 min to accept at level 1, 60 at level 2); the clock is
compressed by configuration (NUANXIN_ESCALATION_TIME_SCALE), and the volunteers service runs as two
replicas so the escalation timer is shown to fire once.
"""
from __future__ import annotations

import json

from sqlalchemy import text

from services.volunteers import seed
from tests.support.suite import wait_for

# 30 min x 0.004 = 7.2 s to accept at level 1; 60 min -> 14.4 s at level 2; 4 h -> 58 s to resolve.
SCALE = "0.004"


def _told(client, type_name: str, action_id: int, timeout: float = 20, audience: str | None = None):
    """Wait for the inbox entry of `type_name` about this action (for that audience) to reach `client`."""
    def entry():
        items = client.get("/notifications?limit=100").json()["items"]
        return [i for i in items if i["type"] == type_name and i["data"].get("action_id") == action_id
                and (audience is None or i["data"].get("audience") == audience)]

    return wait_for(entry, timeout=timeout, message=f"{type_name} in the inbox of user {client.id}")


def _events(running, action_id: int) -> list[tuple[str, dict]]:
    with running.database("volunteers").read() as session:
        rows = session.execute(text("SELECT type, envelope FROM outbox WHERE type LIKE 'action.%' ORDER BY id")).all()
    found = [(t, json.loads(e)["payload"]) for t, e in rows]
    return [(t, p) for t, p in found if p["action_id"] == action_id]


def test_story3_loose_shop_sign_escalates_and_closes(suite_factory):
    running = suite_factory("postgres", replicas={"volunteers": 2},
                            env={"NUANXIN_ESCALATION_TIME_SCALE": SCALE, "NUANXIN_ESCALATION_INTERVAL": "0.5"})
    gridworker = running.user(roles=["resident", "coordinator"], display_name="网格员 陈丽")
    secretary = running.user(roles=["resident", "coordinator"], display_name="楊國華")
    rider = running.user(roles=["resident", "volunteer"], display_name="骑士 张师傅", groups=["rider"])
    courier = running.user(roles=["resident"], display_name="顺丰小哥", groups=["courier"])
    fixer = running.user(roles=["resident", "volunteer"], display_name="行动队 老王")
    people = {"gridworker": {"id": gridworker.id}, "secretary": {"id": secretary.id}, "rider": {"id": rider.id},
              "coffee": {"id": 910001}, "demo": {"id": 910002}, "manager": {"id": 910003}}
    seed.seed(lambda service, method, *args: running.rpc(service, method, *args), people)
    grids = {g["name"]: g for g in courier.get("/grids").json()["items"]}
    teams = {t["kind"]: t for t in courier.get("/teams").json()["items"]}
    grid7 = grids["第7微网格"]["id"]

    # The action team takes members by invitation: the branch secretary brings 老王 in.
    assert fixer.post("/volunteers/me", json={"display_name": "行动队 老王", "skills": {"repair": 3},
                                              "grid_ids": [grids["宜北"]["id"]],
                                              "availability": seed.AROUND_THE_CLOCK}).status_code == 201
    action_team = teams["action_team"]["id"]
    assert secretary.post(f"/teams/{action_team}/invite", json={"user_id": fixer.id}).status_code == 200
    invited = wait_for(lambda: [i for i in fixer.get("/notifications").json()["items"]
                                if i["type"] == "team.member_invited"], timeout=20, message="the invitation")
    assert "楊國華" in invited[0]["body"] and teams["action_team"]["name"] in invited[0]["title"]
    assert fixer.post(f"/teams/{action_team}/join").json()["status"] == "active"

    # 1. The courier reports; the grid worker of micro-grid 7 is told, and the courier gets a receipt.
    reported = courier.post("/actions", json={
        "title": "店招松动", "category": "shop_sign", "grid_id": grid7, "location": "新华路 U巷 12 号",
        "description": "咖啡店门头的招牌一角松了,风一吹就晃", "latitude": 31.2065, "longitude": 121.4251})
    assert reported.status_code == 201, reported.text
    action_id = reported.json()["id"]
    told = _told(gridworker, "action.reported", action_id)
    assert "店招松动" in told[0]["body"] and "shop_sign" not in told[0]["body"]  # the label, not the key

    # 2. The grid worker asks the system who is near, and dispatches it to the rider knight.
    suggestions = gridworker.get(f"/actions/{action_id}/suggestions").json()["items"]
    assert suggestions[0]["volunteer_id"] == rider.id and suggestions[0]["eligible"]
    dispatched = gridworker.post(f"/actions/{action_id}/dispatch", json={"volunteer_ids": [rider.id],
                                                                        "note": "就在你送单的路上"})
    assert dispatched.status_code == 200, dispatched.text
    [request] = _told(rider, "action.dispatched", action_id, audience="assignee")
    assert request["title"] == "请接单:店招松动" and request["superseded_at"] is None

    # 3. Nobody accepts within the (compressed) 30 minutes: the timer escalates to the branch secretary.
    def escalated():
        return secretary.get(f"/actions/{action_id}").json()["level"] == 2

    wait_for(escalated, timeout=30, message="the escalation to level 2")
    # Everyone hears where it went by the name of the grid it rose to (宜北), not only its level.
    for person in (secretary, courier, gridworker):
        entry = _told(person, "action.escalated", action_id)[0]
        assert "宜北" in entry["title"] + entry["body"], entry

    # 4. The secretary assigns the action team; its member accepts, works, and writes the outcome.
    assert secretary.post(f"/actions/{action_id}/dispatch", json={"team_id": action_team}).status_code == 200
    _told(fixer, "action.dispatched", action_id)
    # The rider is released: told it went elsewhere, and his "please accept" is no longer open or unread.
    released = _told(rider, "action.dispatched", action_id, audience="released")
    assert "楊國華" in released[0]["body"]
    wait_for(lambda: next(i for i in rider.get("/notifications").json()["items"]
                          if i["id"] == request["id"])["superseded_at"], timeout=20,
             message="the rider's request superseded")
    unread = rider.get("/notifications?unread=true&limit=100").json()
    assert request["id"] not in [i["id"] for i in unread["items"]] and unread["unread_count"] == len(unread["items"])
    assert rider.post(f"/actions/{action_id}/accept").status_code == 403  # no longer asked
    assert fixer.post(f"/actions/{action_id}/accept").json()["accepted_by"] == fixer.id
    _told(courier, "action.accepted", action_id)
    # The grid worker who passed it up keeps hearing of it: accepted, resolved, closed.
    assert "行动队 老王" in _told(gridworker, "action.accepted", action_id)[0]["body"]
    assert fixer.post(f"/actions/{action_id}/start").json()["state"] == "in_progress"
    resolved = fixer.post(f"/actions/{action_id}/resolve", json={"outcome": "招牌已用膨胀螺丝重新固定"})
    assert resolved.json()["state"] == "resolved"
    _told(courier, "action.resolved", action_id)
    _told(secretary, "action.resolved", action_id)
    _told(gridworker, "action.resolved", action_id, audience="earlier_coordinator")

    # 5. The courier confirms; the case closes and the one who fixed it hears so.
    closed = courier.post(f"/actions/{action_id}/verify", json={"rating": 5, "feedback": "修得很快"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    _told(fixer, "action.closed", action_id)
    _told(gridworker, "action.closed", action_id)
    _told(secretary, "action.closed", action_id)

    timeline = courier.get(f"/actions/{action_id}/timeline").json()["items"]
    assert [e["verb"] for e in timeline] == ["report", "dispatch", "escalate", "dispatch", "accept", "start",
                                             "resolve", "verify", "close"]
    # The system escalated it; the note says why (its limit is the compressed one here).
    assert timeline[2]["actor_id"] is None and timeline[2]["note"].startswith("not accepted within")
    # Each step names who took it, as they were called then (the system has no name).
    assert [e["actor_name"] for e in timeline] == ["顺丰小哥", "网格员 陈丽", "", "楊國華", "行动队 老王",
                                                   "行动队 老王", "行动队 老王", "顺丰小哥", "顺丰小哥"]
    events = _events(running, action_id)
    escalations = [p for t, p in events if t == "action.escalated"]
    assert len(escalations) == 1, escalations  # two replicas, one escalation
    assert escalations[0]["coordinator_ids"] == [secretary.id] and escalations[0]["automatic"]
    assert [t for t, _ in events] == ["action.reported", "action.dispatched", "action.escalated",
                                      "action.dispatched", "action.accepted", "action.resolved", "action.closed"]
    assert fixer.get("/volunteers/me").json()["team_ids"] == [action_team]

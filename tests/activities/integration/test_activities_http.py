"""Activities over HTTP: a course of weekly classes whose room is really held in bookings, a walking lesson's
route, who may create and change, and bad input answered 422 with field messages."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.activities.integration.conftest import (
    activity_body,
    day_at,
    live_occurrences,
    make_space,
    organiser,
    outbox,
    session_body,
    sessions_of,
    unique,
)
from tests.support.suite import wait_for


def _ok(response, *codes):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


def test_a_course_of_eight_weekly_classes_holds_its_room_in_bookings(activities_suite):
    suite = activities_suite
    space = make_space(suite)
    teacher = organiser(suite)
    start = day_at(7, 19)
    activity = _ok(teacher.post("/activities", json=activity_body(sessions=[
        session_body(start, 1.5, space_id=space["id"], rrule="FREQ=WEEKLY;COUNT=8")])), 201)
    assert len(activity["sessions"]) == 8
    starts = [s["starts_at"] for s in activity["sessions"]]
    assert starts[1] > starts[0]
    assert all(s["booking_id"] == activity["sessions"][0]["booking_id"] for s in activity["sessions"])
    assert all(s["occurrence_id"] for s in activity["sessions"])
    assert activity["site_id"] == space["site_id"]
    assert live_occurrences(suite, space["id"]) == 8
    # The room is really held: anyone else booking it at the fourth class's time is refused.
    other = suite.user()
    fourth = day_at(7 + 21, 19, 30)
    clash = other.post("/bookings", json={"space_id": space["id"], **session_body(fourth, 1)})
    assert clash.status_code == 409, clash.text
    assert clash.json()["conflicts"]


def test_a_walking_lesson_has_its_route_in_order(activities_suite):
    suite = activities_suite
    lead = organiser(suite)
    route = [{"name": "新华路 211 号", "note": "起点：红色印记"}, {"name": "番禺路 60 号", "note": ""},
             {"name": "法华镇路", "note": "终点"}]
    activity = _ok(lead.post("/activities", json=activity_body(
        kind="walk", route=route, sessions=[session_body(day_at(9, 9), 2, place="新华路 211 号门口",
                                                         rrule="FREQ=WEEKLY;INTERVAL=2;COUNT=3")])), 201)
    assert [stop["name"] for stop in activity["route"]] == [stop["name"] for stop in route]
    assert [stop["position"] for stop in activity["route"]] == [0, 1, 2]
    assert len(activity["sessions"]) == 3
    assert activity["sessions"][1]["starts_at"] > activity["sessions"][0]["starts_at"]
    got = _ok(suite.user().get(f"/activities/{activity['id']}"))
    assert got["route"] == activity["route"] and got["organiser"] is False


def test_bad_input_is_422_naming_the_field_and_writes_nothing(activities_suite):
    suite = activities_suite
    lead = organiser(suite)
    start = day_at(5, 19)
    cases = [
        (activity_body(capacity=0), "capacity"),
        (activity_body(sessions=[{"starts_at": start.isoformat(),
                                  "ends_at": (start - timedelta(hours=1)).isoformat()}]), "sessions"),
        (activity_body(signup_opens_at=(start + timedelta(days=1)).isoformat(),
                       sessions=[session_body(start, place="中心")]), "signup_opens_at"),
        (activity_body(signup_closes_at=(start + timedelta(days=1)).isoformat(),
                       sessions=[session_body(start, place="中心")]), "signup_closes_at"),
        (activity_body(kind="walk", route=[]), "route"),
        (activity_body(colour="red"), "colour"),
        (activity_body(kind="picnic"), "kind"),
    ]
    for body, field in cases:
        response = lead.post("/activities", json=body)
        assert response.status_code == 422, (field, response.text)
        assert field in response.json()["errors"], (field, response.json())
    listed = _ok(lead.get("/activities", params={"mine": "true", "limit": 100}))
    assert not [a for a in listed["items"] if a["title_zh"] in {b["title_zh"] for b, _ in cases}]


def test_only_organisers_create_and_change(activities_suite):
    suite = activities_suite
    resident = suite.user()
    assert resident.post("/activities", json=activity_body()).status_code == 403
    lead = organiser(suite)
    activity = _ok(lead.post("/activities", json=activity_body()), 201)
    assert resident.patch(f"/activities/{activity['id']}", json={"capacity": 40}).status_code == 403
    assert resident.post(f"/activities/{activity['id']}/cancel", json={}).status_code == 403
    changed = lead.patch(f"/activities/{activity['id']}", json={"capacity": 40},
                         headers={"If-Match": f'"{activity["version"]}"'})
    assert _ok(changed)["capacity"] == 40
    stale = lead.patch(f"/activities/{activity['id']}", json={"capacity": 41},
                       headers={"If-Match": f'"{activity["version"]}"'})
    assert stale.status_code == 412
    assert sessions_of(suite, activity["id"]) == []


def test_participants_are_reminded_once_before_a_session_and_told_of_a_cancellation(activities_suite):
    suite = activities_suite
    lead = organiser(suite)
    activity = _ok(lead.post("/activities", json=activity_body()), 201)
    person = suite.user()
    _ok(person.post(f"/activities/{activity['id']}/signups", json={}), 201)
    # A session within the reminder's lead (24 h) is reminded at the timer's next tick, to who signed up by then.
    soon = datetime.now(UTC) + timedelta(hours=3)
    [added] = _ok(lead.post(f"/activities/{activity['id']}/sessions", json=session_body(soon, place="新华路 329 号")),
                  201)["items"]
    session_id = added["id"]
    reminded = wait_for(lambda: outbox(suite, "activity.session_reminder", session_id=session_id), timeout=15,
                        message="the reminder")
    assert reminded[0]["user_ids"] == [person.id] and reminded[0]["place"] == "新华路 329 号"
    time.sleep(1.5)  # the timer ticks again: once only
    assert len(outbox(suite, "activity.session_reminder", session_id=session_id)) == 1
    assert outbox(suite, "activity.signup_confirmed", activity_id=activity["id"], user_id=person.id)
    _ok(lead.post(f"/activities/{activity['id']}/cancel", json={"reason": "台风"}))
    [told] = outbox(suite, "activity.cancelled", activity_id=activity["id"])
    assert told["user_ids"] == [person.id] and told["reason"] == "台风"


def test_a_team_lead_creates_the_teams_activity_and_its_leads_organise_it(activities_suite):
    suite = activities_suite
    admin = suite.user(roles=("resident", "admin"))
    lead, co_lead, member = (suite.user(roles=("resident", "volunteer")) for _ in range(3))
    team = _ok(admin.post("/teams", json={"name": unique("讲述者"), "kind": "storytellers",
                                          "lead_ids": [lead.id, co_lead.id]}), 201)
    assert member.post("/activities", json=activity_body(kind="walk", organiser_team_id=team["id"])).status_code == 403
    activity = _ok(lead.post("/activities", json=activity_body(kind="walk", organiser_team_id=team["id"])), 201)
    assert set(activity["organiser_ids"]) == {lead.id, co_lead.id}
    assert _ok(co_lead.get(f"/activities/{activity['id']}"))["organiser"] is True
    _ok(co_lead.patch(f"/activities/{activity['id']}", json={"title_en": "Walking lesson"}))
    unknown = lead.post("/activities", json=activity_body(organiser_team_id=987654))
    assert unknown.status_code == 422 and "organiser_team_id" in unknown.json()["errors"]

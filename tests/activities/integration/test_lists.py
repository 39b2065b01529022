"""What lists show: an activity's card says when its sessions are; organisers see people by name; an activity
belongs to a site that exists, under that site's name."""
from __future__ import annotations

from tests.activities.integration.conftest import activity_body, day_at, make_space, organiser, session_body


def _ok(response, *codes):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


def test_a_card_says_when_the_sessions_are_and_how_many(activities_suite):
    boss = organiser(activities_suite)
    first = day_at(5, 19)
    course = _ok(boss.post("/activities", json=activity_body(sessions=[
        session_body(first, place="U巷", rrule="FREQ=WEEKLY;COUNT=4")])))
    bare = _ok(boss.post("/activities", json=activity_body()))
    cards = {a["id"]: a for a in _ok(boss.get("/activities", params={"mine": "true", "limit": 100}))["items"]}
    card = cards[course["id"]]
    assert card["session_count"] == 4
    detail = _ok(boss.get(f"/activities/{course['id']}"))
    starts = sorted(s["starts_at"] for s in detail["sessions"])
    ends = sorted(s["ends_at"] for s in detail["sessions"])
    assert (card["first_starts_at"], card["last_ends_at"]) == (starts[0], ends[-1])
    # A cancelled session no longer counts.
    _ok(boss.post(f"/activity-sessions/{detail['sessions'][-1]['id']}/cancel", json={"reason": "暴雨"}))
    cards = {a["id"]: a for a in _ok(boss.get("/activities", params={"mine": "true", "limit": 100}))["items"]}
    assert cards[course["id"]]["session_count"] == 3
    assert cards[bare["id"]] | {"session_count": 0, "first_starts_at": None, "last_ends_at": None} == cards[bare["id"]]


def test_organisers_see_who_signed_up_by_name(activities_suite):
    boss = organiser(activities_suite)
    activity = _ok(boss.post("/activities", json=activity_body(sessions=[session_body(day_at(3, 19), place="U巷")])))
    rider = activities_suite.user(display_name="骑手 小陈")
    _ok(rider.post(f"/activities/{activity['id']}/signups", json={}))
    listed = _ok(boss.get(f"/activities/{activity['id']}/signups"))["items"]
    assert [(s["user_id"], s["display_name"]) for s in listed] == [(rider.id, "骑手 小陈")]


def test_an_activity_belongs_to_a_site_that_exists_under_its_name(activities_suite):
    boss = organiser(activities_suite)
    space = make_space(activities_suite)
    walk = _ok(boss.post("/activities", json=activity_body(
        kind="walk", site_id=space["site_id"], route=[{"name": "新华路U巷"}],
        sessions=[session_body(day_at(4, 9), place="U巷 路口")])))
    site = activities_suite.rpc("bookings", "get_site", space["site_id"])
    assert (walk["site_id"], walk["site_name"]) == (site["id"], site["name"])
    before = _ok(boss.get("/activities", params={"mine": "true", "limit": 100}))["items"]
    unknown = boss.post("/activities", json=activity_body(site_id=999999))
    assert unknown.status_code == 422 and "site_id" in unknown.json()["errors"], unknown.text
    assert _ok(boss.get("/activities", params={"mine": "true", "limit": 100}))["items"] == before

"""Sign-up never overfills: 100 people press "sign up" at once for 30 places, on SQLite and PostgreSQL; the
waitlist promotes the next person with a hold to confirm, which lapses to the one after; one place per
household; cancelling before the deadline."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from services.activities.models import Activity, SignUp
from tests.activities.integration.conftest import (
    activity_body,
    day_at,
    organiser,
    outbox,
    session_body,
    signups,
)
from tests.support.suite import wait_for

PEOPLE = 100
PLACES = 30


def _ok(response, *codes):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


def _activity(suite, lead=None, **more) -> dict:
    body = activity_body(sessions=[session_body(day_at(10, 19), place="新华路 329 号 三楼")], **more)
    return _ok((lead or organiser(suite)).post("/activities", json=body), 201)


def _taken(suite, activity_id: int) -> int:
    with suite.database("activities").read() as session:
        return session.get(Activity, activity_id).taken


def test_a_hundred_at_once_for_thirty_places_confirm_exactly_thirty_on_sqlite(activities_suite):
    _race(activities_suite)


def test_a_hundred_at_once_for_thirty_places_confirm_exactly_thirty_on_postgresql(activities_pg_suite):
    _race(activities_pg_suite)


def _race(suite) -> None:
    lead = organiser(suite)
    activity = _activity(suite, lead, capacity=PLACES)
    with ThreadPoolExecutor(max_workers=20) as pool:
        people = list(pool.map(lambda _i: suite.user(), range(PEOPLE)))
    path = f"/activities/{activity['id']}/signups"
    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        answers = list(pool.map(lambda person: person.post(path, json={"wait": True}), people))
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201][:3]
    states = [a.json()["state"] for a in answers]
    assert states.count("confirmed") == PLACES and states.count("waitlisted") == PEOPLE - PLACES
    rows = signups(suite, activity["id"])
    assert len(rows) == PEOPLE and sum(1 for r in rows if r.state == "confirmed") == PLACES
    assert _taken(suite, activity["id"]) == PLACES
    # In line in the order they were written, each once.
    line = _ok(lead.get(f"/activities/{activity['id']}/signups", params={"state": "waitlisted", "limit": 100}))
    assert [s["position"] for s in line["items"]] == list(range(1, PEOPLE - PLACES + 1))
    got = _ok(people[0].get(f"/activities/{activity['id']}"))
    assert got["places_left"] == 0 and got["waitlist_length"] == PEOPLE - PLACES


def test_a_full_activity_refuses_unless_asked_to_wait(activities_suite):
    suite = activities_suite
    activity = _activity(suite, capacity=1)
    _ok(suite.user().post(f"/activities/{activity['id']}/signups", json={}), 201)
    full = suite.user().post(f"/activities/{activity['id']}/signups", json={})
    assert full.status_code == 409 and full.json()["full"] is True


def test_a_freed_place_is_offered_to_the_next_held_and_lapses_to_the_one_after(activities_suite):
    suite = activities_suite
    activity = _activity(suite, capacity=2, hold_minutes=30)
    path = f"/activities/{activity['id']}/signups"
    first, second, third, fourth = (suite.user() for _ in range(4))
    mine = _ok(first.post(path, json={}), 201)
    _ok(second.post(path, json={}), 201)
    waiting = _ok(third.post(path, json={"wait": True}), 201)
    after = _ok(fourth.post(path, json={"wait": True}), 201)
    assert (waiting["state"], waiting["position"], after["position"]) == ("waitlisted", 1, 2)

    _ok(first.post(f"/activity-signups/{mine['id']}/cancel"))
    offered = _ok(third.get("/me/activity-signups"))["items"][0]
    assert offered["state"] == "offered" and offered["hold_until"]
    assert outbox(suite, "activity.waitlist_offered", signup_id=waiting["id"])
    # A newcomer cannot take the place held for the person offered it.
    assert suite.user().post(path, json={}).status_code == 409

    # The hold runs out (its deadline moved into the past, as time would): the timer gives the place on.
    with suite.database("activities").transaction() as session:
        session.execute(update(SignUp).where(SignUp.id == waiting["id"])
                        .values(hold_until=datetime.now(UTC) - timedelta(seconds=1)))
    wait_for(lambda: {r.id: r.state for r in signups(suite, activity["id"])}[after["id"]] == "offered",
             timeout=15, message="the offer to lapse to the next in line")
    assert {r.id: r.state for r in signups(suite, activity["id"])}[waiting["id"]] == "expired"
    late = third.post(f"/activity-signups/{waiting['id']}/confirm")
    assert late.status_code == 409
    confirmed = _ok(fourth.post(f"/activity-signups/{after['id']}/confirm"))
    assert confirmed["state"] == "confirmed"
    assert outbox(suite, "activity.signup_confirmed", signup_id=after["id"])
    assert _taken(suite, activity["id"]) == 2


def test_one_place_per_household_and_per_person(activities_suite):
    suite = activities_suite
    activity = _activity(suite, kind="party", capacity=20, one_per_household=True, max_places_per_person=3)
    path = f"/activities/{activity['id']}/signups"
    mother, son, neighbour = suite.user(), suite.user(), suite.user()
    assert mother.post(path, json={"places": 2}).status_code == 422  # no household said
    assert mother.post(path, json={"places": 4, "household": "番禺路 60 号 302"}).status_code == 422
    _ok(mother.post(path, json={"places": 2, "household": "番禺路 60 号 302"}), 201)
    again = son.post(path, json={"household": " 番禺路60号302室"})
    assert again.status_code == 409, again.text
    assert mother.post(path, json={"household": "别处"}).status_code == 409  # one live sign-up per person
    _ok(neighbour.post(path, json={"household": "番禺路 60 号 301"}), 201)
    assert _taken(suite, activity["id"]) == 3


def test_cancelling_is_allowed_until_the_deadline_before_the_first_session(activities_suite):
    suite = activities_suite
    soon = datetime.now(UTC) + timedelta(hours=2)
    lead = organiser(suite)
    activity = _ok(lead.post("/activities", json=activity_body(
        cancel_before_minutes=180, sessions=[session_body(soon, place="中心")])), 201)
    person = suite.user()
    signup = _ok(person.post(f"/activities/{activity['id']}/signups", json={}), 201)
    assert signup["cancel_until"] < datetime.now(UTC).isoformat()
    late = person.post(f"/activity-signups/{signup['id']}/cancel")
    assert late.status_code == 409 and late.json()["deadline"] is True
    assert suite.user().post(f"/activity-signups/{signup['id']}/cancel").status_code == 404
    assert _ok(lead.post(f"/activity-signups/{signup['id']}/cancel"))["state"] == "cancelled"
    assert _taken(suite, activity["id"]) == 0

    roomy = _ok(lead.post("/activities", json=activity_body(
        cancel_before_minutes=60, sessions=[session_body(soon, place="中心")])), 201)
    early = _ok(person.post(f"/activities/{roomy['id']}/signups", json={}), 201)
    assert _ok(person.post(f"/activity-signups/{early['id']}/cancel"))["state"] == "cancelled"

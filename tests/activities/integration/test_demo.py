"""The demo seed's activities: the night school's first term with its rooms held in bookings, the three Xinhua
Road walking lessons with their stops, led by the storytellers, and the K-song contest's heats and final."""
from __future__ import annotations

import pytest

from services.activities.seed import NIGHT_SCHOOL, TERM_WEEKS, WALKS
from tests.gateway.integration.test_cli import nuanxin, seeded_demo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cast(suite):
    return seeded_demo(suite, ["manager", "storyteller", "rider", "demo"])


def _by_title(client, **query) -> dict:
    page = client.get("/activities", params={"limit": 100, **query}).json()
    return {item["title_zh"]: item for item in page["items"]}


def test_the_night_school_term_holds_its_rooms_every_week(cast):
    rider, manager = cast["rider"], cast["manager"]
    classes = _by_title(rider, kind="class")
    for title_zh, *_ in NIGHT_SCHOOL:
        course = rider.get(f"/activities/{classes[title_zh]['id']}").json()
        sessions = [s for s in course["sessions"] if s["state"] == "scheduled"]
        assert len(sessions) == TERM_WEEKS, title_zh
        assert all(s["booking_id"] and s["space_id"] for s in sessions)
        # Every class is an evening one, a week apart, in a room the bookings service holds for the manager.
        booking = manager.get(f"/bookings/{sessions[0]['booking_id']}").json()
        assert booking["status"] == "confirmed" and booking["space_id"] == sessions[0]["space_id"]
        assert len([o for o in booking["occurrences"] if o["status"] == "confirmed"]) == TERM_WEEKS
        assert manager.user["id"] in course["organiser_ids"]
    # The latte-art course is for riders, couriers and outdoor workers: a rider may sign up, a resident not.
    latte = rider.get(f"/activities/{classes[NIGHT_SCHOOL[0][0]]['id']}").json()
    assert latte["eligible"] is True
    assert cast["demo"].get(f"/activities/{latte['id']}").json()["eligible"] is False


def test_the_three_walking_lessons_have_their_stops_and_their_guide(cast):
    walks = _by_title(cast["demo"], kind="walk")
    storyteller = cast["storyteller"].user["id"]
    for title_zh, _title_en, meeting_point, stops in WALKS:
        walk = cast["demo"].get(f"/activities/{walks[title_zh]['id']}").json()
        assert [stop["name"] for stop in walk["route"]] == [name for name, _ in stops]
        assert storyteller in walk["organiser_ids"]
        assert {s["place"] for s in walk["sessions"]} == {meeting_point}
        # Every second Saturday.
        starts = [s["starts_at"] for s in walk["sessions"]]
        assert len(starts) == 6


def test_the_k_song_contest_has_two_heats_and_a_final(cast):
    contests = _by_title(cast["demo"], kind="contest")
    (contest,) = contests.values()
    detail = cast["demo"].get(f"/activities/{contest['id']}").json()
    places = [s["place"] for s in sorted(detail["sessions"], key=lambda s: s["starts_at"])]
    assert len(places) == 3 and "海选" in places[0] and "海选" in places[1] and "决赛" in places[2]
    assert detail["site_id"] is not None and detail["site_name"] == "彭浦新村"


def test_seeding_again_adds_no_activity(suite, cast):
    before = _by_title(cast["demo"])
    again = nuanxin(suite, "seed", timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    after = _by_title(cast["demo"])
    assert after.keys() == before.keys()
    assert {k: v["id"] for k, v in after.items()} == {k: v["id"] for k, v in before.items()}

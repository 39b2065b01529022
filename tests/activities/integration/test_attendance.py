"""Check-in and check-out of a session over HTTP: the rotating code and its expiry, one record per person,
tickets scanned by an organiser, who may check in whom, helpers' hours credited once (and applied by the
volunteers service), walk-ins and the attendance list."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from services.activities import attendance_rules
from services.activities.models import ActivitySession, Attendance, HoursCredit
from services.volunteers.models import WorkLog
from tests.activities.integration.conftest import activity_body, organiser, outbox, session_body, volunteer
from tests.support.suite import wait_for


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def suite(request, activities_suite, activities_pg_suite):
    """Each test on SQLite and on PostgreSQL."""
    return activities_suite if request.param == "sqlite" else activities_pg_suite


@pytest.fixture(scope="module")
def people(suite):
    return {"organiser": organiser(suite), "helper": volunteer(suite),
            "stranger": suite.user()}


def _ok(response, *codes):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


def _activity(people, capacity: int = 10, starts_in: timedelta = timedelta(minutes=10), hours: float = 1) -> dict:
    """An activity of the organiser with one session (no room) starting soon; answers it with its session."""
    start = (datetime.now(UTC) + starts_in).replace(microsecond=0)
    activity = _ok(people["organiser"].post("/activities", json=activity_body(
        capacity=capacity, sessions=[session_body(start, hours, place="新华路 329 号")])))
    detail = _ok(people["organiser"].get(f"/activities/{activity['id']}"))
    assert len(detail["sessions"]) == 1, detail
    return detail


def _participant(suite, activity: dict):
    person = suite.user()
    signup = _ok(person.post(f"/activities/{activity['id']}/signups", json={"places": 1}))
    assert signup["state"] == "confirmed", signup
    person.signup = signup
    return person


def _code(organiser, session_id: int) -> str:
    answer = _ok(organiser.get(f"/activity-sessions/{session_id}/code"))
    assert answer["period_seconds"] == 30 and len(answer["code"]) == 6
    return answer["code"]


def _secret(suite, session_id: int) -> str:
    with suite.database("activities").read() as session:
        return session.get(ActivitySession, session_id).checkin_secret


def _records(suite, session_id: int) -> list[int]:
    """Who has an attendance record for the session."""
    with suite.database("activities").read() as session:
        return list(session.scalars(select(Attendance.user_id).where(Attendance.session_id == session_id)))


def _work_logs(suite, credit_id: str) -> list[tuple]:
    with suite.database("volunteers").read() as session:
        return [tuple(row) for row in session.execute(
            select(WorkLog.user_id, WorkLog.minutes, WorkLog.activity_id, WorkLog.activity_session_id)
            .where(WorkLog.credit_id == credit_id))]


def _shift(suite, session_id: int, **columns) -> None:
    with suite.database("activities").transaction() as session:
        session.execute(update(ActivitySession).where(ActivitySession.id == session_id).values(**columns))


def test_a_participant_checks_in_by_the_code_once_and_out(suite, people):
    activity = _activity(people)
    session_id = activity["sessions"][0]["id"]
    person = _participant(suite, activity)
    code = _code(people["organiser"], session_id)

    first = _ok(person.post(f"/activity-sessions/{session_id}/check-in", json={"code": code}))
    assert first["recorded"] is True and first["role"] == "participant" and first["method"] == "code"
    again = _ok(person.post(f"/activity-sessions/{session_id}/check-in", json={"code": code}))
    assert again["recorded"] is False and again["checked_in_at"] == first["checked_in_at"]
    assert len(_records(suite, session_id)) == 1

    out = _ok(person.post(f"/activity-sessions/{session_id}/check-in", json={"code": code, "direction": "out"}))
    assert out["recorded"] is True and out["checked_out_at"] is not None and out["minutes_credited"] is None
    out_again = _ok(person.post(f"/activity-sessions/{session_id}/check-in",
                                json={"code": code, "direction": "out"}))
    assert out_again["recorded"] is False and out_again["checked_out_at"] == out["checked_out_at"]


def test_the_code_rotates_and_an_old_one_is_expired(suite, people):
    activity = _activity(people)
    session_id = activity["sessions"][0]["id"]
    person = _participant(suite, activity)
    secret = _secret(suite, session_id)
    now = datetime.now(UTC)
    step = attendance_rules.step_of(now)
    assert _code(people["organiser"], session_id) in {attendance_rules.code_at(secret, s) for s in (step, step + 1)}
    current = {attendance_rules.code_at(secret, s) for s in (step - 1, step, step + 1, step + 2)}
    old = next(attendance_rules.code_at(secret, s) for s in range(step - 4, step - 40, -1)
               if attendance_rules.code_at(secret, s) not in current)

    refused = person.post(f"/activity-sessions/{session_id}/check-in", json={"code": old})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == {"code": ["expired"]}
    wrong = person.post(f"/activity-sessions/{session_id}/check-in", json={"code": "12345"})
    assert wrong.status_code == 422 and wrong.json()["errors"] == {"code": ["wrong"]}
    previous = attendance_rules.code_at(secret, attendance_rules.step_of(datetime.now(UTC)) - 1)
    _ok(person.post(f"/activity-sessions/{session_id}/check-in", json={"code": previous}))  # one period of grace
    assert _records(suite, session_id) == [person.id]


def test_code_check_in_waits_for_the_session_and_needs_a_place(suite, people):
    later = _activity(people, starts_in=timedelta(days=2))
    session_id = later["sessions"][0]["id"]
    person = _participant(suite, later)
    early = person.post(f"/activity-sessions/{session_id}/check-in", json={"code": _code(people["organiser"],
                                                                                          session_id)})
    assert early.status_code == 409 and "opens_at" in early.json(), early.text

    activity = _activity(people)
    session_id = activity["sessions"][0]["id"]
    nobody = people["stranger"].post(f"/activity-sessions/{session_id}/check-in",
                                     json={"code": _code(people["organiser"], session_id)})
    assert nobody.status_code == 403, nobody.text
    assert _records(suite, session_id) == []


def test_the_organiser_scans_a_participants_ticket(suite, people):
    activity = _activity(people)
    session_id = activity["sessions"][0]["id"]
    person = _participant(suite, activity)
    ticket = _ok(person.get(f"/activity-signups/{person.signup['id']}/ticket"))
    assert ticket["signup_id"] == person.signup["id"] and ticket["user_id"] == person.id

    scanned = _ok(people["organiser"].post(f"/activity-sessions/{session_id}/check-in",
                                           json={"ticket": ticket["ticket"]}))
    assert scanned["user_id"] == person.id and scanned["method"] == "ticket" and scanned["recorded"] is True
    again = _ok(people["organiser"].post(f"/activity-sessions/{session_id}/check-in",
                                         json={"ticket": ticket["ticket"]}))
    assert again["recorded"] is False
    assert len(_records(suite, session_id)) == 1

    # Someone else's ticket is not theirs to see; a tampered ticket or one for another activity is refused.
    assert people["stranger"].get(f"/activity-signups/{person.signup['id']}/ticket").status_code == 404
    other = _activity(people)
    for bad, why in ((ticket["ticket"][:-3] + "abc", "not a valid ticket"),):
        refused = people["organiser"].post(f"/activity-sessions/{session_id}/check-in", json={"ticket": bad})
        assert refused.status_code == 422 and refused.json()["errors"] == {"ticket": [why]}
    refused = people["organiser"].post(f"/activity-sessions/{other['sessions'][0]['id']}/check-in",
                                       json={"ticket": ticket["ticket"]})
    assert refused.status_code == 422 and refused.json()["errors"] == {"ticket": ["for another activity"]}


def test_a_participant_cannot_check_in_someone_else(suite, people):
    activity = _activity(people)
    session_id = activity["sessions"][0]["id"]
    person, other = _participant(suite, activity), _participant(suite, activity)
    ticket = _ok(other.get(f"/activity-signups/{other.signup['id']}/ticket"))["ticket"]
    for body in ({"user_id": other.id}, {"ticket": ticket}):
        refused = person.post(f"/activity-sessions/{session_id}/check-in", json=body)
        assert refused.status_code == 403, refused.text
    assert person.get(f"/activity-sessions/{session_id}/code").status_code == 403
    assert person.get(f"/activity-sessions/{session_id}/attendance").status_code == 403
    assert _records(suite, session_id) == []
    both = person.post(f"/activity-sessions/{session_id}/check-in", json={"code": "123456", "user_id": other.id})
    assert both.status_code == 422 and "code" in both.json()["errors"]


def test_a_helpers_check_out_credits_their_hours_once(suite, people):
    activity = _activity(people, hours=1)
    session_id = activity["sessions"][0]["id"]
    helper = people["helper"]
    _ok(people["organiser"].post(f"/activity-sessions/{session_id}/helpers", json={"user_id": helper.id}))
    listed = _ok(people["organiser"].get(f"/activity-sessions/{session_id}/helpers"))
    assert [h["user_id"] for h in listed["items"]] == [helper.id]

    checked = _ok(helper.post(f"/activity-sessions/{session_id}/check-in",
                              json={"code": _code(people["organiser"], session_id)}))
    assert checked["role"] == "helper"
    # They came 50 minutes ago (the session's length is an hour: 50 minutes are credited).
    with suite.database("activities").transaction() as session:
        session.execute(update(Attendance).where(Attendance.session_id == session_id)
                        .values(checked_in_at=datetime.now(UTC) - timedelta(minutes=50, seconds=10)))
    out = _ok(people["organiser"].post(f"/activity-sessions/{session_id}/check-in",
                                       json={"user_id": helper.id, "direction": "out"}))
    assert out["minutes_credited"] == 50 and out["recorded"] is True
    again = _ok(helper.post(f"/activity-sessions/{session_id}/check-in",
                            json={"code": _code(people["organiser"], session_id), "direction": "out"}))
    assert again["recorded"] is False and again["minutes_credited"] == 50

    with suite.database("activities").read() as session:
        credits = session.execute(select(HoursCredit.user_id, HoursCredit.minutes, HoursCredit.credit_id)
                                  .where(HoursCredit.session_id == session_id)).all()
    assert [(c.user_id, c.minutes) for c in credits] == [(helper.id, 50)]
    mine = outbox(suite, "activity.hours_credited", session_id=session_id)
    assert len(mine) == 1
    assert mine[0]["credit_id"] == credits[0].credit_id and mine[0]["minutes"] == 50
    assert mine[0]["user_id"] == helper.id and mine[0]["title_zh"] == activity["title_zh"]
    # The volunteers service applies the credit once: one work log of 50 minutes for the helper.
    wait_for(lambda: _work_logs(suite, credits[0].credit_id), timeout=20, message="the credit in volunteers")
    assert _work_logs(suite, credits[0].credit_id) == [(helper.id, 50, activity["id"], session_id)]
    # A helper who was taken on cannot be taken off once in.
    refused = people["organiser"].delete(f"/activity-sessions/{session_id}/helpers/{helper.id}")
    assert refused.status_code == 409, refused.text


def test_credited_minutes_are_capped_by_the_sessions_length(suite, people):
    activity = _activity(people, hours=1)
    session_id = activity["sessions"][0]["id"]
    helper = volunteer(suite)
    _ok(people["organiser"].post(f"/activity-sessions/{session_id}/helpers", json={"user_id": helper.id}))
    _ok(people["organiser"].post(f"/activity-sessions/{session_id}/check-in", json={"user_id": helper.id}))
    with suite.database("activities").transaction() as session:
        session.execute(update(Attendance).where(Attendance.session_id == session_id)
                        .values(checked_in_at=datetime.now(UTC) - timedelta(hours=3)))
    out = _ok(helper.post(f"/activity-sessions/{session_id}/check-in",
                          json={"code": _code(people["organiser"], session_id), "direction": "out"}))
    assert out["minutes_credited"] == 60


def test_helpers_are_added_and_removed_by_organisers(suite, people):
    activity = _activity(people)
    session_id = activity["sessions"][0]["id"]
    helper = volunteer(suite, "讲述者 小林")
    path = f"/activity-sessions/{session_id}/helpers"
    assert people["stranger"].post(path, json={"user_id": helper.id}).status_code == 403
    # Only a volunteer helps run a session: their hours are credited to their volunteer profile.
    not_one = people["organiser"].post(path, json={"user_id": people["stranger"].id})
    assert not_one.status_code == 422 and "user_id" in not_one.json()["errors"], not_one.text
    _ok(people["organiser"].post(path, json={"user_id": helper.id}))
    twice = _ok(people["organiser"].post(path, json={"user_id": helper.id}))
    assert [(h["user_id"], h["display_name"]) for h in twice["items"]] == [(helper.id, "讲述者 小林")]
    assert people["stranger"].delete(f"{path}/{helper.id}").status_code == 403
    assert _ok(people["organiser"].delete(f"{path}/{helper.id}"))["items"] == []
    gone = people["organiser"].delete(f"{path}/{helper.id}")
    assert gone.status_code == 422 and "user_id" in gone.json()["errors"]


def test_the_attendance_list_shows_no_shows_once_the_session_ended(suite, people):
    activity = _activity(people)
    session_id = activity["sessions"][0]["id"]
    came, absent = _participant(suite, activity), _participant(suite, activity)
    helper = volunteer(suite, "骑士 小王")
    organiser = people["organiser"]
    _ok(organiser.post(f"/activity-sessions/{session_id}/helpers", json={"user_id": helper.id}))
    _ok(came.post(f"/activity-sessions/{session_id}/check-in", json={"code": _code(organiser, session_id)}))
    walk_ins = _ok(organiser.post(f"/activity-sessions/{session_id}/walk-ins", json={"count": 4}))
    assert walk_ins == {"session_id": session_id, "count": 4}
    assert people["stranger"].post(f"/activity-sessions/{session_id}/walk-ins", json={"count": 9}).status_code == 403

    before = _ok(organiser.get(f"/activity-sessions/{session_id}/attendance"))
    # The desk shows who is who: the name each participant signed up with, the helper's volunteer name.
    names = {i["user_id"]: i["display_name"] for i in before["items"]}
    assert names == {came.id: came.user["display_name"], absent.id: absent.user["display_name"],
                     helper.id: "骑士 小王"}
    standing = {(i["user_id"], i["role"]): i["standing"] for i in before["items"]}
    assert standing == {(came.id, "participant"): "present", (absent.id, "participant"): "expected",
                        (helper.id, "helper"): "expected"}
    assert before["ended"] is False and before["summary"]["no_shows"] == 0

    now = datetime.now(UTC)
    _shift(suite, session_id, starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1))
    after = _ok(organiser.get(f"/activity-sessions/{session_id}/attendance"))
    standing = {(i["user_id"], i["role"]): i["standing"] for i in after["items"]}
    assert standing == {(came.id, "participant"): "present", (absent.id, "participant"): "no_show",
                        (helper.id, "helper"): "no_show"}
    assert after["ended"] is True
    assert after["summary"] == {"participants": 2, "participants_in": 1, "no_shows": 1, "helpers": 1,
                                "walk_ins": 4, "visits": 5}


def test_scans_at_once_record_one_check_in_and_credit_once(suite, people):
    """Twenty scans of one person's ticket at once, then twenty check-outs of a helper at once: one record,
    one `recorded`, one credit with one event."""
    activity = _activity(people)
    session_id = activity["sessions"][0]["id"]
    person = _participant(suite, activity)
    ticket = _ok(person.get(f"/activity-signups/{person.signup['id']}/ticket"))["ticket"]
    scanners = [suite.client(people["organiser"].token) for _ in range(20)]
    path = f"/activity-sessions/{session_id}/check-in"
    with ThreadPoolExecutor(max_workers=len(scanners)) as pool:
        answers = list(pool.map(lambda c: c.post(path, json={"ticket": ticket}), scanners))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers if a.status_code != 200]
    assert sum(a.json()["recorded"] for a in answers) == 1
    assert len({a.json()["checked_in_at"] for a in answers}) == 1
    assert _records(suite, session_id) == [person.id]

    helper = volunteer(suite)
    _ok(people["organiser"].post(f"/activity-sessions/{session_id}/helpers", json={"user_id": helper.id}))
    _ok(people["organiser"].post(path, json={"user_id": helper.id}))
    # New connections: the first burst's may have been closed by the gateway as idle meanwhile.
    scanners = [suite.client(people["organiser"].token) for _ in range(20)]
    with ThreadPoolExecutor(max_workers=len(scanners)) as pool:
        answers = list(pool.map(lambda c: c.post(path, json={"user_id": helper.id, "direction": "out"}), scanners))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers if a.status_code != 200]
    assert sum(a.json()["recorded"] for a in answers) == 1
    assert len(outbox(suite, "activity.hours_credited", session_id=session_id)) == 1
    with suite.database("activities").read() as session:
        assert session.scalar(select(func.count()).select_from(HoursCredit)
                              .where(HoursCredit.session_id == session_id)) == 1

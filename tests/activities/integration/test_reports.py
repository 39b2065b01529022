"""The activities report per site and period: the figures of held sessions, and the same as CSV."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from services.activities.models import ActivitySession, Attendance
from tests.activities.integration.conftest import activity_body, session_body, unique, volunteer
from tests.activities.integration.conftest import organiser as make_organiser


def _ok(response, *codes):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def suite(request, activities_suite, activities_pg_suite):
    """Each test on SQLite and on PostgreSQL."""
    return activities_suite if request.param == "sqlite" else activities_pg_suite


@pytest.fixture(scope="module")
def held(suite):
    """A site of its own with one activity whose session was held: three confirmed participants (two came),
    a helper who worked 50 minutes, four walk-ins; a second session that was cancelled."""
    organiser = make_organiser(suite)
    site = suite.rpc("bookings", "create_site", {"name": unique("报表中心")})
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    sessions = [session_body(start + timedelta(days=d), 1, place="活动室") for d in (0, 1)]
    activity = _ok(organiser.post("/activities", json=activity_body(capacity=10, site_id=site["id"],
                                                                    sessions=sessions)))
    detail = _ok(organiser.get(f"/activities/{activity['id']}"))
    first, second = (s["id"] for s in sorted(detail["sessions"], key=lambda s: s["starts_at"]))
    people = [suite.user() for _ in range(3)]
    for person in people:
        _ok(person.post(f"/activities/{activity['id']}/signups", json={}))
    code = _ok(organiser.get(f"/activity-sessions/{first}/code"))["code"]
    for person in people[:2]:
        _ok(person.post(f"/activity-sessions/{first}/check-in", json={"code": code}))
    helper = volunteer(suite)
    _ok(organiser.post(f"/activity-sessions/{first}/helpers", json={"user_id": helper.id}))
    _ok(organiser.post(f"/activity-sessions/{first}/check-in", json={"user_id": helper.id}))
    now = datetime.now(UTC)
    with suite.database("activities").transaction() as session:
        session.execute(update(Attendance).where(Attendance.session_id == first, Attendance.user_id == helper.id)
                        .values(checked_in_at=now - timedelta(minutes=50, seconds=5)))
    _ok(organiser.post(f"/activity-sessions/{first}/check-in", json={"user_id": helper.id, "direction": "out"}))
    _ok(organiser.post(f"/activity-sessions/{first}/walk-ins", json={"count": 4}))
    _ok(organiser.post(f"/activity-sessions/{second}/cancel", json={"reason": "台风"}))
    # The session has been held: it ended an hour ago.
    with suite.database("activities").transaction() as session:
        session.execute(update(ActivitySession).where(ActivitySession.id == first).values(
            starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1)))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return {"site": site, "activity": activity, "organiser": organiser,
            "query": {"site_id": site["id"], "from": (today - timedelta(days=1)).isoformat(),
                      "to": (today + timedelta(days=2)).isoformat()}}


EXPECTED = {"activities_held": 1, "sessions": 1, "signups": 3, "expected": 3, "attended": 2, "no_shows": 1,
            "attendance_rate": 0.6667, "check_ins": 3, "helpers_in": 1, "walk_ins": 4, "visits": 7,
            "volunteer_minutes": 50, "volunteer_hours": 0.83}


def test_the_report_counts_what_was_held_at_the_site(suite, held):
    space_manager = suite.user(roles=["resident", "space_manager"])
    report = _ok(space_manager.get("/activities/reports", params=held["query"]))
    assert report["site_id"] == held["site"]["id"]
    assert [s["site_id"] for s in report["sites"]] == [held["site"]["id"]]
    site = report["sites"][0]
    assert {k: site[k] for k in EXPECTED} == EXPECTED
    assert {k: report["totals"][k] for k in EXPECTED} == EXPECTED
    assert report["period"]["timezone"] == "Asia/Shanghai"


def test_the_csv_holds_the_same_figures(suite, held):
    coordinator = held["organiser"]
    response = coordinator.get("/activities/reports", params={**held["query"], "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["site_id"] for r in rows] == [str(held["site"]["id"]), "total"]
    for row in rows:
        assert {k: row[k] for k in EXPECTED} == {k: str(v) for k, v in EXPECTED.items()}
    report = _ok(coordinator.get("/activities/reports", params=held["query"]))
    assert rows[0]["site_name"] == report["sites"][0]["site_name"]
    by_accept = coordinator.get("/activities/reports", params=held["query"], headers={"Accept": "text/csv"})
    assert by_accept.content == response.content


def test_a_period_before_the_session_counts_nothing(suite, held):
    query = {**held["query"], "from": "2020-01-01", "to": "2020-01-31"}
    report = _ok(held["organiser"].get("/activities/reports", params=query))
    assert report["sites"] == [] and report["totals"]["sessions"] == 0
    assert report["totals"]["attendance_rate"] is None


def test_the_report_is_for_staff_and_checks_its_period(suite, held):
    resident = suite.user()
    assert resident.get("/activities/reports", params=held["query"]).status_code == 403
    bad = held["organiser"].get("/activities/reports", params={**held["query"], "to": "2000-01-01"})
    assert bad.status_code == 422 and "to" in bad.json()["errors"]
    missing = held["organiser"].get("/activities/reports", params={"to": "2026-01-01"})
    assert missing.status_code == 422 and "from" in missing.json()["errors"]

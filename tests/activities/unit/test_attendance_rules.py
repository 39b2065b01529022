"""Check-in's pure rules: the rotating code, the ticket, a helper's minutes, a person's standing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from marshmallow import ValidationError

from services.activities import attendance_rules as rules
from services.activities import contracts
from services.activities.attendance_rules import CodeRefused, TicketRefused

SECRET = "a-session-secret"
KEY = "unit-test-key-of-thirty-two-bytes-or-more"
NOON = datetime(2026, 12, 7, 4, 0, 0, tzinfo=UTC)  # a step boundary (divisible by 30 s)


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("NUANXIN_SECRET_KEY", KEY)


def test_a_code_is_six_digits_and_changes_every_period():
    codes = [rules.current_code(SECRET, NOON + timedelta(seconds=30 * n))["code"] for n in range(20)]
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(set(codes)) > 15  # (two steps may share a code by chance, not most)


def test_the_code_holds_for_its_whole_step_and_says_when_it_expires():
    first = rules.current_code(SECRET, NOON)
    assert rules.current_code(SECRET, NOON + timedelta(seconds=29.9)) == first
    assert first["expires_at"] == NOON + timedelta(seconds=30)
    assert first["period_seconds"] == 30
    assert rules.current_code(SECRET, NOON + timedelta(seconds=30))["code"] == rules.code_at(
        SECRET, rules.step_of(NOON) + 1)


def test_each_session_has_its_own_codes():
    assert rules.code_at(SECRET, 1000) != rules.code_at("another-secret", 1000)


def test_the_current_and_the_previous_code_are_taken():
    code = rules.current_code(SECRET, NOON)["code"]
    rules.check_code(SECRET, code, NOON)
    rules.check_code(SECRET, code, NOON + timedelta(seconds=59))  # one period of grace


def test_a_code_older_than_one_period_and_its_grace_is_expired():
    code = rules.current_code(SECRET, NOON)["code"]
    with pytest.raises(CodeRefused) as refused:
        rules.check_code(SECRET, code, NOON + timedelta(seconds=60))
    assert refused.value.reason == "expired"
    with pytest.raises(CodeRefused) as refused:
        rules.check_code(SECRET, code, NOON + timedelta(hours=3))
    assert refused.value.reason == "expired"


def test_a_code_from_the_future_or_of_another_session_is_wrong():
    ahead = rules.code_at(SECRET, rules.step_of(NOON) + 5)
    other = rules.current_code("another-secret", NOON)["code"]
    for code in (ahead, other):
        if code == rules.current_code(SECRET, NOON)["code"]:
            continue  # a chance collision of six digits
        with pytest.raises(CodeRefused) as refused:
            rules.check_code(SECRET, code, NOON)
        assert refused.value.reason in ("wrong", "expired")


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", " 12 345", "１２３４５６"])
def test_what_is_not_six_digits_is_wrong(code):
    with pytest.raises(CodeRefused) as refused:
        rules.check_code(SECRET, code, NOON)
    assert refused.value.reason == "wrong"


def test_code_check_in_opens_an_hour_before_and_closes_an_hour_after():
    opens, closes = rules.code_window(NOON, NOON + timedelta(hours=2))
    assert opens == NOON - timedelta(hours=1)
    assert closes == NOON + timedelta(hours=3)


def test_a_ticket_names_the_signup_its_person_and_the_activity():
    token = rules.sign_ticket(41, 7, 3, NOON)
    assert rules.read_ticket(token) == rules.Ticket(signup_id=41, user_id=7, activity_id=3)


def test_a_tampered_or_foreign_ticket_is_refused(monkeypatch):
    token = rules.sign_ticket(41, 7, 3, NOON)
    head, body, signature = token.split(".")
    forged = jwt.encode({"typ": "activity_ticket", "sub": "8", "signup": 41, "activity": 3, "iat": NOON},
                        "someone-elses-key-of-thirty-two-bytes!", algorithm="HS256")
    access = jwt.encode({"typ": "access", "sub": "7", "sid": "x", "iat": NOON}, KEY,
                        algorithm="HS256")
    no_signup = jwt.encode({"typ": "activity_ticket", "sub": "7", "activity": 3, "iat": NOON}, KEY,
                           algorithm="HS256")
    for bad in (f"{head}.{body}.{signature[::-1]}", forged, access, no_signup, "", "not-a-token"):
        with pytest.raises(TicketRefused):
            rules.read_ticket(bad)
    monkeypatch.setenv("NUANXIN_SECRET_KEY", "a-rotated-key-of-at-least-thirty-two-bytes")
    with pytest.raises(TicketRefused):
        rules.read_ticket(token)


def test_an_access_token_cannot_be_read_as_a_ticket_nor_a_ticket_as_an_access_token():
    ticket = jwt.decode(rules.sign_ticket(1, 2, 3, NOON), KEY, algorithms=["HS256"])
    assert ticket["typ"] != "access" and "sid" not in ticket


def test_a_helper_is_credited_from_in_to_out_in_whole_minutes():
    start, end = NOON, NOON + timedelta(hours=2)
    assert rules.credited_minutes(NOON + timedelta(minutes=10), NOON + timedelta(minutes=95, seconds=50),
                                  start, end) == 85


def test_credited_minutes_never_exceed_the_session_nor_go_below_zero():
    start, end = NOON, NOON + timedelta(hours=2)
    assert rules.credited_minutes(NOON - timedelta(hours=1), NOON + timedelta(hours=5), start, end) == 120
    assert rules.credited_minutes(NOON + timedelta(minutes=5), NOON, start, end) == 0


@pytest.mark.parametrize("checked_in, checked_out, ended, expected", [
    (NOON, None, False, "present"),
    (NOON, NOON + timedelta(hours=1), True, "left"),
    (None, None, False, "expected"),
    (None, None, True, "no_show"),
])
def test_standing(checked_in, checked_out, ended, expected):
    assert rules.standing(checked_in, checked_out, ended) == expected


# ------------------------------------------------------------------------- the contracts of check-in and reports

@pytest.mark.parametrize(("schema", "body"), [
    (contracts.CheckInRequestSchema, {"code": "123456"}),
    (contracts.CheckInRequestSchema, {"ticket": "a.b.c", "direction": "out"}),
    (contracts.CheckInRequestSchema, {"user_id": 7, "code": None}),
    (contracts.HelperRequestSchema, {"user_id": "12"}),
    (contracts.WalkInsRequestSchema, {"count": 0}),
    (contracts.ActivityReportQuerySchema, {"from": "2026-12-01", "to": "2026-12-07"}),
    (contracts.ActivityReportQuerySchema, {"from": "2026-12-01", "to": "2026-12-07", "site_id": "3",
                                           "format": "csv"}),
], ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_a_loaded_body_loads_again_unchanged(schema, body):
    loaded = schema().load(body)
    assert schema().load(loaded) == loaded


@pytest.mark.parametrize("body", [{}, {"code": "123456", "user_id": 3}, {"ticket": "t", "user_id": 3},
                                  {"code": "123456", "direction": "sideways"}, {"user_id": 0}])
def test_check_in_takes_exactly_one_way_of_naming_who(body):
    with pytest.raises(ValidationError):
        contracts.CheckInRequestSchema().load(body)


@pytest.mark.parametrize("body", [{"count": -1}, {"count": 100_001}, {}])
def test_walk_ins_are_a_count(body):
    with pytest.raises(ValidationError):
        contracts.WalkInsRequestSchema().load(body)


def test_a_report_period_runs_forwards_for_at_most_a_year():
    with pytest.raises(ValidationError) as backwards:
        contracts.ActivityReportQuerySchema().load({"from": "2026-12-07", "to": "2026-12-01"})
    assert "to" in backwards.value.messages
    with pytest.raises(ValidationError):
        contracts.ActivityReportQuerySchema().load({"from": "2025-01-01", "to": "2026-12-01"})


def test_the_csv_rows_are_the_columns_a_row_per_site_and_the_totals():
    figures = {c: 1 for c in contracts.REPORT_COLUMNS[2:]}
    report = {"sites": [{"site_id": 3, "site_name": "新华路", **figures}], "totals": figures}
    rows = contracts.report_rows(report)
    assert rows[0] == contracts.REPORT_COLUMNS
    assert rows[1][:2] == (3, "新华路") and rows[2][:2] == ("total", "")
    assert len({len(row) for row in rows}) == 1

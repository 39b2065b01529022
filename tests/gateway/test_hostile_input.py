"""Hostile input against the running suite: NUL and unpaired surrogates in any text, JSON nested 100 000
deep, dates at the ends of the calendar, over-long URLs, forged token claims, PATCH without a body.

Each answers a 4xx problem document that names the offending field, never a 500, and changes nothing;
and the expected errors they cause are logged as one line each, never a traceback.
"""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import text

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"
NUL, SURROGATE = "a\u0000b", "a\ud800b"
DEEP = b"[" * 100_000 + b"]" * 100_000


def _send(client, method, path, body: str | bytes | None = None, **kwargs):
    """Send a body as raw JSON text (requests would refuse to encode a lone surrogate)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return client.request(method, path, data=data, headers=headers, **kwargs)


def _raw(payload: dict) -> str:
    return json.dumps(payload)  # ensure_ascii: NUL and surrogates travel as \u escapes


def _refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"]
    if field is not None:
        assert field in body["errors"], body
        assert all(isinstance(m, str) for m in body["errors"][field]) if isinstance(body["errors"][field], list) \
            else body["errors"][field]
    return body


def _count(suite, service: str, table: str) -> int:
    with suite.database(service).read() as session:
        return session.execute(text(f"SELECT count(*) FROM {table}")).scalar()


@pytest.fixture(scope="module")
def people(suite):
    admin = suite.user(roles=["resident", "admin"])
    resident = suite.user()
    site = admin.post("/sites", json={"name": f"Hall {uuid.uuid4().hex[:6]}", "address": "1 Xinhua Rd"})
    assert site.status_code == 201, site.text
    space = admin.post("/spaces", json={"site_id": site.json()["id"], "name": "Room 1", "kind": "room",
                                        "capacity": 10, "timezone": "Asia/Shanghai"})
    assert space.status_code == 201, space.text
    return {"admin": admin, "resident": resident, "space": space.json()["id"]}


# ------------------------------------------------------------------------------ text without the door


@pytest.mark.parametrize("value", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_sign_in_with_bad_text_is_422(suite, value):
    response = _send(suite.client(), "POST", "/auth/token", _raw({"username": value, "password": "x" * 12}))
    _refused(response, 422, "username")


@pytest.mark.parametrize("path, field", [
    ("/merchants?street_area=%00", "street_area"),
    ("/merchants?category=%00", "category"),
])
def test_public_queries_with_nul_are_422(suite, path, field):
    _refused(suite.client().get(path), 422, field)


def test_account_search_with_nul_is_422(people):
    _refused(people["admin"].get("/accounts?q=%00"), 422, "q")


@pytest.mark.parametrize("value", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_registration_with_bad_display_name_creates_nothing(suite, value):
    before = _count(suite, "gateway", "accounts")
    username = f"h{uuid.uuid4().hex[:10]}"
    response = _send(suite.client(), "POST", "/accounts",
                     _raw({"username": username, "password": "Lantern-on-Xinhua-42", "display_name": value}))
    _refused(response, 422, "display_name")
    assert _count(suite, "gateway", "accounts") == before


@pytest.mark.parametrize("value", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize("method, path, service, table, body", [
    ("PATCH", "/me", "gateway", "accounts", {"display_name": "{}"}),
    ("POST", "/sites", "bookings", "sites", {"name": "{}", "address": "1 Xinhua Rd"}),
    ("POST", "/bookings", "bookings", "bookings", {"space_id": "SPACE", "title": "{}",
                                                  "starts_at": "2030-01-07T10:00:00+08:00",
                                                  "ends_at": "2030-01-07T11:00:00+08:00"}),
    ("POST", "/actions", "volunteers", "actions", {"title": "{}", "category": "errand", "grid_id": 1}),
    ("POST", "/wishes", "volunteers", "wishes", {"title": "{}", "story": "x", "grid_id": 1}),
    ("POST", "/merchants", "volunteers", "merchants", {"name": "{}", "category": "food", "street_area": "x"}),
    ("POST", "/teams", "volunteers", "teams", {"name": "{}", "grid_id": 1}),
    ("POST", "/broadcasts", "notifications", "broadcasts", {"title": "{}", "body": "x", "severity": "info",
                                                           "audience": [{"kind": "all"}]}),
    ("POST", "/visits", "volunteers", "visits", {"merchant_id": 1, "notes": "{}"}),
    ("POST", "/pledges", "volunteers", "pledges", {"title": "{}", "stock": 1}),
])
def test_bad_text_in_any_free_text_field_is_422_and_writes_nothing(suite, people, value, method, path, service,
                                                                    table, body):
    payload = {k: (people["space"] if v == "SPACE" else value if v == "{}" else v) for k, v in body.items()}
    field = next(k for k, v in body.items() if v == "{}")
    before = _count(suite, service, table)
    response = _send(people["admin"], method, path, _raw(payload))
    _refused(response, 422, field)
    assert _count(suite, service, table) == before


def test_bad_text_in_a_nested_key_is_named(people):
    response = _send(people["admin"], "POST", "/sites", _raw({"name": "Hall", "address": "x",
                                                              "opening_hours": {"m\u0000on": []}}))
    body = _refused(response, 422, "opening_hours")
    assert "m\\u0000on" in body["errors"]["opening_hours"]


def test_bad_text_in_a_path_is_422(people):
    _refused(people["admin"].post("/claims/%00/redeem"), 422, "code")


def test_a_role_the_path_cannot_name_is_404(people):
    # The roles that can be revoked are an enum of the path (stated in the document); any other is no resource.
    assert people["admin"].delete(f"/accounts/{people['resident'].id}/roles/%00").status_code == 404
    assert people["admin"].delete(f"/accounts/{people['resident'].id}/roles/resident").status_code == 404


# ------------------------------------------------------------------------------ nesting


@pytest.mark.parametrize("method, path, signed_in", [
    ("POST", "/accounts", False), ("POST", "/auth/token", False), ("POST", "/bookings", True),
    ("PATCH", "/me", True), ("POST", "/actions", True), ("POST", "/broadcasts", True),
])
def test_json_nested_100000_deep_is_422(suite, people, method, path, signed_in):
    client = people["admin"] if signed_in else suite.client()
    _refused(_send(client, method, path, DEEP), 422, "body")


def test_json_nested_within_the_limit_still_reaches_the_schema(people):
    nested = b'{"name": "Hall", "address": "x", "extra": ' + b"[" * 30 + b"]" * 30 + b"}"
    response = _send(people["admin"], "POST", "/sites", nested)
    assert response.status_code == 422 and "body" not in response.json()["errors"]


# ------------------------------------------------------------------------------ dates


@pytest.mark.parametrize("starts_at, ends_at", [
    ("0001-01-01T00:00:00+14:00", "0001-01-01T01:00:00+14:00"),
    ("9999-12-31T22:00:00-12:00", "9999-12-31T23:00:00-12:00"),
    ("1899-12-31T10:00:00+08:00", "1899-12-31T11:00:00+08:00"),
    ("2200-01-01T10:00:00+08:00", "2200-01-01T11:00:00+08:00"),
])
def test_bookings_outside_the_supported_years_are_422(suite, people, starts_at, ends_at):
    before = _count(suite, "bookings", "bookings")
    response = people["admin"].post("/bookings", json={"space_id": people["space"], "starts_at": starts_at,
                                                       "ends_at": ends_at, "title": "x"})
    _refused(response, 422, "starts_at")
    assert _count(suite, "bookings", "bookings") == before


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_date_queries_outside_the_supported_years_are_422(people, value):
    _refused(people["admin"].get("/bookings", params={"from": value}), 422, "from")
    _refused(people["admin"].get(f"/spaces/{people['space']}/availability",
                                 params={"from": value, "to": "2030-01-01T00:00:00Z"}), 422, "from")


def test_a_month_outside_the_supported_years_is_422(people):
    _refused(people["admin"].get("/reports/merchants/1", params={"month": "0000-01"}), 422, "month")


# ------------------------------------------------------------------------------ ids, URLs, bodies, tokens


def test_ids_and_cursors_outside_their_form_are_422(people):
    _refused(people["admin"].get("/bookings/0"), 422, "booking_id")
    _refused(people["admin"].get(f"/bookings/{2**31}"), 422, "booking_id")
    _refused(people["admin"].get("/bookings", params={"cursor": "abc"}), 422, "cursor")


def test_an_over_long_url_is_a_problem(suite):
    _refused(suite.client().get("/merchants", params={"category": "a" * 5000}), 414)


def test_patch_without_a_body_is_422_and_changes_nothing(people):
    day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    booking = people["admin"].post("/bookings", json={"space_id": people["space"], "title": "before",
                                                      "starts_at": f"{day}T10:00:00+08:00",
                                                      "ends_at": f"{day}T11:00:00+08:00"})
    assert booking.status_code == 201, booking.text
    path = f"/bookings/{booking.json()['id']}"
    _refused(people["admin"].request("PATCH", path), 422, "body")
    after = people["admin"].get(path).json()
    assert after["version"] == booking.json()["version"] and after["title"] == "before"


@pytest.mark.parametrize("claims", [
    {"sub": "not-a-number", "sid": "x"},
    {"sub": ["1"], "sid": "x"},
    {"sub": "1", "sid": {"a": 1}},
    {"sub": "1", "sid": "\u0000"},
    {"sub": "99999999999999999999", "sid": "x"},
    {"sub": "1", "sid": "x", "typ": ["access"]},
])
def test_a_validly_signed_token_with_malformed_claims_is_401(suite, claims):
    now = datetime.now(UTC)
    token = jwt.encode({"typ": "access", "iat": now, "exp": now + timedelta(minutes=5), **claims},
                       suite.secret, algorithm="HS256")
    _refused(suite.client(token).get("/me"), 401)


# ------------------------------------------------------------------------------ the log


def test_expected_errors_are_logged_without_a_traceback(suite, people):
    marker = uuid.uuid4().hex
    requests_sent = [
        people["admin"].get("/bookings/2147483647", headers={"X-Request-ID": f"{marker}-1"}),
        people["admin"].get("/spaces/2147483647", headers={"X-Request-ID": f"{marker}-2"}),
        people["resident"].post("/sites", json={"name": "x", "address": "y"}, headers={"X-Request-ID": f"{marker}-3"}),
        people["admin"].post("/bookings", json={"space_id": 2147483647, "title": "x",
                                                "starts_at": "2031-03-04T10:00:00+08:00",
                                                "ends_at": "2031-03-04T11:00:00+08:00"},
                             headers={"X-Request-ID": f"{marker}-4"}),
        people["admin"].get("/actions/2147483647", headers={"X-Request-ID": f"{marker}-5"}),
        people["admin"].post("/bookings/2147483647/cancel", json={}, headers={"X-Request-ID": f"{marker}-6"}),
    ]
    assert all(400 <= r.status_code < 500 for r in requests_sent), [r.status_code for r in requests_sent]
    log = suite.log()
    lines = log.splitlines()
    ours = [i for i, line in enumerate(lines) if marker in line]
    assert ours, "the requests were not logged"
    start = min(ours)
    assert "Traceback" not in "\n".join(lines[start:]), "\n".join(lines[start:])[-4000:]

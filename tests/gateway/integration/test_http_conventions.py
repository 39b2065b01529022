"""What every endpoint gets from the gateway: problems, limits, idempotency, request ids, CORS, headers."""
from __future__ import annotations

import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from sqlalchemy import text

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


def _registration(username=None):
    return {"username": username or f"i{uuid.uuid4().hex[:10]}", "password": "Lantern-on-Xinhua-42",
            "display_name": "幂等 测试"}


def _accounts_named(suite, username) -> int:
    with suite.database("gateway").read() as session:
        return session.execute(text("SELECT count(*) FROM accounts WHERE username = :u"), {"u": username}).scalar()


def test_a_retried_post_returns_the_first_answer_and_creates_nothing_new(suite):
    client, body, key = suite.client(), _registration(), uuid.uuid4().hex
    first = client.post("/accounts", json=body, headers={"Idempotency-Key": key})
    again = client.post("/accounts", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _accounts_named(suite, body["username"]) == 1


def test_the_same_key_with_another_body_is_422(suite):
    client, key = suite.client(), uuid.uuid4().hex
    assert client.post("/accounts", json=_registration(), headers={"Idempotency-Key": key}).status_code == 201
    other = _registration()
    reused = client.post("/accounts", json=other, headers={"Idempotency-Key": key})
    assert reused.status_code == 422 and "Idempotency-Key" in reused.json()["errors"]
    assert _accounts_named(suite, other["username"]) == 0


def test_keys_are_scoped_by_account(suite):
    grid = suite.rpc("volunteers", "ensure_grid", {"name": f"网格-{uuid.uuid4().hex[:8]}", "level": 1})
    coordinator = suite.user(roles=["resident", "coordinator"], grids=[grid["id"]])
    other_coordinator = suite.user(roles=["resident", "coordinator"], grids=[grid["id"]])
    target = suite.user()  # a resident of that grid, through their volunteer profile
    suite.rpc("volunteers", "ensure_volunteer", target.id, {"display_name": "居民", "grid_ids": [grid["id"]]})
    key = uuid.uuid4().hex
    grant = {"role": "volunteer"}
    assert coordinator.post(f"/accounts/{target.id}/roles", json=grant, headers={"Idempotency-Key": key}).status_code == 200
    second = other_coordinator.post(f"/accounts/{target.id}/roles", json=grant, headers={"Idempotency-Key": key})
    assert second.status_code == 200 and "Idempotent-Replayed" not in second.headers


def test_concurrent_duplicates_create_one_object(suite):
    body, key = _registration(), uuid.uuid4().hex

    def post(_):
        return suite.client().post("/accounts", json=body, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(post, range(6)))
    statuses = sorted(r.status_code for r in responses)
    # Each duplicate either waited for nothing (409: the first is in flight) or got the first answer replayed.
    assert set(statuses) <= {201, 409}, statuses
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    assert _accounts_named(suite, body["username"]) == 1
    assert all(r.headers["Content-Type"] == PROBLEM for r in responses if r.status_code == 409)


def test_a_failed_request_releases_its_key(suite):
    client, key = suite.client(), uuid.uuid4().hex
    body = _registration()
    bad = client.post("/accounts", json={**body, "timezone": "Nowhere/Else"}, headers={"Idempotency-Key": key})
    assert bad.status_code == 422
    good = client.post("/accounts", json=body, headers={"Idempotency-Key": key})
    # A different body after a failure is fine: the failed attempt stored nothing.
    assert good.status_code == 201


def test_a_malformed_key_is_422(suite):
    response = suite.client().post("/accounts", json=_registration(), headers={"Idempotency-Key": "x" * 201})
    assert response.status_code == 422 and response.headers["Content-Type"] == PROBLEM


@pytest.mark.parametrize("method, path, kwargs, status", [
    ("GET", "/no-such-thing", {}, 404),
    ("DELETE", "/me", {}, 405),
    ("POST", "/accounts", {"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400),
    ("POST", "/accounts", {"data": "username=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415),
    ("POST", "/accounts", {"data": "x" * (1024 * 1024 + 10), "headers": {"Content-Type": "application/json"}}, 413),
    ("POST", "/accounts", {"json": {"username": "abc", "surprise": 1}}, 422),
    ("GET", "/accounts", {"params": {"limit": 0}}, 422),
])
def test_every_error_is_a_problem_document(suite, method, path, kwargs, status):
    client = suite.user()
    response = client.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status and problem["title"]
    assert problem["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.text and "werkzeug" not in response.text.lower()
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_unknown_fields_are_named(suite):
    response = suite.user().patch("/me", json={"display_name": "ok", "is_admin": True, "roles": ["admin"]})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"is_admin", "roles"}


def _forged(suite, claims):
    return jwt.encode(claims, suite.secret, algorithm="HS256")


def test_expired_tampered_and_revoked_tokens_are_401(suite):
    user = suite.user()
    claims = jwt.decode(user.token, suite.secret, algorithms=["HS256"])
    expired = _forged(suite, {**claims, "exp": int(time.time()) - 5})
    other_key = jwt.encode(claims, "not-the-key-" * 4, algorithm="HS256")
    head, payload, signature = user.token.split(".")
    tampered = ".".join([head, jwt.utils.base64url_encode(json.dumps({**claims, "sub": "1"}).encode()).decode(),
                         signature])
    none_alg = jwt.encode(claims, None, algorithm="none") if "none" in jwt.algorithms.get_default_algorithms() \
        else "e30.e30."
    for token in (expired, other_key, tampered, none_alg, "garbage", ""):
        response = suite.client(token).get("/me")
        assert response.status_code == 401, token
        assert response.headers["Content-Type"] == PROBLEM
    user.post("/auth/logout")
    assert user.get("/me").status_code == 401


def test_request_ids_are_echoed_or_made(suite):
    client = suite.user()
    mine = client.get("/me", headers={"X-Request-ID": "trace-42"})
    assert mine.headers["X-Request-ID"] == "trace-42"
    made = client.get("/me", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["X-Request-ID"] != "bad id with spaces" and len(made.headers["X-Request-ID"]) == 32
    # The same id is in the gateway's access log line for that request.
    time.sleep(0.5)
    assert "trace-42" in suite.log()


def test_security_headers_and_the_docs_page_policy(suite):
    client = suite.client()
    api = client.get("/api/openapi.json")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["Content-Security-Policy"].startswith("default-src 'none'")
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    policy = docs.headers["Content-Security-Policy"]
    assert "'sha256-" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    # Nothing comes from elsewhere: the page works with the network cut.
    assert "http" not in policy


def test_the_docs_page_loads_only_files_this_gateway_serves(suite):
    client = suite.client()
    page = client.get("/api/docs").text
    files = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert files and all(f.startswith("/api/docs/assets/") for f in files), files
    for path in files:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["Content-Type"].split(";")[0] in ("text/css", "text/javascript",
                                                                  "application/javascript"), path
        assert "max-age=" in answer.headers["Cache-Control"]
        assert len(answer.content) > 1000
    assert client.get("/api/docs/assets/%2e%2e/%2e%2e/openapi.json").status_code == 404


def test_the_api_root_says_where_the_api_its_docs_and_the_health_are(suite):
    # `/` is the web app (tests/web/test_serving.py).
    for path in ("/api", "/api/v1"):
        answer = suite.client().get(suite.base_url + path)
        assert answer.status_code == 200, path
        assert answer.json() == {"name": "Nuanxin API", "api": "/api/v1", "openapi": "/api/openapi.json",
                                 "docs": "/api/docs", "health": "/healthz"}


def test_cors_is_off_unless_configured(suite):
    preflight = suite.client().request("OPTIONS", "/bookings", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_throttled_sign_ins_answer_429_with_retry_after(suite):
    user = suite.user()
    username = user.user["username"]
    statuses = []
    for _ in range(4):  # three free failures, the fourth locks for a second
        statuses.append(suite.client().post("/auth/token", json={"username": username,
                                                                "password": "wrong-password-1"}).status_code)
    locked = suite.client().post("/auth/token", json={"username": username, "password": user.user["password"]})
    assert statuses == [401, 401, 401, 401]
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert locked.headers["Content-Type"] == PROBLEM
    time.sleep(int(locked.headers["Retry-After"]) + 0.2)
    ok = suite.client().post("/auth/token", json={"username": username, "password": user.user["password"]})
    assert ok.status_code == 200
    # Success clears the account's count: one more mistake is free again.
    again = suite.client().post("/auth/token", json={"username": username, "password": "wrong-password-1"})
    assert again.status_code == 401

"""Walks the authorisation matrix (tests/gateway/matrix.py) against the running suite.

Every operation of /api/openapi.json has a rule; every rule that is not public has at least one denial;
anonymous callers get 401 on every operation not public; every listed denial answers its status, changes
nothing (a write's denial compares a snapshot of what it would change), and — where the rule names one —
the rightful caller succeeds with the very same request afterwards.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.gateway.matrix import MATRIX, RULES, build_world, denial_cases, nothing, render_markdown

pytestmark = pytest.mark.integration
DOCS = Path(__file__).resolve().parents[2] / "docs" / "authorization.md"
METHODS = ("get", "post", "put", "patch", "delete")


def _operations(suite) -> dict[str, dict]:
    spec = suite.client().get("/api/openapi.json").json()
    return {f"{method.upper()} {path.removeprefix('/api/v1')}": op
            for path, item in spec["paths"].items() for method, op in item.items() if method in METHODS}


def test_every_operation_of_the_openapi_document_is_in_the_matrix(suite):
    operations = _operations(suite)
    assert sorted(set(operations) - set(RULES)) == [], "operations without a rule in tests/gateway/matrix.py"
    assert sorted(set(RULES) - set(operations)) == [], "rules for operations that no longer exist"
    for key, op in operations.items():
        security = op.get("security") or []
        public = not security or {} in security
        assert RULES[key].public == public, f"{key}: the matrix and the OpenAPI security disagree"


def test_the_written_matrix_is_the_table():
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), \
        "regenerate it: python -m tests.gateway.matrix > docs/authorization.md"


def test_every_secured_rule_has_a_denial():
    secured = [rule for rule in MATRIX if not rule.public]
    proven = [rule for rule in secured if rule.denials]
    print(f"\nsecured rules: {len(secured)}; with a proven denial: {len(proven)}; "
          f"denials: {sum(len(rule.denials) for rule in secured)}")
    assert [rule.key for rule in secured if not rule.denials] == [], \
        "every operation that is not public needs a denial in tests/gateway/matrix.py"


def _concrete(path: str) -> str:
    # A path parameter that is an enumeration (a role) takes one of its values; the others an id.
    return re.sub(r"\{[^}]+\}", "1", path.replace("{role}", "merchant"))


@pytest.mark.parametrize("rule", [r for r in MATRIX if not r.public], ids=lambda r: r.key)
def test_anonymous_callers_are_401_everywhere_but_public_operations(suite, rule):
    body = {} if rule.method in ("POST", "PUT", "PATCH") else None
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = suite.client().request(rule.method, _concrete(rule.path), json=body, headers=headers)
        assert response.status_code == 401, f"{rule.key}: {response.status_code} {response.text[:200]}"
        assert response.headers["Content-Type"] == "application/problem+json"


@pytest.fixture(scope="module")
def world(suite):
    return build_world(suite)


@pytest.mark.parametrize("rule, denial", denial_cases(),
                         ids=[f"{r.key} as {d.actor}" for r, d in denial_cases()])
def test_denials_answer_their_status_and_change_nothing(world, rule, denial):
    probe = denial.build(world)
    client = probe.caller or world.actors[denial.actor]
    if rule.method != "GET":
        assert probe.state is not nothing, f"{rule.key} as {denial.actor}: a write's denial needs a state snapshot"
    before = probe.state()
    response = client.request(rule.method, probe.path, json=probe.body, params=probe.query)
    accepted = {denial.status} | ({denial.deviation} if denial.deviation else set())
    assert response.status_code in accepted, \
        f"{rule.key} as {denial.actor}: {response.status_code} {response.text[:300]}"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert probe.state() == before, f"{rule.key} as {denial.actor} changed something"
    if probe.allowed is not None:
        allowed = probe.allowed.request(rule.method, probe.path, json=probe.body, params=probe.query)
        assert 200 <= allowed.status_code < 300, \
            f"{rule.key}: the rightful caller was refused too: {allowed.status_code} {allowed.text[:300]}"

"""A username is one identity whatever its case or width: `DEMO` cannot register beside `demo`."""
from __future__ import annotations

import secrets
import uuid

import pytest

pytestmark = pytest.mark.integration


def test_a_username_differing_only_in_case_is_taken_and_any_case_signs_in(suite):
    base = f"Lin{uuid.uuid4().hex[:8]}"
    password = "Plum-" + secrets.token_urlsafe(10)
    first = suite.client().post("/accounts", json={"username": base, "password": password, "display_name": "林"})
    assert first.status_code == 201, first.text
    assert first.json()["username"] == base.lower()
    for twin in (base.upper(), base.lower()):
        again = suite.client().post("/accounts", json={"username": twin, "password": password, "display_name": "冒"})
        assert again.status_code == 409 and "username" in again.json()["errors"], again.text
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in base.upper())  # ＬＩＮ…: NFKC makes it ascii
    for spelling in (base, base.upper(), base.lower(), full_width):
        signed_in = suite.client().post("/auth/token", json={"username": spelling, "password": password})
        assert signed_in.status_code == 200, (spelling, signed_in.text)
    with suite.database("gateway").read() as session:
        from sqlalchemy import func, select

        from services.gateway.models import Account

        assert session.scalar(select(func.count()).select_from(Account)
                              .where(func.lower(Account.username) == base.lower())) == 1

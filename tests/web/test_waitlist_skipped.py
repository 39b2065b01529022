"""A waitlist entry passed over in a real Chromium (375 × 812): a resident waits for a taken hour; the space's
manager then closes the room for repairs over that hour; when the hour is given back it is not held for the
resident (a blackout is a rule of every booking), and 预约 says so, with the manager's reason, and offers
nothing to accept or leave. zh-CN and elderly mode; axe and the elderly measures run on the screen."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.bookings.integration.conftest import make_space

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORDS = {"skipped": "未保留", "because": "不符合预约规则"}


@pytest.mark.parametrize("mode", ["zh-CN", "elderly"])
def test_an_hour_blacked_out_after_joining_is_not_held_and_the_app_says_why(web, suite, persona, mode):
    words = WORDS
    manager = suite.user(roles=["space_manager"])
    space = make_space(suite, manager_ids=[manager.id])
    start = (datetime.now(SHANGHAI) + timedelta(days=5)).replace(hour=15, minute=0, second=0, microsecond=0)
    hour = {"space_id": space["id"], "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    holder = suite.user()
    taken = holder.post("/bookings", json=hour)
    assert taken.status_code == 201, taken.text
    resident = persona(roles=("resident",), locale="zh-CN", elderly=mode == "elderly")
    joined = resident.client.post("/waitlist", json=hour)
    assert joined.status_code == 201, joined.text
    closed = manager.post(f"/spaces/{space['id']}/blackouts", json={
        "starts_at": (start - timedelta(hours=1)).isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat(),
        "reason": "停电检修"})
    assert closed.status_code == 201, closed.text
    assert holder.post(f"/bookings/{taken.json()['id']}/cancel", json={"scope": "series"}).status_code == 200
    entry = resident.client.get("/waitlist").json()["items"][0]
    assert (entry["id"], entry["status"], entry["booking_id"]) == (joined.json()["id"], "skipped", None)

    web.open("/bookings", "my bookings (passed over)")
    card = web.page.get_by_test_id(f"waitlist-{entry['id']}")
    expect(card).to_contain_text(words["skipped"])
    expect(card).to_contain_text(words["because"])
    expect(card).to_contain_text("停电检修")
    expect(card.get_by_role("button")).to_have_count(0)  # nothing to accept, nothing to leave
    assert resident.client.get("/bookings").json()["items"] == []

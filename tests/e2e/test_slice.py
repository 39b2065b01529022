"""The foundation's vertical slice over HTTP: booking -> booking.confirmed (outbox) -> inbox entry."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import config
from tests.support.suite import wait_for


def _space(suite, name):
    return suite.rpc("bookings", "ensure_space", "测试中心", {"name": name, "kind": "room", "capacity": 8})


def test_booking_reaches_the_bookers_inbox(any_suite):
    space = _space(any_suite, "slice room")
    resident = any_suite.user()
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=3, minute=0, second=0, microsecond=0)
    response = resident.post("/bookings", json={"space_id": space["id"], "starts_at": start.isoformat(),
                                                 "ends_at": (start + timedelta(hours=2)).isoformat()})
    assert response.status_code == 201, response.text
    booking = response.json()
    assert response.headers["Location"] == f"/api/v1/bookings/{booking['id']}"

    def inbox_has_it():
        page = resident.get("/notifications").json()
        return [i for i in page["items"] if i["data"].get("booking_id") == booking["id"]]

    entries = wait_for(inbox_has_it, timeout=10, message="the booking.confirmed inbox entry")
    assert entries[0]["type"] == "booking.confirmed"


def test_health_is_green(suite):
    report = suite.client().get("/healthz").json()
    assert report["status"] == "ok", report
    assert set(report["parts"]) == {"broker", *config.BACKENDS, "gateway_database"}


def test_unknown_route_and_bad_json_are_problems(suite):
    client = suite.user()
    missing = client.get("/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    broken = client.request("POST", "/bookings", data="{bad", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.headers["Content-Type"] == "application/problem+json"
    assert "Traceback" not in broken.text

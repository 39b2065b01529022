"""No request forgery through channels, through the real gateway and services: an internal address or a
URL that picks the method or headers is refused with 422, and a booking afterwards sends nothing there;
an address stored earlier that the rules refuse now is checked before the send, never contacted, and
parked with its reason. The suite here allows no network beyond the public ones."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from services.notifications.models import Channel, InboxEntry
from tests.notifications.integration.conftest import FAST, attempts_of, deliveries_of, known
from tests.notifications.tripwire import Tripwire
from tests.support.suite import RunningSuite, wait_for

pytestmark = pytest.mark.integration

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def strict_suite():
    """Channels may reach public addresses only (the setting is empty), with fast delivery timers."""
    running = RunningSuite("postgres", env={**FAST, "NUANXIN_CHANNEL_ALLOWED_NETWORKS": "",
                                            "NUANXIN_CHANNEL_KEY": KEY}).start()
    yield running
    running.stop()


def _book(suite, resident) -> str:
    """A real booking over HTTP; returns the event id of its booking.confirmed notice in the inbox."""
    space = suite.rpc("bookings", "ensure_space", "测试中心", {"name": f"ssrf {uuid.uuid4().hex[:8]}",
                                                               "kind": "room", "capacity": 8})
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=3, minute=0, second=0, microsecond=0)
    response = resident.post("/bookings", json={"space_id": space["id"], "starts_at": start.isoformat(),
                                                 "ends_at": (start + timedelta(hours=2)).isoformat()})
    assert response.status_code == 201, response.text
    booking_id = response.json()["id"]

    def confirmed():
        items = resident.get("/notifications").json()["items"]
        return [i for i in items if i["data"].get("booking_id") == booking_id and i["type"] == "booking.confirmed"]

    wait_for(confirmed, timeout=15, message="the booking.confirmed inbox entry")
    with suite.database("notifications").read() as session:
        return session.query(InboxEntry.source_key).filter(InboxEntry.user_id == resident.id,
                                                           InboxEntry.type == "booking.confirmed").one()[0]


def test_the_reported_request_is_refused_and_a_booking_sends_nothing_to_the_loopback_peer(strict_suite):
    resident = strict_suite.user()
    known(strict_suite, resident)
    with Tripwire() as wire:
        exact = f"json://127.0.0.1:{wire.port}/internal/api?method=DELETE&+X-Injected=1"
        response = resident.post("/notification-channels", json={"name": "hook", "url": exact})
        assert response.status_code == 422, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert "starting with +, - or :" in response.json()["errors"]["url"][0]

        for url, reason in ((f"json://127.0.0.1:{wire.port}/internal/api", "127.0.0.1, a loopback address"),
                            (f"json://localhost:{wire.port}/x", "localhost resolves to 127.0.0.1"),
                            (f"json://2130706433:{wire.port}/x", "2130706433 stands for 127.0.0.1"),
                            ("json://[::ffff:127.0.0.1]/x", "127.0.0.1, a loopback address"),
                            ("json://169.254.169.254/latest/meta-data", "a cloud metadata address"),
                            (f"mailto://u:p@example.org?smtp=127.0.0.1&port={wire.port}&from=a@example.org",
                             "127.0.0.1, a loopback address"),
                            ("json://8.8.8.8/x?method=DELETE", "allowed query parameters: format, verify"),
                            ("xml://8.8.8.8/x", "xml:// is not supported")):
            response = resident.post("/notification-channels", json={"name": "hook", "url": url})
            assert response.status_code == 422, (url, response.text)
            assert reason in response.json()["errors"]["url"][0], (url, response.json())
        assert resident.get("/notification-channels").json()["items"] == []

        event_id = _book(strict_suite, resident)
        # The inbox entry and the channel messages are written in one transaction: none were queued.
        assert deliveries_of(strict_suite, event_id) == []
        assert wire.seen() == []


def test_a_stored_address_refused_at_send_time_is_never_contacted_and_parks_with_its_reason(strict_suite):
    resident = strict_suite.user()
    known(strict_suite, resident)
    admin = strict_suite.user(roles=["admin"])
    with Tripwire() as wire:
        # Stored while the operator allowed loopback (the rows outlive a narrower setting, or DNS changed).
        url = f"json://127.0.0.1:{wire.port}/hook"
        with strict_suite.database("notifications").transaction() as session:
            session.add(Channel(owner_kind="user", owner_id=resident.id, name="hook", scheme="json",
                                secret=Fernet(KEY.encode()).encrypt(url.encode()).decode(),
                                masked=f"json://…{url[-4:]}", created_by=resident.id))
        assert [c["name"] for c in resident.get("/notification-channels").json()["items"]] == ["hook"]

        event_id = _book(strict_suite, resident)
        row = wait_for(lambda: [d for d in deliveries_of(strict_suite, event_id) if d.status == "parked"],
                       timeout=20, message="the refused message parked")[0]
        seen = wire.seen()
    assert seen == []
    assert row.attempts == 1  # not retried: the rule will not change by itself
    assert row.last_error.startswith("address refused: the host is 127.0.0.1, a loopback address")
    log = attempts_of(strict_suite, row.id)
    assert [(a.attempt, a.status) for a in log] == [(1, "failed")] and log[0].error == row.last_error

    listed = admin.get("/notification-deliveries", params={"status": "parked"}).json()["items"]
    assert [d["last_error"] for d in listed if d["id"] == row.id] == [row.last_error]

    # One line in the service's log says so, with no traceback after it.
    lines = strict_suite.log().splitlines()
    said = [n for n, line in enumerate(lines) if f"delivery {row.id} parked after 1 attempt(s): address refused" in line]
    assert len(said) == 1, "\n".join(lines[-40:])
    assert not any("Traceback" in line for line in lines[said[0] + 1:said[0] + 3])

"""Failure behaviour of the whole suite: broker down, a service down, processes killed with SIGKILL."""
from __future__ import annotations

import secrets
import signal
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from services.launcher import EVENTLET_NOTICE, ROOT, gateway_command
from shared.migrations import upgrade
from tests.support.suite import RunningSuite, free_port, wait_for

pytestmark = pytest.mark.integration


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gateway_without_broker(tmp_path: Path):
    """The gateway alone, pointed at a broker address where nothing listens."""
    from services.gateway.accounts import create_account
    from shared.db import Database

    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", url)
    password = secrets.token_urlsafe(12)
    database = Database(url)
    create_account(database, {"username": "resident1", "password": password, "display_name": "r"})
    database.dispose()
    port = free_port()
    env = {"AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:{closed_port()}//", "GATEWAY_DATABASE_URL": url,
           "NUANXIN_DATA_DIR": str(tmp_path), "NUANXIN_SECRET_KEY": secrets.token_urlsafe(32),
           "NUANXIN_RPC_TIMEOUT": "3", "PYTHONWARNINGS": EVENTLET_NOTICE, "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(gateway_command(f"127.0.0.1:{port}", 1, 4), cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(base), timeout=30, message="the gateway to listen")
    yield base, password
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)


def _answers(base: str) -> bool:
    try:
        requests.get(base + "/api/openapi.json", timeout=2)
        return True
    except requests.RequestException:
        return False


def test_two_gateways_run_side_by_side_on_one_host(gateway_without_broker, tmp_path: Path):
    """gunicorn's control socket has one default path per user; the gateways use none, so they never collide."""
    base, _password = gateway_without_broker
    port = free_port()
    env = {"AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:{closed_port()}//",
           "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'second.db'}", "NUANXIN_DATA_DIR": str(tmp_path),
           "NUANXIN_SECRET_KEY": secrets.token_urlsafe(32), "PYTHONWARNINGS": EVENTLET_NOTICE,
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    upgrade("gateway", env["GATEWAY_DATABASE_URL"])
    second = subprocess.Popen(gateway_command(f"127.0.0.1:{port}", 1, 2), cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}"), timeout=30, message="the second gateway")
        assert requests.get(base + "/api/openapi.json", timeout=5).status_code == 200
        assert second.poll() is None
        assert not (tmp_path / ".gunicorn").exists()
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=15)


def test_broker_down_health_names_the_part_and_calls_answer_503(gateway_without_broker):
    base, password = gateway_without_broker
    health = requests.get(base + "/healthz", timeout=20)
    assert health.status_code == 503
    parts = health.json()["parts"]
    assert parts["broker"]["ok"] is False
    assert parts["gateway_database"]["ok"] is True
    assert all(parts[s]["ok"] is False for s in ("bookings", "volunteers", "notifications"))

    token = requests.post(base + "/api/v1/auth/token", json={"username": "resident1", "password": password},
                          timeout=10).json()["access_token"]
    response = requests.post(base + "/api/v1/bookings", headers={"Authorization": f"Bearer {token}"},
                             json={"space_id": 1, "starts_at": "2026-12-01T19:00:00+08:00",
                                   "ends_at": "2026-12-01T21:00:00+08:00"}, timeout=20)
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"]
    assert "broker" in response.json()["detail"]
    assert "Traceback" not in response.text


@pytest.fixture(scope="module")
def fragile_suite():
    running = RunningSuite("postgres", env={"NUANXIN_RPC_TIMEOUT": "3"}).start()
    yield running
    running.stop()


def _book(client, space_id: int, day: int):
    start = (datetime.now(UTC) + timedelta(days=day)).replace(hour=2, minute=0, second=0, microsecond=0)
    return client.post("/bookings", json={"space_id": space_id, "starts_at": start.isoformat(),
                                          "ends_at": (start + timedelta(hours=1)).isoformat()})


def _inbox_booking_ids(client) -> set[int]:
    response = client.get("/notifications", params={"limit": 100})
    if response.status_code != 200:  # the service may still be starting again
        return set()
    return {i["data"].get("booking_id") for i in response.json()["items"]}


def test_a_stopped_service_times_out_as_503_and_recovers(fragile_suite):
    space = fragile_suite.rpc("bookings", "ensure_space", "韧性测试", {"name": "timeout room"})
    resident = fragile_suite.user()
    fragile_suite.suite.kill("bookings", signal.SIGKILL)
    response = _book(resident, space["id"], 20)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    fragile_suite.suite.respawn("bookings")
    wait_for(lambda: _book(resident, space["id"], 21).status_code == 201, timeout=30,
             message="bookings to answer again")


def test_sigkill_loses_nothing_acknowledged(fragile_suite):
    space = fragile_suite.rpc("bookings", "ensure_space", "韧性测试", {"name": "kill room"})
    resident = fragile_suite.user()
    # The consumer dies: events wait in their durable queue.
    fragile_suite.suite.kill("notifications", signal.SIGKILL)
    booked = [_book(resident, space["id"], day) for day in (30, 31, 32)]
    assert [r.status_code for r in booked] == [201, 201, 201]
    ids = {r.json()["id"] for r in booked}
    # The producer dies right after acknowledging: its outbox keeps what it has not published yet.
    fragile_suite.suite.kill("bookings", signal.SIGKILL)
    fragile_suite.suite.respawn("bookings")
    fragile_suite.suite.respawn("notifications")
    wait_for(lambda: ids <= _inbox_booking_ids(resident), timeout=30,
             message="every acknowledged booking in the inbox")
    with fragile_suite.database("notifications").read() as session:
        from services.notifications.models import InboxEntry

        count = session.query(InboxEntry).filter(InboxEntry.user_id == resident.id,
                                                 InboxEntry.type == "booking.confirmed").count()
    assert count == len(ids)  # once each, never twice


def test_outbox_rows_left_by_a_dead_process_are_published_on_restart(fragile_suite):
    from services.bookings.models import infra
    from shared.outbox import emit

    resident = fragile_suite.user()
    fragile_suite.suite.kill("bookings", signal.SIGKILL)
    # Rows committed but never relayed, as a process killed between commit and publish leaves them.
    with fragile_suite.database("bookings").transaction() as session:
        for n in (900001, 900002):
            emit(session, infra, "booking.confirmed", {
                "booking_id": n, "space_id": 1, "space_name": "x", "booker_id": resident.id,
                "starts_at": "2026-12-01T11:00:00+00:00", "ends_at": "2026-12-01T12:00:00+00:00",
                "status": "confirmed"})
    fragile_suite.suite.respawn("bookings")
    wait_for(lambda: {900001, 900002} <= _inbox_booking_ids(resident), timeout=30,
             message="the orphaned outbox rows to reach the inbox")

"""The operator's command line, run as a subprocess against the running suite's environment."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from services.seed import PEOPLE
from shared import config

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def nuanxin(suite, *args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**suite.suite.env, **(env or {})}, stdin=subprocess.DEVNULL, timeout=timeout)


def demo_logins(suite) -> dict[str, str]:
    """The demo people's passwords, as `nuanxin seed` wrote them for `make run` to print."""
    return dict(line.split(" ", 1) for line in (suite.data_dir / "demo-logins.txt").read_text().splitlines())


def seeded_demo(suite, usernames, timeout=300) -> dict:
    """Seed the demo (idempotent) and sign these demo people in; their clients know their own /me."""
    seeded = nuanxin(suite, "seed", timeout=timeout)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    logins = demo_logins(suite)
    people = {}
    for username in usernames:
        tokens = suite.client().post("/auth/token", json={"username": username, "password": logins[username]})
        assert tokens.status_code == 200, (username, tokens.text)
        client = suite.client(tokens.json()["access_token"])
        client.user = client.get("/me").json()
        people[username] = client
    return people


def test_health_reports_every_part(suite):
    result = nuanxin(suite, "health")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "ok"
    assert set(report["parts"]) == {"broker", *config.BACKENDS, "gateway_database"}
    assert "activities" in report["parts"]


def test_migrate_is_idempotent(suite):
    result = nuanxin(suite, "migrate", "gateway")
    assert result.returncode == 0, result.stderr
    assert "migrated gateway" in result.stdout


def test_create_admin_takes_the_password_from_the_environment_only(suite):
    username = f"ops{uuid.uuid4().hex[:8]}"
    password = "Harbour-lights-" + uuid.uuid4().hex[:6]
    no_password = nuanxin(suite, "create-admin", username, env={"NUANXIN_ADMIN_PASSWORD": ""})
    assert no_password.returncode == 2 and "NUANXIN_ADMIN_PASSWORD" in no_password.stderr
    weak = nuanxin(suite, "create-admin", username, env={"NUANXIN_ADMIN_PASSWORD": "password123"})
    assert weak.returncode == 1 and "common" in weak.stderr
    made = nuanxin(suite, "create-admin", username, "--display-name", "值班 管理员",
                   env={"NUANXIN_ADMIN_PASSWORD": password})
    assert made.returncode == 0, made.stderr
    tokens = suite.client().post("/auth/token", json={"username": username, "password": password})
    assert tokens.status_code == 200
    assert suite.client(tokens.json()["access_token"]).get("/me").json()["roles"] == ["admin", "resident"]
    again = nuanxin(suite, "create-admin", username, env={"NUANXIN_ADMIN_PASSWORD": password})
    assert again.returncode == 1 and "taken" in again.stderr


def test_a_parked_event_is_listed_and_replayed(suite):
    from services.notifications.models import infra
    from shared.events import make_event

    # A well-formed event, so whether the retry timer has run it yet or not, it is no longer parked.
    envelope = make_event("account.updated", {"user_id": 900000000 + uuid.uuid4().int % 1000000,
                                              "username": "parked", "display_name": "parked"})
    event_id = envelope["event_id"]
    with suite.database("notifications").transaction() as session:
        session.add(infra.InboundEvent(event_id=event_id, type="account.updated", handler="on_account_updated",
                                       status="parked", attempts=5, envelope=json.dumps(envelope),
                                       last_error="KeyError: 'x'"))
    listed = nuanxin(suite, "events", "parked", "--service", "notifications")
    assert listed.returncode == 0, listed.stderr
    assert [row["event_id"] for row in json.loads(listed.stdout)].count(event_id) == 1
    replayed = nuanxin(suite, "events", "replay", event_id, "--service", "notifications")
    assert replayed.stdout.startswith("replaying 1 ")
    with suite.database("notifications").read() as session:
        assert session.get(infra.InboundEvent, event_id).status != "parked"


def test_parked_events_and_deliveries_are_listed_and_replayed(suite):
    for command in ("events", "deliveries"):
        listed = nuanxin(suite, command, "parked")
        assert listed.returncode == 0, listed.stderr
        assert isinstance(json.loads(listed.stdout), list)
        replayed = nuanxin(suite, command, "replay")
        assert replayed.returncode == 0, replayed.stderr
        assert replayed.stdout.startswith("replaying ")


def test_seed_is_idempotent_and_its_people_can_sign_in(suite):
    first = nuanxin(suite, "seed", timeout=240)
    assert first.returncode == 0, first.stderr[-2000:]
    second = nuanxin(suite, "seed", timeout=240)
    assert second.returncode == 0, second.stderr[-2000:]
    logins = demo_logins(suite)
    assert set(logins) == {username for username, *_ in PEOPLE}
    tokens = suite.client().post("/auth/token", json={"username": "rider", "password": logins["rider"]})
    assert tokens.status_code == 200, tokens.text
    rider = suite.client(tokens.json()["access_token"]).get("/me").json()
    assert rider["groups"] == ["rider"] and "volunteer" in rider["roles"]
    with suite.database("gateway").read() as session:
        assert session.execute(text("SELECT count(*) FROM accounts WHERE username = 'rider'")).scalar() == 1


def test_a_database_that_is_away_is_one_line_not_a_traceback(suite):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    away = f"postgresql://postgres@127.0.0.1:{closed}/nowhere"
    result = nuanxin(suite, "events", "parked", "--service", "bookings", env={"BOOKINGS_DATABASE_URL": away})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "nuanxin events: the database is unavailable (OperationalError:" in result.stderr

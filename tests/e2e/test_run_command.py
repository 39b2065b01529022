"""`nuanxin run` (what `make run` starts): migrates, starts four processes, seeds, prints a login, restarts
a process that crashed, and Ctrl-C stops every process it started."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from services.launcher import EVENTLET_NOTICE, ROOT
from services.seed import PEOPLE
from tests.support.infra import Vhost, check_broker
from tests.support.suite import free_port

pytestmark = pytest.mark.integration


def children_of(pid: int) -> list[int]:
    result = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in result.stdout.split()]


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def service_pid(parent: int, module: str) -> int | None:
    return next((pid for pid in children_of(parent) if module in command_of(pid)), None)


def test_run_comes_up_seeded_restarts_a_crashed_service_and_stops_cleanly_on_ctrl_c(tmp_path: Path):
    vhost = Vhost()
    amqp = vhost.create()
    check_broker(amqp)
    port = free_port()
    env = {**os.environ, "AMQP_URI": amqp, "NUANXIN_DATA_DIR": str(tmp_path), "PYTHONWARNINGS": EVENTLET_NOTICE}
    for key in [k for k in env if k.endswith("_DATABASE_URL") or k == "NUANXIN_SECRET_KEY"]:
        env.pop(key)  # the embedded defaults: SQLite files and a generated key in the data folder
    process = subprocess.Popen([str(Path(sys.executable).parent / "nuanxin"), "run", "--bind", f"127.0.0.1:{port}"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    # Read everything the suite prints for as long as it runs, so it never blocks on a full pipe.
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if any("Ctrl-C stops everything" in line for line in list(output)):
                break
            time.sleep(0.2)
        text = "".join(output)
        assert "Nuanxin is up" in text, text[-3000:]
        # The app's address comes first, and the app is served there.
        assert f"The app: http://127.0.0.1:{port}/ " in text, text[-3000:]
        app = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert app.status_code == 200 and app.headers["Content-Type"].startswith("text/html")
        # Every demo person's login is printed, with what they do in the stories.
        printed = {line.split()[0]: line.split()[1] for line in output if line.startswith("  ") and len(line.split()) > 2}
        assert {person.username for person in PEOPLE} <= set(printed), text[-3000:]
        demo_password = printed["demo"]
        token = requests.post(f"http://127.0.0.1:{port}/api/v1/auth/token",
                              json={"username": "demo", "password": demo_password}, timeout=10)
        assert token.status_code == 200
        worker = requests.post(f"http://127.0.0.1:{port}/api/v1/auth/token",
                               json={"username": "gridworker", "password": printed["gridworker"]}, timeout=10)
        me = requests.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=10,
                          headers={"Authorization": f"Bearer {worker.json()['access_token']}"}).json()
        assert [grid["name"] for grid in me["grids"]] == ["第7微网格"]
        # Generated on first use and kept in the data folder, never in the repository.
        assert (tmp_path / "secret_key").exists() and (tmp_path / "demo-logins.txt").exists()
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()["status"] == "ok"
        spaces = requests.get(f"http://127.0.0.1:{port}/api/v1/spaces",
                              headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=10)
        body = spaces.json()
        items = body["items"] if isinstance(body, dict) else body
        assert any(space["name"] == "治理议事厅" for space in items)

        # A service that crashes comes back by itself, after a one-second back-off, and the suite stays up.
        crashed = service_pid(process.pid, "services.bookings.service")
        assert crashed is not None
        os.kill(crashed, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            again = service_pid(process.pid, "services.bookings.service")
            healthy = again not in (None, crashed) and requests.get(
                f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
            if healthy:
                break
            time.sleep(0.5)
        assert healthy, "".join(output)[-3000:]
        assert process.poll() is None
        assert any("bookings exited with code -9; restarting it in 1 s" in line for line in list(output))

        started = children_of(process.pid)
        assert len(started) >= 4
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        time.sleep(0.5)
        alive = [pid for pid in started if Path(f"/proc/{pid}").exists()
                 and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
        assert alive == []
        assert (tmp_path / "logs" / "nuanxin.log").read_text().count("| ") > 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        vhost.delete()

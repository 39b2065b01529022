"""Starts the whole suite as separate processes: three nameko services and the gateway under gunicorn.

Each process's output goes to one place — this terminal, prefixed with the process name, and
`<data>/logs/nuanxin.log`. Ctrl-C (or SIGTERM) stops every process cleanly.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from shared import config

ROOT = Path(__file__).resolve().parent.parent
# eventlet's deprecation notice, raised where nameko first imports it (nameko 2.x needs eventlet).
EVENTLET_NOTICE = "ignore::Warning:nameko.cli.commands,ignore::Warning:nameko.containers,ignore::Warning:nameko.extensions"
SERVICE_CLASSES = {
    "bookings": "services.bookings.service:BookingsService",
    "volunteers": "services.volunteers.service:VolunteersService",
    "notifications": "services.notifications.service:NotificationsService",
}


def bin_path(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def service_command(service: str) -> list[str]:
    return [bin_path("nameko"), "run", "--config", str(ROOT / "config" / "nameko.yaml"), SERVICE_CLASSES[service]]


def gateway_command(bind: str, workers: int, threads: int) -> list[str]:
    return [bin_path("gunicorn"), "--bind", bind, "--workers", str(workers), "--worker-class", "gthread",
            "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "10",
            "--access-logfile", "-", "--error-logfile", "-",
            # The request id the gateway gave the response, so access lines match service log lines.
            "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms [%({x-request-id}o)s]',
            "services.gateway.wsgi:app"]


class Suite:
    def __init__(self, bind: str = "127.0.0.1:8000", env: dict | None = None, replicas: dict | None = None,
                 workers: int = 2, threads: int = 8, log_path: Path | None = None, echo: bool = True):
        self.bind = bind
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.env.setdefault("PYTHONPATH", str(ROOT))
        self.env.setdefault("PYTHONWARNINGS", EVENTLET_NOTICE)
        self.replicas = replicas or {}
        self.workers, self.threads = workers, threads
        self.log_path = log_path
        self.echo = echo
        self.processes: dict[str, subprocess.Popen] = {}
        self._log_lock = threading.Lock()
        self._log = None

    def start(self) -> Suite:
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        for service in SERVICE_CLASSES:
            for index in range(self.replicas.get(service, 1)):
                name = service if index == 0 else f"{service}-{index + 1}"
                self._spawn(name, service_command(service))
        self._spawn("gateway", gateway_command(self.bind, self.workers, self.threads))
        return self

    def _spawn(self, name: str, command: list[str]) -> None:
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.processes[name] = process
        threading.Thread(target=self._pump, args=(name, process), daemon=True).start()

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            text = f"{name:<14}| {line}"
            with self._log_lock:
                if self.echo:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                if self._log:
                    self._log.write(text)
                    self._log.flush()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        self.processes[name].send_signal(sig)
        self.processes[name].wait(timeout=30)

    def respawn(self, name: str) -> None:
        service = name.split("-")[0]
        command = gateway_command(self.bind, self.workers, self.threads) if service == "gateway" \
            else service_command(service)
        self._spawn(name, command)

    def dead(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def stop(self, timeout: float = 15) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log:
            self._log.close()
            self._log = None


def wait_healthy(base_url: str, timeout: float = 60) -> dict:
    """Poll /healthz until every part is up; returns the last report."""
    import requests

    deadline = time.monotonic() + timeout
    report: dict = {}
    while time.monotonic() < deadline:
        try:
            response = requests.get(f"{base_url}/healthz", timeout=5)
            report = response.json()
            if response.status_code == 200:
                return report
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"the suite did not become healthy: {report}")


def default_log_path() -> Path:
    return config.data_dir() / "logs" / "nuanxin.log"

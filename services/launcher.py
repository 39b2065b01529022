"""Starts the whole suite as separate processes: the nameko services (shared.config.BACKENDS) and the gateway under gunicorn.

Each process's output goes to one place — this terminal, prefixed with the process name, and
`<data>/logs/nuanxin.log`. Ctrl-C (or SIGTERM) stops every process cleanly. A process that exits on its
own is started again after a back-off (1 s doubling to 30 s, back to 1 s once it has stayed up a minute),
one line per restart: a crashed service costs its callers a few 503s, never the whole suite.
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
SERVICE_CLASSES = {name: f"services.{name}.service:{name.capitalize()}Service" for name in config.BACKENDS}


# Restart back-off of a crashed process: the first delay, its ceiling, and how long a process must stay up
# for the next crash to count as a first one again.
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
RESTART_STABLE_AFTER = 60.0


def restart_delay(crashes: int) -> float:
    """Seconds to wait before restarting a process that has crashed `crashes` times in a row (1, 2, 3…)."""
    return min(RESTART_FIRST_DELAY * 2 ** max(crashes - 1, 0), RESTART_MAX_DELAY)


def bin_path(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def service_command(service: str) -> list[str]:
    return [bin_path("nameko"), "run", "--config", str(ROOT / "config" / "nameko.yaml"), SERVICE_CLASSES[service]]


def gateway_command(bind: str, workers: int, threads: int) -> list[str]:
    return [bin_path("gunicorn"), "--bind", bind, "--workers", str(workers), "--worker-class", "gthread",
            "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "10",
            "--access-logfile", "-", "--error-logfile", "-",
            # gunicorn's longest request line, so the gateway itself refuses URLs over its own limit
            # (services/gateway/inputs.py MAX_URL_BYTES) with a problem document rather than an HTML page.
            "--limit-request-line", "8190",
            # gunicorn's control socket sits at one path per user: two gateways on a host would collide.
            "--no-control-socket",
            # The request id the gateway gave the response, so access lines match service log lines.
            "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms [%({x-request-id}o)s]',
            "services.gateway.wsgi:app"]


class _Restarts:
    """The restart record of one process name."""

    def __init__(self):
        self.crashes = 0
        self.started_at = time.monotonic()
        self.due_at: float | None = None  # set while the process waits out its back-off


class Suite:
    """The suite's processes. With `supervise` (the default) a process that exits on its own is restarted
    with back-off; without it, a test decides when a killed process comes back (`respawn`)."""

    def __init__(self, bind: str = "127.0.0.1:8000", env: dict | None = None, replicas: dict | None = None,
                 workers: int = 2, threads: int = 8, log_path: Path | None = None, echo: bool = True,
                 supervise: bool = True):
        self.bind = bind
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.env.setdefault("PYTHONPATH", str(ROOT))
        self.env.setdefault("PYTHONWARNINGS", EVENTLET_NOTICE)
        self.replicas = replicas or {}
        self.workers, self.threads = workers, threads
        self.log_path = log_path
        self.echo = echo
        self.supervise = supervise
        self.processes: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, list[str]] = {}
        self.restarts: dict[str, _Restarts] = {}
        self._log_lock = threading.Lock()
        self._log = None
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    def start(self) -> Suite:
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        for service in SERVICE_CLASSES:
            for index in range(self.replicas.get(service, 1)):
                name = service if index == 0 else f"{service}-{index + 1}"
                self._spawn(name, service_command(service))
        self._spawn("gateway", gateway_command(self.bind, self.workers, self.threads))
        if self.supervise:
            self._supervisor = threading.Thread(target=self._supervise, name="suite-supervisor", daemon=True)
            self._supervisor.start()
        return self

    def _spawn(self, name: str, command: list[str]) -> None:
        with self._lock:
            process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, start_new_session=True)
            self.processes[name] = process
            self.commands[name] = command
            record = self.restarts.setdefault(name, _Restarts())
            record.started_at, record.due_at = time.monotonic(), None
        threading.Thread(target=self._pump, args=(name, process), daemon=True).start()

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self._write(f"{name:<14}| {line}")

    def _write(self, text: str) -> None:
        with self._log_lock:
            if self.echo:
                sys.stdout.write(text)
                sys.stdout.flush()
            if self._log:
                self._log.write(text)
                self._log.flush()

    def _supervise(self, interval: float = 0.2) -> None:
        """Restart every process that exited on its own, each after its back-off."""
        while not self._stopping.wait(interval):
            now = time.monotonic()
            with self._lock:
                for name, process in list(self.processes.items()):
                    if self._stopping.is_set():
                        return
                    code = process.poll()
                    if code is None:
                        continue
                    record = self.restarts[name]
                    if record.due_at is None:
                        if now - record.started_at >= RESTART_STABLE_AFTER:
                            record.crashes = 0
                        record.crashes += 1
                        delay = restart_delay(record.crashes)
                        record.due_at = now + delay
                        self._write(f"{'launcher':<14}| {name} exited with code {code}; restarting it in "
                                    f"{delay:g} s (crash {record.crashes} in a row)\n")
                    elif now >= record.due_at:
                        self._spawn(name, self.commands[name])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        self.processes[name].send_signal(sig)
        self.processes[name].wait(timeout=30)

    def respawn(self, name: str) -> None:
        service = name.split("-")[0]
        command = gateway_command(self.bind, self.workers, self.threads) if service == "gateway" \
            else service_command(service)
        self._spawn(name, command)

    def dead(self) -> list[str]:
        """Processes that exited and will not come back by themselves (none while supervising)."""
        if self.supervise and not self._stopping.is_set():
            return []
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def exited(self) -> list[str]:
        """Processes not running at this moment, including those waiting to be restarted."""
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def stop(self, timeout: float = 15) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
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

"""Private RabbitMQ nodes for tests that stop, start, kill or cluster a broker.

A node has its own name, AMQP and distribution ports, data, log and configuration folders, an empty
plugin list (so nothing collides with the machine's broker and its management listener) and its own
Erlang cookie (HOME is its folder; the nodes of one `PrivateCluster` share theirs, as clustering needs).
It is controlled with `rabbitmqctl -n <node>` and removed when the test ends. The machine's default node
is never addressed.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from tests.support.infra import require_marked, unavailable

RABBIT_BIN = Path(os.environ.get("TEST_RABBIT_BIN", "/usr/lib/rabbitmq/bin"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRabbit:
    """`with PrivateRabbit() as rabbit:` → `rabbit.amqp_uri`, `rabbit.stop_app()`, `rabbit.start_app()`."""

    def __init__(self, cookie: str | None = None):
        self.name = f"nxfault-{uuid.uuid4().hex[:8]}@localhost"
        self.cookie = cookie
        self.port = _free_port()
        self.dist_port = _free_port()
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None
        self.amqp_uri = f"pyamqp://guest:guest@127.0.0.1:{self.port}//"

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> PrivateRabbit:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _env(self) -> dict:
        folder = self.folder
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder),  # the node's own Erlang cookie
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_LOGS": str(folder / "log" / "rabbit.log"),
            "RABBITMQ_PID_FILE": str(folder / "rabbit.pid"),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(folder / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(folder / "plugins-expand"),
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def start(self, timeout: float = 90) -> PrivateRabbit:
        require_marked("a private RabbitMQ node", "integration")
        server = RABBIT_BIN / "rabbitmq-server"
        if not server.exists():
            unavailable("rabbitmq-server", f"{server} is not installed")
        self.folder = Path(tempfile.mkdtemp(prefix="nxfault-rabbit-"))
        for sub in ("mnesia", "log"):
            (self.folder / sub).mkdir()
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            "log.console = false\n"
            "log.file.level = warning\n"
        )
        (self.folder / "enabled_plugins").write_text("[].\n")
        if self.cookie:  # else Erlang makes one in HOME on first start
            cookie = self.folder / ".erlang.cookie"
            cookie.write_text(self.cookie)
            cookie.chmod(0o400)
        (self.folder / "rabbitmq-env.conf").write_text("")
        self.process = subprocess.Popen([str(server)], env=self._env(), cwd=self.folder,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        try:
            self._await_startup(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def _await_startup(self, timeout: float) -> None:
        """The node registers with epmd a moment after it is spawned: poll until it has booted."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._ctl("await_startup", "--timeout", "30", timeout=40)
                return
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                if self.process.poll() is not None:
                    raise RuntimeError(f"rabbitmq-server exited ({self.process.returncode}): {self.log()[-2000:]}") from exc
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name} did not start within {timeout:g} s") from exc
                time.sleep(1)

    def _ctl(self, *args: str, timeout: float = 60) -> str:
        result = subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "-n", self.name, *args], env=self._env(),
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.name}: {result.stderr or result.stdout}")
        return result.stdout

    def stop_app(self) -> None:
        self._ctl("stop_app")

    def start_app(self, timeout: float = 60) -> None:
        self._ctl("start_app", timeout=timeout)
        self._await_startup(timeout)

    def kill(self) -> None:
        """SIGKILL the node's whole process group, as a machine that dies would: nothing is closed cleanly."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def join(self, other: PrivateRabbit) -> None:
        """Make this (fresh) node a member of `other`'s cluster."""
        self._ctl("stop_app")
        self._ctl("join_cluster", other.name, timeout=90)
        self.start_app()

    def ctl(self, *args: str, timeout: float = 60) -> str:
        """`rabbitmqctl -n <node> …`'s output (e.g. `list_queues name leader`)."""
        return self._ctl(*args, timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self._ctl("shutdown", timeout=30)
            except Exception:
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.process is not None:
            # The Erlang runtime may leave helpers (epmd is shared and stays; inet_gethost goes with the node).
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.killpg(self.process.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.2)
            else:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def log(self) -> str:
        path = self.folder / "log" / "rabbit.log" if self.folder else None
        return path.read_text(errors="replace") if path and path.exists() else ""


class PrivateCluster:
    """`with PrivateCluster(3) as cluster:` → three private nodes sharing one Erlang cookie, clustered, with
    `cluster.amqp_uri` naming every node (`;`-separated, kombu's failover syntax) and `cluster.nodes`."""

    def __init__(self, size: int = 3):
        cookie = secrets.token_hex(16).upper()
        self.nodes = [PrivateRabbit(cookie=cookie) for _ in range(size)]
        self.amqp_uri = ";".join(node.amqp_uri for node in self.nodes)

    def __enter__(self) -> PrivateCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 120) -> PrivateCluster:
        try:
            # The nodes boot side by side (booting is most of the wait), then join the first one by one.
            threads = []
            errors: list[BaseException] = []

            def boot(node: PrivateRabbit) -> None:
                try:
                    node.start(timeout)
                except BaseException as exc:  # reported below, on the test's thread
                    errors.append(exc)

            for node in self.nodes:
                threads.append(threading.Thread(target=boot, args=(node,), daemon=True))
                threads[-1].start()
            for thread in threads:
                thread.join(timeout + 30)
            if errors:
                raise errors[0]
            for node in self.nodes[1:]:
                node.join(self.nodes[0])
        except BaseException:
            self.stop()
            raise
        return self

    def node(self, name: str) -> PrivateRabbit:
        return next(node for node in self.nodes if node.name == name)

    def alive(self) -> list[PrivateRabbit]:
        return [node for node in self.nodes if node.process is not None and node.process.poll() is None]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

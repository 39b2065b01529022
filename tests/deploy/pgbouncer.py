"""A PgBouncer of a test's own: Debian's `pgbouncer` (make test installs it), on a free port, with its own
config in a temporary folder, pooling in transaction mode in front of the test PostgreSQL.

Every database name is passed through to the same server (`*` in [databases]), so a suite's fresh
databases need no entry of their own. PgBouncer refuses to run as root: as root it is started as the
`postgres` (else `nobody`) user, which is given the folder.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest

from tests.support.infra import IN_CI, PG_BASE
from tests.support.suite import free_port

# Server connections per database: a small pool, so the test proves that many client connections share it.
POOL_SIZE = 4


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        if IN_CI:
            pytest.fail("pgbouncer is not installed (make test installs it)", pytrace=False)
        pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    return found


class PgBouncer:
    def __init__(self, pool_mode: str = "transaction", pool_size: int = POOL_SIZE):
        self.pool_mode, self.pool_size = pool_mode, pool_size
        server = urlsplit(PG_BASE)
        self.server_host, self.server_port = server.hostname or "127.0.0.1", server.port or 5432
        self.user = server.username or "postgres"
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="nuanxin-pgbouncer-"))
        self.process: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> PgBouncer:
        binary = pgbouncer_binary()
        (self.folder / "users.txt").write_text(f'"{self.user}" ""\n')
        config = self.folder / "pgbouncer.ini"
        config.write_text(f"""[databases]
* = host={self.server_host} port={self.server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.folder / "users.txt"}
admin_users = {self.user}
stats_users = {self.user}
pool_mode = {self.pool_mode}
default_pool_size = {self.pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
server_idle_timeout = 10
log_connections = 0
log_disconnections = 0
logfile = {self.folder / "pgbouncer.log"}
pidfile = {self.folder / "pgbouncer.pid"}
""")
        command = [binary]
        if os.geteuid() == 0:
            user = "postgres" if _exists("postgres") else "nobody"
            shutil.chown(self.folder, user)
            for path in self.folder.iterdir():
                shutil.chown(path, user)
            command += ["-u", user]
        # Its log goes to the file above; -q keeps it off stderr (a pipe nobody reads would fill and stop it),
        # where only what fails before the log file is open is written, to a file beside it.
        with open(self.folder / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen([*command, "-q", str(config)], stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 15
        while True:
            try:
                self.show("VERSION")
                return self
            except psycopg2.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.log()[-2000:]
                    self.stop()
                    raise RuntimeError(f"pgbouncer did not start: {log}") from None
                time.sleep(0.2)

    def admin(self):
        """A connection to PgBouncer's admin console (the `pgbouncer` database)."""
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="pgbouncer",
                                connect_timeout=5)
        conn.autocommit = True
        return conn

    def show(self, what: str) -> list[dict]:
        """`SHOW STATS`, `SHOW POOLS`…: one dict per row."""
        conn = self.admin()
        try:
            with conn.cursor() as cur:
                cur.execute(f"SHOW {what}")
                names = [column.name for column in cur.description]
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            conn.close()

    def log(self) -> str:
        return "".join(path.read_text(errors="replace") for path in (self.folder / "stderr.log",
                                                                     self.folder / "pgbouncer.log") if path.exists())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False

"""The processes of a running suite, and the CPU time each spends, for benchmarks that ask where the time went.

    usage = CpuUsage(suite)      # reads every process's CPU time now
    ...                          # the work being measured
    usage.spent()                # {"bookings": 12.3, "gateway": 4.5, ..., "postgresql": ..., "rabbitmq": ...} s

Each suite process is named as the suite names it (`bookings`, `gateway`, `bookings-2` for a replica); the
gateway's gunicorn workers count as the gateway. The database and broker servers are the machine's: their
CPU time is every process of theirs on the machine (other databases, other vhosts included), so it is exact
only when nothing else runs.
"""
from __future__ import annotations

import psutil

# Each process keeps as many database connections as it runs workers (nameko's 10) and opens no more, so a
# step measures bookings, not connections being opened and closed, and the suite (7 processes) stays within
# PostgreSQL's 100 connections (the test suites keep 2 each to share one server).
SUITE_ENV = {"NUANXIN_DB_POOL_SIZE": "10", "NUANXIN_DB_MAX_OVERFLOW": "0"}

SERVERS = {"postgresql": ("postgres",), "rabbitmq": ("beam.smp", "erl_child_setup", "epmd", "inet_gethost")}


def suite_processes(suite) -> dict[str, list[psutil.Process]]:
    """Each suite process by its name, with its children (a gunicorn master with its workers)."""
    found: dict[str, list[psutil.Process]] = {}
    for name, popen in suite.suite.processes.items():
        try:
            process = psutil.Process(popen.pid)
            found[name] = [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    return found


def server_processes() -> dict[str, list[psutil.Process]]:
    found: dict[str, list[psutil.Process]] = {name: [] for name in SERVERS}
    for process in psutil.process_iter(["name"]):
        for server, names in SERVERS.items():
            if (process.info["name"] or "").startswith(names):
                found[server].append(process)
    return found


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
        return times.user + times.system
    except psutil.Error:  # ended in between (a PostgreSQL backend whose connection closed)
        return 0.0


class CpuUsage:
    """CPU seconds spent by each suite process and by the database and broker servers since it was made."""

    def __init__(self, suite):
        self.suite = suite
        self.before = self._read()

    def _read(self) -> dict[str, dict[int, float]]:
        groups = {**suite_processes(self.suite), **server_processes()}
        return {name: {p.pid: _cpu(p) for p in processes} for name, processes in groups.items()}

    def spent(self) -> dict[str, float]:
        """Seconds of CPU per process name since this object was made (processes started since count whole)."""
        after = self._read()
        return {name: sum(cpu - self.before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
                for name, pids in after.items()}

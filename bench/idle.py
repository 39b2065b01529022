"""What the suite costs when nobody uses it: each process's CPU, wake-ups and resident memory while idle.

    .venv/bin/python -m bench.idle [--seconds 60] [--shared-broker]

Starts the whole suite (tests.support.suite.RunningSuite, PostgreSQL, by default with a RabbitMQ node of its
own, bench/suite.py): every nameko service (with the outbox relays and timers they run) and the gateway's
gunicorn master and workers, plus any process those start; the broker's own node is measured alongside.
Waits until it is idle — healthy, then the suite's total CPU over 5 s below 5 % of a core twice in a row,
or 60 s at most — then samples every process over `--seconds`: CPU (user + system seconds, as % of one
core), wake-ups (context switches of all its threads, per second), resident memory (RSS) and proportional
set size (PSS: shared pages split between the processes that map them). Also counts the transactions in
each service's database in the window (pg_stat_database) and the CPU of the PostgreSQL server processes
serving the suite's connections, since idle polling shows there first. Writes the table to docs/PERFORMANCE.md. Bounded: startup, at most 60 s of
settling, the window, the stop.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import psutil
from sqlalchemy import create_engine

from bench.report import report
from bench.suite import running
from tests.support.infra import PG_BASE
from tests.support.suite import RunningSuite


def processes(suite: RunningSuite) -> dict[str, psutil.Process]:
    """Every process of the suite by name: the launcher's children and theirs (the gateway's workers)."""
    found: dict[str, psutil.Process] = {}
    for name, popen in suite.suite.processes.items():
        parent = psutil.Process(popen.pid)
        found[name if name != "gateway" else "gateway (gunicorn master)"] = parent
        for n, child in enumerate(sorted(parent.children(recursive=True), key=lambda p: p.pid), 1):
            found[f"{name} worker {n}" if name == "gateway" else f"{name} child {n}"] = child
    return found


def switches(process: psutil.Process) -> int:
    """Context switches of all the process's threads so far (psutil counts the main thread only)."""
    total = 0
    for task in Path(f"/proc/{process.pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        except OSError:  # a thread that ended meanwhile
            continue
    return total


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def postgres(urls: dict[str, str]) -> tuple[dict[str, int], list[int]]:
    """Per service: transactions committed and rolled back in its database so far; and the server processes
    (backends) serving the suite's connections now."""
    names = {url.rsplit("/", 1)[1]: service for service, url in urls.items()}
    engine = create_engine(PG_BASE.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        with engine.connect() as conn:
            done = conn.exec_driver_sql("SELECT datname, xact_commit + xact_rollback FROM pg_stat_database "
                                        "WHERE datname = ANY(%s)", (list(names),)).all()
            backends = conn.exec_driver_sql("SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)",
                                            (list(names),)).scalars().all()
    finally:
        engine.dispose()
    return {names[name]: int(n) for name, n in done}, list(backends)


def settle(procs: dict[str, psutil.Process], limit: float = 60.0) -> float:
    """Wait until the suite's total CPU over 5 s stays under 5 % of a core twice in a row; the seconds waited."""
    began, quiet = time.monotonic(), 0
    while time.monotonic() - began < limit and quiet < 2:
        before = sum(cpu(p) for p in procs.values())
        time.sleep(5)
        quiet = quiet + 1 if sum(cpu(p) for p in procs.values()) - before < 0.25 else 0
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--shared-broker", action="store_true",
                        help="a vhost on the machine's RabbitMQ instead of a node of the benchmark's own")
    args = parser.parse_args()
    with running(private_broker=not args.shared_broker) as (suite, rabbit):
        procs = processes(suite)
        if rabbit is not None:
            node = psutil.Process(rabbit.process.pid)
            for p in [node, *node.children(recursive=True)]:
                if p.name() == "beam.smp":
                    procs["RabbitMQ node (beam.smp)"] = p
        waited = settle(procs)
        first_cpu = {name: cpu(p) for name, p in procs.items()}
        first_switches = {name: switches(p) for name, p in procs.items()}
        first_transactions, backends = postgres(suite.urls)
        servers = [psutil.Process(pid) for pid in backends if psutil.pid_exists(pid)]
        first_servers = sum(cpu(p) for p in servers)
        began = time.monotonic()
        time.sleep(args.seconds)
        elapsed = time.monotonic() - began
        rows, total = [], [0.0, 0.0, 0, 0]
        for name, p in procs.items():
            used = cpu(p) - first_cpu[name]
            wakeups = (switches(p) - first_switches[name]) / elapsed
            memory = p.memory_full_info()
            rows.append([name, f"{100 * used / elapsed:.2f}", f"{wakeups:.0f}", f"{memory.rss / 2**20:.0f}",
                         f"{memory.pss / 2**20:.0f}", p.num_threads()])
            if not name.startswith("RabbitMQ"):
                total[0] += used
                total[1] += wakeups
                total[2] += memory.rss
                total[3] += memory.pss
        transactions, _ = postgres(suite.urls)
        transactions = {service: (n - first_transactions.get(service, 0)) / elapsed for service, n in transactions.items()}
        alive = [p for p in servers if p.is_running()]
        rows.append([f"PostgreSQL server processes of the suite's connections ({len(alive)})",
                     f"{100 * (sum(cpu(p) for p in alive) - first_servers) / elapsed:.2f}", "—", "—", "—", "—"])
    rows.append(["the suite (without the broker)", f"{100 * total[0] / elapsed:.2f}", f"{total[1]:.0f}",
                 f"{total[2] / 2**20:.0f}", f"{total[3] / 2**20:.0f}", "—"])
    report("idle", f"The suite at rest: {elapsed:.0f} s of each process, on PostgreSQL",
           ["process", "CPU % of a core", "wake-ups/s", "RSS MiB", "PSS MiB", "threads"], rows,
           [f"after the suite was healthy it took {waited:.0f} s to settle (total CPU under 5 % of a core over 5 s, "
            "twice in a row); the window began then",
            "transactions per second in each service's database during the window (pg_stat_database; a pooled "
            "connection's check on checkout counts as one): " + ", ".join(f"{service} {n:.1f}"
                                                                          for service, n in sorted(transactions.items())),
            "the PostgreSQL row is not in the suite's total; it counts the server processes that were connected "
            "when the window began and the CPU they used until it ended",
            "RSS counts shared pages in every process that maps them; PSS splits them, so the PSS column adds up"])


if __name__ == "__main__":
    main()

"""Booking creation through HTTP at 1, 8 and 32 concurrent clients, on SQLite and PostgreSQL, next to the database floor.

    .venv/bin/python -m bench.bookings_http [--clients 1,8,32] [--seconds 10] [--backend sqlite|postgres|both]

Starts the whole suite per backend (tests.support.suite.RunningSuite). For each number of clients it makes a
pool space with one unit per client, then every client books one-hour slots of its own (no conflicts) as
fast as it can for the given time: bookings per second and the p50/p99 latency of `POST /bookings`.

On PostgreSQL the same run then measures the floor: pgbench (Debian's postgresql-client) against the
bookings database, with the same clients, committing what one booking commits — a booking row, its
occurrence under the no-overlap exclusion constraint, and an outbox row — as one prepared transaction.
Without pgbench the floor is measured with psycopg2 threads instead (and the table says so).
Bounded in time: about (4 × seconds + 30 s) per backend.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from bench.processes import SUITE_ENV, CpuUsage
from bench.report import report
from tests.support.suite import RunningSuite

# One booking's commit, as the bookings service makes it (services/bookings/operations.py): the booking,
# its occurrence (checked by the exclusion constraint), the event in the outbox (written as already sent, so
# the running relay does not publish the floor's rows while it is measured).
FLOOR_SQL = """\\set space {space}
SELECT nextval('bench_slot') AS slot \\gset
BEGIN;
INSERT INTO bookings (space_id, booker_id, title, status, units, starts_at, ends_at, exdates, reason, version,
                      created_at, notes, timezone)
VALUES (:space, 7, '', 'confirmed', 1, TIMESTAMPTZ '2030-01-01 00:00+00' + :slot::int * INTERVAL '1 hour',
        TIMESTAMPTZ '2030-01-01 01:00+00' + :slot::int * INTERVAL '1 hour', '[]', '', 1, now(), '', 'Asia/Shanghai')
RETURNING id AS booking \\gset
INSERT INTO occurrences (booking_id, space_id, unit, starts_at, ends_at, blocked_until, status)
VALUES (:booking, :space, 1, TIMESTAMPTZ '2030-01-01 00:00+00' + :slot::int * INTERVAL '1 hour',
        TIMESTAMPTZ '2030-01-01 01:00+00' + :slot::int * INTERVAL '1 hour',
        TIMESTAMPTZ '2030-01-01 01:00+00' + :slot::int * INTERVAL '1 hour', 'confirmed');
INSERT INTO outbox (event_id, type, envelope, created_at, sent_at, attempts)
VALUES (md5(random()::text || :slot::text), 'booking.confirmed', '{envelope}', now(), now(), 1);
COMMIT;
"""
ENVELOPE = json.dumps({"event_id": "x" * 36, "type": "booking.confirmed", "source": "bookings", "version": 1,
                       "occurred_at": "2030-01-01T00:00:00+00:00", "payload": {
                           "booking_id": 1, "space_id": 1, "space_name": "电瓶车充电桩", "booker_id": 7,
                           "starts_at": "2030-01-01T00:00:00+00:00", "ends_at": "2030-01-01T01:00:00+00:00",
                           "status": "confirmed", "title": ""}}, ensure_ascii=False)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def http_step(suite: RunningSuite, site_id: int, tokens: list[str], clients: int, seconds: float) -> dict:
    space = suite.rpc("bookings", "create_space", {"site_id": site_id, "name": f"充电桩 {clients}", "kind": "pool",
                                                   "units": clients, "rules": {"max_advance_days": 1000}})
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(index: int) -> None:
        client = suite.client(tokens[index % len(tokens)])
        slot = 0
        while time.monotonic() < stop_at:
            # Each client walks its own hours, so every request is a real, non-conflicting booking.
            start = base + timedelta(hours=slot * clients + index)
            t0 = time.perf_counter()
            response = client.post("/bookings", json={
                "space_id": space["id"], "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat()})
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                if response.status_code == 201:
                    latencies.append(elapsed)
                else:
                    errors.append(response.status_code)
            slot += 1

    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    return {"rate": len(latencies) / wall, "made": len(latencies), "p50": statistics.median(latencies) if latencies else 0.0,
            "p99": percentile(latencies, 99) if latencies else 0.0, "errors": sorted(set(errors)),
            "non201": len(errors)}


def floor_step(suite: RunningSuite, space_id: int, clients: int, seconds: float) -> dict:
    url = urlparse(suite.urls["bookings"].replace("postgresql+psycopg2", "postgresql"))
    with suite.database("bookings").transaction() as session:
        from sqlalchemy import text

        session.execute(text("CREATE SEQUENCE IF NOT EXISTS bench_slot"))
    if shutil.which("pgbench"):
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False, encoding="utf-8") as script:
            script.write(FLOOR_SQL.format(space=space_id, envelope=ENVELOPE.replace("'", "''")))
        env = {**os.environ, "PGPASSWORD": url.password or ""}
        result = subprocess.run(
            ["pgbench", "-n", "-M", "prepared", "-f", script.name, "-c", str(clients), "-j", str(min(clients, 2)),
             "-T", str(int(seconds)), "-h", url.hostname or "localhost", "-p", str(url.port or 5432),
             "-U", url.username or "postgres", url.path.lstrip("/")],
            env=env, capture_output=True, text=True, timeout=seconds + 60)
        os.unlink(script.name)
        tps = latency = None
        for line in result.stdout.splitlines():
            if line.startswith("tps = "):
                tps = float(line.split()[2])
            elif line.startswith("latency average = "):
                latency = float(line.split()[3])
        if tps is None:
            raise RuntimeError(f"pgbench failed: {result.stdout[-500:]} {result.stderr[-500:]}")
        return {"rate": tps, "mean": latency, "tool": "pgbench"}
    return psycopg_floor(suite, space_id, clients, seconds)


def psycopg_floor(suite: RunningSuite, space_id: int, clients: int, seconds: float) -> dict:
    """The same transaction through psycopg2 threads, where pgbench is missing (slower: the client is Python)."""
    import psycopg2

    dsn = suite.urls["bookings"].replace("postgresql+psycopg2", "postgresql")
    statements = FLOOR_SQL.split("BEGIN;")[1].split("COMMIT;")[0]
    done: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker():
        conn = psycopg2.connect(dsn)
        cur = conn.cursor()
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            cur.execute("SELECT nextval('bench_slot')")
            slot = cur.fetchone()[0]
            sql = statements.replace(":space", str(space_id)).replace(":slot", str(slot)) \
                .replace("'{envelope}'", "%s").replace("RETURNING id AS booking \\gset", "RETURNING id")
            first, rest = sql.split("RETURNING id", 1)
            cur.execute(first + "RETURNING id")
            booking = cur.fetchone()[0]
            cur.execute(rest.replace(":booking", str(booking)), (ENVELOPE,))
            conn.commit()
            with lock:
                done.append((time.perf_counter() - t0) * 1000)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"rate": len(done) / (time.monotonic() - began), "mean": statistics.mean(done) if done else 0.0,
            "tool": "psycopg2 threads (no pgbench)"}


def run(backend: str, ladder: list[int], seconds: float, rows: list[list[object]], notes: list[str],
        cpu: dict[str, dict[str, float]]) -> None:
    suite = RunningSuite(backend, env=SUITE_ENV).start()
    try:
        site = suite.rpc("bookings", "create_site", {"name": f"彭浦新村 {uuid.uuid4().hex[:4]}"})
        tokens = [suite.user().token for _ in range(4)]
        http = {}
        for clients in ladder:
            usage = CpuUsage(suite)
            http[clients] = http_step(suite, site["id"], tokens, clients, seconds)
            made = http[clients]["made"]
            if clients == max(ladder) and made:
                cpu[backend] = {name: spent / made * 1000 for name, spent in usage.spent().items()}
        floor = {}
        if backend == "postgres":
            space = suite.rpc("bookings", "create_space", {"site_id": site["id"], "name": "floor", "kind": "pool",
                                                           "units": 1, "rules": {"max_advance_days": 1000}})
            for clients in ladder:
                try:
                    floor[clients] = floor_step(suite, space["id"], clients, seconds)
                except Exception as exc:  # e.g. the server's connections are all taken by others
                    notes.append(f"floor at {clients} clients not measured: {' '.join(str(exc).split())[:300]}")
        for clients in ladder:
            figures = http[clients]
            under = floor.get(clients)
            rows.append([backend, clients, f"{figures['rate']:.0f}", f"{figures['p50']:.0f}", f"{figures['p99']:.0f}",
                         f"{figures['non201']} {figures['errors'] or ''}".strip(),
                         f"{under['rate']:.0f} ({under['mean']:.1f} ms)" if under else "—",
                         f"1/{under['rate'] / figures['rate']:.0f}" if under and figures["rate"] else "—"])
        if floor:
            notes.append(f"floor measured with {next(iter(floor.values()))['tool']}, in the same run, against the "
                         "same bookings database: a booking, its occurrence under the exclusion constraint and an "
                         "outbox row in one transaction")
    finally:
        suite.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgres", "both"])
    args = parser.parse_args()
    ladder = [int(c) for c in args.clients.split(",")]
    rows: list[list[object]] = []
    notes: list[str] = ["gateway: 2 gunicorn workers × 8 threads; every client books its own hours (no conflicts)"]
    cpu: dict[str, dict[str, float]] = {}
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    for backend in backends:
        run(backend, ladder, args.seconds, rows, notes, cpu)
    report("bookings-http", f"Booking creation over HTTP, {args.seconds:g} s per step",
           ["database", "clients", "bookings/s", "p50 ms", "p99 ms", "non-201", "floor/s (mean)", "share of floor"],
           rows, notes)
    names = sorted({name for spent in cpu.values() for name in spent},
                   key=lambda name: -max(spent.get(name, 0.0) for spent in cpu.values()))
    totals = {backend: sum(spent.values()) for backend, spent in cpu.items()}
    report("bookings-cpu", f"CPU time per booking, by process, at {max(ladder)} clients (milliseconds)",
           ["process", *[backend for backend in backends if backend in cpu]],
           [[name, *[f"{cpu[b].get(name, 0.0):.1f}" for b in backends if b in cpu]] for name in names]
           + [["all", *[f"{totals[b]:.1f}" for b in backends if b in cpu]]],
           [f"{os.cpu_count()} cores give at most {os.cpu_count()} × 1 000 ms of CPU a second: with the 'all' "
            "figure above that bounds bookings a second at "
            + ", ".join(f"{os.cpu_count() * 1000 / totals[b]:.0f} ({b})" for b in backends if b in cpu and totals[b]),
            "CPU of each suite process (the gateway's gunicorn workers together) over the step, divided by the "
            "bookings it made; postgresql and rabbitmq are every process of those servers on the machine"])


if __name__ == "__main__":
    main()

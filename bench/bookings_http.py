"""Booking creation through HTTP with 16 concurrent clients, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.bookings_http [--clients 16] [--seconds 15] [--backend sqlite|postgres|both]

Starts the whole suite per backend (tests.support.suite.RunningSuite), makes a pool space with one unit
per client, then every client books one-hour slots of its own (no conflicts) as fast as it can for the
given time. Prints bookings per second and the p50/p99 latency of `POST /bookings`. Bounded in time.
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

from tests.support.suite import RunningSuite


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(backend: str, clients: int, seconds: float) -> None:
    suite = RunningSuite(backend).start()
    try:
        site = suite.rpc("bookings", "create_site", {"name": "彭浦新村"})
        space = suite.rpc("bookings", "create_space", {"site_id": site["id"], "name": "电瓶车充电桩", "kind": "pool",
                                                       "units": clients, "rules": {"max_advance_days": 1000}})
        tokens = [suite.user().token for _ in range(4)]
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
                    (latencies if response.status_code == 201 else errors).append(
                        elapsed if response.status_code == 201 else response.status_code)
                slot += 1

        began = time.monotonic()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - began
        print(f"{backend:>8}: {len(latencies)} bookings in {wall:.1f} s with {clients} clients = "
              f"{len(latencies) / wall:.1f}/s; p50 {statistics.median(latencies):.0f} ms, "
              f"p99 {percentile(latencies, 99):.0f} ms; non-201 answers: {len(errors)} {sorted(set(errors))}")
    finally:
        suite.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgres", "both"])
    args = parser.parse_args()
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run(backend, args.clients, args.seconds)


if __name__ == "__main__":
    main()

"""Event → inbox latency, idle and under the 64-user load: how long after an event is published the
recipient's inbox entry is visible.

    .venv/bin/python -m bench.notifications_latency [--events 300] [--users 64] [--seconds 60]
        [--backend postgres|sqlite] [--no-load]

Starts the suite (PostgreSQL by default) against a fresh vhost and measures twice. Each time, one event at a
time, it publishes a `booking.confirmed` envelope to the bookings exchange exactly as the bookings outbox
relay does and polls the notifications database (every 5 ms) until the booker's entry is committed:
- idle: nothing else runs;
- under load: the load test's users (bench/locustfile.py, seeded by bench.load_test: availability searches,
  inbox reads, bookings, charity claims and action reports, each user waiting 0.5–1.5 s between requests)
  run against the same suite with locust, headless, for `--seconds`; the events are measured once every
  user has started, until `--events` are taken or the load ends.
Prints p50, p90, p99 and max of each, with the load's own throughput and 5xx count, as one table also written
to docs/PERFORMANCE.md. The producer's own hop (commit → relay wake → publish) is not included; it is
measured by the outbox's owner.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from nameko.standalone.events import event_dispatcher
from sqlalchemy import text

from bench.report import report
from bench.suite import running
from shared.events import make_event
from tests.support.suite import RunningSuite

HERE = Path(__file__).resolve().parent
# The entry is looked for every POLL seconds, one autocommit statement each: fine enough for a 100 ms goal,
# and little load of the bench's own on the database it measures.
POLL = 0.005


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(suite: RunningSuite, events: int, until: float, warmup: int = 20) -> list[tuple[float, float]]:
    """(latency, wait before the handler) in ms of `events` events published one at a time, or of as many as
    fit before `until` (time.monotonic()). The wait is from publishing until the notifications handler took the
    event (its inbound_events row's received_at); the rest is the handler's transaction and its commit."""
    dispatch = event_dispatcher({"AMQP_URI": suite.amqp_uri, "serializer": "json"})
    engine = suite.database("notifications").engine
    booker = 70_000_000 + random.randrange(1_000_000)
    samples: list[float] = []
    published: dict[str, float] = {}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for index in range(events + warmup):
            if time.monotonic() > until:
                break
            envelope = make_event("booking.confirmed", {
                "booking_id": 10_000_000 + index, "space_id": 1, "space_name": "治理议事厅", "booker_id": booker,
                "starts_at": "2026-09-15T11:00:00+00:00", "ends_at": "2026-09-15T13:00:00+00:00",
                "status": "confirmed"})
            started = time.perf_counter()
            if index >= warmup:
                published[envelope["event_id"]] = time.time()
            dispatch("bookings", "booking.confirmed", envelope)
            while True:
                found = conn.execute(text("SELECT 1 FROM inbox_entries WHERE user_id = :u AND source_key = :k"),
                                     {"u": booker, "k": envelope["event_id"]}).first()
                if found:
                    break
                if time.monotonic() > until + 30:
                    raise SystemExit(f"an event's entry did not appear within 30 s (after {index} events)")
                time.sleep(POLL)
            if index >= warmup:  # the first few warm connections and caches
                samples.append((time.perf_counter() - started) * 1000)
        received = dict(conn.execute(text("SELECT event_id, received_at FROM inbound_events WHERE event_id IN "
                                          "(SELECT unnest(CAST(:ids AS varchar[])))" if engine.dialect.name ==
                                          "postgresql" else "SELECT event_id, received_at FROM inbound_events"),
                                     {"ids": list(published)}).all())
    waits = []
    for event_id, at in published.items():
        value = received.get(event_id)
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        waits.append((value.timestamp() - at) * 1000)
    return list(zip(samples, waits, strict=True))


def row(name: str, measured: list[tuple[float, float]], goal: str) -> list[object]:
    samples, waits = [m[0] for m in measured], [m[1] for m in measured]
    return [name, len(samples), percentile(samples, 50), percentile(samples, 90), percentile(samples, 99),
            max(samples), statistics.mean(samples), percentile(waits, 50), percentile(waits, 99), goal]


def under_load(suite: RunningSuite, args) -> tuple[list[float], list[str]]:
    """Run the load test's users against the suite while measuring; answers the samples and notes on the load."""
    from bench.load_test import seed

    work = Path(tempfile.mkdtemp(prefix="nuanxin-latency-"))
    (work / "seed.json").write_text(json.dumps(seed(suite, args.users)), encoding="utf-8")
    spawn_rate = max(1, args.users // 4)
    command = [str(Path(sys.executable).parent / "locust"), "-f", str(HERE / "locustfile.py"), "--headless",
               "-u", str(args.users), "-r", str(spawn_rate), "-t", f"{args.seconds}s", "--host", suite.base_url,
               "--csv", str(work / "load"), "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"]
    env = {"BENCH_LOAD_SEED": str(work / "seed.json"), "BENCH_LOAD_STATUSES": str(work / "statuses.json")}
    locust = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        ramp = args.users / spawn_rate + 3  # every user started and past its first requests
        time.sleep(ramp)
        samples = measure(suite, args.events, until=time.monotonic() + args.seconds - ramp - 2)
        locust.wait(timeout=args.seconds + 60)
    finally:
        if locust.poll() is None:
            locust.terminate()
            locust.wait(30)
    with open(work / "load_stats.csv", encoding="utf-8") as handle:
        total = {r["Name"]: r for r in csv.DictReader(handle)}.get("Aggregated", {})
    statuses = Counter(json.loads((work / "statuses.json").read_text(encoding="utf-8")))
    server_errors = sum(n for key, n in statuses.items() if key.rsplit(" ", 1)[1].startswith("5"))
    notes = [f"the load: {args.users} locust users of bench/locustfile.py for {args.seconds} s against the same "
             f"suite ({total.get('Request Count', '?')} requests, {float(total.get('Requests/s', 0)):.1f}/s, "
             f"p50 {total.get('50%', '?')} ms, p99 {total.get('99%', '?')} ms, {server_errors} × 5xx); the events "
             f"were measured from {args.users // spawn_rate + 3} s in, once every user had started"]
    return samples, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--backend", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--own-broker", action="store_true",
                        help="run a RabbitMQ node of the bench's own instead of a vhost on the shared broker")
    parser.add_argument("--no-load", action="store_true", help="measure idle only")
    args = parser.parse_args()
    notes = []
    with running(private_broker=args.own_broker, backend=args.backend) as (suite, _rabbit):
        rows = [row("idle (nothing else running)", measure(suite, args.events, until=time.monotonic() + 60), "—")]
        if not args.no_load:
            samples, notes = under_load(suite, args)
            rows.append(row(f"under the {args.users}-user load", samples, "p99 ≤ 100 ms"))
    backend = "PostgreSQL" if args.backend == "postgres" else "SQLite"
    report("event-inbox", f"Event → inbox entry visible on {backend}, one event at a time (milliseconds)",
           ["while", "events", "p50", "p90", "p99", "max", "mean", "wait p50", "wait p99", "goal"], rows,
           [*notes, "an event is a `booking.confirmed` envelope published to the bookings exchange as the outbox "
                    f"relay does; the entry is polled for every {POLL * 1000:.0f} ms; the first 20 of each run are "
                    "not counted (warm-up)",
            "wait: from publishing until the notifications handler took the event (its inbound_events row's "
            "received_at; the same machine's clock); the rest of each latency is the handler's transaction, its "
            "commit and the poll"])


if __name__ == "__main__":
    main()

"""A load test of the whole suite on PostgreSQL: 64 users for 60 s with locust, headless.

    .venv/bin/python -m bench.load_test [--users 64] [--seconds 60]

Starts the suite (tests.support.suite.RunningSuite, PostgreSQL), seeds what the users need — a site with
three rooms and a pool space, a grid with an approved shop offering four charity items for riders, an
action category, and one signed-in rider account per user — then runs locust (bench/locustfile.py) against
the gateway: availability searches, inbox reads, bookings, charity claims and action reports, each user
waiting 0.5–1.5 s between requests. Prints throughput and p50/p95/p99 per operation and the count of 5xx
answers, and writes the table to docs/PERFORMANCE.md. Bounded: the seeding, 60 s of load, the suite's stop.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.processes import SUITE_ENV
from bench.report import report
from tests.support.suite import RunningSuite

HERE = Path(__file__).resolve().parent
OPERATIONS = ["availability", "inbox", "booking", "charity claim", "action report"]


def seed(suite: RunningSuite, users: int) -> dict:
    from services.volunteers.seed import CATEGORIES
    from tests.charity.support import coordinator, grid_tree, open_shop, register_pledge

    site = suite.rpc("bookings", "create_site", {"name": f"新华路 {uuid.uuid4().hex[:4]}"})
    rooms = [suite.rpc("bookings", "create_space", {"site_id": site["id"], "name": f"活动室 {n}", "kind": "room",
                                                    "capacity": 20})["id"] for n in range(3)]
    pool = suite.rpc("bookings", "create_space", {"site_id": site["id"], "name": "电瓶车充电桩", "kind": "pool",
                                                  "units": 1, "rules": {"max_advance_days": 1000}})["id"]
    grids = grid_tree(suite)
    owner = suite.user(roles=["resident", "merchant"])
    shop = open_shop(suite, owner, grids["lane"], coordinator(suite, grids["north"]))
    items = [register_pledge(owner, shop["id"], title=f"骑手免费咖啡 {n}", stock=100000, per_person_limit=100)["id"]
             for n in range(4)]
    suite.rpc("volunteers", "ensure_category", CATEGORIES[0])
    grid = suite.rpc("volunteers", "ensure_grid", {"name": f"压测网格 {uuid.uuid4().hex[:4]}", "level": 1})["id"]
    with ThreadPoolExecutor(max_workers=4) as pool_exec:
        accounts = list(pool_exec.map(lambda _: suite.user(groups=["rider"]), range(users)))
    day = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"rooms": rooms, "pool": pool, "items": items, "category": CATEGORIES[0]["name"], "grid": grid,
            "users": users, "day": day.isoformat(), "accounts": [{"token": a.token} for a in accounts]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nuanxin-load-"))
    suite = RunningSuite("postgres", env=SUITE_ENV).start()
    try:
        (work / "seed.json").write_text(json.dumps(seed(suite, args.users)), encoding="utf-8")
        command = [str(Path(sys.executable).parent / "locust"), "-f", str(HERE / "locustfile.py"), "--headless",
                   "-u", str(args.users), "-r", str(max(1, args.users // 4)), "-t", f"{args.seconds}s",
                   "--host", suite.base_url, "--csv", str(work / "load"), "--only-summary", "--stop-timeout", "10",
                   "--loglevel", "WARNING"]
        env = {"BENCH_LOAD_SEED": str(work / "seed.json"), "BENCH_LOAD_STATUSES": str(work / "statuses.json")}
        subprocess.run(command, env={**os.environ, **env}, timeout=args.seconds + 120, check=False,
                       stdout=subprocess.DEVNULL)
        log = suite.log()
    finally:
        suite.stop()
    refused = log.count("too many clients")
    with open(work / "load_stats.csv", encoding="utf-8") as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    statuses = Counter(json.loads((work / "statuses.json").read_text(encoding="utf-8")))
    rows = []
    for name in OPERATIONS + ["Aggregated"]:
        row = stats.get(name)
        if row is None:
            continue
        server_errors = sum(n for key, n in statuses.items()
                            if key.rsplit(" ", 1)[1].startswith("5") and (name == "Aggregated" or
                                                                           key.rsplit(" ", 1)[0] == name))
        rows.append([name if name != "Aggregated" else "all", row["Request Count"], f"{float(row['Requests/s']):.1f}",
                     row["50%"], row["95%"], row["99%"], row["Failure Count"], server_errors])
    answers = ", ".join(f"{key}: {n}" for key, n in sorted(statuses.items()))
    report("load-test", f"Load test: {args.users} users for {args.seconds} s on PostgreSQL (locust, headless; "
                        "milliseconds)",
           ["operation", "requests", "per s", "p50", "p95", "p99", "failures", "5xx"], rows,
           [f"answers by operation and status: {answers}",
            "a failure is any status the operation does not expect (201 for writes, 200 for reads; a claim's 409 "
            "— none left, or the person's limit — is an expected answer)",
            "each user waits 0.5–1.5 s between requests; tasks weighted availability 4, inbox 3, booking 2, "
            "claim 1, report 1; gateway: 2 gunicorn workers × 8 threads",
            f"the suite's log: {refused} lines of PostgreSQL refusing a connection (\"too many clients\"), "
            f"{log.count('database unavailable')} of a database unavailable"])


if __name__ == "__main__":
    main()

"""The screens that grow with a city, on the demo's sizes and on a city's, with the plans of their queries.

    .venv/bin/python -m bench.city [--runs 50] [--postgres URL] [--keep | --reuse] [--section city]

Generates both sizes with bench/city_seed.py into fresh PostgreSQL databases migrated by the services' own
migrations (the city takes a few minutes), then calls each screen's use-case exactly as its RPC does, with
the caller the screen has, `--runs` times on each size, the two sizes taking turns:

- a coordinator's queue: the live actions (open or resolved, as the console refreshes them) of a big grid's
  subtree, as its branch secretary, the first page of 100 (5 grids in the demo, 50 in the city);
- the colour map: open, overdue and escalated actions per grid, as the command (10 grids → 500);
- a merchant's claims: the first page of claims on the shop's item, as its owner (100 claims → 5 000);
- an inbox: the first page and the unread count, as its reader (100 entries → 10 000);
- one day's availability of a room (200 occurrences a room → 2 000, 1 000 000 in all).

The table gives the median and p95 of each size, the ratio of the medians and whether the city stays within
twice the demo. Every statement a screen runs on the city is then EXPLAIN ANALYZEd: any sequential scan of a
table that grows with the city is named in the table, and the plans are written under their own heading.
The databases are dropped at the end, unless `--keep`; `--reuse` measures those a run with `--keep` left,
after migrating them to the newest revision (to see what a new index changes without generating again).
"""
from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, text

from bench.city_seed import POSTGRES, SCALES, SERVICES, Scale, database_url, drop_databases, generate, people
from bench.report import record, report
from services.bookings import catalogue
from services.bookings.contracts import AvailabilityQuerySchema
from services.notifications import operations
from services.notifications.contracts import InboxQuerySchema
from services.volunteers import actions, visits
from services.volunteers.charity import claims
from services.volunteers.charity.contracts import ClaimQuerySchema
from services.volunteers.contracts import ActionQuerySchema
from services.volunteers.lifecycle import OPEN_STATES
from shared.db import Database, database_for, utcnow
from shared.identity import Caller
from shared.migrations import upgrade
from shared.rpc import load

LIVE = sorted(OPEN_STATES | {"resolved"})
# Tables whose rows grow with the city; the grid tree (500 rows) is read whole by design.
GROWING = {"actions", "action_followers", "action_candidates", "action_declines", "action_timeline", "claims",
           "pledges", "merchants", "volunteers", "volunteer_grids", "inbox_entries", "recipients", "occurrences",
           "bookings", "accounts", "account_roles", "work_logs", "visits"}


class Screen:
    def __init__(self, name: str, service: str, run: Callable[[Database], object]):
        self.name, self.service, self.run = name, service, run


def screens(scale: Scale) -> list[Screen]:
    who = people(scale)
    secretary = Caller(user_id=who.secretary, roles=frozenset({"resident", "coordinator"}))
    command = Caller(user_id=who.command, roles=frozenset({"resident", "coordinator"}))
    owner = Caller(user_id=who.merchant_owner, roles=frozenset({"resident", "merchant"}))
    reader = Caller(user_id=who.reader, roles=frozenset({"resident"}))
    day = (utcnow() + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)  # booked in both
    return [
        Screen("coordinator's queue (live actions of a big grid, page of 100)", "volunteers",
               lambda db: actions.list_actions(db, secretary, load(ActionQuerySchema, {"state": LIVE, "limit": 100}))),
        Screen("colour map (every grid)", "volunteers", lambda db: visits.grid_status(db, command)),
        Screen("merchant's claims (page of 20)", "volunteers",
               lambda db: claims.list_item_claims(db, owner, who.hot_item, load(ClaimQuerySchema, {}))),
        Screen("inbox (page of 20 and unread count)", "notifications",
               lambda db: operations.list_inbox(db, reader, load(InboxQuerySchema, {}))),
        Screen("one day's availability of a room", "bookings",
               lambda db: catalogue.availability(db, reader, who.hot_space, load(AvailabilityQuerySchema, {
                   "from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}))),
    ]


def describe(scale: Scale, answers: dict[str, object]) -> str:
    """What each screen listed, to show both sizes answered full pages."""
    def size(answer) -> str:
        if isinstance(answer, dict) and "items" in answer:
            return f"{len(answer['items'])} items"
        if isinstance(answer, dict) and "busy" in answer:
            return f"{len(answer['busy'])} busy"
        return f"{len(answer)} rows" if isinstance(answer, list) else "?"
    return f"{scale.name}: " + ", ".join(f"{name.split(' (')[0]} {size(a)}" for name, a in answers.items())


def p95(samples: list[float]) -> float:
    return samples[int(0.95 * (len(samples) - 1))]


@contextmanager
def statements_of(db: Database):
    """The SELECTs run on `db` inside the block, with their parameters inlined (psycopg2's own quoting)."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(cursor.mogrify(statement, parameters).decode())

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def plans(screen: Screen, db: Database) -> tuple[list[tuple[str, str]], set[str], int]:
    """(statement, EXPLAIN ANALYZE) of each distinct statement the screen runs, the growing tables it scans
    sequentially, and how many rows its statements read and threw away (filters after an index or a scan)."""
    with statements_of(db) as seen:
        screen.run(db)
    out, scanned, done, removed = [], set(), set(), 0
    with db.engine.connect() as conn:
        for statement in seen:
            if statement in done:
                continue
            done.add(statement)
            plan = "\n".join(row[0] for row in conn.execute(text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
                                                                 + statement.replace(":", r"\:"))))
            scanned |= {t for t in re.findall(r"Seq Scan on (\w+)", plan) if t in GROWING}
            removed += sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan))
            out.append((statement, plan))
    return out, scanned, removed


def reuse(base: str, prefix: str, scale: Scale) -> dict[str, str]:
    """The databases a run with --keep left, migrated to the newest revision (new indexes) and analysed."""
    urls = {service: database_url(base, prefix, scale.name, service) for service in SERVICES}
    for service, url in urls.items():
        upgrade(service, url)
        db = database_for(service, url)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return urls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--postgres", default=POSTGRES, help="a database of the server to make the cities on")
    parser.add_argument("--prefix", default="nx_city")
    parser.add_argument("--keep", action="store_true", help="leave the generated databases")
    parser.add_argument("--reuse", action="store_true",
                        help="measure databases left by --keep, migrated to the newest revision first")
    parser.add_argument("--section", default="city", help="where in docs/PERFORMANCE.md the table goes")
    args = parser.parse_args()
    urls: dict[str, dict[str, str]] = {}
    generated: dict[str, float] = {}
    try:
        for name in ("demo", "city"):
            began = time.monotonic()
            print(f"{'migrating' if args.reuse else 'generating'} the {name}…", flush=True)
            urls[name] = (reuse if args.reuse else generate)(args.postgres, args.prefix, SCALES[name])
            generated[name] = time.monotonic() - began
        rows, sizes, all_plans, per_row = measure_all(urls, args.runs)
    finally:
        for by_service in urls.values():
            for service, url in by_service.items():
                database_for(service, url).dispose()
            if not (args.keep or args.reuse):
                drop_databases(args.postgres, by_service)
    how = (f"migrated to the newest revision and analysed in {generated['demo']:.0f} s and {generated['city']:.0f} s"
           if args.reuse else f"generated by bench/city_seed.py in {generated['demo']:.0f} s (demo) and "
                              f"{generated['city']:.0f} s (city)")
    report(args.section, "The screens that grow with a city: the demo's sizes against a city's (service level, ms)",
           ["screen", "demo median", "demo p95", "city median", "city p95", "ratio", "within 2×",
            "sequential scans of growing tables (city)", "rows read and filtered out (city)"], rows,
           notes=[f"{args.runs} runs of each screen on each size, the two sizes taking turns (so both see the same "
                  "load), calling the use-case its RPC runs (no broker, no gateway), on PostgreSQL.",
                  f"The databases were {how}. The city: 500 grids, 100 000 accounts, 5 000 merchants, "
                  "10 000 charity items, 300 000 claims, 1 000 000 occurrences, 200 000 actions, "
                  "510 000 inbox entries; the demo has the demo seed's sizes (10 grids, 18 accounts, 28 shops, "
                  "4 items, 7 rooms) with 2 000 actions, 200 claims and 190 inbox entries.",
                  "What each screen listed — " + "; ".join(sizes) + ".",
                  *[f"The {name.split(' (')[0]} draws every grid: per grid drawn, {demo:.2f} ms on the demo and "
                    f"{city:.2f} ms on the city." for name, (demo, city) in per_row.items()],
                  *(["action_declines is read whole by the planner's choice: 10 000 rows (440 kB) cost it less "
                     "than 100 probes of its primary key (action_id, user_id), the ids of the page's actions."]
                    if any("action_declines" in row[7] for row in rows) else []),
                  "The last column sums the plans' \"Rows Removed by Filter\": rows a scan or an index led to that "
                  "the statement then threw away.",
                  "The plans of every statement of each screen on the city: the section "
                  "\"Query plans of the city's screens\" below."])
    record(f"{args.section}-plans", plan_section(all_plans))


def measure_all(urls: dict[str, dict[str, str]], runs: int):
    """Each screen on both sizes, run after run in turn; the table's rows, what each size listed, the plans."""
    rows, answers, all_plans, per_row = [], {"demo": {}, "city": {}}, {}, {}
    pairs = list(zip(screens(SCALES["demo"]), screens(SCALES["city"]), strict=True))
    for demo_screen, city_screen in pairs:
        dbs = {"demo": database_for(demo_screen.service, urls["demo"][demo_screen.service]),
               "city": database_for(city_screen.service, urls["city"][city_screen.service])}
        runners = {"demo": demo_screen, "city": city_screen}
        samples: dict[str, list[float]] = {"demo": [], "city": []}
        for name in ("demo", "city"):
            answers[name][demo_screen.name] = runners[name].run(dbs[name])  # warm: connected, compiled
        for _ in range(runs):
            for name in ("demo", "city"):
                began = time.perf_counter()
                runners[name].run(dbs[name])
                samples[name].append((time.perf_counter() - began) * 1000)
        for found in samples.values():
            found.sort()
        all_plans[city_screen.name], scanned, removed = plans(city_screen, dbs["city"])
        demo, city = statistics.median(samples["demo"]), statistics.median(samples["city"])
        print(f"  {city_screen.name}: demo {demo:.2f} ms, city {city:.2f} ms", flush=True)
        rows.append([city_screen.name, demo, p95(samples["demo"]), city, p95(samples["city"]), f"{city / demo:.2f}×",
                     "yes" if city <= 2 * demo else "**no**", ", ".join(sorted(scanned)) or "none", removed])
        if isinstance(answers["city"][city_screen.name], list):  # a screen listing every grid: per row drawn
            per_row[city_screen.name] = (demo / max(1, len(answers["demo"][demo_screen.name])),
                                         city / max(1, len(answers["city"][city_screen.name])))
    sizes = [describe(SCALES[name], answers[name]) for name in ("demo", "city")]
    return rows, sizes, all_plans, per_row


def plan_section(all_plans: dict[str, list[tuple[str, str]]]) -> str:
    lines = ["**Query plans of the city's screens** (`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)` of every "
             "statement each screen runs, on the city generated by `.venv/bin/python -m bench.city`)", ""]
    for screen_name, found in all_plans.items():
        lines += [f"*{screen_name}*", ""]
        for statement, plan in found:
            short = re.sub(r"\s+", " ", statement).strip()
            if len(short) > 400:
                short = short[:400] + " …"
            plan = "\n".join(line if len(line) <= 300 else line[:300] + " …" for line in plan.splitlines())
            lines += ["```sql", short, "```", "```", plan, "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

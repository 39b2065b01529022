"""Availability of one day in a space holding 100 000 stored occurrences, measured at the service.

    .venv/bin/python -m bench.bookings_availability [--occurrences 100000] [--runs 300] [--postgres URL]

Builds a fresh database (SQLite in a temp folder by default, or a new PostgreSQL database next to URL),
migrates it, stores one space with N one-hour occurrences two hours apart (about 23 years of them), then
calls the availability use-case (`catalogue.availability`, exactly what the RPC runs) for random days in
the middle and prints the median, p95 and max. The (space_id, starts_at, blocked_until) index plus the
space's longest-block bound keep each query to that day's rows. Bounded to well under two minutes.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, insert, text

from services.bookings import catalogue
from services.bookings.contracts import AvailabilityQuerySchema, SpaceRulesSchema
from services.bookings.models import Booking, Occurrence, Site, Space
from shared.db import database_for
from shared.identity import Caller
from shared.migrations import upgrade
from shared.rpc import load

START = datetime(2027, 1, 4, 0, 0, tzinfo=UTC)


def _postgres_database(base: str) -> str:
    name = f"nx_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg2://", 1), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def _drop(base: str, url: str) -> None:
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg2://", 1), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    engine.dispose()


def fill(db, occurrences: int) -> int:
    with db.transaction() as session:
        site = Site(name="彭浦新村")
        session.add(site)
        session.flush()
        space = Space(site_id=site.id, name="共享家会议室", rules=SpaceRulesSchema().dump(SpaceRulesSchema().load({})))
        session.add(space)
        session.flush()
        space_id = space.id
        per_booking = 100
        bookings = [{"space_id": space_id, "booker_id": 1 + i % 50, "title": f"例会 {i}", "status": "confirmed",
                     "units": 1, "starts_at": START, "ends_at": START + timedelta(hours=1), "exdates": [],
                     "reason": "", "version": 1, "notes": "", "timezone": "Asia/Shanghai"}
                    for i in range(occurrences // per_booking)]
        session.execute(insert(Booking), bookings)
        first_booking = session.scalar(text("SELECT min(id) FROM bookings"))
    rows = []
    for i in range(occurrences):
        start = START + timedelta(hours=2 * i)
        rows.append({"booking_id": first_booking + i // 100, "space_id": space_id, "unit": 1, "starts_at": start,
                     "ends_at": start + timedelta(hours=1), "blocked_until": start + timedelta(hours=1),
                     "status": "confirmed"})
        if len(rows) == 10_000:
            with db.transaction() as session:
                session.execute(insert(Occurrence), rows)
            rows = []
    if rows:
        with db.transaction() as session:
            session.execute(insert(Occurrence), rows)
    with db.transaction() as session:
        session.execute(text("ANALYZE"))
    return space_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--occurrences", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--postgres", default=None, help="e.g. postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url = _postgres_database(args.postgres) if args.postgres else \
        f"sqlite:///{tempfile.mkdtemp(prefix='nuanxin-bench-')}/bookings.db"
    upgrade("bookings", url)
    db = database_for("bookings", url)
    began = time.monotonic()
    space_id = fill(db, args.occurrences)
    print(f"stored {args.occurrences} occurrences in {time.monotonic() - began:.1f} s ({url.split(':')[0]})")
    caller = Caller(user_id=7, roles=frozenset({"resident"}))
    span_days = args.occurrences * 2 // 24
    samples, busy = [], 0
    for _ in range(args.runs):
        day = START + timedelta(days=random.randrange(span_days // 4, 3 * span_days // 4))
        query = load(AvailabilityQuerySchema, {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()})
        t0 = time.perf_counter()
        answer = catalogue.availability(db, caller, space_id, query)
        samples.append((time.perf_counter() - t0) * 1000)
        busy = len(answer["busy"])
    samples.sort()
    db.dispose()
    if args.postgres:
        _drop(args.postgres, url)
    print(f"availability of one day ({busy} busy slots) over {args.runs} runs: "
          f"median {statistics.median(samples):.2f} ms, p95 {samples[int(0.95 * (len(samples) - 1))]:.2f} ms, "
          f"max {samples[-1]:.2f} ms (target: median <= 20 ms)")


if __name__ == "__main__":
    main()

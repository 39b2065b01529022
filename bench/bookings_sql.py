"""What one booking asks of the database: its statements, transactions and time, measured at the service.

    .venv/bin/python -m bench.bookings_sql [--bookings 300]

Builds a fresh PostgreSQL database migrated to the bookings schema, one pool space, then makes bookings one
after the other with the use-case the `create_booking` RPC runs (`operations.create_booking`, in-process, the
outbox row included), counting the statements sent and the transactions begun for each, and timing it. No
broker, no HTTP: this is the service's own share of a booking. Drops its database afterwards.
"""
from __future__ import annotations

import argparse
import re
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, event

from bench.report import report
from services.bookings import operations
from services.bookings.contracts import ReferencedBookingRequestSchema, SpaceRulesSchema
from services.bookings.models import Site, Space, infra
from shared.db import Database
from shared.identity import Caller
from shared.migrations import upgrade
from shared.outbox import emit
from shared.rpc import load

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=300)
    args = parser.parse_args()
    name = f"nx_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    db = None
    try:
        upgrade("bookings", url)
        db = Database(url)
        with db.transaction() as session:
            site = Site(name="彭浦新村")
            session.add(site)
            session.flush()
            space = Space(site_id=site.id, name="电瓶车充电桩", kind="pool", units=4,
                          rules=SpaceRulesSchema().dump(SpaceRulesSchema().load({"max_advance_days": 1000})))
            session.add(space)
            session.flush()
            space_id = space.id
        statements: list[str] = []
        begun = [0]
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        event.listen(db.engine, "begin", lambda conn: begun.__setitem__(0, begun[0] + 1))
        caller = Caller(user_id=7, roles=("resident",))
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        times, counts, transactions = [], [], []
        for i in range(args.bookings):
            slot = start + timedelta(hours=i)
            data = load(ReferencedBookingRequestSchema, {"space_id": space_id, "starts_at": slot.isoformat(),
                                                         "ends_at": (slot + timedelta(hours=1)).isoformat()})
            statements.clear()
            begun[0] = 0
            began = time.perf_counter()
            operations.create_booking(db, lambda session, type_name, payload: emit(session, infra, type_name, payload),
                                      caller, data)
            times.append((time.perf_counter() - began) * 1000)
            counts.append(len(statements))
            transactions.append(begun[0])
        ordered = sorted(times)
        kinds = ", ".join(" ".join(re.findall(r"^(\w+)|(?:FROM|INTO) (\w+)", statement)[i][i] for i in (0, 1))
                          for statement in statements)
        report("bookings-sql", "One booking at the service, PostgreSQL, in-process (no broker, no HTTP)",
               ["bookings", "statements each", "transactions each", "median ms", "p95 ms"],
               [[args.bookings, max(counts), max(transactions), f"{statistics.median(times):.2f}",
                 f"{ordered[int(0.95 * (len(ordered) - 1))]:.2f}"]],
               [f"the statements of the last booking: {kinds}",
                "each transaction also sends the pool's liveness check (pool_pre_ping) and its COMMIT"])
    finally:
        if db is not None:
            db.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()

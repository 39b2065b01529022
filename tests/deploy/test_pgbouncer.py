"""The services through PgBouncer in transaction mode, as docs/SCALING.md deploys them.

In transaction mode a server connection is lent to a client for one transaction only, so nothing may rely on
a connection's session: server-side prepared statements, session advisory locks, LISTEN, SET outside a
transaction, temporary tables. The services use none of them: their advisory locks are transaction-scoped
(pg_advisory_xact_lock) and psycopg2 prepares nothing on the server. This runs a slice of the suite on
PostgreSQL with every service process's connections going through a PgBouncer of the test's own: a booking
and its inbox entry, two people racing for one slot, a merchant's pledge claimed by more riders than it
has, and PgBouncer's own counters to show the traffic went through it over a few server connections.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy

from shared import config
from shared.migrations import MIGRATED, upgrade
from tests.charity.support import coordinator, grid_tree, open_shop, users
from tests.deploy.pgbouncer import POOL_SIZE, PgBouncer
from tests.support.infra import PostgresDatabases
from tests.support.suite import RunningSuite, wait_for


@pytest.fixture(scope="module")
def pooled():
    """(the suite, its PgBouncer): every service's database URL points at PgBouncer; migrations and the test's
    own assertions go to PostgreSQL directly."""
    bouncer = PgBouncer("transaction").start()
    try:
        running = RunningSuite("postgres")
        try:
            running.extra_env = {f"{service.upper()}_DATABASE_URL": bouncer.url(f"{running.pg.prefix}_{service}")
                                 for service in config.SERVICES}
            running.start()
            yield running, bouncer
        finally:
            running.stop()
    finally:  # even when the suite could not be stopped cleanly
        bouncer.stop()


def _slot(days: int, hour: int) -> tuple[str, str]:
    start = (datetime.now(UTC) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return start.isoformat(), (start + timedelta(hours=1)).isoformat()


def test_the_services_connect_through_pgbouncer(pooled):
    running, bouncer = pooled
    assert all(running.env[f"{s.upper()}_DATABASE_URL"].startswith(f"postgresql://postgres@127.0.0.1:{bouncer.port}/")
               for s in config.SERVICES)
    report = running.client().get("/healthz").json()
    assert report["status"] == "ok", report


def test_a_booking_reaches_the_inbox(pooled):
    running, _ = pooled
    space = running.rpc("bookings", "ensure_space", "测试中心", {"name": "pooled room", "kind": "room", "capacity": 8})
    resident = running.user()
    starts_at, ends_at = _slot(3, 3)
    response = resident.post("/bookings", json={"space_id": space["id"], "starts_at": starts_at, "ends_at": ends_at})
    assert response.status_code == 201, response.text
    booking = response.json()

    def inbox_has_it():
        page = resident.get("/notifications").json()
        return [i for i in page["items"] if i["data"].get("booking_id") == booking["id"]]

    entries = wait_for(inbox_has_it, timeout=15, message="the booking.confirmed inbox entry")
    assert [e["type"] for e in entries] == ["booking.confirmed"]
    assert resident.get(f"/bookings/{booking['id']}").json()["status"] == "confirmed"


def test_one_slot_raced_by_eight_people_goes_to_one(pooled):
    """The transaction-scoped advisory lock and the exclusion constraint hold with pooled connections."""
    running, _ = pooled
    space = running.rpc("bookings", "ensure_space", "测试中心", {"name": "raced room", "kind": "room", "capacity": 8})
    people = [running.user() for _ in range(8)]
    starts_at, ends_at = _slot(4, 5)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda p: p.post("/bookings", json={
            "space_id": space["id"], "starts_at": starts_at, "ends_at": ends_at}).status_code, people))
    assert sorted(statuses) == [201] + [409] * 7, statuses


def test_a_pledge_claimed_by_more_riders_than_it_has(pooled):
    running, _ = pooled
    grids = grid_tree(running)
    owner = running.user(roles=["resident", "merchant"])
    shop = open_shop(running, owner, grids["lane"], approver=coordinator(running, grids["lane"]))
    created = owner.post("/pledges", json={
        "merchant_id": shop["id"], "title": "骑手免费咖啡一杯", "beneficiary_groups": ["rider"],
        "stock": 3, "stock_period": "day", "per_person_limit": 1, "per_person_period": "day"})
    assert created.status_code == 201, created.text
    pledge = created.json()
    riders = users(running, 6, roles=["resident"], groups=["rider"])
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda r: r.post(f"/pledges/{pledge['id']}/claims").status_code, riders))
    assert sorted(statuses) == [201] * 3 + [409] * 3, statuses
    claimed = [r for r, status in zip(riders, statuses, strict=True) if status == 201]
    assert all(len(r.get("/claims").json()["items"]) == 1 for r in claimed)
    assert owner.get(f"/pledges/{pledge['id']}").json()["remaining"] == 0


def test_the_traffic_went_through_a_few_server_connections(pooled):
    running, bouncer = pooled
    stats = {row["database"]: row for row in bouncer.show("STATS")}
    for service in config.SERVICES:
        database = f"{running.pg.prefix}_{service}"
        assert stats[database]["total_xact_count"] > 0, f"{service} did not go through PgBouncer"
    pools = [row for row in bouncer.show("POOLS") if row["database"].startswith(running.pg.prefix)]
    assert pools and all(row["sv_active"] + row["sv_idle"] + row["sv_used"] <= POOL_SIZE for row in pools)
    assert all(row["pool_mode"] == "transaction" for row in pools)
    # Nothing the services sent needed a session of its own.
    assert "prepared statement" not in bouncer.log()


def test_migrations_run_through_pgbouncer():
    """`nuanxin migrate` may be pointed at the pooler too: each service's migrations are one transaction."""
    bouncer = PgBouncer("transaction").start()
    try:
        databases = PostgresDatabases()
        try:
            direct = databases.create()
            for service in MIGRATED:
                upgrade(service, bouncer.url(f"{databases.prefix}_{service}"))
                engine = sqlalchemy.create_engine(
                    direct[service].replace("postgresql://", "postgresql+psycopg2://", 1),
                    poolclass=sqlalchemy.pool.NullPool)
                with engine.connect() as conn:
                    versions = conn.exec_driver_sql(f"SELECT version_num FROM alembic_version_{service}").all()
                assert len(versions) >= 1, service
        finally:
            databases.drop()
    finally:
        bouncer.stop()

"""Helpers of the bookings integration tests: spaces with rules, future slots, outbox and row counts."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.bookings.models import Booking, Occurrence, WaitlistEntry, infra


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_space(suite, *, kind: str = "room", units: int = 1, site: str | None = None, **fields) -> dict:
    """A new space on a new (or named) site, created over RPC as the system."""
    site_row = suite.rpc("bookings", "create_site", {"name": site or unique("测试中心")})
    request = {"site_id": site_row["id"], "name": unique("room"), "kind": kind, "units": units, **fields}
    return suite.rpc("bookings", "create_space", request)


def day_at(days: int, hour: int, minute: int = 0, tz_hours: int = 8) -> datetime:
    """A local Shanghai wall-clock time `days` from today, as an aware datetime."""
    zone = __import__("datetime").timezone(timedelta(hours=tz_hours))
    today = datetime.now(zone).date()
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=zone) + timedelta(days=days)


def period(start: datetime, hours: float = 1) -> dict:
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat()}


def counts(suite) -> dict:
    """Rows per table of the bookings database (for "nothing was written")."""
    with suite.database("bookings").read() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Booking, Occurrence, WaitlistEntry, infra.Outbox)}


def outbox(suite, type_name: str, **match) -> list[dict]:
    """Payloads of outbox rows of a type whose payload has the given members."""
    with suite.database("bookings").read() as session:
        rows = session.scalars(select(infra.Outbox.envelope).where(infra.Outbox.type == type_name)).all()
    payloads = [json.loads(row)["payload"] for row in rows]
    return [p for p in payloads if all(p.get(k) == v for k, v in match.items())]


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)

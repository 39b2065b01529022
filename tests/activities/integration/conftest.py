"""Helpers of the activities integration tests: a suite whose timers tick fast and whose wait for bookings is
short, rooms, organisers, future times, and row counts in both services' databases."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from services.activities.models import ActivitySession, SignUp, VenueHold, infra
from services.bookings.models import Booking, Occurrence
from tests.support.suite import RunningSuite

# Timers every half second; activities waits 3 s for bookings (the gateway its usual 10 s), so a hold stuck
# `booking` is given back after 9 s and a failed give-back is tried again a second later.
ENV = {"ACTIVITIES_TIMER_SECONDS": "0.5", "ACTIVITIES_RPC_TIMEOUT": "3", "ACTIVITIES_RELEASE_RETRY_SECONDS": "1"}
SHANGHAI = timezone(timedelta(hours=8))


# Package-scoped: they stop when the activities tests are done, so they do not hold PostgreSQL connections
# while the rest of the test session runs its own suites.
@pytest.fixture(scope="package")
def activities_suite():
    """The suite on SQLite with the activities timers fast (shared by the activities tests)."""
    running = RunningSuite("sqlite", env=ENV).start()
    yield running
    running.stop()


@pytest.fixture(scope="package")
def activities_pg_suite():
    """The same on PostgreSQL."""
    running = RunningSuite("postgres", env=ENV).start()
    yield running
    running.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_space(suite, **fields) -> dict:
    """A new room on a new site, created as the system."""
    site = suite.rpc("bookings", "create_site", {"name": unique("新华路党群服务中心")})
    return suite.rpc("bookings", "create_space", {"site_id": site["id"], "name": unique("教室"), **fields})


def day_at(days: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time `days` from today."""
    today = datetime.now(SHANGHAI).date()
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=SHANGHAI) + timedelta(days=days)


def session_body(start: datetime, hours: float = 1.5, **more) -> dict:
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat(), **more}


def activity_body(**more) -> dict:
    return {"title_zh": unique("夜校 手机摄影"), "title_en": "Night school: phone photography", "kind": "class",
            "capacity": 30, **more}


def organiser(suite):
    return suite.user(roles=("resident", "coordinator"))


def rows(suite, service: str, model, *where) -> int:
    with suite.database(service).read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _loaded(suite, service: str, statement) -> list:
    """Rows as they are now, usable after their session (detached before the read's rollback expires them)."""
    with suite.database(service).read() as session:
        found = list(session.scalars(statement))
        session.expunge_all()
        return found


def sessions_of(suite, activity_id: int) -> list[ActivitySession]:
    return _loaded(suite, "activities", select(ActivitySession).where(ActivitySession.activity_id == activity_id)
                   .order_by(ActivitySession.starts_at))


def holds_of(suite, activity_id: int) -> list[VenueHold]:
    return _loaded(suite, "activities", select(VenueHold).where(VenueHold.activity_id == activity_id)
                   .order_by(VenueHold.id))


def live_occurrences(suite, space_id: int) -> int:
    return rows(suite, "bookings", Occurrence, Occurrence.space_id == space_id,
                Occurrence.status.in_(("pending", "confirmed", "checked_in", "held")))


def bookings_of(suite, space_id: int) -> list[Booking]:
    return _loaded(suite, "bookings", select(Booking).where(Booking.space_id == space_id).order_by(Booking.id))


def signups(suite, activity_id: int) -> list[SignUp]:
    return _loaded(suite, "activities", select(SignUp).where(SignUp.activity_id == activity_id).order_by(SignUp.id))


def outbox(suite, type_name: str, **match) -> list[dict]:
    with suite.database("activities").read() as session:
        found = session.scalars(select(infra.Outbox.envelope).where(infra.Outbox.type == type_name)).all()
    payloads = [json.loads(row)["payload"] for row in found]
    return [p for p in payloads if all(p.get(k) == v for k, v in match.items())]


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


def volunteer(suite, display_name: str = "志愿者 小周"):
    """A new account with a volunteer profile (a session's helper must have one: their hours go there)."""
    person = suite.user(roles=["resident", "volunteer"], display_name=display_name)
    suite.rpc("volunteers", "ensure_volunteer", person.id, {"display_name": display_name})
    return person

"""A booking's version is SQLAlchemy's version counter: every change bumps it, and a write that lost the race
to the same version is the API's 412 (PATCH with If-Match) or 409, never a 500 (a scratch SQLite database)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from services.bookings.catalogue import writing
from services.bookings.models import Booking, Site, Space
from shared.db import Database
from shared.errors import Conflict, PreconditionFailed
from shared.migrations import upgrade

START = datetime(2026, 12, 12, 2, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path}/bookings.db"
    upgrade("bookings", url)
    database = Database(url)
    with database.transaction() as session:
        site = Site(name="centre")
        session.add(site)
        session.flush()
        space = Space(site_id=site.id, name="hall", rules={}, equipment=[], manager_ids=[3])
        session.add(space)
        session.flush()
        session.add(Booking(id=1, space_id=space.id, booker_id=7, status="confirmed", starts_at=START,
                            ends_at=START + timedelta(hours=1)))
    yield database
    database.dispose()


def test_every_change_bumps_the_version(db):
    with db.read() as session:
        assert session.get(Booking, 1).version == 1
    with writing(db) as session:
        session.get(Booking, 1).title = "读书会"
    with db.read() as session:
        assert session.get(Booking, 1).version == 2


@pytest.mark.parametrize("answer", [PreconditionFailed, Conflict])
def test_a_write_that_lost_the_race_is_refused_not_a_500(db, answer):
    with pytest.raises(answer, match="reload it"):
        with writing(db, answer) as session:
            booking = session.get(Booking, 1)
            # Someone else's change commits the next version meanwhile (a plain UPDATE the session cannot see).
            session.execute(text("UPDATE bookings SET version = version + 1, title = 'theirs' WHERE id = 1"))
            booking.title = "mine"
    with db.read() as session:
        assert (session.get(Booking, 1).title, session.get(Booking, 1).version) == ("", 1)

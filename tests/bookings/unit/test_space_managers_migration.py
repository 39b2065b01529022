"""The migration that makes spaces' managers rows carries them over, and back on a downgrade (a scratch SQLite
database, migrated like the service's own); the bookings of managed spaces are then chosen in SQL."""
from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy import select

from services.bookings.models import Space
from shared.db import Database
from tests.support.migrations import downgrade_to, migrated_across

BEFORE = "7fb6a31b62fc"  # managers as a JSON list on the space
SITE = sa.text("INSERT INTO sites (id, name, kind, address, timezone, created_at) "
               "VALUES (1, 'centre', 'centre', '', 'Asia/Shanghai', '2026-01-01 00:00:00')")
INSERT = sa.text("INSERT INTO spaces (id, site_id, name, kind, capacity, units, timezone, equipment, rules, "
                 "manager_ids, active, created_at, max_block_minutes) VALUES (:id, 1, :name, 'room', 1, 1, "
                 "'Asia/Shanghai', '[\"projector\"]', '{}', :managers, 1, '2026-01-01 00:00:00', 1440)")
SPACES = [
    {"id": 1, "name": "hall", "managers": "[7, 9]"},
    {"id": 2, "name": "kitchen", "managers": "[9, 9]"},
    {"id": 3, "name": "library", "managers": "[]"},
]


def _migrated(tmp_path) -> str:
    def old_rows(connection):
        connection.execute(SITE)
        connection.execute(INSERT, SPACES)

    return migrated_across("bookings", f"sqlite:///{tmp_path}/bookings.db", BEFORE, old_rows)


def test_managers_are_carried_over_and_chosen_in_sql(tmp_path):
    url = _migrated(tmp_path)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT space_id, user_id FROM space_managers "
                                          "ORDER BY space_id, user_id")).all() == [(1, 7), (1, 9), (2, 9)]
        assert "manager_ids" not in {c["name"] for c in sa.inspect(connection).get_columns("spaces")}
        assert "reason" in {c["name"] for c in sa.inspect(connection).get_columns("waitlist")}
    engine.dispose()
    db = Database(url)
    with db.read() as session:
        assert session.scalars(select(Space.id).where(Space.managed_by(9)).order_by(Space.id)).all() == [1, 2]
        assert session.get(Space, 1).manager_ids == [7, 9]
        assert session.get(Space, 1).equipment == ["projector"]
    with db.transaction() as session:
        session.get(Space, 1).manager_ids = [9, 11]
        session.get(Space, 3).manager_ids = [7]
    with db.read() as session:
        assert session.scalars(select(Space.id).where(Space.managed_by(7))).all() == [3]
        assert session.get(Space, 1).manager_ids == [9, 11]
    db.dispose()


def test_a_downgrade_puts_the_lists_back(tmp_path):
    url = _migrated(tmp_path)
    downgrade_to("bookings", url, BEFORE)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, manager_ids FROM spaces ORDER BY id")).all()
        assert [(r.id, json.loads(r.manager_ids)) for r in rows] == [(1, [7, 9]), (2, [9]), (3, [])]
        assert "space_managers" not in sa.inspect(connection).get_table_names()
    engine.dispose()

"""The migration that makes recipients' roles and beneficiary groups rows carries them over, and back on a
downgrade (a scratch SQLite database, migrated like the service's own); audiences are then read in SQL."""
from __future__ import annotations

import json

import sqlalchemy as sa

from services.notifications.fanout import ids_in_directory
from services.notifications.operations import upsert_recipient
from shared.db import Database
from tests.support.migrations import downgrade_to, migrated_across

BEFORE = "b3e1c0a7d5f2"  # roles and groups as JSON lists on the recipient
INSERT = sa.text("INSERT INTO recipients (user_id, username, display_name, locale, timezone, roles, grids, groups, "
                 "active, updated_at) VALUES (:id, :u, 'n', 'zh-CN', 'Asia/Shanghai', :roles, '[]', :groups, :active, "
                 "'2026-01-01 00:00:00')")
PEOPLE = [
    {"id": 1, "u": "merchant", "roles": '["resident", "merchant"]', "groups": "[]", "active": 1},
    {"id": 2, "u": "rider", "roles": '["resident"]', "groups": '["rider", "courier", "rider"]', "active": 1},
    {"id": 3, "u": "gone", "roles": '["merchant"]', "groups": '["rider"]', "active": 0},
    {"id": 4, "u": "bare", "roles": "[]", "groups": "[]", "active": 1},
]


def _migrated(tmp_path) -> str:
    return migrated_across("notifications", f"sqlite:///{tmp_path}/notifications.db", BEFORE,
                           lambda connection: connection.execute(INSERT, PEOPLE))


def test_roles_and_groups_are_carried_over_and_audiences_are_chosen_in_sql(tmp_path):
    url = _migrated(tmp_path)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT user_id, role FROM recipient_roles ORDER BY user_id, role")).all() \
            == [(1, "merchant"), (1, "resident"), (2, "resident"), (3, "merchant")]
        assert connection.execute(sa.text("SELECT user_id, group_name FROM recipient_groups "
                                          "ORDER BY user_id, group_name")).all() \
            == [(2, "courier"), (2, "rider"), (3, "rider")]
        columns = {c["name"] for c in sa.inspect(connection).get_columns("recipients")}
        assert "roles" not in columns and "groups" not in columns
    engine.dispose()
    db = Database(url)
    with db.read() as session:
        assert ids_in_directory(session, role="merchant") == [1]  # 3 is inactive
        assert ids_in_directory(session, groups=["courier", "rider"]) == [2]
        assert ids_in_directory(session, everyone=True) == [1, 2, 4]
        assert ids_in_directory(session, groups=[]) == []
    # An account event replaces the lists whole.
    with db.transaction() as session:
        upsert_recipient(session, {"user_id": 2, "username": "rider", "roles": ["merchant"], "groups": []})
    with db.read() as session:
        assert ids_in_directory(session, role="merchant") == [1, 2]
        assert ids_in_directory(session, groups=["rider"]) == []
    db.dispose()


def test_a_downgrade_puts_the_lists_back(tmp_path):
    url = _migrated(tmp_path)
    downgrade_to("notifications", url, BEFORE)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT user_id, roles, groups FROM recipients ORDER BY user_id")).all()
        assert [(r.user_id, json.loads(r.roles), json.loads(r.groups)) for r in rows] == [
            (1, ["merchant", "resident"], []), (2, ["resident"], ["courier", "rider"]),
            (3, ["merchant"], ["rider"]), (4, [], [])]
        assert "recipient_roles" not in sa.inspect(connection).get_table_names()
    engine.dispose()

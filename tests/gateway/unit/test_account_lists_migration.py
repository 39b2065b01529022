"""The migration that makes accounts' roles and beneficiary groups rows carries them over, and back on a
downgrade (a scratch SQLite database, migrated like the service's own); the accounts list then filters in SQL."""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.gateway import accounts
from services.gateway.models import Account, Base
from shared.db import Database
from shared.identity import Caller
from tests.support.migrations import downgrade_to, migrated_across

BEFORE = "3c1e7a5b9d20"  # roles and groups as JSON lists on the account
INSERT = sa.text("INSERT INTO accounts (id, username, password_hash, display_name, locale, timezone, elderly_mode, "
                 "roles, groups, active, created_at, password_changed_at) VALUES (:id, :u, 'x', 'n', 'zh-CN', "
                 "'Asia/Shanghai', 0, :roles, :groups, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
PEOPLE = [
    {"id": 1, "u": "admin", "roles": '["resident", "admin"]', "groups": "[]"},
    {"id": 2, "u": "rider", "roles": '["volunteer", "resident"]', "groups": '["rider", "courier", "rider"]'},
    {"id": 3, "u": "odd", "roles": '["merchant", 7, null]', "groups": '{"not": "a list"}'},
    {"id": 4, "u": "bare", "roles": "[]", "groups": "[]"},
]
ADMIN = Caller(user_id=1, roles=frozenset({"admin", "resident"}))
QUERY = {"limit": 50}


def _migrated(tmp_path) -> str:
    def old_rows(connection):
        connection.execute(INSERT, PEOPLE)
        connection.execute(sa.text("INSERT INTO sign_in_sessions (id, account_id, refresh_hash, refresh_expires_at, "
                                   "created_at) VALUES (:id, 2, 'h', '2030-01-01 00:00:00', '2026-01-01 00:00:00')"),
                           {"id": "0" * 36})

    return migrated_across("gateway", f"sqlite:///{tmp_path}/gateway.db", BEFORE, old_rows)


def _ids(db: Database, **query) -> list[int]:
    return [item["id"] for item in accounts.list_accounts(db, ADMIN, {**QUERY, **query})["items"]]


def test_roles_and_groups_are_carried_over_and_the_list_filters_in_sql(tmp_path):
    url = _migrated(tmp_path)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT account_id, role FROM account_roles "
                                          "ORDER BY account_id, role")).all() \
            == [(1, "admin"), (1, "resident"), (2, "resident"), (2, "volunteer"), (3, "merchant")]
        assert connection.execute(sa.text("SELECT account_id, group_name FROM account_groups "
                                          "ORDER BY account_id, group_name")).all() == [(2, "courier"), (2, "rider")]
        columns = {c["name"] for c in sa.inspect(connection).get_columns("accounts")}
        assert "roles" not in columns and "groups" not in columns
        # The accounts and their sign-in sessions are untouched.
        assert connection.execute(sa.text("SELECT count(*) FROM sign_in_sessions")).scalar() == 1
        # The models and the migrated schema agree (apart from alembic's own version table).
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert [d for d in differences if not (d[0] == "remove_table" and d[1].name.startswith("alembic"))] == []
    engine.dispose()

    db = Database(url)
    with db.read() as session:
        rider = session.get(Account, 2)
        assert (rider.roles, rider.groups) == (["resident", "volunteer"], ["courier", "rider"])
    assert _ids(db) == [1, 2, 3, 4]
    assert _ids(db, role="resident") == [1, 2]
    assert _ids(db, role="merchant") == [3]
    assert _ids(db, group="rider") == [2]
    assert _ids(db, group="elderly") == []
    assert _ids(db, role="volunteer", group="courier") == [2]
    # Assigning a list replaces the rows; the answer reads them sorted.
    answer = accounts.set_groups(db, ADMIN, 4, {"groups": ["outdoor", "elderly"]}, volunteers=None)
    assert answer["groups"] == ["elderly", "outdoor"]
    answer = accounts.set_groups(db, ADMIN, 2, {"groups": ["rider"]}, volunteers=None)
    assert answer["groups"] == ["rider"]
    assert _ids(db, group="courier") == [] and _ids(db, group="elderly") == [4]
    answer = accounts.grant_role(db, ADMIN, 4, {"role": "merchant", "grids": []}, volunteers=None)
    assert answer["roles"] == ["merchant"]
    assert _ids(db, role="merchant") == [3, 4]
    db.dispose()


def test_a_downgrade_puts_the_lists_back(tmp_path):
    url = _migrated(tmp_path)
    downgrade_to("gateway", url, BEFORE)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, roles, groups FROM accounts ORDER BY id")).all()
        assert [(r.id, json.loads(r.roles), json.loads(r.groups)) for r in rows] == [
            (1, ["admin", "resident"], []), (2, ["resident", "volunteer"], ["courier", "rider"]),
            (3, ["merchant"], []), (4, [], [])]
        tables = sa.inspect(connection).get_table_names()
        assert "account_roles" not in tables and "account_groups" not in tables
        assert connection.execute(sa.text("SELECT count(*) FROM sign_in_sessions")).scalar() == 1
    engine.dispose()

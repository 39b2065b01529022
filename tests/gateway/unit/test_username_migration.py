"""The migration that makes usernames one normalised identity, on a scratch SQLite database."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.migrations import upgrade

BEFORE = "f559a13d1035"  # the initial schema: usernames as typed, coordinator grids on the account
INSERT = sa.text("INSERT INTO accounts (username, password_hash, display_name, locale, timezone, roles, grids, "
                 "groups, active, created_at, password_changed_at) VALUES (:u, 'x', 'n', 'zh-CN', "
                 "'Asia/Shanghai', '[]', :g, '[]', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")


def _database(tmp_path, usernames: list[tuple[str, str]]) -> str:
    url = f"sqlite:///{tmp_path}/gateway.db"
    upgrade("gateway", url, BEFORE)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for username, grids in usernames:
            connection.execute(INSERT, {"u": username, "g": grids})
    engine.dispose()
    return url


def test_usernames_are_normalised_and_the_grids_column_goes(tmp_path):
    url = _database(tmp_path, [("Demo", "[]"), ("ＧＲＩＤ", "[10]"), ("plain", "[]")])
    upgrade("gateway", url)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT username FROM accounts ORDER BY id")).scalars().all() == \
            ["demo", "grid", "plain"]
        assert "grids" not in {c["name"] for c in sa.inspect(connection).get_columns("accounts")}
    engine.dispose()


def test_two_accounts_that_normalise_to_one_name_stop_the_upgrade(tmp_path):
    url = _database(tmp_path, [("demo", "[]"), ("DEMO", "[]")])
    with pytest.raises(RuntimeError, match="demo, DEMO"):
        upgrade("gateway", url)

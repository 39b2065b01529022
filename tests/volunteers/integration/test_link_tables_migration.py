"""The id lists that filter became link tables; the migration carries existing lists over and back."""
from __future__ import annotations

import json

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from services.volunteers.charity.models import Base  # with charity's tables: one metadata
from shared.migrations import alembic_config, upgrade
from tests.support.infra import PostgresDatabases

BEFORE = "9c3e5d7a2b41"  # the lists were JSON columns
AT = "2026-11-01 00:00:00+00:00"


def _old_rows(engine) -> None:
    empty = json.dumps([])
    with engine.begin() as db:
        db.execute(text("INSERT INTO grids (id, name, level, coordinator_ids, created_at) "
                        "VALUES (1, 'g', 1, '[7, 3]', :at), (2, 'h', 1, '[]', :at)"), {"at": AT})
        db.execute(text("INSERT INTO volunteers (user_id, display_name, phone, skills, grid_ids, availability, "
                        "unavailable, on_leave, max_open_actions, timezone, created_at) "
                        "VALUES (5, 'v', '', '{}', '[2, 1, 99, 2]', '[]', '[]', false, 3, 'UTC', :at)"), {"at": AT})
        db.execute(text("INSERT INTO action_categories (name, label, accept_within_minutes, resolve_within_minutes, "
                        "min_skill_level) VALUES ('sign', '', '{}', '{}', 1)"))
        db.execute(text(
            "INSERT INTO actions (id, kind, title, category, description, location, photo_urls, grid_id, state, "
            "level, level_started_at, escalations, reporter_id, follower_ids, candidate_ids, declined_ids, outcome, "
            "feedback, checklist, created_at, version) VALUES (1, 'single', 't', 'sign', '', '', :e, 1, "
            "'dispatched', 1, :at, 0, 5, '[5, 6]', '[9, 8]', '[8]', '', '', :e, :at, 1)"), {"e": empty, "at": AT})


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'volunteers.db'}"
        return
    pg = PostgresDatabases()
    yield pg.create()["volunteers"]
    pg.drop()


def _list(value) -> list:
    return value if isinstance(value, list) else json.loads(value)


def test_the_lists_become_rows_in_order_and_come_back_on_downgrade(url):
    assert len(ScriptDirectory.from_config(alembic_config("volunteers", url)).get_heads()) == 1
    upgrade("volunteers", url, BEFORE)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    _old_rows(engine)
    upgrade("volunteers", url)
    with engine.connect() as db:
        def rows(sql):
            return [tuple(row) for row in db.execute(text(sql)).all()]

        assert rows("SELECT user_id, grid_id FROM volunteer_grids ORDER BY position") == [(5, 2), (5, 1)]
        assert rows("SELECT grid_id, user_id FROM grid_coordinators ORDER BY position") == [(1, 7), (1, 3)]
        assert rows("SELECT user_id FROM action_followers ORDER BY position") == [(5,), (6,)]
        assert rows("SELECT user_id FROM action_candidates ORDER BY position") == [(9,), (8,)]
        assert rows("SELECT user_id FROM action_declines") == [(8,)]
        # The models and the migrated schema agree (apart from alembic's own version table).
        differences = compare_metadata(MigrationContext.configure(db), Base.metadata)
        assert [d for d in differences if not (d[0] == "remove_table" and d[1].name.startswith("alembic"))] == []
    command.downgrade(alembic_config("volunteers", url), BEFORE)
    with engine.connect() as db:
        assert [_list(v) for v in db.execute(text("SELECT coordinator_ids FROM grids ORDER BY id")).scalars()] \
            == [[7, 3], []]
        assert _list(db.execute(text("SELECT grid_ids FROM volunteers")).scalar_one()) == [2, 1]
        assert [_list(v) for v in db.execute(text(
            "SELECT follower_ids, candidate_ids, declined_ids FROM actions")).one()] == [[5, 6], [9, 8], [8]]
    engine.dispose()

"""Testing a data migration: a scratch database migrated to just before it, rows written the old way, then
migrated on (and back)."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import command

from shared.migrations import alembic_config, upgrade


def migrated_across(service: str, url: str, before: str, write_old_rows: Callable[[sa.Connection], None]) -> str:
    """`url` migrated to revision `before`, `write_old_rows(connection)` run there (one transaction), then
    migrated to the head. Returns `url`."""
    upgrade(service, url, before)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            write_old_rows(connection)
    finally:
        engine.dispose()
    upgrade(service, url)
    return url


def downgrade_to(service: str, url: str, revision: str) -> None:
    command.downgrade(alembic_config(service, url), revision)

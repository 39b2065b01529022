"""Alembic, one migration history per service, driven from code (no alembic.ini to keep in sync)."""
from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import engine_from_config, pool

from shared import config
from shared.db import make_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
MIGRATED = config.SERVICES


def alembic_config(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or config.database_url(service)).replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str | None = None, revision: str = "heads") -> None:
    command.upgrade(alembic_config(service, url), revision)


def upgrade_all() -> None:
    for service in MIGRATED:
        upgrade(service)


def run_env(target_metadata) -> None:
    """Body of every service's migrations/env.py."""
    cfg = context.config
    url = cfg.get_main_option("sqlalchemy.url")
    # A version table named after the service makes a wrong database URL fail loudly, not silently skip.
    version_table = f"alembic_version_{cfg.attributes.get('service', 'default')}"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                          version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()
        return
    if url.startswith("sqlite"):
        connectable = make_engine(url)
    else:
        connectable = engine_from_config({"sqlalchemy.url": url.replace("postgresql://", "postgresql+psycopg2://", 1)},
                                         prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=url.startswith("sqlite"), compare_type=True,
                          version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()

"""Autogenerate an Alembic revision for one service.

    python -m services.tools.makemigration SERVICE "message"

Upgrades a scratch SQLite database to the current heads, then compares it with the models. Read the
generated file before committing it: autogenerate cannot see PostgreSQL-only constraints.
"""
from __future__ import annotations

import sys
import tempfile

from alembic import command

from shared.migrations import alembic_config


def main() -> None:
    service, message = sys.argv[1], sys.argv[2]
    cfg = alembic_config(service, f"sqlite:///{tempfile.mkdtemp()}/{service}.db")
    command.upgrade(cfg, "heads")
    command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":
    main()

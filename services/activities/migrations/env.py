"""Alembic environment of the activities service."""
from services.activities.models import Base
from shared.migrations import run_env

run_env(Base.metadata)

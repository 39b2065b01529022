"""Alembic environment of the volunteers service."""
from services.volunteers.models import Base
from shared.migrations import run_env

run_env(Base.metadata)

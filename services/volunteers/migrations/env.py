"""Alembic environment of the volunteers service: the actions' tables and charity's share one metadata."""
from services.volunteers.charity.models import Base  # charity's models build on services/volunteers/models.py
from shared.migrations import run_env

run_env(Base.metadata)

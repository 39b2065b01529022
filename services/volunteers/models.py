"""Tables of the volunteers service."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, declare_infrastructure, utcnow


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


infra = declare_infrastructure(Base)


class Grid(Base):
    """A node of the grid tree: level 3 sub-district (command), 2 big grid, 1 micro-grid."""

    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    coordinator_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # rider_knights | good_shops | placemakers | storytellers | action_team | other
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Tables defined in sibling modules share this metadata; importing them here lets Alembic see them.
from services.volunteers import charity_models  # noqa: E402,F401

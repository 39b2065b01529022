"""Tables of merchants, their charity items (pledges) and claims, and micro-wishes (same database)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.volunteers.models import Base
from shared.db import utcnow


class Merchant(Base):
    """A street shop, linked to its owner's account; approved by a coordinator before its items go public."""

    __tablename__ = "merchants"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), nullable=True, index=True)
    category: Mapped[str] = mapped_column(String(64), default="")
    opening_hours: Mapped[dict] = mapped_column(JSON, default=dict)
    contact: Mapped[str] = mapped_column(String(100), default="")
    good_shop: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | suspended
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

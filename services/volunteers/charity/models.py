"""Tables of merchants, their charity items and claims, and micro-wishes (same database).

The tables keep their first names (`pledges`, `pledge_stock`, the columns `pledge_id`): a charity item's
row is a `pledges` row, as the HTTP paths (`/pledges`) and the events (`pledge.*`) still say.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.volunteers.models import Base
from shared.db import utcnow


class Merchant(Base):
    """A street shop, linked to its owner's account; approved by a coordinator before its items go public.

    `user_id` is empty for a shop a grid worker recorded on a visit before its owner had an account;
    such a shop is part of the registry (and of the good-shop count) but cannot register items.
    """

    __tablename__ = "merchants"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), nullable=True, index=True)
    category: Mapped[str] = mapped_column(String(64), default="")
    opening_hours: Mapped[dict] = mapped_column(JSON, default=dict)
    contact: Mapped[str] = mapped_column(String(100), default="")
    good_shop: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected | suspended
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The commercial street the shop belongs to (新华"U巷", 中潭一哩街区): a tag, finer than a grid.
    street_area: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Periods (day, week) and redemption hours are counted in the shop's wall-clock zone.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai", server_default="Asia/Shanghai")
    approved_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # A coordinator's refusal, its reason shown to the owner; cleared if the shop is approved after all.
    rejection_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    rejected_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(nullable=True)


class CharityItem(Base):
    """A charity item a merchant offers ("one free coffee a day for riders, 10 a day")."""

    __tablename__ = "pledges"
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    beneficiary_groups: Mapped[list] = mapped_column(JSON, default=list)
    stock: Mapped[int] = mapped_column(Integer)
    stock_period: Mapped[str] = mapped_column(String(8))  # day | week | total
    per_person_limit: Mapped[int] = mapped_column(Integer, default=1)
    per_person_period: Mapped[str] = mapped_column(String(8), default="day")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    # {"start": "08:00", "end": "11:00", "weekdays": [1..7]} in the merchant's zone
    redemption_hours: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True, default="active")  # active|paused|suspended|ended
    status_note: Mapped[str] = mapped_column(Text, default="")
    # SQLAlchemy's version counter: every UPDATE of the row checks the version it read and counts it up,
    # so a concurrent change is a StaleDataError, never a lost update. The ETag of the item.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    merchant: Mapped[Merchant] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("stock > 0", name="ck_pledges_stock_positive"),
        CheckConstraint("per_person_limit > 0", name="ck_pledges_per_person_positive"),
    )


class CharityItemStock(Base):
    """How many of a charity item's units were taken in one stock period (a day, an ISO week, or "total").

    Claims take a unit with a guarded `UPDATE ... SET taken = taken + 1 WHERE taken < stock`, so the
    database, not Python, makes the 11th coffee impossible.
    """

    __tablename__ = "pledge_stock"
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    taken: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("taken >= 0", name="ck_pledge_stock_taken"),)


class Claim(Base):
    """A beneficiary's claim on a charity item: a one-time code, redeemable in one redemption window."""

    __tablename__ = "claims"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed with the id (below): an item's claims and a person's, newest first, page by page.
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    claimant_id: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)  # claimed | redeemed | expired
    stock_period_key: Mapped[str] = mapped_column(String(16))
    person_period_key: Mapped[str] = mapped_column(String(16))
    # 1..per_person_limit while the claim counts against the person's limit; NULL once it expired.
    # The unique constraint below makes a second claim over the limit fail in the database itself.
    slot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    window_starts_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    redeemed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    redeemed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expired_at: Mapped[datetime | None] = mapped_column(nullable=True)

    item: Mapped[CharityItem] = relationship()

    __table_args__ = (
        UniqueConstraint("code", name="uq_claims_code"),
        UniqueConstraint("pledge_id", "claimant_id", "person_period_key", "slot", name="uq_claims_person_slot"),
        Index("ix_claims_pledge_id_id", "pledge_id", "id"),
        Index("ix_claims_claimant_id_id", "claimant_id", "id"),
    )


class Wish(Base):
    """A micro-wish (微心愿): a beneficiary's small wish, vetted, adopted by one merchant or partner."""

    __tablename__ = "wishes"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    story: Mapped[str] = mapped_column(Text, default="")
    estimated_value: Mapped[int] = mapped_column(Integer)  # yuan
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    adopter_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    adopter_name: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("estimated_value > 0", name="ck_wishes_value_positive"),)


class WishTransition(Base):
    """One step of a wish's timeline: who moved it from which state to which, when, with what note."""

    __tablename__ = "wish_transitions"
    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    verb: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The actor's display name when they acted, from the signed-in caller ("" for the system).
    actor_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

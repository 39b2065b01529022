"""Tables of the gateway: accounts, sign-in sessions, login throttling and idempotency records."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, ValueList, declare_infrastructure, owned_rows, utcnow


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


infra = declare_infrastructure(Base)


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Case-folded and NFKC-normalised (accounts.normalise_username): `DEMO` and `demo` are one identity.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # The web app's elderly mode (长辈版): larger text and targets, kept with the account for every device.
    elderly_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Roles and beneficiary groups confirmed by a coordinator (rider, courier, ...) are rows of account_roles
    # and account_groups, so lists filter on them in SQL; `roles` and `groups` read them as sorted lists and
    # assigning a list replaces them. A coordinator's grids are not kept here: the volunteers service's grid
    # tree is the one record of them.
    role_links: Mapped[list[AccountRole]] = owned_rows("AccountRole", "role")
    group_links: Mapped[list[AccountGroup]] = owned_rows("AccountGroup", "group_name")
    roles = ValueList("role_links", "role", sort=True)
    groups = ValueList("group_links", "group_name", sort=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def holding_role(cls, role: str):
        """SQL: the account holds `role`."""
        return cls.role_links.any(AccountRole.role == role)

    @classmethod
    def in_group(cls, group: str):
        """SQL: the account belongs to the beneficiary group `group`."""
        return cls.group_links.any(AccountGroup.group_name == group)


class AccountRole(Base):
    """A role an account holds."""

    __tablename__ = "account_roles"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class AccountGroup(Base):
    """A beneficiary group an account belongs to, confirmed by a coordinator."""

    __tablename__ = "account_groups"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class SignInSession(Base):
    """One sign-in: its refresh token rotates; revoking it ends every access token issued under it."""

    __tablename__ = "sign_in_sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class LoginThrottle(Base):
    """Failed sign-ins per key (an account or an address) in the current window."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)


class IdempotencyRecord(Base):
    """The first answer to a creating POST with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_records"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # account id + method + path + key
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

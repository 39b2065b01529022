"""Accounts: registration, roles, and the events that tell other services about them."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.gateway.auth import hash_password, start_session, verify_password
from services.gateway.models import Account, infra
from services.gateway.schemas import AccountSchema
from shared.db import Database
from shared.errors import Conflict, Invalid, Unauthenticated
from shared.outbox import emit


def account_payload(account: Account) -> dict:
    return {"user_id": account.id, "username": account.username, "display_name": account.display_name,
            "locale": account.locale, "timezone": account.timezone, "roles": list(account.roles or []),
            "grids": list(account.grids or []), "groups": list(account.groups or []),
            "email": account.email, "active": account.active}


def check_password(password: str, username: str) -> None:
    if len(password) < 10:
        raise Invalid("Weak password.", errors={"password": ["at least 10 characters"]})
    if username.lower() in password.lower():
        raise Invalid("Weak password.", errors={"password": ["must not contain the username"]})


def create_account(db: Database, data: dict, roles: list[str] | None = None) -> dict:
    check_password(data["password"], data["username"])
    try:
        with db.transaction() as session:
            account = Account(username=data["username"], password_hash=hash_password(data["password"]),
                              display_name=data["display_name"], locale=data.get("locale") or "zh-CN",
                              timezone=data.get("timezone") or "Asia/Shanghai", email=data.get("email"),
                              phone=data.get("phone"), roles=sorted(set(roles or ["resident"])),
                              grids=list(data.get("grids") or []), groups=list(data.get("groups") or []))
            session.add(account)
            session.flush()
            emit(session, infra, "account.registered", account_payload(account))
            return AccountSchema().dump(account)
    except IntegrityError:
        raise Conflict("That username is taken.", errors={"username": ["already taken"]}) from None


def sign_in(db: Database, username: str, password: str) -> dict:
    with db.transaction() as session:
        account = session.scalars(select(Account).where(Account.username == username)).first()
        if not verify_password(account.password_hash if account else None, password) or not account.active:
            raise Unauthenticated("Wrong username or password.")
        return start_session(session, account)


def get_account(db: Database, account_id: int) -> dict:
    with db.read() as session:
        return AccountSchema().dump(session.get(Account, account_id))

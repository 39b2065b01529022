"""Accounts: registration, profile, password, roles and beneficiary groups, and the events about them.

Every change commits with an `account.*` event in the gateway's outbox, so the notifications service's
directory of recipients follows. Usernames are one identity whatever their case or width: they are stored
case-folded and NFKC-normalised, and every lookup normalises first.

Role rules: coordinators hand out merchant, volunteer and space_manager and confirm beneficiary groups, but
only for people inside their grids (the volunteers service's grid tree says who coordinates which grids and
who belongs where), never for themselves, another coordinator or an admin; only admins hand out coordinator
(with its grids, recorded on the grid tree) and admin; nobody changes their own roles (so the last admin
cannot demote themselves by mistake). Admins may do everything else.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from services.gateway.auth import changing, hash_password, revoke_all, start_session, verify_password
from services.gateway.models import Account, infra
from services.gateway.passwords import password_problems
from services.gateway.schemas import ADMIN_GRANTS, COORDINATOR_GRANTS, AccountSchema
from shared.db import Database, get_or_404, utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from shared.identity import Caller
from shared.outbox import emit
from shared.paging import keyset

STAFF = ("coordinator",)  # plus admin, which has every role
# Roles whose holders only an admin acts on: a coordinator never changes another coordinator or an admin.
GUARDED_ROLES = frozenset({"coordinator", "admin"})

# `volunteers(method, *args)`: an RPC to the volunteers service on behalf of the caller.
Volunteers = Callable[..., Any]


def normalise_username(username: str) -> str:
    """The one form of a username: NFKC, case-folded (`DEMO`, `Demo` and full-width `ＤＥＭＯ` are `demo`)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


class WrongPassword(Invalid):
    """The current password given to a password change was wrong (counted by the login throttle)."""


def account_payload(account: Account) -> dict:
    return {"user_id": account.id, "username": account.username, "display_name": account.display_name,
            "locale": account.locale, "timezone": account.timezone, "roles": list(account.roles or []),
            "groups": list(account.groups or []),
            "email": account.email, "active": account.active}


def dump(account: Account) -> dict:
    return AccountSchema().dump(account)


def check_password(password: str, username: str, display_name: str = "", field: str = "password") -> None:
    problems = password_problems(password, username=username, display_name=display_name)
    if problems:
        raise Invalid("Weak password.", errors={field: problems})


def create_account(db: Database, data: dict, roles: list[str] | None = None) -> dict:
    """Create an account (registration, the CLI's create-admin, the demo seed); emits account.registered.

    A coordinator's grids are not given here: an admin grants the role with its grids (grant_role)."""
    username = normalise_username(data["username"])
    check_password(data["password"], username, data.get("display_name") or "")
    try:
        with db.transaction() as session:
            account = Account(username=username, password_hash=hash_password(data["password"]),
                              display_name=data["display_name"], locale=data.get("locale") or "zh-CN",
                              timezone=data.get("timezone") or "Asia/Shanghai", email=data.get("email"),
                              phone=data.get("phone"), roles=sorted(set(roles or ["resident"])),
                              groups=list(data.get("groups") or []))
            session.add(account)
            session.flush()
            emit(session, infra, "account.registered", account_payload(account))
            return dump(account)
    except IntegrityError:
        raise Conflict("That username is taken.", errors={"username": ["already taken"]}) from None


def sign_in(db: Database, data: dict) -> dict:
    """A new sign-in session for `data`'s username and password (a TokenRequestSchema's password grant)."""
    with db.transaction() as session:
        account = session.scalars(select(Account).where(
            Account.username == normalise_username(data["username"]))).first()
        if not verify_password(account.password_hash if account else None, data["password"]) or not account.active:
            raise Unauthenticated("Wrong username or password.")
        return start_session(session, account)


def _visible(caller: Caller, account_id: int) -> None:
    """Your own account, or anyone's for coordinators and admins."""
    caller.require()
    if caller.user_id != account_id and not caller.has_role(*STAFF):
        raise Forbidden("Only coordinators and admins see other people's accounts.")


def get_account(db: Database, account_id: int, caller: Caller | None = None) -> dict:
    if caller is not None:
        _visible(caller, account_id)
    with db.read() as session:
        account = get_or_404(session, Account, account_id, "Account")
        return dump(account)


def list_accounts(db: Database, caller: Caller, query: dict) -> dict:
    """Accounts by id, for coordinators and admins; filters: role, group, q (username or name)."""
    caller.require_role(*STAFF)
    with db.read() as session:
        stmt = select(Account)
        if query.get("q"):
            pattern = "%" + query["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(or_(Account.username.ilike(pattern, escape="\\"),
                                  Account.display_name.ilike(pattern, escape="\\")))
        if query.get("role"):
            stmt = stmt.where(Account.holding_role(query["role"]))
        if query.get("group"):
            stmt = stmt.where(Account.in_group(query["group"]))
        return keyset(session, stmt, Account.id, query, newest_first=False).answer(
            lambda rows: [dump(r) for r in rows])


def _locked(session, account_id: int) -> Account:
    account = session.scalars(select(Account).where(Account.id == account_id).with_for_update()).first()
    if account is None:
        raise NotFound(f"Account {account_id} does not exist.")
    return account


def _may_change_role(caller: Caller, account_id: int, role: str) -> None:
    caller.require_role(*STAFF)
    if role in ADMIN_GRANTS and not caller.is_admin:
        raise Forbidden(f"Only admins grant or revoke the {role} role.")
    if role not in COORDINATOR_GRANTS + ADMIN_GRANTS:
        raise Invalid("That role is not granted.", errors={"role": [f"one of {', '.join(COORDINATOR_GRANTS + ADMIN_GRANTS)}"]})
    if caller.user_id == account_id:
        raise Forbidden("Nobody changes their own roles; ask another coordinator or admin.")


def _guarded(caller: Caller, account: Account) -> None:
    """A coordinator never acts on another coordinator's or an admin's account (checked again under lock)."""
    if not caller.is_admin and GUARDED_ROLES.intersection(account.roles or ()):
        raise Forbidden("Coordinators do not change a coordinator's or an admin's roles or groups; ask an admin.")


def _within_scope(db: Database, caller: Caller, account_id: int, volunteers: Volunteers,
                  role: str | None = None) -> None:
    """A coordinator acts only on people inside their grids; admins on anyone.

    Where a person belongs (their volunteer profile's grids, their shops' grids) and which grids the caller
    coordinates are the volunteers service's grid tree; the merchant role also needs every shop of theirs
    to be inside the caller's grids.
    """
    if caller.is_admin:
        return
    with db.read() as session:
        account = get_or_404(session, Account, account_id, "Account")
        _guarded(caller, account)
    standing = volunteers("person_standing", account_id)
    if standing["coordinates"]:
        raise Forbidden("Coordinators do not change a coordinator's roles or groups; ask an admin.")
    if not standing["in_scope"]:
        raise Forbidden("Only a coordinator of one of this person's grids (or a grid above it) may do this; "
                        "a person belongs to the grids of their volunteer profile and their shops.")
    if role == "merchant" and standing["shops_outside_scope"]:
        raise Forbidden("This person has a shop in a grid outside your scope; ask a coordinator of that grid.")


def grant_role(db: Database, caller: Caller, account_id: int, data: dict, volunteers: Volunteers) -> dict:
    """Grant a role; emits account.updated. The coordinator role's `grids` (replacing any earlier ones) are
    recorded on the volunteers service's grid tree first, so a failure there grants nothing."""
    _may_change_role(caller, account_id, data["role"])
    _within_scope(db, caller, account_id, volunteers, data["role"])
    if data["role"] == "coordinator":
        with db.read() as session:
            if session.get(Account, account_id) is None:
                raise NotFound(f"Account {account_id} does not exist.")
        volunteers("assign_coordinator", account_id, sorted(set(data["grids"])))
    with changing(account_id), db.transaction() as session:
        account = _locked(session, account_id)
        _guarded(caller, account)
        roles = sorted(set(account.roles or []) | {data["role"]})
        if roles != sorted(account.roles or []):
            account.roles = roles
            emit(session, infra, "account.updated", account_payload(account))
        return dump(account)


def revoke_role(db: Database, caller: Caller, account_id: int, role: str, volunteers: Volunteers) -> dict:
    """Take a role away; emits account.updated. Revoking coordinator also takes the person off every grid
    of the grid tree (again on a retry, so a failure there is mended by repeating the request)."""
    _may_change_role(caller, account_id, role)
    _within_scope(db, caller, account_id, volunteers, role)
    with changing(account_id), db.transaction() as session:
        account = _locked(session, account_id)
        _guarded(caller, account)
        if role in (account.roles or []):
            account.roles = sorted(set(account.roles) - {role})
            emit(session, infra, "account.updated", account_payload(account))
        answer = dump(account)
    if role == "coordinator":
        volunteers("assign_coordinator", account_id, [])
    return answer


def set_groups(db: Database, caller: Caller, account_id: int, data: dict, volunteers: Volunteers) -> dict:
    """Confirm the beneficiary groups an account belongs to (`data["groups"]` replaces the list); emits
    account.updated.

    Coordinators: only for people inside their grids, never their own account or a coordinator's."""
    groups = data["groups"]
    caller.require_role(*STAFF)
    if caller.user_id == account_id and not caller.is_admin:
        raise Forbidden("Coordinators do not confirm their own beneficiary groups; ask another coordinator.")
    _within_scope(db, caller, account_id, volunteers)
    with changing(account_id), db.transaction() as session:
        account = _locked(session, account_id)
        _guarded(caller, account)
        if sorted(groups) != sorted(account.groups or []):
            account.groups = sorted(groups)
            emit(session, infra, "account.updated", account_payload(account))
        return dump(account)


def update_profile(db: Database, caller: Caller, changes: dict) -> dict:
    """Change the caller's display name, locale, time zone, e-mail or phone; emits account.updated."""
    caller.require()
    with changing(caller.user_id), db.transaction() as session:
        account = _locked(session, caller.user_id)
        changed = False
        for name, value in changes.items():
            if getattr(account, name) != value:
                setattr(account, name, value)
                changed = True
        if changed:
            emit(session, infra, "account.updated", account_payload(account))
        return dump(account)


def change_password(db: Database, caller: Caller, data: dict) -> None:
    """Replace the caller's password (`data["current_password"]` checked, then `data["new_password"]`);
    every session ends."""
    caller.require()
    current, new = data["current_password"], data["new_password"]
    with db.read() as session:
        account = session.get(Account, caller.user_id)
        username, display_name, old_hash = account.username, account.display_name, account.password_hash
    if not verify_password(old_hash, current):
        raise WrongPassword("The current password is wrong.", errors={"current_password": ["is wrong"]})
    check_password(new, username, display_name, field="new_password")
    if verify_password(old_hash, new):
        raise Invalid("Weak password.", errors={"new_password": ["must differ from the current password"]})
    with changing(caller.user_id), db.transaction() as session:
        account = _locked(session, caller.user_id)
        account.password_hash = hash_password(new)
        account.password_changed_at = utcnow()
        revoke_all(session, account.id)


def set_active(db: Database, caller: Caller, account_id: int, active: bool) -> dict:
    """Deactivate (every session ends at once) or reactivate an account; admins only."""
    caller.require_role("admin")
    if caller.user_id == account_id:
        raise Forbidden("Admins do not deactivate themselves.")
    with changing(account_id), db.transaction() as session:
        account = _locked(session, account_id)
        if account.active != active:
            account.active = active
            if not active:
                revoke_all(session, account.id)
            emit(session, infra, "account.updated", account_payload(account))
        return dump(account)

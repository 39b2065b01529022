"""Demo neighbourhood from the domain handbook: Xinhua Road sub-district (新华路街道).

Idempotent: running it twice changes nothing. Accounts are created through the gateway's own code path;
everything else through the services' RPC, as the system caller.
"""
from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable

from sqlalchemy import select

from services.gateway.accounts import account_payload, create_account
from services.gateway.auth import hash_password
from services.gateway.models import Account, infra
from shared import config
from shared.db import database_for
from shared.outbox import emit

Call = Callable[..., object]

# (username, display name, roles, confirmed beneficiary groups) of the demo people; passwords are
# generated, never fixed. Coordinators' grid scopes are set by the volunteers seed (grid coordinators).
PEOPLE = [
    ("demo", "王小明 (居民)", ["resident"], []),
    ("coffee", "U巷咖啡 李老板", ["resident", "merchant"], []),
    ("rider", "骑士 张师傅", ["resident", "volunteer"], ["rider"]),
    ("gridworker", "网格员 陈丽", ["resident", "coordinator"], []),
    ("secretary", "楊國華 (支部书记)", ["resident", "coordinator"], []),
    ("manager", "服务中心 管理员", ["resident", "space_manager"], []),
    ("canteen", "中潭一哩食堂 周师傅", ["resident", "merchant"], []),
    ("barber", "阿强理发 阿强", ["resident", "merchant"], []),
]


def ensure_people() -> dict[str, dict]:
    """Demo accounts with passwords kept in <data>/demo-logins.txt (outside git)."""
    db = database_for("gateway")
    path = config.data_dir() / "demo-logins.txt"
    known = dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line) \
        if path.exists() else {}
    people = {}
    for username, display_name, roles, groups in PEOPLE:
        password = known.get(username) or secrets.token_urlsafe(12)
        with db.transaction() as session:
            account = session.scalars(select(Account).where(Account.username == username)).first()
            if account is not None and username not in known:
                account.password_hash = hash_password(password)  # file lost: issue a fresh password
            if account is not None and not (set(roles) <= set(account.roles) and set(groups) <= set(account.groups)):
                # An older seed (or someone) took a demo role away: give it back, and tell the services.
                account.roles = sorted(set(account.roles) | set(roles))
                account.groups = sorted(set(account.groups) | set(groups))
                emit(session, infra, "account.updated", account_payload(account))
            account_id = account.id if account else None
        if account_id is None:
            account_id = create_account(db, {"username": username, "password": password,
                                             "display_name": display_name, "groups": groups}, roles=roles)["id"]
        known[username] = password
        people[username] = {"id": account_id, "password": password}
    path.write_text("".join(f"{u} {p}\n" for u, p in known.items()))
    path.chmod(0o600)
    return people


# Each area seeds its own data: a module with `seed(call, people)`, run in this order.
SEED_MODULES = [
    "services.bookings.seed",
    "services.volunteers.seed",
    "services.volunteers.charity_seed",
    "services.notifications.seed",
]


def seed(call: Call) -> dict:
    people = ensure_people()
    for name in SEED_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # that area has nothing to seed
        module.seed(call, people)
    return people

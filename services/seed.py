"""Demo neighbourhood from the domain handbook: Xinhua Road sub-district (新华路街道).

Idempotent: running it twice changes nothing. Accounts are created through the gateway's own code path;
everything else through the services' RPC, as the system caller.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy import select

from services.gateway.accounts import create_account
from services.gateway.auth import hash_password
from services.gateway.models import Account
from shared import config
from shared.db import database_for

Call = Callable[..., object]

SITE = "新华路街道党群服务中心"
ROOMS = [
    {"name": "治理议事厅", "kind": "room", "capacity": 30, "equipment": ["projector", "microphone"]},
    {"name": "烘焙教室", "kind": "room", "capacity": 12, "equipment": ["oven"]},
    {"name": "党建图书室", "kind": "room", "capacity": 20, "equipment": []},
    {"name": "三会实训室", "kind": "room", "capacity": 16, "equipment": ["projector"]},
    {"name": "共享家会议室", "kind": "room", "capacity": 10, "equipment": ["screen"]},
]
CHARGING = {"name": "彭浦新村电瓶车充电桩", "kind": "pool", "capacity": 1, "units": 20, "equipment": ["charger"]}

# (username, display name, roles) of the demo people; passwords are generated, never fixed.
PEOPLE = [
    ("demo", "王小明 (居民)", ["resident"]),
    ("coffee", "U巷咖啡 李老板", ["resident", "merchant"]),
    ("rider", "骑士 张师傅", ["resident", "volunteer"]),
    ("gridworker", "网格员 陈丽", ["resident", "coordinator"]),
    ("secretary", "楊國華 (支部书记)", ["resident", "coordinator"]),
    ("manager", "服务中心 管理员", ["resident", "space_manager"]),
]


def ensure_people() -> dict[str, dict]:
    """Demo accounts with passwords kept in <data>/demo-logins.txt (outside git)."""
    db = database_for("gateway")
    path = config.data_dir() / "demo-logins.txt"
    known = dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line) \
        if path.exists() else {}
    people = {}
    for username, display_name, roles in PEOPLE:
        password = known.get(username) or secrets.token_urlsafe(9)
        with db.transaction() as session:
            account = session.scalars(select(Account).where(Account.username == username)).first()
            if account is not None and username not in known:
                account.password_hash = hash_password(password)  # file lost: issue a fresh password
            account_id = account.id if account else None
        if account_id is None:
            account_id = create_account(db, {"username": username, "password": password,
                                             "display_name": display_name}, roles=roles)["id"]
        known[username] = password
        people[username] = {"id": account_id, "password": password}
    path.write_text("".join(f"{u} {p}\n" for u, p in known.items()))
    path.chmod(0o600)
    return people


def seed_bookings(call: Call, people: dict) -> None:
    manager = people["manager"]["id"]
    for room in ROOMS:
        call("bookings", "ensure_space", SITE, {**room, "manager_ids": [manager]})
    call("bookings", "ensure_space", "彭浦新村", {**CHARGING, "manager_ids": [manager]})


SEEDERS: list[Callable[[Call, dict], None]] = [seed_bookings]


def seed(call: Call) -> dict:
    people = ensure_people()
    for seeder in SEEDERS:
        seeder(call, people)
    return people

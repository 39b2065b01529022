"""Demo neighbourhood from the domain handbook: Xinhua Road sub-district (新华路街道).

Every person, grid, team, space and shop the docs name is here, under the name the docs use; the docs find
their ids by listing and picking by name (docs/demo.sh). Idempotent: running it twice changes nothing.
Accounts are created through the gateway's own code path; everything else through the services' RPC, as the
system caller (and, to join a team, as the person joining).
"""
from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import select

from services.gateway.accounts import account_payload, create_account
from services.gateway.auth import hash_password
from services.gateway.models import Account, infra
from shared import config
from shared.db import database_for
from shared.outbox import emit

Call = Callable[..., object]


class Person(NamedTuple):
    username: str
    display_name: str
    roles: list[str]
    groups: list[str]  # confirmed beneficiary groups
    who: str           # printed beside the login: what this person does in the stories


# The demo cast. Passwords are generated on the first seed and kept in <data>/demo-logins.txt, never fixed.
# Coordinators' grids are set on the grid tree by the volunteers seed (services/volunteers/seed.py).
PEOPLE = [
    Person("admin", "管理员 赵敏", ["resident", "admin"], [], "admin: roles, grids, the catalogue"),
    Person("command", "街道城运中心", ["resident", "coordinator"], [],
           "the command: coordinates 新华路街道 (level 3), broadcasts, mass actions"),
    Person("secretary", "楊國華 (宜北支部书记)", ["resident", "coordinator"], [],
           "branch secretary: coordinates 宜北 (level 2)"),
    Person("secretary2", "孙建平 (宜南支部书记)", ["resident", "coordinator"], [],
           "branch secretary: coordinates 宜南 (level 2)"),
    Person("gridworker", "网格员 陈丽", ["resident", "coordinator"], [], "grid worker of 第7微网格 (level 1)"),
    *[Person(f"gridworker{n}", f"网格员 {name}", ["resident", "coordinator"], [], f"grid worker of 第{n}微网格")
      for n, name in ((1, "周敏"), (2, "吴磊"), (3, "郑芳"), (4, "冯涛"), (5, "刘洋"), (6, "黄蕾"))],
    Person("demo", "王小明 (居民)", ["resident"], [], "a resident: books rooms, reports problems"),
    Person("courier", "快递小哥 李强", ["resident"], ["courier"], "a courier (嘿,侠客!): reports hazards"),
    Person("rider", "骑士 张师傅", ["resident", "volunteer"], ["rider"],
           "rider knight (骑士团 lead), repairs, serves 第7微网格"),
    Person("rider2", "骑士 王师傅", ["resident", "volunteer"], ["rider"], "rider knight, serves 第6 and 第7微网格"),
    Person("fixer", "行动队 老马", ["resident", "volunteer"], [], "action team (行动队) member, repairs, 宜北"),
    Person("fixer2", "行动队 吴刚", ["resident", "volunteer"], [], "action team (行动队) lead, repairs, 宜北"),
    Person("coffee", "U巷咖啡 李老板", ["resident", "merchant"], [],
           "owns U巷咖啡 in 第7微网格, leads 好店家"),
    Person("canteen", "中潭一哩食堂 周师傅", ["resident", "merchant"], [], "owns 中潭一哩食堂 in 第5微网格"),
    Person("barber", "阿强理发 阿强", ["resident", "merchant"], [], "owns 阿强理发 in 第6微网格"),
    Person("manager", "服务中心 管理员", ["resident", "space_manager"], [],
           "manages the service centre's rooms and the charging pool; runs the night school"),
    Person("storyteller", "讲述者 顾老师", ["resident", "volunteer"], [],
           "storytellers (讲述者) lead: guides the walking lessons"),
]


def logins_path():
    return config.data_dir() / "demo-logins.txt"


def ensure_people() -> dict[str, dict]:
    """Demo accounts with passwords kept in <data>/demo-logins.txt (outside git), one `username password`
    a line."""
    db = database_for("gateway")
    path = logins_path()
    known = dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line) \
        if path.exists() else {}
    people = {}
    for person in PEOPLE:
        username, roles, groups = person.username, person.roles, person.groups
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
            account_roles = list(account.roles) if account else roles
        if account_id is None:
            account_id = create_account(db, {"username": username, "password": password,
                                             "display_name": person.display_name, "groups": groups},
                                        roles=roles)["id"]
        known[username] = password
        people[username] = {"id": account_id, "password": password, "display_name": person.display_name,
                            "roles": sorted(set(account_roles) | set(roles)), "groups": groups, "who": person.who}
    path.write_text("".join(f"{u} {p}\n" for u, p in known.items()))
    path.chmod(0o600)
    return people


# Each area seeds its own data: a module with `seed(call, people)`, run in this order.
SEED_MODULES = [
    "services.bookings.seed",
    "services.volunteers.seed",
    "services.volunteers.charity.seed",
    "services.notifications.seed",
    "services.activities.seed",
]


def seed(call: Call) -> dict:
    """`call(service, method, *args, caller=SYSTEM)`: RPC as the system, or as a demo person when told."""
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

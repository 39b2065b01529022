"""The authorisation matrix: who may call each operation of /api/v1, and denials proven against a live suite.

One table is the source of both `docs/authorization.md` (`python -m tests.gateway.matrix > docs/authorization.md`)
and `test_authorization_matrix.py`. Every operation of the OpenAPI document has a `Rule`; a rule's `denials`
are concrete requests by someone who must be refused, each with the state that must not change and, where
it is cheap, the rightful caller who must succeed with the very same request (so a denial cannot pass
merely because the request was malformed).

Add a rule when an endpoint lands; add denials for each role or ownership boundary it has.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services.volunteers.seed import AROUND_THE_CLOCK

# Who may call, in the words of the docs.
ANYONE = "anyone (signed in or not)"
SIGNED_IN = "any signed-in account"
STAFF = "coordinator, admin"
ADMIN = "admin"


def nothing() -> None:
    """The state of a probe that changes nothing (a read); a write's probe names what it would change."""


@dataclass
class Probe:
    """One denied request: where, what body, the state it must leave alone, who may do it instead."""

    path: str
    body: dict | None = None
    state: Callable[[], object] = nothing
    allowed: object | None = None  # a Client that must get 2xx for the same request afterwards
    query: dict | None = None
    caller: object | None = None  # a Client made for this probe, instead of the denial's named actor


@dataclass(frozen=True)
class Denial:
    actor: str
    status: int
    build: Callable[[World], Probe]
    why: str
    # A status the service answers today instead of the documented one (reported to its owner).
    deviation: int | None = None


@dataclass(frozen=True)
class Rule:
    method: str
    path: str  # as in the OpenAPI document, without /api/v1
    who: str
    denials: tuple[Denial, ...] = ()
    public: bool = False

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


# ------------------------------------------------------------------------------------------------ the world

EVERY_DAY = AROUND_THE_CLOCK  # a volunteer available whenever a test runs


@dataclass
class World:
    """Accounts in every role and the objects they own, made once per test module."""

    suite: object
    tag: str
    actors: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["actors"][name]
        except KeyError:
            raise AttributeError(name) from None

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    def ok(self, response, *codes):
        assert response.status_code in (codes or (200, 201)), response.text
        return response.json() if response.content else None

    # -- builders used by probes ------------------------------------------------------------------------
    def account_state(self, account_id: int):
        return self.ok(self.admin.get(f"/accounts/{account_id}"))

    def pledge_state(self, pledge_id: int):
        pledge = self.ok(self.merchant_a.get(f"/pledges/{pledge_id}"))
        return {k: pledge.get(k) for k in ("title", "status", "version", "stock")}

    def action_state(self, action_id: int):
        action = self.ok(self.admin.get(f"/actions/{action_id}"))
        return {k: action.get(k) for k in ("state", "level", "assignee_ids", "version")}

    def booking_state(self, booking_id: int):
        booking = self.ok(self.resident.get(f"/bookings/{booking_id}"))
        return {k: booking.get(k) for k in ("status", "title", "version")}

    def count(self, service: str, sql: str, **params) -> int:
        with self.suite.database(service).read() as session:
            return session.execute(text(sql), params).scalar()

    def row(self, service: str, sql: str, **params) -> tuple | None:
        with self.suite.database(service).read() as session:
            found = session.execute(text(sql), params).first()
            return tuple(found) if found is not None else None

    def wish_state(self, wish_id: int):
        return self.row("volunteers", "SELECT state, adopter_id FROM wishes WHERE id = :w", w=wish_id)

    def space_state(self, space_id: int):
        space = self.ok(self.admin.get(f"/spaces/{space_id}"))
        return {k: space.get(k) for k in ("name", "capacity", "equipment", "rules", "manager_ids")}

    def volunteer(self, roles=("resident", "volunteer")):
        """A new account with a volunteer profile in micro-grid A."""
        person = self.suite.user(roles=list(roles))
        self.ok(person.post("/volunteers/me", json={
            "display_name": self.unique("志愿者"), "skills": {"repair": 1}, "grid_ids": [self.ids["micro_a"]],
            "availability": EVERY_DAY}))
        return person

    def resolved_action(self, doer) -> int:
        """Reported by `resident`, accepted and resolved by `doer` (hours are logged)."""
        action = self.new_action(dispatched_to=doer, accepted=True)
        self.ok(doer.post(f"/actions/{action}/resolve", json={"outcome": "已加固"}))
        return action

    def new_wish(self, state: str = "submitted") -> int:
        """A rider's wish in micro-grid A, moved on to `state` (published, adopted by merchant_a, delivered)."""
        wish = self.ok(self.rider.post("/wishes", json={
            "title": self.unique("电饭煲"), "story": "家里的坏了", "estimated_value": 120,
            "grid_id": self.ids["micro_a"]}))["id"]
        steps = {"published": [("coordinator_a", "publish")],
                 "adopted": [("coordinator_a", "publish"), ("merchant_a", "adopt")],
                 "delivered": [("coordinator_a", "publish"), ("merchant_a", "adopt"), ("merchant_a", "deliver")]}
        for actor, verb in steps.get(state, []):
            self.ok(self.actors[actor].post(f"/wishes/{wish}/{verb}", json={}))
        return wish

    def action_body(self) -> dict:
        return {"title": self.unique("店招松动"), "category": self.ids["category"], "grid_id": self.ids["micro_a"],
                "location": "新华路 211 号"}

    def new_action(self, dispatched_to=None, accepted=False, checklist=None) -> int:
        action = self.ok(self.resident.post("/actions", json=self.action_body()))
        if dispatched_to is not None:
            self.ok(self.coordinator_a.post(f"/actions/{action['id']}/dispatch", json={
                "volunteer_ids": [dispatched_to.id], **({"checklist": checklist} if checklist else {})}))
            if accepted:
                self.ok(dispatched_to.post(f"/actions/{action['id']}/accept", json={}))
        return action["id"]

    def new_pending_shop(self, owner) -> int:
        return self.ok(owner.post("/merchants", json={
            "name": self.unique("理发店"), "grid_id": self.ids["micro_a"], "category": "barber",
            "street_area": "U巷"}))["id"]

    def next_slot(self) -> datetime:
        """A free hour on a day of its own, 20 days ahead and later (within every space's advance limit)."""
        self.ids["slots"] = self.ids.get("slots", 0) + 1
        return (datetime.now(UTC) + timedelta(days=19 + self.ids["slots"])).replace(
            hour=3, minute=0, second=0, microsecond=0)

    def booking_body(self, space: str = "space", start: datetime | None = None) -> dict:
        start = start or self.next_slot()
        return {"space_id": self.ids[space], "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(), "title": self.unique("议事")}

    def new_booking(self, space: str = "space", start: datetime | None = None, booker=None) -> int:
        booking = self.ok((booker or self.resident).post("/bookings", json=self.booking_body(space, start)))
        return booking["id"]

    def new_claim_code(self) -> str:
        return self.ok(self.rider.post(f"/pledges/{self.ids['pledge_a']}/claims", json={}))["code"]


def build_world(suite) -> World:
    world = World(suite, uuid.uuid4().hex[:8])
    a = world.actors
    a["resident"] = suite.user()
    a["resident_b"] = suite.user()
    a["admin"] = suite.user(roles=["resident", "admin"])
    a["merchant_a"] = suite.user(roles=["resident", "merchant"])
    a["merchant_b"] = suite.user(roles=["resident", "merchant"])
    a["volunteer_a"] = suite.user(roles=["resident", "volunteer"])
    a["volunteer_b"] = suite.user(roles=["resident", "volunteer"])
    a["rider"] = suite.user(groups=["rider"])
    a["space_manager"] = suite.user(roles=["resident", "space_manager"])
    root = suite.rpc("volunteers", "ensure_grid", {"name": f"新华路街道 {world.tag}", "level": 3})
    big = suite.rpc("volunteers", "ensure_grid", {"name": f"宜北 {world.tag}", "level": 2, "parent_id": root["id"]})
    micro_a = suite.rpc("volunteers", "ensure_grid", {"name": f"第7微网格 {world.tag}", "level": 1,
                                                      "parent_id": big["id"]})
    micro_b = suite.rpc("volunteers", "ensure_grid", {"name": f"第6微网格 {world.tag}", "level": 1,
                                                      "parent_id": big["id"]})
    a["coordinator_a"] = suite.user(roles=["resident", "coordinator"], grids=[micro_a["id"]])
    a["coordinator_b"] = suite.user(roles=["resident", "coordinator"], grids=[micro_b["id"]])
    world.ids.update(root=root["id"], micro_a=micro_a["id"], micro_b=micro_b["id"])
    category = f"sign_{world.tag}"
    suite.rpc("volunteers", "ensure_category", {
        "name": category, "label": "店招松动", "required_skill": None,
        "accept_within_minutes": {"1": 600, "2": 600, "3": 600},
        "resolve_within_minutes": {"1": 600, "2": 600, "3": 600}})
    world.ids["category"] = category
    for name in ("volunteer_a", "volunteer_b"):
        world.ok(a[name].post("/volunteers/me", json={
            "display_name": f"志愿者 {name}", "skills": {"repair": 2}, "grid_ids": [micro_a["id"]],
            "availability": EVERY_DAY}))
    for name in ("merchant_a", "merchant_b"):
        shop = world.new_pending_shop(a[name])
        world.ok(a["coordinator_a"].post(f"/merchants/{shop}/approve", json={}))
        world.ids[f"shop_{name[-1]}"] = shop
        pledge = world.ok(a[name].post("/pledges", json={
            "merchant_id": shop, "title": "骑手免费咖啡一杯", "beneficiary_groups": ["rider"], "stock": 50,
            "stock_period": "day", "per_person_limit": 20, "per_person_period": "day"}))
        world.ids[f"pledge_{name[-1]}"] = pledge["id"]
    space = suite.rpc("bookings", "ensure_space", f"矩阵中心 {world.tag}",
                      {"name": f"治理议事厅 {world.tag}", "kind": "room", "capacity": 20,
                       "manager_ids": [a["space_manager"].id]})
    world.ids["space"] = space["id"]
    # Bookings there wait for a manager's decision, so approve and reject reach the manager check.
    approval = suite.rpc("bookings", "ensure_space", f"矩阵中心 {world.tag}",
                         {"name": f"活动室 {world.tag}", "kind": "room", "capacity": 10,
                          "manager_ids": [a["space_manager"].id], "rules": {"approval_required": True}})
    world.ids["approval_space"] = approval["id"]
    reserved = suite.rpc("bookings", "ensure_space", f"矩阵中心 {world.tag}",
                         {"name": f"网格员工作室 {world.tag}", "kind": "room", "capacity": 4,
                          "rules": {"allowed_roles": ["coordinator"]}})
    world.ids["reserved_space"] = reserved["id"]
    a["anonymous"] = suite.client()
    a["sanitation"] = suite.user(groups=["sanitation"])
    for key, policy in (("team", "approval"), ("closed_team", "invitation")):
        world.ids[key] = world.ok(a["coordinator_a"].post("/teams", json={
            "name": world.unique("行动队"), "kind": "action_team", "join_policy": policy}))["id"]
    return world


# ------------------------------------------------------------------------------------------------ denials

def _role_grant(role: str, grids=()):
    def build(w: World) -> Probe:
        target = w.suite.user()
        body = {"role": role, **({"grids": list(grids or [w.ids["micro_a"]])} if role == "coordinator" else {})}
        return Probe(f"/accounts/{target.id}/roles", body, lambda: w.account_state(target.id), allowed=w.admin)
    return build


def _self_grant(w: World) -> Probe:
    return Probe(f"/accounts/{w.coordinator_a.id}/roles", {"role": "merchant"},
                 lambda: w.account_state(w.coordinator_a.id))


def _revoke(role: str):
    def build(w: World) -> Probe:
        target = w.suite.user(roles=["resident", role])
        return Probe(f"/accounts/{target.id}/roles/{role}", None, lambda: w.account_state(target.id),
                     allowed=w.admin)
    return build


def _resident_of_micro_a(w: World):
    """A resident who belongs to micro-grid A through their volunteer profile."""
    target = w.suite.user()
    w.suite.rpc("volunteers", "ensure_volunteer", target.id, {"display_name": "居民", "grid_ids": [w.ids["micro_a"]]})
    return target


def _groups(w: World) -> Probe:
    target = _resident_of_micro_a(w)
    return Probe(f"/accounts/{target.id}/groups", {"groups": ["rider"]}, lambda: w.account_state(target.id),
                 allowed=w.coordinator_a)


def _own_groups(w: World) -> Probe:
    return Probe(f"/accounts/{w.coordinator_a.id}/groups", {"groups": ["rider"]},
                 lambda: w.account_state(w.coordinator_a.id))


def _coordinators_groups(w: World) -> Probe:
    target = w.suite.user(roles=["resident", "coordinator"], grids=[w.ids["micro_a"]])
    return Probe(f"/accounts/{target.id}/groups", {"groups": ["rider"]}, lambda: w.account_state(target.id),
                 allowed=w.admin)


def _grant_in_micro_a(role: str, target_roles=("resident",)):
    def build(w: World) -> Probe:
        target = _resident_of_micro_a(w) if target_roles == ("resident",) else \
            w.suite.user(roles=list(target_roles), grids=[w.ids["micro_a"]])
        return Probe(f"/accounts/{target.id}/roles", {"role": role}, lambda: w.account_state(target.id),
                     allowed=w.coordinator_a if target_roles == ("resident",) else w.admin)
    return build


def _other_account(w: World) -> Probe:
    return Probe(f"/accounts/{w.resident_b.id}", allowed=w.coordinator_a)


def _deactivate(w: World) -> Probe:
    target = w.suite.user()
    return Probe(f"/accounts/{target.id}/deactivate", None, lambda: w.account_state(target.id), allowed=w.admin)


def _activate(w: World) -> Probe:
    target = w.suite.user()
    w.ok(w.admin.post(f"/accounts/{target.id}/deactivate"))
    return Probe(f"/accounts/{target.id}/activate", None, lambda: w.account_state(target.id), allowed=w.admin)


def _list_accounts(w: World) -> Probe:
    return Probe("/accounts", allowed=w.coordinator_a)


def _edit_pledge(w: World) -> Probe:
    pledge = w.ids["pledge_a"]
    return Probe(f"/pledges/{pledge}", {"title": "被别人改了"}, lambda: w.pledge_state(pledge))


def _pledge_verb(verb: str):
    def build(w: World) -> Probe:
        pledge = w.ids["pledge_a"]
        return Probe(f"/pledges/{pledge}/{verb}", {}, lambda: w.pledge_state(pledge))
    return build


def _pledge_for_others_shop(w: World) -> Probe:
    shop = w.ids["shop_a"]
    sql = "SELECT count(*) FROM pledges WHERE merchant_id = :m"
    return Probe("/pledges", {"merchant_id": shop, "title": "冒名", "beneficiary_groups": ["rider"], "stock": 1},
                 lambda: w.count("volunteers", sql, m=shop))


def _pledge_claims(w: World) -> Probe:
    return Probe(f"/pledges/{w.ids['pledge_a']}/claims", allowed=w.merchant_a)


def _redeem(w: World) -> Probe:
    code = w.new_claim_code()
    sql = "SELECT state FROM claims WHERE code = :c"
    return Probe(f"/claims/{code}/redeem", {}, lambda: w.count("volunteers", sql, c=code), allowed=w.merchant_a)


def _approve_shop(w: World) -> Probe:
    shop = w.new_pending_shop(w.merchant_b)
    sql = "SELECT status FROM merchants WHERE id = :m"
    return Probe(f"/merchants/{shop}/approve", {}, lambda: w.count("volunteers", sql, m=shop),
                 allowed=w.coordinator_a)


def _reject_shop(w: World) -> Probe:
    shop = w.new_pending_shop(w.merchant_b)
    sql = "SELECT status FROM merchants WHERE id = :m"
    return Probe(f"/merchants/{shop}/reject", {"reason": "营业执照照片看不清"}, lambda: w.count("volunteers", sql, m=shop),
                 allowed=w.coordinator_a)


def _grid_report(w: World) -> Probe:
    today = datetime.now(UTC).date()
    return Probe(f"/reports/grids/{w.ids['micro_a']}", query={"from": (today - timedelta(days=30)).isoformat(),
                                                             "to": today.isoformat()}, allowed=w.coordinator_a)


def _merchant_report(w: World) -> Probe:
    month = datetime.now(UTC).strftime("%Y-%m")
    return Probe(f"/reports/merchants/{w.ids['shop_a']}", query={"month": month}, allowed=w.merchant_a)


def _action_verb(verb: str, body: dict, *, dispatched: bool, accepted: bool, allowed: str | None):
    def build(w: World) -> Probe:
        # A volunteer of its own per probe: nobody holds more than three open actions.
        doer = w.volunteer() if dispatched else None
        action = w.new_action(dispatched_to=doer, accepted=accepted)
        who = doer if allowed == "volunteer_a" else (w.actors[allowed] if allowed else None)
        return Probe(f"/actions/{action}/{verb}", dict(body), lambda: w.action_state(action), allowed=who)
    return build


def _dispatch(w: World) -> Probe:
    action = w.new_action()
    return Probe(f"/actions/{action}/dispatch", {"volunteer_ids": [w.volunteer_a.id]},
                 lambda: w.action_state(action), allowed=w.coordinator_a)


def _see_action(w: World) -> Probe:
    action = w.new_action()
    return Probe(f"/actions/{action}", None, lambda: w.action_state(action), allowed=w.coordinator_a)


def _new_grid(w: World) -> Probe:
    name = w.unique("网格")
    return Probe("/grids", {"name": name, "level": 1, "parent_id": w.ids["root"]},
                 lambda: w.count("volunteers", "SELECT count(*) FROM grids WHERE name = :n", n=name), allowed=w.admin)


def _grid_outline(w: World) -> Probe:
    grid = w.ids["micro_a"]
    ring = [[121.42, 31.2], [121.43, 31.2], [121.43, 31.21], [121.42, 31.21], [121.42, 31.2]]
    return Probe(f"/grids/{grid}", {"outline": {"type": "Polygon", "coordinates": [ring]}},
                 lambda: w.count("volunteers", "SELECT outline FROM grids WHERE id = :g", g=grid), allowed=w.admin)


def _new_team(w: World) -> Probe:
    name = w.unique("行动队")
    return Probe("/teams", {"name": name},
                 lambda: w.count("volunteers", "SELECT count(*) FROM teams WHERE name = :n", n=name),
                 allowed=w.coordinator_a)


def _list_volunteers(w: World) -> Probe:
    return Probe("/volunteers", allowed=w.coordinator_a)


def _volunteer_profile(w: World) -> Probe:
    return Probe(f"/volunteers/{w.volunteer_a.id}", allowed=w.coordinator_a)


def _mass(w: World) -> Probe:
    title = w.unique("台风")
    return Probe("/actions/mass", {"title": title, "category": w.ids["category"], "grid_ids": [w.ids["micro_a"]]},
                 lambda: w.count("volunteers", "SELECT count(*) FROM actions WHERE title = :t", t=title))


def _booking_get(w: World) -> Probe:
    booking = w.new_booking()
    return Probe(f"/bookings/{booking}", None, lambda: w.booking_state(booking), allowed=w.resident)


def _booking_patch(w: World) -> Probe:
    booking = w.new_booking()
    return Probe(f"/bookings/{booking}", {"title": "别人的"}, lambda: w.booking_state(booking), allowed=w.resident)


def _booking_cancel(w: World) -> Probe:
    booking = w.new_booking()
    return Probe(f"/bookings/{booking}/cancel", {}, lambda: w.booking_state(booking), allowed=w.resident)


def _new_site(w: World) -> Probe:
    name = w.unique("驿站")
    return Probe("/sites", {"name": name},
                 lambda: w.count("bookings", "SELECT count(*) FROM sites WHERE name = :n", n=name), allowed=w.admin)


def _new_space(w: World) -> Probe:
    name = w.unique("烘焙教室")
    sites = w.suite.rpc("bookings", "ensure_space", f"矩阵中心 {w.tag}", {"name": f"治理议事厅 {w.tag}",
                                                                          "kind": "room", "capacity": 20})
    return Probe("/spaces", {"site_id": sites["site_id"], "name": name},
                 lambda: w.count("bookings", "SELECT count(*) FROM spaces WHERE name = :n", n=name), allowed=w.admin)


def _broadcast(grid_key: str):
    def build(w: World) -> Probe:
        title = w.unique("台风预警")
        return Probe("/broadcasts", {"title": title, "body": "请收好店招",
                                     "audience": [{"kind": "grid", "id": w.ids[grid_key]}]},
                     lambda: w.count("notifications", "SELECT count(*) FROM broadcasts WHERE title = :t", t=title),
                     allowed=w.coordinator_a)
    return build


def _deliveries(w: World) -> Probe:
    return Probe("/notification-deliveries", allowed=w.admin)


def _replay(w: World) -> Probe:
    """A parked message of the resident's own channel: the replay would put it back in line."""
    channel = w.ok(w.resident.post("/notification-channels", json={"name": w.unique("mail")[:20],
                                                                   "url": "mailto://b@example.org"}))
    with w.suite.database("notifications").transaction() as session:
        delivery = session.execute(text(
            "INSERT INTO deliveries (source_key, channel_id, user_id, type, severity, title, body, status, "
            "attempts, next_attempt_at, created_at) VALUES (:k, :c, :u, 'broadcast', 'info', '通知', '', "
            "'parked', 5, now(), now()) RETURNING id"),
            {"k": w.unique("matrix"), "c": channel["id"], "u": w.resident.id}).scalar()
    sql = "SELECT status, attempts FROM deliveries WHERE id = :d"
    return Probe("/notification-deliveries/replay", {"ids": [delivery]},
                 lambda: w.row("notifications", sql, d=delivery), allowed=w.admin)


def _other_channel(w: World) -> Probe:
    channel = w.ok(w.resident.post("/notification-channels", json={"name": "mail", "url": "mailto://a@example.org"}))
    sql = "SELECT count(*) FROM notification_channels WHERE id = :c AND active"
    return Probe(f"/notification-channels/{channel['id']}", None,
                 lambda: w.count("notifications", sql, c=channel["id"]), allowed=w.resident)


# -- signed-in operations: an anonymous caller is 401 before anything runs ----------------------------------

def _anon(path: str, body: dict | None = None, *, allowed: str | None = None, fresh: bool = False,
          query: dict | None = None, state=None):
    """The very request a signed-in caller makes (`allowed`, or a fresh account), sent without a token."""
    def build(w: World) -> Probe:
        who = w.suite.user() if fresh else (w.actors[allowed] if allowed else None)
        concrete = path.format(**w.ids, me=getattr(who, "id", 0))
        return Probe(concrete, body(w) if callable(body) else body,
                     (lambda: state(w, who)) if state else (lambda: None), allowed=who,
                     query=query(w) if callable(query) else query)
    return build


def _me_state(w: World, who):
    return w.ok(who.get("/me"))


def _session_state(w: World, who):
    return who.get("/me").status_code


def _anon_password(w: World) -> Probe:
    who = w.suite.user()
    return Probe("/me/password", {"current_password": who.user["password"],
                                  "new_password": w.unique("Neues-Passwort") + "!Aa1"},
                 lambda: w.count("gateway", "SELECT password_hash FROM accounts WHERE id = :a", a=who.id),
                 allowed=who)


def _wrong_password(w: World) -> Probe:
    who = w.suite.user()
    return Probe("/me/password", {"current_password": "not-my-password-1!", "new_password": "Neues-Passwort-1!Aa"},
                 lambda: w.count("gateway", "SELECT password_hash FROM accounts WHERE id = :a", a=who.id),
                 caller=who)


def _period(w: World) -> dict:
    start = datetime.now(UTC) + timedelta(days=1)
    return {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}


def _anon_action(w: World) -> Probe:
    body = w.action_body()
    return Probe("/actions", body, lambda: w.count("volunteers", "SELECT count(*) FROM actions WHERE title = :t",
                                                   t=body["title"]), allowed=w.resident)


def _anon_profile(w: World) -> Probe:
    who = w.suite.user()
    return Probe("/volunteers/me", {"display_name": "新志愿者", "skills": {"repair": 1},
                                    "grid_ids": [w.ids["micro_a"]], "availability": EVERY_DAY},
                 lambda: w.count("volunteers", "SELECT count(*) FROM volunteers WHERE user_id = :u", u=who.id),
                 allowed=who)


def _anon_waitlist(w: World) -> Probe:
    body = w.booking_body()
    return Probe("/waitlist", {k: body[k] for k in ("space_id", "starts_at", "ends_at", "title")},
                 lambda: w.count("bookings", "SELECT count(*) FROM waitlist WHERE title = :t", t=body["title"]))


def _anon_channel(w: World) -> Probe:
    who = w.suite.user()
    return Probe("/notification-channels", {"name": "mail", "url": "mailto://a@example.org"},
                 lambda: w.count("notifications", "SELECT count(*) FROM notification_channels "
                                                   "WHERE owner_kind = 'user' AND owner_id = :u", u=who.id),
                 allowed=who)


def _unread_state(w: World, who):
    return w.count("notifications", "SELECT count(*) FROM inbox_entries WHERE user_id = :u AND read_at IS NULL",
                   u=who.id)


def _preferences_state(w: World, who):
    return w.ok(who.get("/notification-preferences"))


# -- spaces and bookings -------------------------------------------------------------------------------------

def _edit_space(body: dict, allowed: str):
    def build(w: World) -> Probe:
        space = w.ids["approval_space"]
        changes = {k: (w.unique(v) if k == "name" else v) for k, v in body.items()}
        return Probe(f"/spaces/{space}", changes, lambda: w.space_state(space), allowed=w.actors[allowed])
    return build


def _blackout(whole_site: bool, allowed: str):
    def build(w: World) -> Probe:
        reason = w.unique("维修")
        start = (datetime.now(UTC) + timedelta(days=400 + w.ids.setdefault("blackouts", 0))).replace(
            minute=0, second=0, microsecond=0)
        w.ids["blackouts"] += 1
        return Probe(f"/spaces/{w.ids['approval_space']}/blackouts",
                     {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
                      "reason": reason, "whole_site": whole_site},
                     lambda: w.count("bookings", "SELECT count(*) FROM blackouts WHERE reason = :r", r=reason),
                     allowed=w.actors[allowed])
    return build


def _reserved_booking(path: str):
    def build(w: World) -> Probe:
        body = w.booking_body("reserved_space")
        return Probe(path, body, lambda: w.count("bookings", "SELECT count(*) FROM bookings WHERE title = :t",
                                                 t=body["title"]), allowed=w.coordinator_a)
    return build


def _booking_ics(w: World) -> Probe:
    booking = w.new_booking()
    return Probe(f"/bookings/{booking}.ics", None, lambda: w.booking_state(booking), allowed=w.resident)


def _pending_decision(verb: str):
    """A pending booking in a space that needs approval, which its booker (not a manager) can see."""
    def build(w: World) -> Probe:
        booking = w.new_booking("approval_space")
        assert w.booking_state(booking)["status"] == "pending"
        body = {"reason": "那天有活动"} if verb == "reject" else {}
        return Probe(f"/bookings/{booking}/{verb}", body, lambda: w.booking_state(booking),
                     allowed=w.space_manager)
    return build


def _check_in(w: World) -> Probe:
    """A booking starting in a few minutes: check-in is open for its booker."""
    start = (datetime.now(UTC) + timedelta(minutes=5)).replace(second=0, microsecond=0)
    booking = w.ok(w.resident.post("/bookings", json={
        "space_id": w.ids["space"], "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=30)).isoformat(), "title": "临时议事"}))
    occurrence = booking["occurrences"][0]["id"]
    sql = "SELECT status FROM occurrences WHERE id = :o"
    return Probe(f"/bookings/{booking['id']}/check-in", {"occurrence_id": occurrence},
                 lambda: w.count("bookings", sql, o=occurrence), allowed=w.resident)


def _waiting_entry(w: World) -> int:
    """resident_b waits for an hour `resident` booked."""
    start = w.next_slot()
    w.new_booking(start=start)
    body = w.booking_body(start=start)
    return w.ok(w.resident_b.post("/waitlist", json={k: body[k] for k in ("space_id", "starts_at", "ends_at",
                                                                          "title")}))["id"]


def _waitlist(verb: str):
    def build(w: World) -> Probe:
        entry = _waiting_entry(w)
        sql = "SELECT status FROM waitlist WHERE id = :e"
        path = f"/waitlist/{entry}" + ("/accept" if verb == "accept" else "")
        return Probe(path, {} if verb == "accept" else None, lambda: w.count("bookings", sql, e=entry),
                     allowed=w.resident_b if verb == "leave" else None)
    return build


# -- teams ---------------------------------------------------------------------------------------------------

def _member_state(w: World, team_key: str, user_id: int):
    members = w.ok(w.coordinator_a.get(f"/teams/{w.ids[team_key]}/members"))
    members = members["items"] if isinstance(members, dict) else members
    return [(m["status"], m["role"]) for m in members if m["user_id"] == user_id]


def _invite(w: World) -> Probe:
    invitee = w.volunteer()
    return Probe(f"/teams/{w.ids['team']}/invite", {"user_id": invitee.id, "role": "member"},
                 lambda: _member_state(w, "team", invitee.id), allowed=w.coordinator_a)


def _approve_member(w: World) -> Probe:
    asking = w.volunteer()
    w.ok(asking.post(f"/teams/{w.ids['team']}/join", json={}))
    return Probe(f"/teams/{w.ids['team']}/members/{asking.id}/approve", {},
                 lambda: _member_state(w, "team", asking.id), allowed=w.coordinator_a)


def _join_closed(w: World) -> Probe:
    return Probe(f"/teams/{w.ids['closed_team']}/join", {},
                 lambda: _member_state(w, "closed_team", w.volunteer_b.id))


# -- actions -------------------------------------------------------------------------------------------------

def _timeline(w: World) -> Probe:
    action = w.new_action()
    return Probe(f"/actions/{action}/timeline", None, lambda: w.action_state(action), allowed=w.resident)


def _suggestions(w: World) -> Probe:
    action = w.new_action()
    return Probe(f"/actions/{action}/suggestions", None, lambda: w.action_state(action), allowed=w.coordinator_a)


def _checklist(w: World) -> Probe:
    doer = w.volunteer()
    action = w.new_action(dispatched_to=doer, accepted=True, checklist=["拧紧螺丝", "拍照"])
    return Probe(f"/actions/{action}/checklist", {"index": 0, "done": True},
                 lambda: (w.action_state(action), w.ok(w.admin.get(f"/actions/{action}"))["checklist"]),
                 allowed=doer)


def _settle(verb: str, body: dict):
    """verify / reopen on a resolved action, by the volunteer who resolved it (not its reporter)."""
    def build(w: World) -> Probe:
        doer = w.volunteer()
        action = w.resolved_action(doer)
        return Probe(f"/actions/{action}/{verb}", dict(body), lambda: w.action_state(action), allowed=w.resident,
                     caller=doer)
    return build


def _merge(w: World) -> Probe:
    duplicate, survivor = w.new_action(), w.new_action()
    return Probe(f"/actions/{duplicate}/merge", {"survivor_id": survivor},
                 lambda: (w.action_state(duplicate), w.action_state(survivor)), allowed=w.coordinator_a)


def _hours(w: World) -> Probe:
    doer = w.volunteer()
    action = w.resolved_action(doer)
    sql = "SELECT minutes FROM work_logs WHERE action_id = :a"
    return Probe(f"/actions/{action}/hours", {"minutes": 45, "reason": "路上的时间也算"},
                 lambda: w.count("volunteers", sql, a=action), allowed=doer)


# -- visits and the console ----------------------------------------------------------------------------------

def _visit(w: World) -> Probe:
    findings = w.unique("店招已加固")
    sql = "SELECT count(*) FROM visits WHERE findings = :f"
    return Probe("/visits", {"merchant_id": w.ids["shop_a"], "findings": findings},
                 lambda: w.count("volunteers", sql, f=findings), allowed=w.coordinator_a)


def _staff_read(path: str, query=None):
    def build(w: World) -> Probe:
        return Probe(path.format(**w.ids), None, query=query(w) if callable(query) else query,
                     allowed=w.coordinator_a)
    return build


# -- merchants, items, claims, wishes ------------------------------------------------------------------------

def _register_shop(w: World) -> Probe:
    name = w.unique("面馆")
    return Probe("/merchants", {"name": name, "grid_id": w.ids["micro_a"], "category": "food",
                                "street_area": "U巷"},
                 lambda: w.count("volunteers", "SELECT count(*) FROM merchants WHERE name = :n", n=name),
                 allowed=w.merchant_a)


def _resume_suspended(w: World) -> Probe:
    """An item a coordinator suspended: its owner may not resume it, the coordinator may."""
    pledge = w.ok(w.merchant_a.post("/pledges", json={
        "merchant_id": w.ids["shop_a"], "title": w.unique("热水"), "beneficiary_groups": ["rider"], "stock": 5}))
    w.ok(w.coordinator_a.post(f"/pledges/{pledge['id']}/suspend", json={"note": "核实中"}))
    return Probe(f"/pledges/{pledge['id']}/resume", {}, lambda: w.pledge_state(pledge["id"]),
                 allowed=w.coordinator_a)


def _claim(w: World) -> Probe:
    pledge = w.ids["pledge_a"]
    sql = "SELECT count(*) FROM claims WHERE pledge_id = :p"
    return Probe(f"/pledges/{pledge}/claims", {}, lambda: w.count("volunteers", sql, p=pledge), allowed=w.rider)


def _post_wish(w: World) -> Probe:
    title = w.unique("助听器")
    return Probe("/wishes", {"title": title, "story": "听不清电话", "estimated_value": 300,
                             "grid_id": w.ids["micro_a"]},
                 lambda: w.count("volunteers", "SELECT count(*) FROM wishes WHERE title = :t", t=title),
                 allowed=w.rider)


def _wish_verb(verb: str, state: str, allowed: str, body: dict | None = None):
    def build(w: World) -> Probe:
        wish = w.new_wish(state)
        return Probe(f"/wishes/{wish}/{verb}", dict(body or {}), lambda: w.wish_state(wish),
                     allowed=w.actors[allowed])
    return build


# -- notifications -------------------------------------------------------------------------------------------

def _inbox_entry(w: World) -> Probe:
    with w.suite.database("notifications").transaction() as session:
        entry = session.execute(text(
            "INSERT INTO inbox_entries (user_id, source_key, type, category, severity, title, body, data, "
            "created_at) VALUES (:u, :k, 'broadcast', 'general', 'info', '通知', '', '{}', now()) RETURNING id"),
            {"u": w.resident.id, "k": w.unique("matrix")}).scalar()
    sql = "SELECT read_at FROM inbox_entries WHERE id = :e"
    return Probe(f"/notifications/{entry}/read", {}, lambda: w.count("notifications", sql, e=entry),
                 allowed=w.resident)


def _group_channel(w: World) -> Probe:
    name = w.unique("team")[:20]
    sql = "SELECT count(*) FROM notification_channels WHERE owner_kind = 'team' AND owner_id = :t"
    return Probe("/notification-channels", {"name": name, "url": "mailto://team@example.org",
                                            "team_id": w.ids["team"]},
                 lambda: w.count("notifications", sql, t=w.ids["team"]), allowed=w.coordinator_a)


def _grid_channels(w: World) -> Probe:
    return Probe("/notification-channels", query={"grid_id": w.ids["micro_a"]}, allowed=w.coordinator_a)


def _broadcast_preview(w: World) -> Probe:
    title = w.unique("台风预警")
    return Probe("/broadcasts/preview", {"title": title, "body": "请收好店招",
                                         "audience": [{"kind": "grid", "id": w.ids["micro_a"]}]},
                 lambda: w.count("notifications", "SELECT count(*) FROM broadcasts WHERE title = :t", t=title),
                 allowed=w.coordinator_a)


def _one_broadcast(w: World) -> Probe:
    sent = w.ok(w.coordinator_a.post("/broadcasts", json={
        "title": w.unique("停水通知"), "body": "明天九点到十一点", "audience": [{"kind": "grid", "id": w.ids["micro_a"]}]}))
    return Probe(f"/broadcasts/{sent['id']}", allowed=w.coordinator_a)


# ----------------------------------------------------------------- activities: check-in, attendance, reports

def _checkin_world(w: World) -> dict:
    """An activity of the space manager's with a session starting in ten minutes (check-in is open), and
    confirmed sign-ups of `resident` and `resident_b`; a new one per probe."""
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    activity = w.ok(w.space_manager.post("/activities", json={
        "title_zh": w.unique("夜校"), "kind": "class", "capacity": 5, "sessions": [{
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(), "place": "活动室"}]}))
    session = w.ok(w.space_manager.get(f"/activities/{activity['id']}"))["sessions"][0]["id"]
    signups = {name: w.ok(w.actors[name].post(f"/activities/{activity['id']}/signups", json={}))["id"]
               for name in ("resident", "resident_b")}
    return {"activity": activity["id"], "session": session, "signups": signups}


def _attendance_rows(w: World, session: int):
    return w.count("activities", "SELECT count(*) FROM attendance WHERE session_id = :s", s=session)


def _helper_rows(w: World, session: int):
    return w.count("activities", "SELECT count(*) FROM session_helpers WHERE session_id = :s", s=session)


def _session_read(what: str):
    def build(w: World) -> Probe:
        return Probe(f"/activity-sessions/{_checkin_world(w)['session']}/{what}", allowed=w.space_manager)
    return build


def _ticket(w: World) -> Probe:
    made = _checkin_world(w)
    return Probe(f"/activity-signups/{made['signups']['resident_b']}/ticket", allowed=w.resident_b)


def _check_in_someone_else(w: World) -> Probe:
    session = _checkin_world(w)["session"]
    return Probe(f"/activity-sessions/{session}/check-in", {"user_id": w.resident.id},
                 lambda: _attendance_rows(w, session), allowed=w.space_manager)


def _add_helper(w: World) -> Probe:
    session = _checkin_world(w)["session"]
    return Probe(f"/activity-sessions/{session}/helpers", {"user_id": w.volunteer_a.id},
                 lambda: _helper_rows(w, session), allowed=w.space_manager)


def _remove_helper(w: World) -> Probe:
    session = _checkin_world(w)["session"]
    w.ok(w.space_manager.post(f"/activity-sessions/{session}/helpers", json={"user_id": w.volunteer_a.id}))
    return Probe(f"/activity-sessions/{session}/helpers/{w.volunteer_a.id}", None,
                 lambda: _helper_rows(w, session), allowed=w.space_manager)


def _walk_ins(w: World) -> Probe:
    session = _checkin_world(w)["session"]
    return Probe(f"/activity-sessions/{session}/walk-ins", {"count": 3},
                 lambda: w.count("activities", "SELECT walk_ins FROM activity_sessions WHERE id = :s", s=session),
                 allowed=w.space_manager)


# ----------------------------------------------------------------- activities, sessions and sign-ups

ORGANISERS = "the activity's organisers (its creator, the organising team's leads); coordinators; admin"


def _new_activity(w: World, **more) -> dict:
    """An activity of the space manager's (its organiser) with one session a week ahead, at a place in words."""
    start = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    return w.ok(w.space_manager.post("/activities", json={
        "title_zh": w.unique("夜校"), "kind": "class", "capacity": 5, **more, "sessions": [{
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(), "place": "活动室"}]}))


def _activity_state(w: World, activity_id: int):
    return w.row("activities", "SELECT state, capacity, title_zh, version FROM activities WHERE id = :a", a=activity_id)


def _activity_session_state(w: World, session_id: int):
    return w.row("activities", "SELECT state, starts_at, ends_at FROM activity_sessions WHERE id = :s", s=session_id)


def _signup_state(w: World, signup_id: int):
    return w.row("activities", "SELECT state, places FROM signups WHERE id = :s", s=signup_id)


def _create_activity(w: World) -> Probe:
    title = w.unique("行走党课")
    return Probe("/activities", {"title_zh": title, "kind": "walk", "capacity": 20},
                 lambda: w.count("activities", "SELECT count(*) FROM activities WHERE title_zh = :t", t=title),
                 allowed=w.space_manager)


def _an_activity_read(suffix: str = ""):
    def build(w: World) -> Probe:
        activity = _new_activity(w)
        return Probe(f"/activities/{activity['id']}{suffix}", allowed=w.resident)
    return build


def _change_activity(w: World) -> Probe:
    activity = _new_activity(w)
    return Probe(f"/activities/{activity['id']}", {"capacity": 9}, lambda: _activity_state(w, activity["id"]),
                 allowed=w.space_manager)


def _cancel_activity(w: World) -> Probe:
    activity = _new_activity(w)
    return Probe(f"/activities/{activity['id']}/cancel", {"reason": "下雨"},
                 lambda: _activity_state(w, activity["id"]), allowed=w.space_manager)


def _add_session(w: World) -> Probe:
    activity = _new_activity(w)
    start = (datetime.now(UTC) + timedelta(days=14)).replace(microsecond=0)
    return Probe(f"/activities/{activity['id']}/sessions",
                 {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(), "place": "广场"},
                 lambda: w.count("activities", "SELECT count(*) FROM activity_sessions WHERE activity_id = :a",
                                 a=activity["id"]), allowed=w.space_manager)


def _move_session(w: World) -> Probe:
    session = _new_activity(w)["sessions"][0]
    start = (datetime.now(UTC) + timedelta(days=8)).replace(microsecond=0)
    return Probe(f"/activity-sessions/{session['id']}",
                 {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()},
                 lambda: _activity_session_state(w, session["id"]), allowed=w.space_manager)


def _cancel_session(w: World) -> Probe:
    session = _new_activity(w)["sessions"][0]
    return Probe(f"/activity-sessions/{session['id']}/cancel", {"reason": "台风"},
                 lambda: _activity_session_state(w, session["id"]), allowed=w.space_manager)


def _sign_up_for_riders(w: World) -> Probe:
    activity = _new_activity(w, groups=["rider"])
    return Probe(f"/activities/{activity['id']}/signups", {},
                 lambda: w.count("activities", "SELECT count(*) FROM signups WHERE activity_id = :a",
                                 a=activity["id"]), allowed=w.rider)


def _signups_of(w: World) -> Probe:
    activity = _new_activity(w)
    w.ok(w.resident.post(f"/activities/{activity['id']}/signups", json={}))
    return Probe(f"/activities/{activity['id']}/signups", allowed=w.space_manager)


def _cancel_signup(w: World) -> Probe:
    activity = _new_activity(w)
    signup = w.ok(w.resident.post(f"/activities/{activity['id']}/signups", json={}))
    return Probe(f"/activity-signups/{signup['id']}/cancel", {}, lambda: _signup_state(w, signup["id"]),
                 allowed=w.resident)


def _confirm_offer(w: World) -> Probe:
    """`resident` is offered the place `resident_b` gave back; its organiser may not take it for them."""
    activity = _new_activity(w, capacity=1)
    first = w.ok(w.resident_b.post(f"/activities/{activity['id']}/signups", json={}))
    waiting = w.ok(w.resident.post(f"/activities/{activity['id']}/signups", json={"wait": True}))
    w.ok(w.resident_b.post(f"/activity-signups/{first['id']}/cancel", json={}))
    return Probe(f"/activity-signups/{waiting['id']}/confirm", {}, lambda: _signup_state(w, waiting["id"]),
                 allowed=w.resident)


def _activities_report(w: World) -> Probe:
    today = datetime.now(UTC).date()
    return Probe("/activities/reports", query={"from": (today - timedelta(days=30)).isoformat(),
                                               "to": today.isoformat()}, allowed=w.space_manager)


D = Denial
RESIDENTS = ("resident", "merchant_a", "volunteer_a")

# ------------------------------------------------------------------------------------------------ the table

MATRIX: list[Rule] = [
    # accounts and tokens
    Rule("POST", "/accounts", ANYONE, public=True),
    Rule("POST", "/auth/token", ANYONE, public=True),
    Rule("POST", "/auth/logout", SIGNED_IN + " (ends only the caller's own session)",
         (D("anonymous", 401, _anon("/auth/logout", {}, fresh=True, state=_session_state), "not signed in"),)),
    Rule("GET", "/me", SIGNED_IN, (D("anonymous", 401, _anon("/me", allowed="resident"), "not signed in"),)),
    Rule("PATCH", "/me", SIGNED_IN + " (own profile)",
         (D("anonymous", 401, _anon("/me", {"display_name": "改个名"}, fresh=True, state=_me_state),
            "not signed in"),)),
    Rule("POST", "/me/password", SIGNED_IN + " (own password, with the current one)",
         (D("anonymous", 401, _anon_password, "not signed in"),
          D("the account itself", 422, _wrong_password, "a wrong current password (a stolen token is not enough)"))),
    Rule("GET", "/accounts", STAFF, tuple(D(a, 403, _list_accounts, "not staff") for a in RESIDENTS)),
    Rule("GET", "/accounts/{account_id}", "the account itself; " + STAFF,
         (D("resident", 403, _other_account, "another resident's account"),)),
    Rule("POST", "/accounts/{account_id}/roles",
         "coordinator (merchant, volunteer, space_manager, to people in their grids, not to coordinators); "
         "admin (also coordinator, admin); never one's own", (
             D("resident", 403, _role_grant("merchant"), "residents grant nothing"),
             D("merchant_a", 403, _role_grant("merchant"), "merchants grant nothing"),
             D("volunteer_a", 403, _role_grant("volunteer"), "volunteers grant nothing"),
             D("coordinator_a", 403, _role_grant("coordinator"), "only admins grant coordinator"),
             D("coordinator_a", 403, _role_grant("admin"), "only admins grant admin"),
             D("coordinator_a", 403, _self_grant, "nobody changes their own roles"),
             D("coordinator_b", 403, _grant_in_micro_a("merchant"), "a person outside the coordinator's grids"),
             D("coordinator_a", 403, _grant_in_micro_a("volunteer", ("resident", "coordinator")),
               "another coordinator (only admins act on coordinators)"),
         )),
    Rule("DELETE", "/accounts/{account_id}/roles/{role}", "as for granting", (
        D("resident", 403, _revoke("merchant"), "residents revoke nothing"),
        D("coordinator_a", 403, _revoke("admin"), "only admins revoke admin"),
        D("coordinator_a", 403, _revoke("coordinator"), "only admins revoke coordinator"),
    )),
    Rule("PUT", "/accounts/{account_id}/groups",
         "coordinator (people in their grids; not their own, not another coordinator's); admin", (
        D("resident", 403, _groups, "residents confirm no groups"),
        D("volunteer_a", 403, _groups, "volunteers confirm no groups"),
        D("coordinator_b", 403, _groups, "a person outside the coordinator's grids"),
        D("coordinator_a", 403, _own_groups, "a coordinator's own groups"),
        D("coordinator_a", 403, _coordinators_groups, "another coordinator's groups"),
    )),
    Rule("POST", "/accounts/{account_id}/deactivate", ADMIN + " (not oneself)",
         (D("coordinator_a", 403, _deactivate, "coordinators do not deactivate accounts"),)),
    Rule("POST", "/accounts/{account_id}/activate", ADMIN,
         (D("coordinator_a", 403, _activate, "coordinators do not activate accounts"),)),
    # bookings
    Rule("GET", "/sites", SIGNED_IN, (D("anonymous", 401, _anon("/sites", allowed="resident"), "not signed in"),)),
    Rule("POST", "/sites", STAFF, (D("resident", 403, _new_site, "the catalogue is the staff's"),
                                   D("space_manager", 403, _new_site, "managers run spaces, not the catalogue"))),
    Rule("GET", "/spaces", SIGNED_IN, (D("anonymous", 401, _anon("/spaces", allowed="resident"), "not signed in"),)),
    Rule("POST", "/spaces", STAFF, (D("resident", 403, _new_space, "the catalogue is the staff's"),
                                    D("space_manager", 403, _new_space, "managers run spaces, not the catalogue"))),
    Rule("GET", "/spaces/{space_id}", SIGNED_IN,
         (D("anonymous", 401, _anon("/spaces/{space}", allowed="resident"), "not signed in"),)),
    Rule("PATCH", "/spaces/{space_id}", STAFF + "; the space's managers (rules, capacity, equipment)",
         (D("resident", 403, _edit_space({"capacity": 30}, "space_manager"), "neither staff nor its manager"),
          D("space_manager", 403, _edit_space({"name": "改名"}, "admin"),
            "a manager changes rules, capacity and equipment, not its name"))),
    Rule("GET", "/spaces/{space_id}/availability", SIGNED_IN,
         (D("anonymous", 401, _anon("/spaces/{space}/availability", allowed="resident", query=_period),
            "not signed in"),)),
    Rule("GET", "/spaces/{space_id}/calendar.ics", SIGNED_IN,
         (D("anonymous", 401, _anon("/spaces/{space}/calendar.ics", allowed="resident"), "not signed in"),)),
    Rule("GET", "/spaces/{space_id}/blackouts", SIGNED_IN,
         (D("anonymous", 401, _anon("/spaces/{space}/blackouts", allowed="resident"), "not signed in"),)),
    Rule("POST", "/spaces/{space_id}/blackouts", STAFF + "; the space's managers (their own space, not its site)",
         (D("resident", 403, _blackout(False, "space_manager"), "neither staff nor its manager"),
          D("space_manager", 403, _blackout(True, "admin"), "a manager blacks out the space, not its whole site"))),
    Rule("POST", "/bookings", SIGNED_IN + " (spaces reserved for roles or teams: those only)",
         (D("resident", 403, _reserved_booking("/bookings"), "a space reserved for coordinators"),)),
    Rule("POST", "/bookings/preview", "as POST /bookings (writes nothing)",
         (D("resident", 403, _reserved_booking("/bookings/preview"), "a space reserved for coordinators"),)),
    Rule("GET", "/bookings", SIGNED_IN + " (own; scope=managed: bookings of spaces one manages)",
         (D("anonymous", 401, _anon("/bookings", allowed="resident"), "not signed in"),)),
    Rule("GET", "/bookings/{booking_id}", "the booker; the space's managers; admin",
         (D("resident_b", 404, _booking_get, "another resident's booking"),)),
    Rule("PATCH", "/bookings/{booking_id}", "the booker",
         (D("resident_b", 404, _booking_patch, "another resident's booking"),
          D("space_manager", 403, _booking_patch, "a manager of the space sees it; only its booker edits it"))),
    Rule("GET", "/bookings/{booking_id}.ics", "as GET /bookings/{booking_id}",
         (D("resident_b", 404, _booking_ics, "another resident's booking"),)),
    Rule("POST", "/bookings/{booking_id}/cancel", "the booker; the space's managers; admin",
         (D("resident_b", 404, _booking_cancel, "another resident's booking"),)),
    Rule("POST", "/bookings/{booking_id}/approve", "the space's managers; admin",
         (D("resident", 403, _pending_decision("approve"), "its booker, who sees it but does not manage the space"),
          D("resident_b", 404, _pending_decision("approve"), "someone else's pending booking (not visible)"))),
    Rule("POST", "/bookings/{booking_id}/reject", "the space's managers; admin",
         (D("resident", 403, _pending_decision("reject"), "its booker, who sees it but does not manage the space"),
          D("resident_b", 404, _pending_decision("reject"), "someone else's pending booking (not visible)"))),
    Rule("POST", "/bookings/{booking_id}/check-in", "the booker (today also the space's managers, who see the booking)",
         (D("resident_b", 404, _check_in, "another resident's booking"),)),
    Rule("POST", "/waitlist", SIGNED_IN, (D("anonymous", 401, _anon_waitlist, "not signed in"),)),
    Rule("GET", "/waitlist", SIGNED_IN + " (own entries)",
         (D("anonymous", 401, _anon("/waitlist", allowed="resident"), "not signed in"),)),
    Rule("DELETE", "/waitlist/{entry_id}", "the entry's owner",
         (D("resident", 404, _waitlist("leave"), "someone else's entry"),)),
    Rule("POST", "/waitlist/{entry_id}/accept", "the entry's owner",
         (D("resident", 404, _waitlist("accept"), "someone else's entry"),)),
    # grids, teams, volunteers, actions, visits
    Rule("GET", "/grids", SIGNED_IN, (D("anonymous", 401, _anon("/grids", allowed="resident"), "not signed in"),)),
    Rule("POST", "/grids", ADMIN, (D("coordinator_a", 403, _new_grid, "the grid tree is the admins'"),)),
    Rule("GET", "/grids/{grid_id}", SIGNED_IN,
         (D("anonymous", 401, _anon("/grids/{micro_a}", allowed="resident"), "not signed in"),)),
    Rule("PATCH", "/grids/{grid_id}", ADMIN, (D("coordinator_a", 403, _grid_outline, "the grid tree is the admins'"),)),
    Rule("GET", "/grid-status", STAFF, (D("resident", 403, _staff_read("/grid-status"), "not staff"),)),
    Rule("GET", "/teams", SIGNED_IN, (D("anonymous", 401, _anon("/teams", allowed="resident"), "not signed in"),)),
    Rule("POST", "/teams", STAFF, (D("resident", 403, _new_team, "not staff"),
                                   D("volunteer_a", 403, _new_team, "not staff"))),
    Rule("GET", "/teams/{team_id}", SIGNED_IN,
         (D("anonymous", 401, _anon("/teams/{team}", allowed="resident"), "not signed in"),)),
    Rule("GET", "/teams/{team_id}/members", SIGNED_IN + " (leads and coordinators also see requests)",
         (D("anonymous", 401, _anon("/teams/{team}/members", allowed="resident"), "not signed in"),)),
    Rule("POST", "/teams/{team_id}/join", SIGNED_IN + " (open teams; invitation-only teams by invitation)",
         (D("volunteer_b", 403, _join_closed, "an invitation-only team, uninvited"),)),
    Rule("POST", "/teams/{team_id}/invite", "the team's leads; " + STAFF,
         (D("volunteer_b", 403, _invite, "neither a lead nor staff"),)),
    Rule("POST", "/teams/{team_id}/members/{user_id}/approve", "the team's leads; " + STAFF,
         (D("volunteer_b", 403, _approve_member, "neither a lead nor staff"),)),
    Rule("GET", "/volunteers", STAFF, tuple(D(a, 403, _list_volunteers, "not staff") for a in RESIDENTS)),
    Rule("POST", "/volunteers/me", SIGNED_IN + " (own profile)",
         (D("anonymous", 401, _anon_profile, "not signed in"),)),
    Rule("GET", "/volunteers/me", SIGNED_IN + " (own profile)",
         (D("anonymous", 401, _anon("/volunteers/me", allowed="volunteer_a"), "not signed in"),)),
    Rule("PATCH", "/volunteers/me", SIGNED_IN + " (own profile)",
         (D("anonymous", 401, _anon("/volunteers/me", {"display_name": "志愿者 volunteer_b"}, allowed="volunteer_b",
                                    state=lambda w, who: w.ok(who.get("/volunteers/me"))), "not signed in"),)),
    Rule("GET", "/volunteers/{user_id}", STAFF, (D("volunteer_b", 403, _volunteer_profile, "another volunteer"),)),
    Rule("GET", "/action-categories", SIGNED_IN,
         (D("anonymous", 401, _anon("/action-categories", allowed="resident"), "not signed in"),)),
    Rule("POST", "/actions", SIGNED_IN, (D("anonymous", 401, _anon_action, "not signed in"),)),
    Rule("GET", "/actions", SIGNED_IN + " (what the caller may see: own reports, assignments, grids in scope)",
         (D("anonymous", 401, _anon("/actions", allowed="resident"), "not signed in"),)),
    Rule("POST", "/actions/mass", STAFF + " (grids in scope)",
         (D("coordinator_b", 403, _mass, "a coordinator outside the grid"),
          D("volunteer_a", 403, _mass, "not staff"))),
    Rule("GET", "/actions/{action_id}", "its reporter, followers and assignees; coordinators of its grid",
         (D("coordinator_b", 403, _see_action, "a coordinator outside the grid"),
          D("resident_b", 403, _see_action, "someone else's report"))),
    Rule("GET", "/actions/{action_id}/timeline", "as GET /actions/{action_id}",
         (D("resident_b", 403, _timeline, "someone else's report"),)),
    Rule("GET", "/actions/{action_id}/suggestions", "coordinators of its grid",
         (D("resident", 403, _suggestions, "its reporter, who sees it but does not dispatch"),
          D("coordinator_b", 403, _suggestions, "a coordinator outside the grid"))),
    Rule("POST", "/actions/{action_id}/dispatch", "coordinators of its grid",
         (D("coordinator_b", 403, _dispatch, "a coordinator outside the grid"),
          D("volunteer_a", 403, _dispatch, "volunteers do not dispatch"))),
    Rule("POST", "/actions/{action_id}/accept", "a volunteer it was dispatched to",
         (D("volunteer_b", 403, _action_verb("accept", {}, dispatched=True, accepted=False, allowed="volunteer_a"),
            "one volunteer against another's action"),)),
    Rule("POST", "/actions/{action_id}/decline", "a volunteer it was dispatched to",
         (D("volunteer_b", 403, _action_verb("decline", {}, dispatched=True, accepted=False, allowed="volunteer_a"),
            "one volunteer against another's action"),)),
    Rule("POST", "/actions/{action_id}/start", "the volunteer who accepted it",
         (D("volunteer_b", 403, _action_verb("start", {}, dispatched=True, accepted=True, allowed="volunteer_a"),
            "one volunteer against another's action"),)),
    Rule("POST", "/actions/{action_id}/checklist", "the volunteer who accepted it; coordinators of its grid",
         (D("resident", 403, _checklist, "its reporter, who sees it but does not do the work"),
          D("volunteer_b", 403, _checklist, "one volunteer against another's action"))),
    Rule("POST", "/actions/{action_id}/resolve", "the volunteer who accepted it; coordinators of its grid",
         (D("volunteer_b", 403, _action_verb("resolve", {"outcome": "已加固"}, dispatched=True, accepted=True,
                                             allowed="volunteer_a"), "one volunteer against another's action"),
          D("coordinator_b", 403, _action_verb("resolve", {"outcome": "已加固"}, dispatched=True, accepted=True,
                                               allowed=None), "a coordinator outside the grid"))),
    Rule("POST", "/actions/{action_id}/verify", "its reporter; coordinators of its grid",
         (D("its volunteer", 403, _settle("verify", {}), "the volunteer who resolved it does not verify it"),)),
    Rule("POST", "/actions/{action_id}/reopen", "its reporter; coordinators of its grid",
         (D("its volunteer", 403, _settle("reopen", {"reason": "还是松的"}),
            "the volunteer who resolved it does not reopen it"),)),
    Rule("POST", "/actions/{action_id}/escalate", "coordinators of its grid (and of the levels above)",
         (D("coordinator_b", 403, _action_verb("escalate", {"reason": "人手不足"}, dispatched=False, accepted=False,
                                               allowed="coordinator_a"), "a coordinator outside the grid"),)),
    Rule("POST", "/actions/{action_id}/cancel", "its reporter; coordinators of its grid",
         (D("coordinator_b", 403, _action_verb("cancel", {}, dispatched=False, accepted=False,
                                               allowed="coordinator_a"), "a coordinator outside the grid"),)),
    Rule("POST", "/actions/{action_id}/merge", "coordinators of its grid",
         (D("resident", 403, _merge, "the reporter of both, who sees them but does not merge"),
          D("coordinator_b", 403, _merge, "a coordinator outside the grid"))),
    Rule("POST", "/actions/{action_id}/hours", "the volunteer; coordinators of its grid",
         (D("resident", 403, _hours, "its reporter, who sees it but did not do the work"),
          D("volunteer_b", 403, _hours, "one volunteer against another's hours"))),
    Rule("POST", "/visits", STAFF + " (merchants in their grids)",
         (D("resident", 403, _visit, "not staff"), D("coordinator_b", 403, _visit, "a shop outside the grid"))),
    Rule("GET", "/visits", STAFF + " (visits in their grids)",
         (D("resident", 403, _staff_read("/visits"), "not staff"),)),
    Rule("GET", "/visits/overdue", STAFF + " (grids in their scope)",
         (D("resident", 403, _staff_read("/visits/overdue"), "not staff"),
          D("coordinator_b", 403, _staff_read("/visits/overdue", lambda w: {"grid_id": w.ids["micro_a"]}), "a grid outside the scope"))),
    # merchants, charity items, claims, wishes
    Rule("POST", "/merchants", "merchant (own shop)", (D("resident", 403, _register_shop, "not a merchant"),)),
    Rule("GET", "/merchants", ANYONE + " (pending shops: their owner and coordinators)", public=True),
    Rule("GET", "/merchants/{merchant_id}", ANYONE + " (pending shops: their owner and coordinators)", public=True),
    Rule("POST", "/merchants/{merchant_id}/approve", "coordinators of the shop's grid",
         (D("coordinator_b", 404, _approve_shop, "a coordinator outside the grid (a pending shop is not visible)"),
          D("merchant_b", 403, _approve_shop, "merchants do not approve shops"))),
    Rule("POST", "/merchants/{merchant_id}/reject", "coordinators of the shop's grid (who may approve it)",
         (D("coordinator_b", 404, _reject_shop, "a coordinator outside the grid (a pending shop is not visible)"),
          D("merchant_b", 403, _reject_shop, "merchants do not reject shops"))),
    Rule("POST", "/pledges", "the shop's owner",
         (D("merchant_b", 403, _pledge_for_others_shop, "one merchant against another's shop"),)),
    Rule("GET", "/pledges", ANYONE, public=True),
    Rule("GET", "/pledges/{pledge_id}", ANYONE + " (hidden items: their owner and coordinators)", public=True),
    Rule("PATCH", "/pledges/{pledge_id}", "the shop's owner",
         (D("merchant_b", 403, _edit_pledge, "one merchant against another's item"),)),
    Rule("POST", "/pledges/{pledge_id}/pause", "the shop's owner",
         (D("merchant_b", 403, _pledge_verb("pause"), "one merchant against another's item"),)),
    Rule("POST", "/pledges/{pledge_id}/resume", "the shop's owner; coordinators of the shop's grid "
         "(an item a coordinator suspended: coordinators only)",
         (D("merchant_a", 403, _resume_suspended, "the owner, on an item a coordinator suspended"),
          D("coordinator_b", 404, _resume_suspended, "a coordinator outside the grid (a suspended item is hidden)"))),
    Rule("POST", "/pledges/{pledge_id}/end", "the shop's owner; coordinators of the shop's grid",
         (D("merchant_b", 403, _pledge_verb("end"), "one merchant against another's item"),)),
    Rule("POST", "/pledges/{pledge_id}/suspend", "coordinators of the shop's grid",
         (D("coordinator_b", 403, _pledge_verb("suspend"), "a coordinator outside the grid"),
          D("merchant_a", 403, _pledge_verb("suspend"), "owners pause; they do not suspend"))),
    Rule("POST", "/pledges/{pledge_id}/claims", "accounts confirmed in one of the item's beneficiary groups",
         (D("resident", 403, _claim, "no confirmed beneficiary group"),
          D("sanitation", 403, _claim, "confirmed in another group than the item's"))),
    Rule("GET", "/pledges/{pledge_id}/claims", "the shop's owner; coordinators of the shop's grid",
         (D("merchant_b", 403, _pledge_claims, "one merchant against another's item"),)),
    Rule("GET", "/claims", SIGNED_IN + " (own claims)",
         (D("anonymous", 401, _anon("/claims", allowed="rider"), "not signed in"),)),
    Rule("POST", "/claims/{code}/redeem", "the owner of the claimed item's shop",
         (D("merchant_b", 404, _redeem, "one merchant against another's claim (codes are secret)"),)),
    Rule("POST", "/wishes", "accounts with a confirmed beneficiary group; coordinators",
         (D("resident", 403, _post_wish, "no confirmed beneficiary group"),)),
    Rule("GET", "/wishes", ANYONE + " (published wishes; `mine`; coordinators: submitted ones)", public=True),
    Rule("GET", "/wishes/{wish_id}", ANYONE + " (published; others: owner, adopter, coordinators)", public=True),
    Rule("POST", "/wishes/{wish_id}/publish", "coordinators of the wish's grid",
         (D("rider", 403, _wish_verb("publish", "submitted", "coordinator_a"), "its owner does not vet it"),
          D("coordinator_b", 404, _wish_verb("publish", "submitted", "coordinator_a"),
            "a coordinator outside the grid (a submitted wish is not visible)"))),
    Rule("POST", "/wishes/{wish_id}/reject", "coordinators of the wish's grid",
         (D("rider", 403, _wish_verb("reject", "submitted", "coordinator_a", {"note": "重复"}),
            "its owner does not vet it"),)),
    Rule("POST", "/wishes/{wish_id}/adopt", "merchants and volunteers (not the wish's owner)",
         (D("resident", 403, _wish_verb("adopt", "published", "merchant_a"), "neither a merchant nor a volunteer"),
          D("rider", 403, _wish_verb("adopt", "published", "merchant_a"), "its owner"))),
    Rule("POST", "/wishes/{wish_id}/deliver", "the adopter",
         (D("merchant_b", 403, _wish_verb("deliver", "adopted", "merchant_a"), "a merchant who did not adopt it"),)),
    Rule("POST", "/wishes/{wish_id}/fulfil", "the wish's owner",
         (D("merchant_a", 403, _wish_verb("fulfil", "delivered", "rider"), "the adopter does not confirm receipt"),)),
    Rule("POST", "/wishes/{wish_id}/withdraw", "the wish's owner",
         (D("merchant_a", 403, _wish_verb("withdraw", "published", "rider"), "someone who may adopt it"),
          D("coordinator_a", 403, _wish_verb("withdraw", "published", "rider"), "a coordinator of its grid"))),
    Rule("GET", "/reports/merchants/{merchant_id}", "the shop's owner; coordinators of its grid",
         (D("merchant_b", 403, _merchant_report, "one merchant against another's shop"),)),
    Rule("GET", "/reports/grids/{grid_id}/merchants", SIGNED_IN + " (counts of approved, public shops)",
         (D("anonymous", 401, _anon("/reports/grids/{micro_a}/merchants", allowed="resident"), "not signed in"),)),
    Rule("GET", "/reports/grids/{grid_id}", "coordinators of the grid or a grid above it; admin",
         (D("coordinator_b", 403, _grid_report, "a coordinator of another grid"),
          D("resident", 403, _grid_report, "not a coordinator"))),
    # notifications
    Rule("GET", "/notifications", SIGNED_IN + " (own inbox)",
         (D("anonymous", 401, _anon("/notifications", allowed="resident"), "not signed in"),)),
    Rule("GET", "/notifications/unread", SIGNED_IN + " (own inbox's unread count)",
         (D("anonymous", 401, _anon("/notifications/unread", allowed="resident"), "not signed in"),)),
    Rule("POST", "/notifications/{entry_id}/read", SIGNED_IN + " (own entries; others' answer 404)",
         (D("resident_b", 404, _inbox_entry, "someone else's notification"),)),
    Rule("POST", "/notifications/read-all", SIGNED_IN + " (own inbox)",
         (D("anonymous", 401, _anon("/notifications/read-all", {}, allowed="resident", state=_unread_state),
            "not signed in"),)),
    Rule("GET", "/notification-preferences", SIGNED_IN + " (own)",
         (D("anonymous", 401, _anon("/notification-preferences", allowed="resident"), "not signed in"),)),
    Rule("PUT", "/notification-preferences", SIGNED_IN + " (own)",
         (D("anonymous", 401, _anon("/notification-preferences", {"categories": {}}, fresh=True,
                                    state=_preferences_state), "not signed in"),)),
    Rule("GET", "/notification-channels", SIGNED_IN + " (own; team and grid channels: coordinators)",
         (D("resident", 403, _grid_channels, "a grid's channels, not a coordinator"),
          D("coordinator_b", 403, _grid_channels, "a grid's channels outside the scope"))),
    Rule("POST", "/notification-channels", SIGNED_IN + " (own; team and grid channels: coordinators)",
         (D("anonymous", 401, _anon_channel, "not signed in"),
          D("volunteer_b", 403, _group_channel, "a team's channel, not a coordinator"))),
    Rule("DELETE", "/notification-channels/{channel_id}", "the channel's owner",
         (D("resident_b", 404, _other_channel, "another person's channel (private: 404)"),)),
    Rule("POST", "/broadcasts", STAFF + " (coordinators: grids in their scope)",
         (D("resident", 403, _broadcast("micro_a"), "not staff"),
          D("coordinator_b", 403, _broadcast("micro_a"), "a coordinator outside the grid"))),
    Rule("POST", "/broadcasts/preview", "as POST /broadcasts (writes nothing)",
         (D("resident", 403, _broadcast_preview, "not staff"),
          D("coordinator_b", 403, _broadcast_preview, "a coordinator outside the grid"))),
    Rule("GET", "/broadcasts", STAFF + " (own; admins: all)", (D("resident", 403, _staff_read("/broadcasts"), "not staff"),)),
    Rule("GET", "/broadcasts/{broadcast_id}", "its sender; admin",
         (D("coordinator_b", 404, _one_broadcast, "another coordinator's broadcast"),
          D("resident", 403, _one_broadcast, "not staff"))),
    Rule("GET", "/notification-deliveries", ADMIN, (D("coordinator_a", 403, _deliveries, "operators only"),)),
    Rule("POST", "/notification-deliveries/replay", ADMIN,
         (D("coordinator_a", 403, _replay, "operators only"),)),
    # activities, sessions and sign-ups
    Rule("GET", "/activities", SIGNED_IN, (D("anonymous", 401, _anon("/activities", allowed="resident"),
                                             "not signed in"),)),
    Rule("POST", "/activities", "coordinator, space_manager, admin; the leads of the organising team",
         (D("resident", 403, _create_activity, "not staff, and leads no team"),
          D("volunteer_a", 403, _create_activity, "a volunteer who leads no team"))),
    Rule("GET", "/activities/{activity_id}", SIGNED_IN,
         (D("anonymous", 401, _an_activity_read(), "not signed in"),)),
    Rule("PATCH", "/activities/{activity_id}", ORGANISERS,
         (D("resident", 403, _change_activity, "not an organiser"),)),
    Rule("POST", "/activities/{activity_id}/cancel", ORGANISERS,
         (D("resident", 403, _cancel_activity, "not an organiser"),)),
    Rule("GET", "/activities/{activity_id}/sessions", SIGNED_IN,
         (D("anonymous", 401, _an_activity_read("/sessions"), "not signed in"),)),
    Rule("POST", "/activities/{activity_id}/sessions", ORGANISERS,
         (D("resident", 403, _add_session, "not an organiser"),)),
    Rule("PATCH", "/activity-sessions/{session_id}", ORGANISERS,
         (D("resident", 403, _move_session, "not an organiser"),)),
    Rule("POST", "/activity-sessions/{session_id}/cancel", ORGANISERS,
         (D("resident", 403, _cancel_session, "not an organiser"),)),
    Rule("POST", "/activities/{activity_id}/signups", SIGNED_IN + " in one of the activity's groups or roles "
         "(everyone when it names none)",
         (D("resident", 403, _sign_up_for_riders, "an activity for riders, no confirmed rider group"),)),
    Rule("GET", "/activities/{activity_id}/signups", ORGANISERS,
         (D("resident", 403, _signups_of, "a participant, not an organiser"),)),
    Rule("GET", "/me/activity-signups", SIGNED_IN + " (own)",
         (D("anonymous", 401, _anon("/me/activity-signups", allowed="resident"), "not signed in"),)),
    Rule("POST", "/activity-signups/{signup_id}/cancel", "the participant (until the deadline); " + ORGANISERS,
         (D("resident_b", 404, _cancel_signup, "someone else's sign-up"),)),
    Rule("POST", "/activity-signups/{signup_id}/confirm", "the participant offered the places",
         (D("space_manager", 403, _confirm_offer, "the organiser, who sees the offer but does not take it"),
          D("resident_b", 404, _confirm_offer, "someone else's sign-up"))),
    # activities: check-in, attendance, helpers, walk-ins, reports
    Rule("GET", "/activity-sessions/{session_id}/code", "the activity's organisers; coordinators",
         (D("resident", 403, _session_read("code"), "a participant, not an organiser"),)),
    Rule("GET", "/activity-signups/{signup_id}/ticket", "the sign-up's participant",
         (D("resident", 404, _ticket, "someone else's sign-up"),)),
    Rule("POST", "/activity-sessions/{session_id}/check-in",
         "by code: a participant with a confirmed place or a helper, themselves; by ticket or user_id: the "
         "activity's organisers; coordinators",
         (D("resident_b", 403, _check_in_someone_else, "a participant checking in someone else"),)),
    Rule("GET", "/activity-sessions/{session_id}/attendance", "the activity's organisers; coordinators",
         (D("resident", 403, _session_read("attendance"), "a participant, not an organiser"),)),
    Rule("GET", "/activity-sessions/{session_id}/helpers", "the activity's organisers; coordinators",
         (D("volunteer_a", 403, _session_read("helpers"), "not an organiser"),)),
    Rule("POST", "/activity-sessions/{session_id}/helpers", "the activity's organisers; coordinators",
         (D("volunteer_a", 403, _add_helper, "a volunteer naming themselves"),)),
    Rule("DELETE", "/activity-sessions/{session_id}/helpers/{user_id}", "the activity's organisers; coordinators",
         (D("volunteer_a", 403, _remove_helper, "the helper, not an organiser"),)),
    Rule("POST", "/activity-sessions/{session_id}/walk-ins", "the activity's organisers; coordinators",
         (D("resident", 403, _walk_ins, "a participant, not an organiser"),)),
    Rule("GET", "/activities/reports", "coordinator, space_manager, admin",
         (D("resident", 403, _activities_report, "not staff"),
          D("volunteer_a", 403, _activities_report, "a volunteer, not staff"))),
]

RULES = {rule.key: rule for rule in MATRIX}


def denial_cases() -> list[tuple[Rule, Denial]]:
    return [(rule, denial) for rule in MATRIX for denial in rule.denials]


def render_markdown() -> str:
    """docs/authorization.md, generated from the table so the two cannot drift apart."""
    lines = [
        "# Authorisation matrix",
        "",
        "Who may call each operation of `/api/v1`. The gateway authenticates (a missing, expired, tampered or",
        "revoked token is 401 on every operation not marked public); each service authorises with the caller it",
        "receives (roles, coordinator grid scopes, ownership). *Proven denials* are requests that",
        "`tests/gateway/test_authorization_matrix.py` sends against the running suite, asserting the status and",
        "that nothing changed. Generated from `tests/gateway/matrix.py`",
        "(`python -m tests.gateway.matrix > docs/authorization.md`); a test fails when an operation of",
        "`/api/openapi.json` is missing here.",
        "",
        "Rule for someone else's object (see docs/api.md): **403** when you may see it but not do this;",
        "**404** when it does not exist or you may not see it at all. Admins may do everything.",
        "",
        "| operation | who may | proven denials |",
        "|---|---|---|",
    ]
    for rule in MATRIX:
        denied = "; ".join(f"{d.actor} → {d.status} ({d.why})" for d in rule.denials) or "—"
        lines.append(f"| `{rule.method} {rule.path}` | {rule.who} | {denied} |")
    deviations = [(r, d) for r, d in denial_cases() if d.deviation]
    if deviations:
        lines += ["", "## Known deviations", "",
                  "These answer another status today than the rule above; the matrix test accepts both until the",
                  "service is aligned.", ""]
        lines += [f"- `{r.method} {r.path}` as {d.actor}: answers {d.deviation}, rule says {d.status}"
                  for r, d in deviations]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")

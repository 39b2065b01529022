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

# Who may call, in the words of the docs.
ANYONE = "anyone (signed in or not)"
SIGNED_IN = "any signed-in account"
STAFF = "coordinator, admin"
ADMIN = "admin"


@dataclass
class Probe:
    """One denied request: where, what body, the state it must leave alone, who may do it instead."""

    path: str
    body: dict | None = None
    state: Callable[[], object] = lambda: None
    allowed: object | None = None  # a Client that must get 2xx for the same request afterwards
    query: dict | None = None


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

EVERY_DAY = [{"weekday": day, "start": "00:00", "end": "23:59"} for day in range(7)]


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

    def new_action(self, dispatched_to=None, accepted=False) -> int:
        action = self.ok(self.resident.post("/actions", json={
            "title": self.unique("店招松动"), "category": self.ids["category"], "grid_id": self.ids["micro_a"],
            "location": "新华路 211 号"}))
        if dispatched_to is not None:
            self.ok(self.coordinator_a.post(f"/actions/{action['id']}/dispatch",
                                            json={"volunteer_ids": [dispatched_to.id]}))
            if accepted:
                self.ok(dispatched_to.post(f"/actions/{action['id']}/accept", json={}))
        return action["id"]

    def new_pending_shop(self, owner) -> int:
        return self.ok(owner.post("/merchants", json={
            "name": self.unique("理发店"), "grid_id": self.ids["micro_a"], "category": "barber",
            "street_area": "U巷"}))["id"]

    def new_booking(self) -> int:
        start = (datetime.now(UTC) + timedelta(days=20 + len(self.ids.setdefault("bookings", [])))).replace(
            hour=3, minute=0, second=0, microsecond=0)
        booking = self.ok(self.resident.post("/bookings", json={
            "space_id": self.ids["space"], "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(), "title": "议事"}))
        self.ids["bookings"].append(booking["id"])
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
        action = w.new_action(dispatched_to=w.volunteer_a if dispatched else None, accepted=accepted)
        who = w.actors[allowed] if allowed else None
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


def _booking_decide(verb: str):
    def build(w: World) -> Probe:
        booking = w.new_booking()
        body = {"reason": "no"} if verb == "reject" else {}
        return Probe(f"/bookings/{booking}/{verb}", body, lambda: w.booking_state(booking))
    return build


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
    return Probe("/notification-deliveries/replay", {}, allowed=w.admin)


def _other_channel(w: World) -> Probe:
    channel = w.ok(w.resident.post("/notification-channels", json={"name": "mail", "url": "mailto://a@example.org"}))
    sql = "SELECT count(*) FROM notification_channels WHERE id = :c AND active"
    return Probe(f"/notification-channels/{channel['id']}", None,
                 lambda: w.count("notifications", sql, c=channel["id"]), allowed=w.resident)


D = Denial
RESIDENTS = ("resident", "merchant_a", "volunteer_a")

# ------------------------------------------------------------------------------------------------ the table

MATRIX: list[Rule] = [
    # accounts and tokens
    Rule("POST", "/accounts", ANYONE, public=True),
    Rule("POST", "/auth/token", ANYONE, public=True),
    Rule("POST", "/auth/logout", SIGNED_IN + " (ends only the caller's own session)"),
    Rule("GET", "/me", SIGNED_IN),
    Rule("PATCH", "/me", SIGNED_IN + " (own profile)"),
    Rule("POST", "/me/password", SIGNED_IN + " (own password, with the current one)"),
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
    Rule("GET", "/sites", SIGNED_IN),
    Rule("POST", "/sites", STAFF, (D("resident", 403, _new_site, "the catalogue is the staff's"),
                                   D("space_manager", 403, _new_site, "managers run spaces, not the catalogue"))),
    Rule("GET", "/spaces", SIGNED_IN),
    Rule("POST", "/spaces", STAFF, (D("resident", 403, _new_space, "the catalogue is the staff's"),
                                    D("space_manager", 403, _new_space, "managers run spaces, not the catalogue"))),
    Rule("GET", "/spaces/{space_id}", SIGNED_IN),
    Rule("PATCH", "/spaces/{space_id}", STAFF + "; the space's managers (rules, capacity, equipment)"),
    Rule("GET", "/spaces/{space_id}/availability", SIGNED_IN),
    Rule("GET", "/spaces/{space_id}/calendar.ics", SIGNED_IN),
    Rule("GET", "/spaces/{space_id}/blackouts", SIGNED_IN),
    Rule("POST", "/spaces/{space_id}/blackouts", STAFF + "; the space's managers"),
    Rule("POST", "/bookings", SIGNED_IN + " (spaces reserved for roles or teams: those only)"),
    Rule("POST", "/bookings/preview", "as POST /bookings (writes nothing)"),
    Rule("GET", "/bookings", SIGNED_IN + " (own; scope=managed: bookings of spaces one manages)"),
    Rule("GET", "/bookings/{booking_id}", "the booker; the space's managers; admin",
         (D("resident_b", 404, _booking_get, "another resident's booking"),)),
    Rule("PATCH", "/bookings/{booking_id}", "the booker",
         (D("resident_b", 404, _booking_patch, "another resident's booking"),)),
    Rule("GET", "/bookings/{booking_id}.ics", "as GET /bookings/{booking_id}"),
    Rule("POST", "/bookings/{booking_id}/cancel", "the booker; the space's managers; admin",
         (D("resident_b", 404, _booking_cancel, "another resident's booking"),)),
    Rule("POST", "/bookings/{booking_id}/approve", "the space's managers; admin",
         (D("resident_b", 404, _booking_decide("approve"), "not a manager of the space"),)),
    Rule("POST", "/bookings/{booking_id}/reject", "the space's managers; admin",
         (D("resident_b", 404, _booking_decide("reject"), "not a manager of the space"),)),
    Rule("POST", "/bookings/{booking_id}/check-in", "the booker"),
    Rule("POST", "/waitlist", SIGNED_IN),
    Rule("GET", "/waitlist", SIGNED_IN + " (own entries)"),
    Rule("DELETE", "/waitlist/{entry_id}", "the entry's owner"),
    Rule("POST", "/waitlist/{entry_id}/accept", "the entry's owner"),
    # grids, teams, volunteers, actions, visits
    Rule("GET", "/grids", SIGNED_IN),
    Rule("POST", "/grids", ADMIN, (D("coordinator_a", 403, _new_grid, "the grid tree is the admins'"),)),
    Rule("GET", "/grids/{grid_id}", SIGNED_IN),
    Rule("PATCH", "/grids/{grid_id}", ADMIN, (D("coordinator_a", 403, _grid_outline, "the grid tree is the admins'"),)),
    Rule("GET", "/grid-status", SIGNED_IN),
    Rule("GET", "/teams", SIGNED_IN),
    Rule("POST", "/teams", STAFF, (D("resident", 403, _new_team, "not staff"),
                                   D("volunteer_a", 403, _new_team, "not staff"))),
    Rule("GET", "/teams/{team_id}", SIGNED_IN),
    Rule("GET", "/teams/{team_id}/members", SIGNED_IN + " (leads and coordinators also see requests)"),
    Rule("POST", "/teams/{team_id}/join", SIGNED_IN + " (open teams; invitation-only teams by invitation)"),
    Rule("POST", "/teams/{team_id}/invite", "the team's leads; " + STAFF),
    Rule("POST", "/teams/{team_id}/members/{user_id}/approve", "the team's leads; " + STAFF),
    Rule("GET", "/volunteers", STAFF, tuple(D(a, 403, _list_volunteers, "not staff") for a in RESIDENTS)),
    Rule("POST", "/volunteers/me", SIGNED_IN + " (own profile)"),
    Rule("GET", "/volunteers/me", SIGNED_IN + " (own profile)"),
    Rule("PATCH", "/volunteers/me", SIGNED_IN + " (own profile)"),
    Rule("GET", "/volunteers/{user_id}", STAFF, (D("volunteer_b", 403, _volunteer_profile, "another volunteer"),)),
    Rule("GET", "/action-categories", SIGNED_IN),
    Rule("POST", "/actions", SIGNED_IN),
    Rule("GET", "/actions", SIGNED_IN + " (what the caller may see: own reports, assignments, grids in scope)"),
    Rule("POST", "/actions/mass", STAFF + " (grids in scope)",
         (D("coordinator_b", 403, _mass, "a coordinator outside the grid"),
          D("volunteer_a", 403, _mass, "not staff"))),
    Rule("GET", "/actions/{action_id}", "its reporter, followers and assignees; coordinators of its grid",
         (D("coordinator_b", 403, _see_action, "a coordinator outside the grid"),
          D("resident_b", 403, _see_action, "someone else's report"))),
    Rule("GET", "/actions/{action_id}/timeline", "as GET /actions/{action_id}"),
    Rule("GET", "/actions/{action_id}/suggestions", "coordinators of its grid"),
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
    Rule("POST", "/actions/{action_id}/checklist", "the volunteer who accepted it; coordinators of its grid"),
    Rule("POST", "/actions/{action_id}/resolve", "the volunteer who accepted it; coordinators of its grid",
         (D("volunteer_b", 403, _action_verb("resolve", {"outcome": "已加固"}, dispatched=True, accepted=True,
                                             allowed="volunteer_a"), "one volunteer against another's action"),
          D("coordinator_b", 403, _action_verb("resolve", {"outcome": "已加固"}, dispatched=True, accepted=True,
                                               allowed=None), "a coordinator outside the grid"))),
    Rule("POST", "/actions/{action_id}/verify", "its reporter; coordinators of its grid"),
    Rule("POST", "/actions/{action_id}/reopen", "its reporter; coordinators of its grid"),
    Rule("POST", "/actions/{action_id}/escalate", "coordinators of its grid (and of the levels above)",
         (D("coordinator_b", 403, _action_verb("escalate", {"reason": "人手不足"}, dispatched=False, accepted=False,
                                               allowed="coordinator_a"), "a coordinator outside the grid"),)),
    Rule("POST", "/actions/{action_id}/cancel", "its reporter; coordinators of its grid",
         (D("coordinator_b", 403, _action_verb("cancel", {}, dispatched=False, accepted=False,
                                               allowed="coordinator_a"), "a coordinator outside the grid"),)),
    Rule("POST", "/actions/{action_id}/merge", "coordinators of its grid"),
    Rule("POST", "/actions/{action_id}/hours", "the volunteer; coordinators of its grid"),
    Rule("POST", "/visits", STAFF + " (merchants in their grids)"),
    Rule("GET", "/visits", STAFF + " (visits in their grids)"),
    Rule("GET", "/visits/overdue", STAFF),
    # merchants, charity items, claims, wishes
    Rule("POST", "/merchants", "merchant (own shop)"),
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
    Rule("POST", "/pledges/{pledge_id}/resume", "the shop's owner; coordinators of the shop's grid"),
    Rule("POST", "/pledges/{pledge_id}/end", "the shop's owner; coordinators of the shop's grid",
         (D("merchant_b", 403, _pledge_verb("end"), "one merchant against another's item"),)),
    Rule("POST", "/pledges/{pledge_id}/suspend", "coordinators of the shop's grid",
         (D("coordinator_b", 403, _pledge_verb("suspend"), "a coordinator outside the grid"),
          D("merchant_a", 403, _pledge_verb("suspend"), "owners pause; they do not suspend"))),
    Rule("POST", "/pledges/{pledge_id}/claims", "accounts confirmed in one of the item's beneficiary groups"),
    Rule("GET", "/pledges/{pledge_id}/claims", "the shop's owner; coordinators of the shop's grid",
         (D("merchant_b", 403, _pledge_claims, "one merchant against another's item"),)),
    Rule("GET", "/claims", SIGNED_IN + " (own claims)"),
    Rule("POST", "/claims/{code}/redeem", "the owner of the claimed item's shop",
         (D("merchant_b", 404, _redeem, "one merchant against another's claim (codes are secret)"),)),
    Rule("POST", "/wishes", "accounts with a confirmed beneficiary group"),
    Rule("GET", "/wishes", ANYONE + " (published wishes; `mine`; coordinators: submitted ones)", public=True),
    Rule("GET", "/wishes/{wish_id}", ANYONE + " (published; others: owner, adopter, coordinators)", public=True),
    Rule("POST", "/wishes/{wish_id}/publish", "coordinators of the wish's grid"),
    Rule("POST", "/wishes/{wish_id}/reject", "coordinators of the wish's grid"),
    Rule("POST", "/wishes/{wish_id}/adopt", "merchants and partners"),
    Rule("POST", "/wishes/{wish_id}/deliver", "the adopter"),
    Rule("POST", "/wishes/{wish_id}/fulfil", "the wish's owner"),
    Rule("POST", "/wishes/{wish_id}/withdraw", "the wish's owner"),
    Rule("GET", "/reports/merchants/{merchant_id}", "the shop's owner; coordinators of its grid",
         (D("merchant_b", 403, _merchant_report, "one merchant against another's shop"),)),
    Rule("GET", "/reports/grids/{grid_id}/merchants", STAFF),
    Rule("GET", "/reports/grids/{grid_id}", "coordinators of the grid or a grid above it; admin",
         (D("coordinator_b", 403, _grid_report, "a coordinator of another grid"),
          D("resident", 403, _grid_report, "not a coordinator"))),
    # notifications
    Rule("GET", "/notifications", SIGNED_IN + " (own inbox)"),
    Rule("GET", "/notifications/unread", SIGNED_IN + " (own inbox's unread count)"),
    Rule("POST", "/notifications/{entry_id}/read", SIGNED_IN + " (own entries; others' answer 404)"),
    Rule("POST", "/notifications/read-all", SIGNED_IN + " (own inbox)"),
    Rule("GET", "/notification-preferences", SIGNED_IN + " (own)"),
    Rule("PUT", "/notification-preferences", SIGNED_IN + " (own)"),
    Rule("GET", "/notification-channels", SIGNED_IN + " (own; team and grid channels: coordinators)"),
    Rule("POST", "/notification-channels", SIGNED_IN + " (own; team and grid channels: coordinators)"),
    Rule("DELETE", "/notification-channels/{channel_id}", "the channel's owner",
         (D("resident_b", 404, _other_channel, "another person's channel (private: 404)"),)),
    Rule("POST", "/broadcasts", STAFF + " (coordinators: grids in their scope)",
         (D("resident", 403, _broadcast("micro_a"), "not staff"),
          D("coordinator_b", 403, _broadcast("micro_a"), "a coordinator outside the grid"))),
    Rule("POST", "/broadcasts/preview", "as POST /broadcasts (writes nothing)"),
    Rule("GET", "/broadcasts", STAFF + " (own; admins: all)"),
    Rule("GET", "/broadcasts/{broadcast_id}", "its sender; admin"),
    Rule("GET", "/notification-deliveries", ADMIN, (D("coordinator_a", 403, _deliveries, "operators only"),)),
    Rule("POST", "/notification-deliveries/replay", ADMIN,
         (D("coordinator_a", 403, _replay, "operators only"),)),
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

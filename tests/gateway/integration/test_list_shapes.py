"""Every list of /api/v1 answers one shape, `{"items": [...], "next_cursor": str | null}`, as the OpenAPI
document says; the grid tree comes flat and depth-first with each grid's place; `mine=true` works on every
list that has "mine", bookings included."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.charity.support import open_shop, register_pledge, unique
from tests.volunteers.integration.world import make_world

pytestmark = pytest.mark.integration

PAGE_KEYS = {"items", "next_cursor"}
# GET operations that answer one document, not a list (their path does not end in an `{id}`).
DOCUMENTS = {
    "/me": "the signed-in account",
    "/volunteers/me": "the caller's volunteer profile",
    "/notification-preferences": "the caller's settings",
    "/notifications/unread": "the caller's unread count",
    "/spaces/{space_id}/availability": "free intervals of one space in one period",
    "/reports/grids/{grid_id}/merchants": "a report with totals",
    "/activities/reports": "a report per site with totals",
    "/activity-sessions/{session_id}/code": "the session's current check-in code",
    "/activity-signups/{signup_id}/ticket": "a participant's signed ticket",
}


def _spec(suite) -> dict:
    return suite.client().get("/api/openapi.json").json()


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _list_operations(spec: dict) -> dict[str, dict]:
    """GET operations that are lists: neither a single resource (`…/{id}`), a calendar, nor a document."""
    lists = {}
    for full, item in spec["paths"].items():
        path = full.removeprefix("/api/v1")
        if "get" not in item or path.endswith((".ics", "}")) or path in DOCUMENTS or not full.startswith("/api/v1"):
            continue
        lists[path] = item["get"]
    return lists


@pytest.fixture(scope="module")
def world(suite):
    """Something in every list: a grid tree, a team with a member, an action, a shop with a claimed item, a
    space with a blackout and a booking."""
    w = make_world(suite)
    admin = suite.user(roles=["resident", "admin"])
    courier = suite.user(groups=["courier"])
    volunteer = w.volunteer()
    action = w.report(courier)
    team = admin.post("/teams", json={"name": unique("行动队"), "kind": "action_team",
                                          "join_policy": "open"})
    assert team.status_code == 201, team.text
    assert volunteer.post(f"/teams/{team.json()['id']}/join").status_code == 200
    owner = suite.user(roles=["resident", "merchant"])
    shop = open_shop(suite, owner, w.micro["id"], w.gridworker)
    pledge = register_pledge(owner, shop["id"])
    rider = suite.user(groups=["rider"])
    assert rider.post(f"/pledges/{pledge['id']}/claims").status_code == 201
    site = suite.rpc("bookings", "create_site", {"name": unique("列表中心")})
    manager = suite.user(roles=["resident", "space_manager"])
    space = suite.rpc("bookings", "create_space", {"site_id": site["id"], "name": unique("议事厅"), "kind": "room",
                                                   "units": 1, "manager_ids": [manager.id]})
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    booked = volunteer.post("/bookings", json={"space_id": space["id"], "starts_at": start.isoformat(),
                                               "ends_at": (start + timedelta(hours=1)).isoformat()})
    assert booked.status_code == 201, booked.text
    blackout = admin.post(f"/spaces/{space['id']}/blackouts", json={
        "starts_at": (start + timedelta(days=1)).isoformat(), "ends_at": (start + timedelta(days=2)).isoformat(),
        "reason": "检修"})
    assert blackout.status_code == 201, blackout.text
    activity = admin.post("/activities", json={
        "title_zh": unique("夜校"), "kind": "class", "capacity": 5,
        "sessions": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(),
                      "place": "U巷"}]})
    assert activity.status_code == 201, activity.text
    signup = volunteer.post(f"/activities/{activity.json()['id']}/signups", json={})
    assert signup.status_code == 201, signup.text
    return {"w": w, "admin": admin, "owner": owner, "volunteer": volunteer, "manager": manager,
            "space": space, "booking": booked.json(),
            "ids": {"team_id": team.json()["id"], "action_id": action["id"], "pledge_id": pledge["id"],
                    "space_id": space["id"], "activity_id": activity.json()["id"],
                    "session_id": activity.json()["sessions"][0]["id"], "signup_id": signup.json()["id"]}}


# Who lists what: the admin sees every list but the claims on a shop's item, which only its owner sees.
CALLERS = {"/pledges/{pledge_id}/claims": "owner"}


def _concrete(path: str, ids: dict) -> str:
    def value(match):
        name = match.group(1)
        assert name in ids, f"no value for {{{name}}} in {path}: add one to the world of this test"
        return str(ids[name])
    return re.sub(r"\{([^}]+)\}", value, path)


def _check_page(path: str, body, documented: dict):
    assert isinstance(body, dict), f"{path} answered {type(body).__name__}, not a page"
    assert PAGE_KEYS <= set(body), f"{path} answered keys {sorted(body)}"
    extra = set(body) - set(documented["properties"])
    assert not extra, f"{path}: undocumented keys {extra}"
    assert isinstance(body["items"], list)
    assert body["next_cursor"] is None or isinstance(body["next_cursor"], str)


def test_no_operation_answers_a_bare_array(suite):
    spec = _spec(suite)
    bare = [f"{method.upper()} {path}" for path, item in spec["paths"].items() for method, op in item.items()
            if isinstance(op, dict) and any(
                _resolve(spec, content.get("schema", {})).get("type") == "array"
                for response in op.get("responses", {}).values() if isinstance(response, dict)
                for content in response.get("content", {}).values())]
    assert bare == []


def test_every_list_is_documented_and_answered_as_a_page(suite, world):
    spec = _spec(suite)
    lists = _list_operations(spec)
    assert {"/grids", "/teams", "/action-categories", "/grid-status", "/notification-channels",
            "/teams/{team_id}/members", "/actions/{action_id}/timeline", "/actions/{action_id}/suggestions",
            "/bookings", "/actions", "/claims"} <= set(lists)
    for path, operation in lists.items():
        documented = _resolve(spec, operation["responses"]["200"]["content"]["application/json"]["schema"])
        assert documented.get("type") == "object" and PAGE_KEYS <= set(documented["properties"]), path
        assert set(documented.get("required", ())) >= PAGE_KEYS, path
        assert documented["properties"]["items"]["type"] == "array", path
        assert documented["properties"]["next_cursor"].get("nullable") is True, path

        client = world[CALLERS.get(path, "admin")]
        url = _concrete(path, world["ids"])
        answer = client.get(url)
        assert answer.status_code == 200, f"GET {url}: {answer.status_code} {answer.text[:300]}"
        _check_page(path, answer.json(), documented)
        names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        if {"limit", "cursor"} <= names:
            first = client.get(url, params={"limit": 1}).json()
            _check_page(path, first, documented)
            assert len(first["items"]) <= 1
            if first["next_cursor"] is not None:
                rest = client.get(url, params={"limit": 1, "cursor": first["next_cursor"]})
                assert rest.status_code == 200, f"GET {url} next page: {rest.text[:300]}"
                _check_page(path, rest.json(), documented)
                assert rest.json()["items"] != first["items"]
        else:
            assert answer.json()["next_cursor"] is None, f"{path} is answered whole"


def test_the_grid_tree_is_flat_depth_first_with_each_grids_place(world):
    w = world["w"]
    grids = world["volunteer"].get("/grids").json()["items"]
    position = {g["id"]: i for i, g in enumerate(grids)}
    by_id = {g["id"]: g for g in grids}
    for grid in grids:
        assert grid["path"][-1] == grid["id"] and grid["depth"] == len(grid["path"]) - 1
        if grid["parent_id"] is None:
            assert grid["path"] == [grid["id"]]
        else:
            parent = by_id[grid["parent_id"]]
            assert grid["path"] == parent["path"] + [grid["id"]]
            assert position[parent["id"]] < position[grid["id"]], "a parent comes before its children"
    # Depth-first: a grid's subtree follows it without a gap.
    ours = [g["id"] for g in grids[position[w.root["id"]]:position[w.root["id"]] + 4]]
    assert ours == [w.root["id"], w.big["id"], w.micro["id"], w.other_micro["id"]]  # siblings by id
    assert [by_id[g]["depth"] for g in ours] == [0, 1, 2, 2]
    single = world["volunteer"].get(f"/grids/{w.micro['id']}").json()
    assert single["path"] == [w.root["id"], w.big["id"], w.micro["id"]] and single["depth"] == 2


def test_mine_true_is_accepted_by_every_list_that_has_mine(suite, world):
    spec = _spec(suite)
    with_mine = [path for path, op in _list_operations(spec).items()
                 if any(p["name"] == "mine" and p.get("in") == "query" for p in op.get("parameters", []))]
    assert {"/actions", "/bookings", "/merchants", "/pledges", "/wishes", "/teams", "/broadcasts",
            "/visits"} <= set(with_mine)
    for path in with_mine:
        # Broadcasts and visits are lists of staff: their grid worker asks.
        caller = world["w"].gridworker if path in ("/broadcasts", "/visits") else world["volunteer"]
        answer = caller.get(path, params={"mine": "true"})
        assert answer.status_code == 200, f"GET {path}?mine=true: {answer.status_code} {answer.text[:300]}"
        assert PAGE_KEYS <= set(answer.json())
    team_id = world["ids"]["team_id"]
    assert [t["id"] for t in world["volunteer"].get("/teams", params={"mine": "true"}).json()["items"]] == [team_id]
    assert team_id not in {t["id"] for t in world["owner"].get("/teams", params={"mine": "true"}).json()["items"]}
    assert team_id in {t["id"] for t in world["owner"].get("/teams").json()["items"]}


def test_bookings_mine_true_lists_mine_and_mine_false_adds_the_spaces_one_manages(world):
    booking, volunteer, manager = world["booking"], world["volunteer"], world["manager"]
    mine = volunteer.get("/bookings", params={"mine": "true"})
    assert mine.status_code == 200, mine.text
    assert booking["id"] in {b["id"] for b in mine.json()["items"]}
    assert booking["id"] not in {b["id"] for b in manager.get("/bookings", params={"mine": "true"}).json()["items"]}
    assert booking["id"] not in {b["id"] for b in manager.get("/bookings").json()["items"]}
    everything = manager.get("/bookings", params={"mine": "false"}).json()["items"]
    assert booking["id"] in {b["id"] for b in everything}
    managed = manager.get("/bookings", params={"scope": "managed"}).json()["items"]
    assert booking["id"] in {b["id"] for b in managed}
    both = manager.get("/bookings", params={"scope": "managed", "mine": "true"})
    assert both.status_code == 422 and "mine" in both.json()["errors"]
    assert both.json()["title"] == "Unprocessable Content"  # one title per status, as the services' own 422s

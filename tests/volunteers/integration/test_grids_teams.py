"""Grids, teams and audiences: what the notifications and bookings services ask the volunteers service."""
from __future__ import annotations

import pytest

from shared.errors import Forbidden, Invalid
from tests.volunteers.integration.world import make_world


def test_ensure_grid_is_idempotent_and_merges_coordinators(suite):
    world = make_world(suite)
    again = suite.rpc("volunteers", "ensure_grid", {"name": world.micro["name"], "level": 1,
                                                    "parent_id": world.big["id"], "coordinator_ids": [999999]})
    assert again["id"] == world.micro["id"]
    assert again["coordinator_ids"] == sorted([world.gridworker.id, 999999])
    grids = {g["id"]: g for g in world.gridworker.get("/grids").json()["items"]}
    assert grids[world.micro["id"]]["parent_id"] == world.big["id"]


def test_a_grid_hangs_below_a_higher_level(suite):
    world = make_world(suite)
    with pytest.raises(Invalid) as raised:
        suite.rpc("volunteers", "ensure_grid", {"name": "bad", "level": 2, "parent_id": world.micro["id"]})
    assert "parent_id" in raised.value.errors


def test_audiences_of_a_grid_and_a_team(suite):
    world = make_world(suite)
    near = world.volunteer()
    elsewhere = world.volunteer(grid_ids=[world.other_micro["id"]])
    shop_owner = suite.user(roles=["resident", "merchant"])
    suite.rpc("volunteers", "ensure_merchant", {"name": f"U巷咖啡 {world.tag}", "grid_id": world.micro["id"],
                                                "user_id": shop_owner.id, "status": "approved"})
    suite.rpc("volunteers", "ensure_merchant", {"name": f"未审核 {world.tag}", "grid_id": world.micro["id"],
                                                "user_id": 888888, "status": "pending"})

    def audience(**kw):
        return suite.rpc("volunteers", "audience_members", kw)

    micro = audience(kind="grid", id=world.micro["id"])
    assert micro == sorted([world.gridworker.id, near.id, shop_owner.id])
    big = audience(kind="grid", id=world.big["id"])
    assert set(big) == {world.secretary.id, world.gridworker.id, world.other_gridworker.id, near.id,
                        elsewhere.id, shop_owner.id}
    assert audience(kind="grid", id=world.big["id"], only="merchants") == [shop_owner.id]
    assert audience(kind="grid", id=world.big["id"], only="volunteers") == sorted([near.id, elsewhere.id])
    assert audience(kind="grid", id=world.micro["id"], only="coordinators") == [world.gridworker.id]
    # A coordinator asks within their own grids only.
    assert suite.rpc("volunteers", "audience_members", {"kind": "grid", "id": world.micro["id"]},
                     caller=suite.caller_of(world.secretary)) == micro
    with pytest.raises(Forbidden):
        suite.rpc("volunteers", "audience_members", {"kind": "grid", "id": world.big["id"]},
                  caller=suite.caller_of(world.gridworker))
    with pytest.raises(Forbidden):
        suite.rpc("volunteers", "audience_members", {"kind": "grid", "id": world.micro["id"]},
                  caller=suite.caller_of(near))
    with pytest.raises(Invalid):
        audience(kind="grid", id=world.micro["id"], only="residents")

    team = suite.rpc("volunteers", "ensure_team", {"name": f"骑士团 {world.tag}", "kind": "rider_knights",
                                                   "join_policy": "open", "lead_ids": [near.id]})
    assert near.post(f"/teams/{team['id']}/join").status_code == 409  # a lead is a member already
    assert elsewhere.post(f"/teams/{team['id']}/join").json()["status"] == "active"
    assert audience(kind="team", id=team["id"]) == sorted([near.id, elsewhere.id])
    assert suite.rpc("volunteers", "team_leads", team["id"]) == [near.id]


def test_membership_by_approval_and_by_invitation(suite):
    world = make_world(suite)
    lead, asker, invitee, stranger = (world.volunteer() for _ in range(4))
    approval = suite.rpc("volunteers", "ensure_team", {"name": f"讲述者 {world.tag}", "kind": "storytellers",
                                                       "join_policy": "approval", "lead_ids": [lead.id]})
    invitation = suite.rpc("volunteers", "ensure_team", {"name": f"行动队 {world.tag}", "kind": "action_team",
                                                         "join_policy": "invitation", "lead_ids": [lead.id]})
    assert asker.post(f"/teams/{approval['id']}/join").json()["status"] == "pending"
    assert stranger.post(f"/teams/{approval['id']}/members/{asker.id}/approve").status_code == 403
    approved = lead.post(f"/teams/{approval['id']}/members/{asker.id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "active"

    assert stranger.post(f"/teams/{invitation['id']}/join").status_code == 403
    assert lead.post(f"/teams/{invitation['id']}/invite", json={"user_id": invitee.id}).json()["status"] == "invited"
    assert invitee.post(f"/teams/{invitation['id']}/join").json()["status"] == "active"
    missing = lead.post(f"/teams/{invitation['id']}/invite", json={"user_id": 987654321})
    assert missing.status_code == 422 and "user_id" in missing.json()["errors"]

    with suite.database("volunteers").read() as session:
        from sqlalchemy import text

        joined = session.execute(text("SELECT envelope FROM outbox WHERE type = 'team.member_joined'")).scalars().all()
    joined_users = {(p["team_id"], p["user_id"]) for p in (__import__("json").loads(e)["payload"] for e in joined)}
    assert {(approval["id"], asker.id), (invitation["id"], invitee.id)} <= joined_users
    assert (invitation["id"], stranger.id) not in joined_users
    members = {m["user_id"]: m for m in lead.get(f"/teams/{invitation['id']}/members").json()["items"]}
    assert members[lead.id]["role"] == "lead" and members[invitee.id]["status"] == "active"


def test_demo_seed_is_idempotent(suite):
    from services.volunteers import seed

    people = {name: {"id": 900000 + i, "password": "x"} for i, name in
              enumerate(["demo", "coffee", "rider", "gridworker", "secretary", "manager"])}

    def call(service, method, *args):
        return suite.rpc(service, method, *args)

    seed.seed(call, people)
    before = (len(suite.rpc("volunteers", "list_grids")), len(suite.rpc("volunteers", "list_teams")))
    seed.seed(call, people)
    assert (len(suite.rpc("volunteers", "list_grids")), len(suite.rpc("volunteers", "list_teams"))) == before
    grids = {g["name"]: g for g in suite.rpc("volunteers", "list_grids")}
    # The shared suite may also hold the real demo seed's people: ours must be there, once.
    assert grids["第7微网格"]["coordinator_ids"].count(people["gridworker"]["id"]) == 1
    assert grids["宜北"]["coordinator_ids"].count(people["secretary"]["id"]) == 1
    teams = {t["kind"]: t for t in suite.rpc("volunteers", "list_teams") if t["name"] in
             {"骑士团", "好店家", "营造师", "讲述者", "行动队"}}
    assert set(teams) == {"rider_knights", "good_shops", "placemakers", "storytellers", "action_team"}
    assert teams["rider_knights"]["lead_ids"].count(people["rider"]["id"]) == 1
    rider = suite.rpc("volunteers", "get_volunteer", people["rider"]["id"])
    assert rider["skills"]["repair"] == 2 and rider["grid_ids"] == [grids["第7微网格"]["id"]]

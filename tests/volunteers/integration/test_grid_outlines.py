"""Grid outlines over HTTP: set by admins (who create and edit grids), refused with field messages when
implausible, answered by GET /grids and /grids/{id}, and joined to /grid-status by grid id; the migration
carries existing grids over with no outline."""
from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from shared.migrations import alembic_config, upgrade
from tests.volunteers.integration.world import make_world

RING = [[121.420, 31.206], [121.426, 31.206], [121.426, 31.216], [121.420, 31.216], [121.420, 31.206]]
OUTLINE = {"type": "Polygon", "coordinates": [RING]}


def test_an_admin_outlines_a_grid_and_everyone_reads_it(suite):
    world = make_world(suite)
    admin = suite.user(roles=["resident", "admin"])
    resident = suite.user()
    micro = world.micro["id"]
    assert resident.get(f"/grids/{micro}").json()["outline"] is None  # a grid made without one has none

    # A coordinator of the grid does not edit the tree; nothing changes.
    assert world.gridworker.patch(f"/grids/{micro}", json={"outline": OUTLINE}).status_code == 403
    assert resident.get(f"/grids/{micro}").json()["outline"] is None

    response = admin.patch(f"/grids/{micro}", json={"outline": OUTLINE})
    assert response.status_code == 200, response.text
    assert response.json()["outline"] == OUTLINE
    assert resident.get(f"/grids/{micro}").json()["outline"] == OUTLINE
    listed = {g["id"]: g for g in resident.get("/grids").json()["items"]}
    assert listed[micro]["outline"] == OUTLINE and listed[world.other_micro["id"]]["outline"] is None

    # A grid created with its outline; null takes an outline away.
    created = admin.post("/grids", json={"name": f"第8微网格 {world.tag}", "level": 1,
                                         "parent_id": world.big["id"], "outline": OUTLINE})
    assert created.status_code == 201, created.text
    assert created.json()["outline"] == OUTLINE
    assert admin.patch(f"/grids/{created.json()['id']}", json={"outline": None}).json()["outline"] is None
    assert admin.patch("/grids/999999999", json={"outline": OUTLINE}).status_code == 404


def test_an_implausible_outline_is_422_with_field_messages_and_changes_nothing(suite):
    world = make_world(suite)
    admin = suite.user(roles=["resident", "admin"])
    micro = world.micro["id"]
    assert admin.patch(f"/grids/{micro}", json={"outline": OUTLINE}).status_code == 200
    open_ring = {"type": "Polygon", "coordinates": [RING[:-1] + [[121.421, 31.206]]]}
    huge = {"type": "Polygon", "coordinates": [[[120, 30], [122, 30], [122, 32], [120, 32], [120, 30]]]}
    for bad, field in ((open_ring, "coordinates"), (huge, "coordinates"),
                       ({"type": "Point", "coordinates": [RING]}, "type"),
                       ({"type": "Polygon", "coordinates": [RING[:3]]}, "coordinates")):
        response = admin.patch(f"/grids/{micro}", json={"outline": bad})
        assert response.status_code == 422, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert field in response.json()["errors"]["outline"], response.json()
        name = f"坏网格 {world.tag}"
        response = admin.post("/grids", json={"name": name, "level": 1, "parent_id": world.big["id"], "outline": bad})
        assert response.status_code == 422 and field in response.json()["errors"]["outline"], response.text
    assert admin.get(f"/grids/{micro}").json()["outline"] == OUTLINE
    assert all(not g["name"].startswith("坏网格") for g in admin.get("/grids").json()["items"])


def test_grid_status_rows_join_the_grids_by_id(suite):
    world = make_world(suite)
    admin = suite.user(roles=["resident", "admin"])
    for grid in (world.root, world.big, world.micro, world.other_micro):
        assert admin.patch(f"/grids/{grid['id']}", json={"outline": OUTLINE}).status_code == 200
    world.report(suite.user())
    grids = {g["id"]: g for g in world.secretary.get("/grids").json()["items"]}
    status = world.secretary.get("/grid-status").json()["items"]
    assert {row["grid_id"] for row in status} == {world.big["id"], world.micro["id"], world.other_micro["id"]}
    for row in status:
        assert grids[row["grid_id"]]["outline"] == OUTLINE
        assert grids[row["grid_id"]]["name"] == row["name"]
    assert next(r for r in status if r["grid_id"] == world.micro["id"])["open"] == 1


def test_the_outline_migration_keeps_one_head_and_existing_grids_get_none(tmp_path):
    url = f"sqlite:///{tmp_path / 'volunteers.db'}"
    assert len(ScriptDirectory.from_config(alembic_config("volunteers", url)).get_heads()) == 1
    upgrade("volunteers", url, "b94ece31d93e")  # the schema before outlines
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO grids (name, level, coordinator_ids, created_at) "
                                "VALUES ('新华路街道', 3, '[]', '2026-11-01 00:00:00+00:00')"))
    upgrade("volunteers", url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name, outline FROM grids")).all() == [("新华路街道", None)]
    engine.dispose()

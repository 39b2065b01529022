"""The colour map (visits.grid_status) on a scratch SQLite database, the use-case called directly: each grid
counts the open, overdue and escalated actions of its whole subtree, actions at every level of a three-level
tree, and is coloured from those totals; each caller sees the grids they coordinate."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.volunteers import visits
from services.volunteers.contracts import GridStatusSchema
from services.volunteers.models import Action, Category, Grid
from shared.db import Database, utcnow
from shared.errors import Forbidden
from shared.identity import Caller
from shared.migrations import upgrade

#   R (3, coordinated by 100)
#   ├── A (2, coordinated by 200) ── A1 (1), A2 (1, coordinated by 300)
#   ├── B (2) ── B1 (1), B2 (1)
#   └── C (2)
R, A, B, C, A1, A2, B1, B2 = 1, 2, 3, 4, 11, 12, 21, 22
GRIDS = [(R, None, 3, [100]), (A, R, 2, [200]), (B, R, 2, []), (C, R, 2, []),
         (A1, A, 1, []), (A2, A, 1, [300]), (B1, B, 1, []), (B2, B, 1, [])]

# Each grid's own open, overdue and escalated actions, and the totals of its subtree with their colour
# (red: escalated >= 3 or overdue >= 5; yellow: overdue >= 1 or open >= 10).
OWN = {R: (1, 0, 0), A: (2, 1, 1), A1: (4, 4, 0), A2: (1, 0, 1), B1: (3, 0, 3)}
EXPECTED = {
    A1: (4, 4, 0, "yellow"),
    A2: (1, 0, 1, "green"),
    B1: (3, 0, 3, "red"),
    B2: (0, 0, 0, "green"),
    A: (7, 5, 2, "red"),  # 2 + 4 + 1 open, 1 + 4 overdue
    B: (3, 0, 3, "red"),
    C: (0, 0, 0, "green"),
    R: (11, 5, 5, "red"),  # 1 + 7 + 3 open, 5 overdue, 1 + 1 + 3 escalated
}


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path}/volunteers.db"
    upgrade("volunteers", url)
    database = Database(url)
    now = utcnow()
    late, soon = now - timedelta(hours=1), now + timedelta(hours=1)
    with database.transaction() as session:
        session.merge(Category(name="test_colour", label="test"))
        for grid_id, parent_id, level, coordinators in GRIDS:
            session.add(Grid(id=grid_id, parent_id=parent_id, name=f"网格 {grid_id}", level=level,
                             coordinator_ids=coordinators))
            session.flush()

        def action(grid_id: int, state: str = "reported", deadline=soon, escalations: int = 0, kind: str = "single"):
            session.add(Action(title=f"事件 {grid_id}", category="test_colour", grid_id=grid_id, state=state,
                               kind=kind, deadline_at=deadline, escalations=escalations))

        action(R, deadline=None)
        action(A, state="accepted", deadline=late, escalations=1)
        action(A, state="in_progress")
        for state in ("reported", "triaged", "dispatched", "reopened"):
            action(A1, state=state, deadline=late)
        action(A2, state="accepted", escalations=2)
        for escalations in (1, 2, 3):
            action(B1, state="triaged", deadline=None, escalations=escalations)
        # Not open, or not a single action: counted nowhere.
        action(A1, state="closed", deadline=late, escalations=1)
        action(A2, state="resolved", deadline=late)
        action(A2, kind="mass", deadline=late, escalations=1)
        action(B2, state="cancelled", deadline=late)
        action(C, state="closed", deadline=late, escalations=3)
    yield database
    database.dispose()


def status(db: Database, caller: Caller) -> list[dict]:
    return visits.grid_status(db, caller)


def coordinator(user_id: int) -> Caller:
    return Caller(user_id=user_id, roles=frozenset({"resident", "coordinator"}))


def test_each_grid_counts_its_whole_subtree_and_is_coloured_from_the_totals(db):
    rows = status(db, coordinator(100))
    assert [row["grid_id"] for row in rows] == [R, A, B, C, A1, A2, B1, B2]  # highest level first, then by id
    assert {row["grid_id"]: (row["open"], row["overdue"], row["escalated"], row["colour"]) for row in rows} == EXPECTED
    parents = {grid_id: parent_id for grid_id, parent_id, _, _ in GRIDS}
    levels = {grid_id: level for grid_id, _, level, _ in GRIDS}
    for row in rows:
        assert row["name"] == f"网格 {row['grid_id']}"
        assert (row["parent_id"], row["level"]) == (parents[row["grid_id"]], levels[row["grid_id"]])
    # Each total is the grid's own count plus its children's totals.
    children: dict[int, list[int]] = {}
    for grid_id, parent_id, _, _ in GRIDS:
        children.setdefault(parent_id, []).append(grid_id)
    by_id = {row["grid_id"]: row for row in rows}
    for grid_id in by_id:
        own = OWN.get(grid_id, (0, 0, 0))
        for i, key in enumerate(("open", "overdue", "escalated")):
            assert by_id[grid_id][key] == own[i] + sum(by_id[c][key] for c in children.get(grid_id, []))


def test_the_answer_keeps_the_grid_status_contract(db):
    rows = status(db, coordinator(100))
    assert rows == GridStatusSchema(many=True).dump(rows)
    assert all(list(row) == list(GridStatusSchema().fields) for row in rows)
    assert all(type(row[key]) is int for row in rows for key in ("grid_id", "level", "open", "overdue", "escalated"))
    assert all(type(row["name"]) is str and type(row["colour"]) is str for row in rows)


def test_each_caller_sees_the_grids_they_coordinate(db):
    secretary = {row["grid_id"]: row for row in status(db, coordinator(200))}
    assert list(secretary) == [A, A1, A2]
    assert (secretary[A]["open"], secretary[A]["overdue"], secretary[A]["escalated"]) == (7, 5, 2)
    assert [row["grid_id"] for row in status(db, coordinator(300))] == [A2]
    assert status(db, coordinator(999)) == []  # a coordinator named on no grid
    admin = Caller(user_id=5, roles=frozenset({"resident", "admin"}))
    assert status(db, admin) == status(db, coordinator(100))
    with pytest.raises(Forbidden):
        status(db, Caller(user_id=100, roles=frozenset({"resident", "volunteer"})))

"""The in-memory grid tree: subtrees, common ancestors, a coordinator's scope, the handling grid per level."""
from __future__ import annotations

import pytest

from services.volunteers.grids import Tree
from services.volunteers.models import Grid
from shared.errors import Forbidden
from shared.identity import SYSTEM, Caller


@pytest.fixture
def tree() -> Tree:
    grids = [Grid(id=1, parent_id=None, name="新华路街道", level=3, coordinator_ids=[100]),
             Grid(id=2, parent_id=1, name="宜北", level=2, coordinator_ids=[200]),
             Grid(id=3, parent_id=1, name="宜南", level=2, coordinator_ids=[]),
             Grid(id=7, parent_id=2, name="第7微网格", level=1, coordinator_ids=[700]),
             Grid(id=6, parent_id=2, name="第6微网格", level=1, coordinator_ids=[]),
             Grid(id=1_1, parent_id=3, name="第1微网格", level=1, coordinator_ids=[])]
    return Tree({g.id: g for g in grids})


def test_subtree_and_common_ancestor(tree):
    assert tree.subtree(2) == {2, 6, 7}
    assert tree.subtree(1) == {1, 2, 3, 6, 7, 11}
    assert tree.common_ancestor([6, 7]) == 2
    assert tree.common_ancestor([7, 11]) == 1
    assert tree.common_ancestor([7]) == 7


def test_scope_comes_from_the_grid_nodes_only(tree):
    secretary = Caller(user_id=200, roles=frozenset({"coordinator"}))
    unlisted = Caller(user_id=999, roles=frozenset({"coordinator"}))  # a coordinator named on no grid
    volunteer = Caller(user_id=700, roles=frozenset({"volunteer"}))  # named on grid 7 but not a coordinator
    assert tree.coordinated_by(secretary) == {2, 6, 7}
    assert tree.coordinated_by(unlisted) == set()
    assert tree.coordinated_by(volunteer) == set()
    assert tree.coordinated_by(SYSTEM) == set(tree.grids)
    assert tree.named_on(700) == {7} and tree.scope_of(100) == set(tree.grids)
    with pytest.raises(Forbidden):
        tree.require_scope(unlisted, 7)
    tree.require_scope(secretary, 7)
    assert "grids" not in secretary.to_context()  # the context carries no copy of the scope


def test_handling_grid_per_level(tree):
    assert [tree.handling_grid(7, level).id for level in (1, 2, 3)] == [7, 2, 1]
    assert tree.handling_grid(2, 1).id == 2  # an action on a big grid is handled there from the start

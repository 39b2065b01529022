"""Coordinator scope, the one rule: admins act everywhere; a coordinator acts in the grids of their scope
(the subtrees of the grids that name them, as the volunteers service's grid tree records it); nobody
else acts for a grid. Pure: the scope is handed in, read from the tree or asked of its service."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from shared.errors import Forbidden
from shared.identity import Caller

Scope = Callable[[int], Iterable[int]]  # a coordinator's user id -> the grids of their scope


def descendants(parent_of: Mapping[int, int | None], roots: Iterable[int]) -> set[int]:
    """The grids `roots` (those that exist) and every grid below them, given each grid's parent."""
    children: dict[int | None, list[int]] = {}
    for grid, parent in parent_of.items():
        children.setdefault(parent, []).append(grid)
    found: set[int] = set()
    todo = [root for root in roots if root in parent_of]
    while todo:
        grid = todo.pop()
        if grid not in found:
            found.add(grid)
            todo.extend(children.get(grid, ()))
    return found


def acts_in(caller: Caller, grid_id: int, scope: Scope) -> bool:
    """Whether `caller` may act for `grid_id`."""
    if caller.is_admin:
        return True
    if not caller.has_role("coordinator") or caller.user_id is None:
        return False
    return grid_id in set(scope(caller.user_id))


def require_acts_in(caller: Caller, grid_id: int, scope: Scope, what: str = "this grid") -> None:
    """403 unless `caller` may act for `grid_id` (401 for nobody signed in)."""
    caller.require()
    if not acts_in(caller, grid_id, scope):
        raise Forbidden(f"Only a coordinator of {what} (or a grid above it) may do this.")

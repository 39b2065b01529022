"""The grid tree: who coordinates what, a coordinator's scope, and who belongs to a grid (audiences)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from services.volunteers import escalation
from services.volunteers.charity.models import Merchant
from services.volunteers.contracts import GridSchema
from services.volunteers.models import Grid, GridCoordinator, TeamMember, Volunteer
from shared.db import Database, get_or_404
from shared.errors import Forbidden, Invalid, NotFound
from shared.identity import Caller
from shared.scope import acts_in, require_acts_in


@dataclass(frozen=True, slots=True)
class GridNode:
    """A grid's row without its ORM object or its outline: what a read-only screen that draws every grid needs
    (a city's 500 grids as ORM objects, with their coordinators, took most of the colour map's time)."""

    id: int
    parent_id: int | None
    name: str
    level: int
    coordinator_ids: tuple[int, ...]


@dataclass(frozen=True)
class Tree:
    """The whole grid tree in memory, read once per request (a sub-district has a few dozen nodes, a city
    hundreds). What is worked out from it — parents, children, subtrees, each person's scope — is worked out
    once per tree and kept: a page of 100 actions asks for the caller's scope on every row, the colour map for
    the subtree of every grid."""

    grids: dict[int, Grid]
    _known: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, session: Session, *, outlines: bool = False) -> Tree:
        """Every grid with its coordinators; their outlines (the bulk of a city's tree) only when asked for, else
        read on first use."""
        options = [selectinload(Grid.coordinator_links)] + ([] if outlines else [defer(Grid.outline)])
        return cls({g.id: g for g in session.scalars(select(Grid).options(*options)).all()})

    @classmethod
    def load_nodes(cls, session: Session) -> Tree:
        """Every grid as a `GridNode` (id, parent, name, level, coordinators), read as plain rows: for readers
        that change no grid and use nothing else of one."""
        coordinators: dict[int, list[int]] = {}
        for grid_id, user_id in session.connection().execute(select(GridCoordinator.grid_id, GridCoordinator.user_id)
                                                .order_by(GridCoordinator.grid_id, GridCoordinator.position)):
            coordinators.setdefault(grid_id, []).append(user_id)
        return cls({grid_id: GridNode(grid_id, parent_id, name, level, tuple(coordinators.get(grid_id, ())))
                    for grid_id, parent_id, name, level in session.connection().execute(
                        select(Grid.id, Grid.parent_id, Grid.name, Grid.level))})

    def _once(self, key, work):
        if key not in self._known:
            self._known[key] = work()
        return self._known[key]

    @property
    def parents(self) -> dict[int, int | None]:
        return self._once("parents", lambda: {g.id: g.parent_id for g in self.grids.values()})

    @property
    def levels(self) -> dict[int, int]:
        return self._once("levels", lambda: {g.id: g.level for g in self.grids.values()})

    def get(self, grid_id: int, field: str = "grid_id") -> Grid:
        grid = self.grids.get(grid_id)
        if grid is None:
            raise Invalid("Unknown grid.", errors={field: [f"grid {grid_id} does not exist"]})
        return grid

    def subtree(self, grid_id: int) -> set[int]:
        """The grid and every grid below it."""
        return set(self._once(("subtree", grid_id), lambda: self._below(grid_id)))

    def _below(self, grid_id: int) -> frozenset[int]:
        # As shared.scope.descendants walks, over children listed once per tree rather than once per call.
        children = self._once("children", lambda: _children_of(self.parents))
        found: set[int] = set()
        todo = [grid_id] if grid_id in self.grids else []
        while todo:
            grid = todo.pop()
            if grid not in found:
                found.add(grid)
                todo.extend(children.get(grid, ()))
        return frozenset(found)

    def subtree_totals(self, own: dict[int, tuple[int, ...]], width: int) -> dict[int, list[int]]:
        """Per grid, the sums of `own` (a tuple of `width` counts per grid) over its subtree: what adding `own`
        up over `subtree(grid)` gives for every grid, in one pass from the leaves up (each grid's totals are
        added to its parent's after all of its own children's were) instead of a walk of every subtree."""
        totals = {grid_id: list(own.get(grid_id, (0,) * width)) for grid_id in self.grids}
        for grid in reversed(self.depth_first()):  # every grid after all the grids below it
            parent = totals.get(grid.parent_id) if grid.parent_id is not None else None
            if parent is not None:
                for i, count in enumerate(totals[grid.id]):
                    parent[i] += count
        return totals

    def handling_grid(self, grid_id: int, level: int) -> Grid:
        """The grid whose coordinators handle an action of `grid_id` at escalation `level`."""
        try:
            return self.grids[escalation.handling_grid(grid_id, level, self.levels, self.parents)]
        except ValueError:
            # A tree without a node at that level (e.g. no root yet): the nearest one we have answers.
            return self.grids[self.root_of(grid_id)]

    def path(self, grid_id: int) -> list[int]:
        """Ids from the root down to `grid_id`, itself last."""
        path = [grid_id]
        while self.grids[path[-1]].parent_id is not None:
            path.append(self.grids[path[-1]].parent_id)
        return path[::-1]

    def depth_first(self) -> list[Grid]:
        """Every grid, each parent followed by its subtree (siblings by id): the order to draw the tree in."""
        children: dict[int | None, list[Grid]] = {}
        for grid in sorted(self.grids.values(), key=lambda g: g.id):
            parent = grid.parent_id if grid.parent_id in self.grids else None
            children.setdefault(parent, []).append(grid)
        ordered, stack = [], list(reversed(children.get(None, [])))
        while stack:
            grid = stack.pop()
            ordered.append(grid)
            stack.extend(reversed(children.get(grid.id, [])))
        return ordered

    def root_of(self, grid_id: int) -> int:
        current = grid_id
        while self.grids[current].parent_id is not None:
            current = self.grids[current].parent_id
        return current

    def common_ancestor(self, grid_ids: list[int]) -> int:
        """The lowest grid whose subtree holds all of `grid_ids`."""
        def chain(grid_id: int) -> list[int]:
            path = [grid_id]
            while self.grids[path[-1]].parent_id is not None:
                path.append(self.grids[path[-1]].parent_id)
            return path

        chains = [chain(g) for g in grid_ids]
        shared = set(chains[0]).intersection(*map(set, chains[1:]))
        return next(g for g in chains[0] if g in shared) if shared else chains[0][-1]

    def coordinated_by(self, caller: Caller) -> set[int]:
        """Grids (whole subtrees) a coordinator may act in: those whose node names them as a coordinator.

        The grid tree is the one record of coordinator scope (docs/architecture.md, "Coordinator scope"):
        the caller's context carries who they are and their roles, never a copy of their grids.
        """
        def work() -> frozenset[int]:
            scope = frozenset(self.scope_of(caller.user_id)) if caller.user_id is not None else frozenset()
            # acts_in's rule for each grid, told of the scope only whether it holds that grid (acts_in copies
            # the scope it is given: the whole scope, once for each of a city's 500 grids, cost milliseconds).
            return frozenset(grid_id for grid_id in self.grids
                             if acts_in(caller, grid_id, lambda _, g=grid_id: (g,) if g in scope else ()))
        return set(self._once(("coordinated_by", caller), work))

    def named_on(self, user_id: int) -> set[int]:
        """The grids whose node lists `user_id` as a coordinator."""
        return {g.id for g in self.grids.values() if user_id in (g.coordinator_ids or [])}

    def scope_of(self, user_id: int) -> set[int]:
        """Every grid in the subtrees of the grids naming `user_id` (their role is checked by the caller)."""
        def work() -> frozenset[int]:
            scope: set[int] = set()
            for root in self.named_on(user_id):
                scope |= self.subtree(root)
            return frozenset(scope)
        return set(self._once(("scope_of", user_id), work))

    def acts_in(self, caller: Caller, grid_id: int) -> bool:
        return acts_in(caller, grid_id, self.scope_of)

    def require_scope(self, caller: Caller, grid_id: int, what: str = "this grid") -> None:
        require_acts_in(caller, grid_id, self.scope_of, what)


def _children_of(parents: dict[int, int | None]) -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for grid, parent in parents.items():
        children.setdefault(parent, []).append(grid)
    return children


def grid_dict(grid: Grid, tree: Tree) -> dict:
    """A grid with its place in the tree (`path` from the root, `depth`); `tree` may predate the grid."""
    path = (tree.path(grid.parent_id) if grid.parent_id is not None else []) + [grid.id]
    return GridSchema().dump({"id": grid.id, "parent_id": grid.parent_id, "name": grid.name, "level": grid.level,
                              "coordinator_ids": list(grid.coordinator_ids), "outline": grid.outline,
                              "depth": len(path) - 1, "path": path})


def list_grids(db: Database, caller: Caller) -> list[dict]:
    """The whole grid tree, flat, depth-first: each grid followed by its subtree (anyone signed in)."""
    caller.require()
    with db.read() as session:
        tree = Tree.load(session, outlines=True)
        return [grid_dict(grid, tree) for grid in tree.depth_first()]


def get_grid(db: Database, caller: Caller, grid_id: int) -> dict:
    caller.require()
    with db.read() as session:
        tree = Tree.load(session)
        grid = tree.grids.get(grid_id)
        if grid is None:
            raise NotFound(f"Grid {grid_id} does not exist.")
        return grid_dict(grid, tree)


def _check_parent(tree: Tree, data: dict) -> None:
    parent_id = data.get("parent_id")
    if parent_id is None:
        return
    parent = tree.get(parent_id, "parent_id")
    if parent.level <= data["level"]:
        raise Invalid("A grid sits below a grid of a higher level.",
                      errors={"parent_id": [f"grid {parent_id} is level {parent.level}; "
                                            f"a level {data['level']} grid needs a higher one"]})


def create_grid(db: Database, caller: Caller, data: dict) -> dict:
    caller.require_role("admin")
    with db.transaction() as session:
        tree = Tree.load(session)
        _check_parent(tree, data)
        grid = Grid(name=data["name"], level=data["level"], parent_id=data.get("parent_id"),
                    coordinator_ids=sorted(set(data.get("coordinator_ids") or [])), outline=data.get("outline"))
        session.add(grid)
        session.flush()
        return grid_dict(grid, tree)


def ensure_grid(db: Database, caller: Caller, data: dict) -> dict:
    """Create a grid of that name under that parent unless it exists; merge in coordinator ids."""
    caller.require_role("admin")
    with db.transaction() as session:
        tree = Tree.load(session)
        _check_parent(tree, data)
        grid = session.scalars(select(Grid).where(Grid.name == data["name"],
                                                  Grid.parent_id.is_(None) if data.get("parent_id") is None
                                                  else Grid.parent_id == data["parent_id"])).first()
        if grid is None:
            grid = Grid(name=data["name"], level=data["level"], parent_id=data.get("parent_id"), coordinator_ids=[])
            session.add(grid)
        grid.coordinator_ids = sorted(set(grid.coordinator_ids or []) | set(data.get("coordinator_ids") or []))
        if data.get("outline") is not None:
            grid.outline = data["outline"]
        session.flush()
        return grid_dict(grid, tree)


def update_grid(db: Database, caller: Caller, grid_id: int, data: dict) -> dict:
    """Change a grid (admins, who create grids): its outline, or `null` to take it away."""
    caller.require_role("admin")
    with db.transaction() as session:
        tree = Tree.load(session)
        grid = get_or_404(session, Grid, grid_id, "Grid")
        if "outline" in data:
            grid.outline = data["outline"]
        session.flush()
        return grid_dict(grid, tree)


def coordinator_scope(db: Database, caller: Caller, user_id: int) -> list[int]:
    """Grid ids a person coordinates (subtrees included), for the services that check a coordinator's scope
    (notifications: broadcasts and grid channels). Their role is the asking service's to check."""
    if not caller.system and not caller.is_admin and caller.user_id != user_id:
        raise Forbidden("Only the system asks for someone else's coordinator scope.")
    with db.read() as session:
        return sorted(Tree.load(session).scope_of(user_id))


def person_standing(db: Database, caller: Caller, user_id: int) -> dict:
    """Where a person stands in the grid tree, as seen by the calling coordinator (the gateway asks before a
    coordinator changes someone's roles or groups).

    `grids`: the grids the person belongs to — their volunteer profile's grids and their shops' grids;
    `shop_grids`: their shops' grids alone; `coordinates`: grids naming them as a coordinator;
    `in_scope`: their grids within the caller's scope; `shops_outside_scope`: shop grids outside it.
    """
    caller.require()
    with db.read() as session:
        tree = Tree.load(session)
        volunteer = session.get(Volunteer, user_id)
        shop_grids = {gid for gid in session.scalars(select(Merchant.grid_id).where(
            Merchant.user_id == user_id)).all() if gid is not None}
        member = set(volunteer.grid_ids) if volunteer is not None else set()
        member = {g for g in member | shop_grids if g in tree.grids}
        scope = tree.coordinated_by(caller)
        return {"user_id": user_id, "grids": sorted(member), "shop_grids": sorted(shop_grids),
                "coordinates": sorted(tree.named_on(user_id)), "in_scope": sorted(member & scope),
                "shops_outside_scope": sorted(shop_grids - scope)}


def assign_coordinator(db: Database, caller: Caller, user_id: int, grid_ids: list[int]) -> list[int]:
    """Make `user_id` a coordinator of exactly these grids (admins; an empty list takes every grid away).

    The gateway calls this when an admin grants or revokes the coordinator role with its grids.
    """
    caller.require_role("admin")
    wanted = set(grid_ids)
    with db.transaction() as session:
        rows = session.scalars(select(Grid).order_by(Grid.id).with_for_update()).all()
        unknown = sorted(wanted - {g.id for g in rows})
        if unknown:
            raise Invalid("Unknown grid.", errors={"grids": [f"grid {g} does not exist" for g in unknown]})
        for grid in rows:
            listed = set(grid.coordinator_ids or [])
            changed = (listed | {user_id}) if grid.id in wanted else (listed - {user_id})
            if changed != listed:
                grid.coordinator_ids = sorted(changed)
        return sorted(wanted)


def audience_members(db: Database, caller: Caller, audience: dict) -> list[int]:
    """User ids of a team (members and leads) or of a grid's subtree (coordinators, volunteers, merchants)."""
    caller.require()
    if not (caller.system or caller.has_role("coordinator")):
        raise Forbidden("Only coordinators may list an audience.")
    with db.read() as session:
        if audience["kind"] == "team":
            rows = session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == audience["id"],
                                                                    TeamMember.status == "active")).all()
            return sorted(set(rows))
        tree = Tree.load(session)
        tree.get(audience["id"], "id")
        if not caller.system:
            tree.require_scope(caller, audience["id"], "that grid")
        subtree = tree.subtree(audience["id"])
        only = audience.get("only")
        members: set[int] = set()
        if only in (None, "coordinators"):
            for grid_id in subtree:
                members.update(tree.grids[grid_id].coordinator_ids or [])
        if only in (None, "volunteers"):
            members.update(session.scalars(select(Volunteer.user_id).where(Volunteer.in_grids(subtree))).all())
        if only in (None, "merchants"):
            # A shop recorded on a visit before its owner had an account has no user to tell.
            members.update(uid for uid in session.scalars(select(Merchant.user_id).where(
                Merchant.grid_id.in_(subtree), Merchant.status == "approved")).all() if uid is not None)
        return sorted(members)

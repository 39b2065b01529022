"""RPC entrypoints for grids, teams, volunteers, actions, visits and grid status."""
from __future__ import annotations

from sqlalchemy import select

from services.volunteers.models import Grid, Team
from shared.rpc import rpc


class ActionsEntrypoints:
    @rpc
    def list_grids(self) -> list[dict]:
        """The grid tree, flat, parents first."""
        with self.db.read() as session:
            grids = session.scalars(select(Grid).order_by(Grid.level.desc(), Grid.id)).all()
            return [{"id": g.id, "parent_id": g.parent_id, "name": g.name, "level": g.level} for g in grids]

    @rpc
    def list_teams(self) -> list[dict]:
        with self.db.read() as session:
            return [{"id": t.id, "name": t.name, "kind": t.kind}
                    for t in session.scalars(select(Team).order_by(Team.id)).all()]

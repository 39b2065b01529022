"""Grid workers' visits to merchants, the "not visited lately" report, and the colour map of grid status."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select

from services.volunteers import escalation, lifecycle
from services.volunteers.actions import new_action, payload, writing
from services.volunteers.charity.models import Merchant
from services.volunteers.contracts import OverdueGridSchema, VisitSchema
from services.volunteers.grids import Tree
from services.volunteers.models import Action, Visit
from shared import config
from shared.db import Database, utcnow
from shared.errors import Invalid
from shared.identity import Caller
from shared.paging import keyset


def _merchant(session, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise Invalid("Unknown merchant.", errors={"merchant_id": [f"merchant {merchant_id} does not exist"]})
    return merchant


def log_visit(db: Database, emit, caller: Caller, data: dict) -> dict:
    """Record a visit; "needs follow-up" reports an action in the merchant's grid at once."""
    caller.require()
    with writing(db) as session:
        tree = Tree.load(session)
        merchant = _merchant(session, data["merchant_id"])
        if merchant.grid_id is None:
            raise Invalid("The merchant has no grid yet.", errors={"merchant_id": ["not placed in a grid"]})
        tree.require_scope(caller, merchant.grid_id, "the merchant's grid")
        visit = Visit(merchant_id=merchant.id, grid_id=merchant.grid_id, visitor_id=caller.user_id or 0,
                      visited_at=data.get("visited_at") or utcnow(), findings=data.get("findings", ""),
                      needs_follow_up=data.get("needs_follow_up", False))
        if visit.needs_follow_up:
            action = new_action(session, tree, caller, {
                "title": data.get("follow_up_title") or f"走访跟进:{merchant.name}",
                "category": data["follow_up_category"], "description": data.get("findings", ""),
                "grid_id": merchant.grid_id, "merchant_id": merchant.id,
                "location": merchant.address or merchant.name})
            visit.action_id = action.id
            emit(session, "action.reported", payload(session, tree, action, caller, "visit follow-up"))
        session.add(visit)
        session.flush()
        return VisitSchema().dump(visit)


def list_visits(db: Database, caller: Caller, query: dict) -> dict:
    caller.require_role("coordinator", "admin")
    with db.read() as session:
        tree = Tree.load(session)
        scope = tree.coordinated_by(caller)
        if query.get("grid_id"):
            tree.get(query["grid_id"])
            scope &= tree.subtree(query["grid_id"])
        statement = select(Visit).where(Visit.grid_id.in_(scope))
        if query.get("merchant_id"):
            statement = statement.where(Visit.merchant_id == query["merchant_id"])
        if query.get("mine"):
            statement = statement.where(Visit.visitor_id == caller.user_id)
        return keyset(session, statement, Visit.id, query).answer(VisitSchema(many=True).dump)


def overdue_visits(db: Database, caller: Caller, query: dict) -> list[dict]:
    """Per grid, approved merchants nobody visited in the last `days` days (never visited ones first)."""
    caller.require_role("coordinator", "admin")
    with db.read() as session:
        tree = Tree.load(session)
        scope = tree.coordinated_by(caller)
        if query.get("grid_id"):
            tree.get(query["grid_id"])
            tree.require_scope(caller, query["grid_id"], "that grid")
            scope &= tree.subtree(query["grid_id"])
        since = utcnow() - timedelta(days=query["days"])
        last = dict(session.execute(select(Visit.merchant_id, func.max(Visit.visited_at))
                                    .group_by(Visit.merchant_id)).all())
        merchants = session.scalars(select(Merchant).where(Merchant.grid_id.in_(scope),
                                                           Merchant.status == "approved")
                                    .order_by(Merchant.grid_id, Merchant.id)).all()
        by_grid: dict[int, list[dict]] = defaultdict(list)
        for merchant in merchants:
            seen = last.get(merchant.id)
            if seen is not None and seen.tzinfo is None:
                from datetime import UTC

                seen = seen.replace(tzinfo=UTC)
            if seen is None or seen < since:
                by_grid[merchant.grid_id].append({"merchant_id": merchant.id, "name": merchant.name,
                                                  "last_visited_at": seen})
        for items in by_grid.values():
            items.sort(key=lambda m: (m["last_visited_at"] is not None, m["last_visited_at"] or since))
        return OverdueGridSchema(many=True).dump([
            {"grid_id": grid_id, "grid_name": tree.grids[grid_id].name, "merchants": items}
            for grid_id, items in sorted(by_grid.items())])


def thresholds() -> escalation.GridColourThresholds:
    defaults = escalation.GridColourThresholds()
    return escalation.GridColourThresholds(
        yellow_open=config.env_int("NUANXIN_GRID_YELLOW_OPEN", defaults.yellow_open),
        yellow_overdue=config.env_int("NUANXIN_GRID_YELLOW_OVERDUE", defaults.yellow_overdue),
        red_overdue=config.env_int("NUANXIN_GRID_RED_OVERDUE", defaults.red_overdue),
        red_escalated=config.env_int("NUANXIN_GRID_RED_ESCALATED", defaults.red_escalated))


def grid_status(db: Database, caller: Caller) -> list[dict]:
    """Per grid (counting its whole subtree): open, overdue and escalated actions, and green/yellow/red.

    The rows are GridStatusSchema's, built as it would dump them (ints and strings as read; a test holds them
    to the schema): its per-field dump of a city's 500 rows took 3.6 ms, half of what the whole screen now does."""
    caller.require_role("coordinator", "admin")
    with db.read() as session:
        tree = Tree.load_nodes(session)
        now = utcnow()
        # Counted per grid by the database, from the open actions' own index (ix_actions_open_by_grid).
        own = {grid_id: (opened, overdue, escalated) for grid_id, opened, overdue, escalated in session.connection().execute(
            select(Action.grid_id, func.count(),
                   func.count().filter(Action.deadline_at <= now),
                   func.count().filter(Action.escalations != 0))
            .where(Action.kind == "single", Action.state.in_(lifecycle.OPEN_STATES))
            .group_by(Action.grid_id))}
    limits = thresholds()
    totals = tree.subtree_totals(own, 3)  # each grid's own counts added up its tree in one pass
    rows = []
    for grid_id in sorted(tree.coordinated_by(caller), key=lambda g: (-tree.grids[g].level, g)):
        grid, (opened, overdue, escalated) = tree.grids[grid_id], totals[grid_id]
        rows.append({"grid_id": grid.id, "name": grid.name, "level": grid.level, "parent_id": grid.parent_id,
                     "open": opened, "overdue": overdue, "escalated": escalated,
                     "colour": escalation.grid_colour(opened, overdue, escalated, limits)})
    return rows

"""The console's report on a grid (its whole subtree) over a period: actions by category and level, time to
close, escalations, charity items claimed and redeemed, visits. The gateway also renders it as CSV."""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, datetime

from sqlalchemy import func, select

from services.volunteers.charity.models import Claim, Merchant
from services.volunteers.contracts import GridReportSchema
from services.volunteers.grids import Tree
from services.volunteers.models import Action, Category, TimelineEntry, Visit
from shared import periods
from shared.db import Database
from shared.errors import NotFound
from shared.identity import Caller


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def grid_report(db: Database, caller: Caller, grid_id: int, first: date, last: date) -> dict:
    """The days `first`..`last` (inclusive) in the caller's time zone; coordinators of the grid (or above)."""
    caller.require()
    zone = periods.zone(caller.timezone)
    starts_at, ends_at = periods.bounds(first, last, zone)
    with db.read() as session:
        tree = Tree.load(session)
        grid = tree.grids.get(grid_id)
        if grid is None:
            raise NotFound(f"Grid {grid_id} does not exist.")
        tree.require_scope(caller, grid_id, "this grid")
        grids = sorted(tree.subtree(grid_id))

        single = (Action.kind == "single", Action.grid_id.in_(grids))
        reported = session.execute(select(Action.category, Action.level).where(
            *single, Action.created_at >= starts_at, Action.created_at < ends_at)).all()
        labels = dict(session.execute(select(Category.name, Category.label)).all())
        by_category = Counter(category for category, _ in reported)
        by_level = Counter(level for _, level in reported)
        closed = session.execute(select(Action.created_at, Action.closed_at).where(
            *single, Action.state == "closed", Action.closed_at >= starts_at, Action.closed_at < ends_at)).all()
        durations = sorted(_minutes(created, done) for created, done in closed)
        escalations = session.execute(select(func.count(), func.count(func.distinct(TimelineEntry.action_id)))
                                      .join(Action, Action.id == TimelineEntry.action_id).where(
            *single, TimelineEntry.verb == "escalate", TimelineEntry.at >= starts_at,
            TimelineEntry.at < ends_at)).one()

        shops = select(Merchant.id).where(Merchant.grid_id.in_(grids))
        claimed = session.scalar(select(func.count()).select_from(Claim).where(
            Claim.merchant_id.in_(shops), Claim.claimed_at >= starts_at, Claim.claimed_at < ends_at))
        redeemed = session.scalar(select(func.count()).select_from(Claim).where(
            Claim.merchant_id.in_(shops), Claim.redeemed_at >= starts_at, Claim.redeemed_at < ends_at))
        visits = session.execute(select(func.count(), func.count(func.distinct(Visit.merchant_id))).where(
            Visit.grid_id.in_(grids), Visit.visited_at >= starts_at, Visit.visited_at < ends_at)).one()
        follow_ups = session.scalar(select(func.count()).select_from(Visit).where(
            Visit.grid_id.in_(grids), Visit.visited_at >= starts_at, Visit.visited_at < ends_at,
            Visit.needs_follow_up.is_(True)))

        return GridReportSchema().dump({
            "grid": {"id": grid.id, "name": grid.name, "level": grid.level, "grid_ids": grids},
            "period": {"from": first.isoformat(), "to": last.isoformat(), "timezone": zone.key,
                       "starts_at": starts_at, "ends_at": ends_at},
            "actions": {
                "reported": len(reported),
                "by_category": [{"category": name, "label": labels.get(name, ""), "count": count}
                                for name, count in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))],
                "by_level": [{"level": level, "count": by_level.get(level, 0)} for level in (1, 2, 3)],
                "closed": len(durations),
                "time_to_close": {
                    "median_minutes": round(statistics.median(durations), 1) if durations else None,
                    "mean_minutes": round(statistics.fmean(durations), 1) if durations else None},
                "escalations": escalations[0], "escalated_actions": escalations[1]},
            "charity": {"claimed": claimed or 0, "redeemed": redeemed or 0},
            "visits": {"count": visits[0], "shops_visited": visits[1], "needing_follow_up": follow_ups or 0},
        })


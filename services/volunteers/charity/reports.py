"""Reports on charity items: a shop's month, and the shops taking part in a grid."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.volunteers.charity.access import deny, in_subtree, relations_to_shop, zone_of
from services.volunteers.charity.models import CharityItem, Claim, Merchant
from services.volunteers.models import Grid
from shared.db import Database, get_or_404
from shared.identity import Caller


def count_live(session: Session, merchant_ids: Iterable[int]) -> dict[int, int]:
    """Active charity items per shop."""
    rows = session.execute(select(CharityItem.merchant_id, func.count()).where(
        CharityItem.merchant_id.in_(list(merchant_ids)), CharityItem.status == "active")
        .group_by(CharityItem.merchant_id)).all()
    return dict(rows)


def _month_bounds(month: str, zone) -> tuple[datetime, datetime]:
    year, number = (int(part) for part in month.split("-"))
    start = datetime.combine(date(year, number, 1), time(0), zone)
    end = datetime.combine(date(year + number // 12, number % 12 + 1, 1), time(0), zone)
    return start, end


def merchant_month(db: Database, caller: Caller, merchant_id: int, month: str) -> dict:
    """Per item: claims made in the month (in the shop's zone), how many were redeemed, expired, still open."""
    caller.require()
    with db.read() as session:
        merchant = get_or_404(session, Merchant, merchant_id, "Merchant")
        if not (relations_to_shop(session, caller, merchant) or caller.is_admin):
            deny(merchant.status == "approved", f"Merchant {merchant_id}",
                 "Only the shop and its coordinators see its report.")
        start, end = _month_bounds(month, zone_of(merchant))
        counts = session.execute(
            select(Claim.pledge_id, Claim.state, func.count())
            .where(Claim.merchant_id == merchant.id, Claim.claimed_at >= start, Claim.claimed_at < end)
            .group_by(Claim.pledge_id, Claim.state)).all()
        by_item: dict[int, Counter] = {}
        for item_id, state, number in counts:
            by_item.setdefault(item_id, Counter())[state] += number
        items, totals = [], Counter()
        for item in session.scalars(select(CharityItem).where(CharityItem.merchant_id == merchant.id)
                                    .order_by(CharityItem.id)).all():
            states = by_item.get(item.id, Counter())
            row = {"claims": sum(states.values()), "redemptions": states["redeemed"],
                   "expired": states["expired"], "open": states["claimed"]}
            totals.update(row)
            items.append({"pledge_id": item.id, "title": item.title, "status": item.status, **row})
        return {"merchant_id": merchant.id, "merchant_name": merchant.name, "month": month, "items": items,
                "totals": {key: totals[key] for key in ("claims", "redemptions", "expired", "open")}}


def grid_merchants(db: Database, caller: Caller, grid_id: int) -> dict:
    """Approved shops in a grid's subtree: how many, how many are good shops (新域好店家), with live items."""
    caller.require()
    with db.read() as session:
        grid = get_or_404(session, Grid, grid_id, "Grid")
        merchants = session.scalars(select(Merchant).where(Merchant.grid_id.in_(in_subtree(session, grid_id)),
                                                           Merchant.status == "approved")).all()
        live = count_live(session, [m.id for m in merchants])
        return {"grid_id": grid.id, "grid_name": grid.name, "merchants": len(merchants),
                "good_shops": sum(1 for m in merchants if m.good_shop),
                "with_live_items": sum(1 for m in merchants if live.get(m.id)),
                "by_street_area": dict(Counter(m.street_area or "" for m in merchants)),
                "by_category": dict(Counter(m.category or "" for m in merchants))}

"""Who may see and act on what in charity, one place for every use-case module: coordinator scope (as the
grid tree records it), a person's relations to a shop, whether a charity item is public, and the API's
answer for another's object. Reads the database it is handed; no nameko."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.volunteers.charity.models import CharityItem, Merchant
from services.volunteers.charity.rules import RedemptionHours, claim_window
from services.volunteers.grids import Tree
from services.volunteers.models import Grid
from shared.errors import Forbidden, Invalid, NotFound
from shared.identity import Caller

Emit = Callable[[Session, str, dict], dict]


# ----------------------------------------------------------------------------- grids and scope

def check_grid(session: Session, grid_id: int | None) -> None:
    if grid_id is not None and session.get(Grid, grid_id) is None:
        raise Invalid("The grid does not exist.", errors={"grid_id": [f"no grid {grid_id}"]})


def in_subtree(session: Session, grid_id: int) -> set[int]:
    """The grid and every grid below it (the lists' `grid_id` filter)."""
    return Tree.load(session).subtree(grid_id)


def coordinates(session: Session, caller: Caller, grid_id: int | None) -> bool:
    """Whether the caller acts for `grid_id` as a coordinator (the grid tree's rule); a shop or wish not yet
    placed on the map (no grid) may be taken up by any coordinator."""
    if grid_id is None:
        return caller.has_role("coordinator")
    return Tree.load(session).acts_in(caller, grid_id)


def coordinated(session: Session, caller: Caller, grid: InstrumentedAttribute) -> ColumnElement[bool]:
    """The SQL condition of `coordinates` on a `grid` column: the rows the caller acts for as a coordinator."""
    if caller.is_admin:
        return true()
    if not caller.has_role("coordinator") or caller.user_id is None:
        return false()
    return or_(grid.is_(None), grid.in_(Tree.load(session).scope_of(caller.user_id)))


# ------------------------------------------------------------------------------------------ shops

def deny(visible: bool, what: str, detail: str):
    """The API's rule for another's object: 403 if the caller can see it, 404 if it cannot (docs/api.md)."""
    if visible:
        raise Forbidden(detail)
    raise NotFound(f"{what} does not exist.")


def relations_to_shop(session: Session, caller: Caller, merchant: Merchant) -> set[str]:
    relations = set()
    if caller.user_id is not None and merchant.user_id == caller.user_id:
        relations.add("owner")
    if caller.has_role("coordinator") and coordinates(session, caller, merchant.grid_id):
        relations.add("coordinator")
    return relations


def zone_of(merchant: Merchant) -> ZoneInfo:
    return ZoneInfo(merchant.timezone or "Asia/Shanghai")


# -------------------------------------------------------------------------------- charity items

def window_of(item: CharityItem, merchant: Merchant, now: datetime) -> tuple[datetime, datetime] | None:
    """The redemption window a claim made `now` is for (the open one, else the next); None if none is left."""
    return claim_window(RedemptionHours.parse(item.redemption_hours), item.valid_from, item.valid_until,
                        now.astimezone(zone_of(merchant)))


def is_public(item: CharityItem, merchant: Merchant, now: datetime) -> bool:
    """Live for beneficiaries: active, the shop approved, and not past its valid period."""
    if item.status != "active" or merchant.status != "approved":
        return False
    return item.valid_until is None or item.valid_until >= now.astimezone(zone_of(merchant)).date()


def public_items(session: Session, now: datetime) -> ColumnElement[bool]:
    """The SQL condition of `is_public` on a select of items joined to their shops. The valid period ends
    by the shop's own calendar, so the condition names each zone the shops are in with its date today."""
    zones = session.scalars(select(Merchant.timezone).distinct()).all()

    def today(zone: str | None) -> date:
        return now.astimezone(ZoneInfo(zone or "Asia/Shanghai")).date()

    current = [and_(Merchant.timezone == zone, CharityItem.valid_until >= today(zone)) for zone in zones]
    return and_(CharityItem.status == "active", Merchant.status == "approved",
                or_(CharityItem.valid_until.is_(None), *current))

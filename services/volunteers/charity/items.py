"""Use-cases of charity items: a shop registers, edits, pauses, resumes and ends its items, a coordinator of
its grid suspends them, everyone browses the live ones with the current period's remaining stock.

An item's `version` is SQLAlchemy's version counter: every change counts it up, and an edit naming an older
version (If-Match) is refused with 412. Items of another shop answer exactly like unknown ones (404) when
the caller cannot see them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services.volunteers.charity.access import (
    Emit,
    deny,
    in_subtree,
    is_public,
    public_items,
    relations_to_shop,
    window_of,
    zone_of,
)
from services.volunteers.charity.contracts import PledgeSchema
from services.volunteers.charity.events import item_payload
from services.volunteers.charity.models import CharityItem, CharityItemStock, Merchant
from services.volunteers.charity.rules import (
    EDITABLE_STATES,
    OUTDOOR_GROUPS,
    item_may,
    item_next_state,
    period_key,
)
from shared.db import Database, get_or_404, utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from shared.identity import Caller
from shared.lifecycle import IllegalTransition
from shared.paging import keyset

CHANGED = "The item changed since you read it; reload and try again."


def remaining(session: Session, item: CharityItem, merchant: Merchant, now: datetime) -> int:
    """Units left in the stock period of the current (or next) redemption window."""
    window = window_of(item, merchant, now)
    if window is None:
        return 0
    taken = session.scalar(select(CharityItemStock.taken).where(
        CharityItemStock.pledge_id == item.id,
        CharityItemStock.period_key == period_key(item.stock_period, window[0].date()))) or 0
    return max(item.stock - taken, 0)


def dump_item(session: Session, item: CharityItem, now: datetime | None = None) -> dict:
    merchant = item.merchant
    return PledgeSchema().dump({
        **{c.key: getattr(item, c.key) for c in CharityItem.__table__.columns},
        "merchant_name": merchant.name, "grid_id": merchant.grid_id, "street_area": merchant.street_area,
        "remaining": remaining(session, item, merchant, now or utcnow()),
    })


def _own_merchant(session: Session, caller: Caller, merchant_id: int) -> Merchant:
    merchant = get_or_404(session, Merchant, merchant_id, "Merchant")
    if merchant.user_id != caller.user_id and not caller.is_admin:
        deny(merchant.status == "approved", f"Merchant {merchant_id}", "This shop is someone else's.")
    return merchant


def _visible_item(session: Session, caller: Caller, item_id: int, now: datetime) -> CharityItem:
    item = session.get(CharityItem, item_id)
    if item is None or not (is_public(item, item.merchant, now) or relations_to_shop(session, caller, item.merchant)):
        raise NotFound(f"Item {item_id} does not exist.")
    return item


def _check_dates(data: dict, today, *, new_end: bool = True) -> None:
    if data.get("valid_until") is not None:
        if data["valid_until"] < data["valid_from"]:
            raise Invalid("The valid period ends before it starts.",
                          errors={"valid_until": ["must not be before valid_from"]})
        if new_end and data["valid_until"] < today:
            raise Invalid("The valid period is over already.", errors={"valid_until": ["must not be in the past"]})


def create_item(db: Database, emit: Emit, caller: Caller, data: dict) -> dict:
    """The owner of an approved or pending shop registers an item; it is public once the shop is approved."""
    caller.require_role("merchant")
    now = utcnow()
    data = dict(data)
    with db.transaction() as session:
        merchant = _own_merchant(session, caller, data.pop("merchant_id"))
        if merchant.user_id is None:
            raise Conflict("Link the shop to its owner's account before registering items: the owner "
                           "redeems the codes at the counter.")
        if merchant.status == "suspended":
            raise Forbidden("This shop is suspended; it cannot register items.")
        today = now.astimezone(zone_of(merchant)).date()
        data["valid_from"] = data.get("valid_from") or today
        _check_dates(data, today)
        item = CharityItem(merchant_id=merchant.id, status="active", **data)
        session.add(item)
        session.flush()
        session.refresh(item)
        if merchant.status == "approved":
            emit(session, "pledge.published", item_payload(item, merchant))
        return dump_item(session, item, now)


def ensure_item(db: Database, emit: Emit, caller: Caller, data: dict) -> dict:
    """Create an item unless the shop has one of that title (system; demo seed)."""
    caller.require_role("admin")
    with db.read() as session:
        existing = session.scalars(select(CharityItem).where(CharityItem.merchant_id == data["merchant_id"],
                                                             CharityItem.title == data["title"])).first()
        if existing is not None:
            return dump_item(session, existing)
    return create_item(db, emit, caller, data)


def get_item(db: Database, caller: Caller, item_id: int) -> dict:
    now = utcnow()
    with db.read() as session:
        return dump_item(session, _visible_item(session, caller, item_id, now), now)


def _save(session: Session, stale: Exception) -> None:
    """Flush the versioned UPDATE; a concurrent change of the same version answers `stale`."""
    try:
        session.flush()
    except StaleDataError:
        raise stale from None


def update_item(db: Database, caller: Caller, item_id: int, changes: dict,
                expected_version: int | None = None) -> dict:
    """The owner edits its item; a stale `expected_version` (If-Match) is refused with 412."""
    caller.require()
    now = utcnow()
    with db.transaction() as session:
        item = get_or_404(session, CharityItem, item_id, "Item", lock=True)
        relations = relations_to_shop(session, caller, item.merchant)
        if "owner" not in relations:
            deny(bool(relations) or is_public(item, item.merchant, now), f"Item {item_id}",
                 "Only the shop that registered this item edits it.")
        if expected_version is not None and expected_version != item.version:
            raise PreconditionFailed(CHANGED, extra={"version": item.version})
        if item.status not in EDITABLE_STATES:
            raise Conflict(f"An item in state {item.status!r} cannot be edited.", extra={"state": item.status})
        merged = {"valid_from": item.valid_from, "valid_until": item.valid_until, **changes}
        if merged["valid_from"] is None:
            raise Invalid("valid_from cannot be removed.", errors={"valid_from": ["must be a date"]})
        _check_dates(merged, now.astimezone(zone_of(item.merchant)).date(), new_end="valid_until" in changes)
        for name, value in changes.items():
            setattr(item, name, value)
        item.updated_at = now
        _save(session, PreconditionFailed(CHANGED))
        return dump_item(session, item, now)


def change_item_status(db: Database, emit: Emit, caller: Caller, item_id: int, verb: str, note: str = "") -> dict:
    """pause | resume | end (the owner) and suspend | resume | end (a coordinator of the shop's grid)."""
    caller.require()
    now = utcnow()
    with db.transaction() as session:
        item = get_or_404(session, CharityItem, item_id, "Item", lock=True)
        relations = relations_to_shop(session, caller, item.merchant)
        if caller.is_admin:
            relations.add("coordinator")
        if not relations:
            deny(is_public(item, item.merchant, now), f"Item {item_id}",
                 "Only the item's shop, or a coordinator of its grid, changes its state.")
        try:
            target = item_next_state(item.status, verb)
        except IllegalTransition as exc:
            raise exc.conflict() from None
        if not item_may(verb, relations, item.status):
            raise Forbidden(f"You may not {verb} this item"
                            + (" (a coordinator suspended it)." if item.status == "suspended" else "."))
        item.status, item.status_note, item.updated_at = target, note, now
        if target == "active" and item.merchant.status == "approved":
            emit(session, "pledge.published", item_payload(item, item.merchant))
        _save(session, Conflict(CHANGED, extra={"allowed": []}))
        return dump_item(session, item, now)


def _for_group(group: str):
    """The SQL condition "the item is for `group`": named among its groups, or an outdoor worker and the
    item for every outdoor worker (`outdoor`). Groups are JSON text of known names, matched with their quotes."""
    groups = cast(CharityItem.beneficiary_groups, Text)
    wanted = [group] + (["outdoor"] if group in OUTDOOR_GROUPS and group != "outdoor" else [])
    return or_(*(groups.like(f'%"{name}"%') for name in wanted))


def list_items(db: Database, caller: Caller, query: dict) -> dict:
    """Live items near a grid (its subtree) with the current period's remaining stock; or, with `mine`, every
    item of the caller's shops in any state. Newest first."""
    now = utcnow()
    with db.read() as session:
        stmt = select(CharityItem).join(Merchant, Merchant.id == CharityItem.merchant_id)
        if query.get("mine"):
            caller.require()
            stmt = stmt.where(Merchant.user_id == caller.user_id)
            if query.get("status"):
                stmt = stmt.where(CharityItem.status == query["status"])
        else:
            stmt = stmt.where(public_items(session, now))
        if query.get("merchant_id") is not None:
            stmt = stmt.where(CharityItem.merchant_id == query["merchant_id"])
        if query.get("grid_id") is not None:
            stmt = stmt.where(Merchant.grid_id.in_(in_subtree(session, query["grid_id"])))
        if query.get("group"):
            stmt = stmt.where(_for_group(query["group"]))
        return keyset(session, stmt, CharityItem.id, query).answer(
            lambda rows: [dump_item(session, item, now) for item in rows])

"""Use-cases of merchants: a shop registers, a coordinator of its grid approves or rejects it, everyone
browses the approved ones.

"Not yours" answers exactly like "not found" (404) for shops of another merchant, so a merchant cannot
learn by probing which ids exist elsewhere.
"""
from __future__ import annotations

from sqlalchemy import false, or_, select

from services.volunteers.charity.access import Emit, check_grid, coordinated, coordinates, in_subtree
from services.volunteers.charity.contracts import MerchantSchema
from services.volunteers.charity.events import item_payload, vetting_payload
from services.volunteers.charity.models import CharityItem, Merchant
from shared.db import Database, utcnow
from shared.errors import Conflict, Forbidden, NotFound
from shared.identity import Caller
from shared.paging import keyset


def _visible(session, caller: Caller, merchant: Merchant) -> bool:
    return merchant.status == "approved" or (caller.user_id is not None and merchant.user_id == caller.user_id) \
        or coordinates(session, caller, merchant.grid_id)


def _visible_one(session, caller: Caller, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None or not _visible(session, caller, merchant):
        raise NotFound(f"Merchant {merchant_id} does not exist.")
    return merchant


def register_merchant(db: Database, caller: Caller, data: dict, emit: Emit | None = None) -> dict:
    """A merchant registers its own shop; it waits for a coordinator's approval (they are told)."""
    caller.require_role("merchant")
    with db.transaction() as session:
        check_grid(session, data.get("grid_id"))
        duplicate = session.scalars(select(Merchant.id).where(Merchant.user_id == caller.user_id,
                                                              Merchant.name == data["name"])).first()
        if duplicate is not None:
            raise Conflict("You registered a shop of this name already.", errors={"name": ["already registered"]},
                           extra={"merchant_id": duplicate})
        merchant = Merchant(user_id=caller.user_id, status="pending", **data)
        session.add(merchant)
        session.flush()
        if emit is not None:
            emit(session, "merchant.registered", {
                "merchant_id": merchant.id, **vetting_payload(session, merchant.grid_id, merchant.name,
                                                              caller.user_id)})
        return MerchantSchema().dump(merchant)


def ensure_merchant(db: Database, caller: Caller, data: dict) -> dict:
    """Record a shop unless one of that name exists on that street (system; demo seed and visits)."""
    caller.require_role("admin")
    with db.transaction() as session:
        check_grid(session, data.get("grid_id"))
        merchant = session.scalars(select(Merchant).where(Merchant.name == data["name"],
                                                          Merchant.street_area == data["street_area"])).first()
        if merchant is None:
            merchant = Merchant(**data)
            if merchant.status == "approved":
                merchant.approved_at = utcnow()
            session.add(merchant)
            session.flush()
        return MerchantSchema().dump(merchant)


def approve_merchant(db: Database, emit: Emit, caller: Caller, merchant_id: int, note: str = "") -> dict:
    """A coordinator of the shop's grid approves it; its live charity items go public (pledge.published)."""
    caller.require_role("coordinator")
    with db.transaction() as session:
        merchant = _visible_one(session, caller, merchant_id)
        if not coordinates(session, caller, merchant.grid_id):
            raise Forbidden("Only a coordinator of the shop's grid approves it.")
        if merchant.status == "approved":
            raise Conflict("This shop is approved already.", extra={"state": merchant.status})
        merchant.status, merchant.approved_by, merchant.approved_at = "approved", caller.user_id, utcnow()
        merchant.rejection_reason, merchant.rejected_by, merchant.rejected_at = "", None, None
        if note:
            merchant.note = note
        for item in session.scalars(select(CharityItem).where(CharityItem.merchant_id == merchant.id,
                                                              CharityItem.status == "active")).all():
            emit(session, "pledge.published", item_payload(item, merchant))
        return MerchantSchema().dump(merchant)


def reject_merchant(db: Database, caller: Caller, merchant_id: int, reason: str) -> dict:
    """A coordinator of the shop's grid (who may approve it) turns a pending shop down with a reason, which
    its owner reads on the shop; it may still be approved later (the reason is then cleared)."""
    caller.require_role("coordinator")
    with db.transaction() as session:
        merchant = _visible_one(session, caller, merchant_id)
        if not coordinates(session, caller, merchant.grid_id):
            raise Forbidden("Only a coordinator of the shop's grid rejects it.")
        if merchant.status != "pending":
            raise Conflict(f"Only a shop waiting for approval is rejected; this one is {merchant.status}.",
                           extra={"state": merchant.status,
                                  "allowed": [] if merchant.status == "approved" else ["approve"]})
        merchant.status, merchant.rejection_reason = "rejected", reason
        merchant.rejected_by, merchant.rejected_at = caller.user_id, utcnow()
        return MerchantSchema().dump(merchant)


def get_merchant(db: Database, caller: Caller, merchant_id: int) -> dict:
    with db.read() as session:
        return MerchantSchema().dump(_visible_one(session, caller, merchant_id))


def list_merchants(db: Database, caller: Caller, query: dict) -> dict:
    """Approved shops for everyone; pending ones too for their owner and their grid's coordinators. Newest first."""
    with db.read() as session:
        stmt = select(Merchant)
        if query.get("mine"):
            caller.require()
            stmt = stmt.where(Merchant.user_id == caller.user_id)
        if query.get("grid_id") is not None:
            stmt = stmt.where(Merchant.grid_id.in_(in_subtree(session, query["grid_id"])))
        for name in ("status", "good_shop", "category", "street_area"):
            if query.get(name) is not None:
                stmt = stmt.where(getattr(Merchant, name) == query[name])
        if not caller.is_admin:
            mine = Merchant.user_id == caller.user_id if caller.user_id is not None else false()
            stmt = stmt.where(or_(Merchant.status == "approved", mine, coordinated(session, caller, Merchant.grid_id)))
        dump = MerchantSchema().dump
        return keyset(session, stmt, Merchant.id, query).answer(lambda rows: [dump(m) for m in rows])

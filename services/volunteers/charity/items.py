"""Use-cases of merchants, their charity items (pledges), claims and redemptions.

Each use-case runs in one transaction and emits its events through the outbox in that transaction.
Stock and per-person limits are enforced by the database: a guarded UPDATE on the period's stock row
and a unique constraint on (pledge, person, period, slot); see `charity_models`.

"Not yours" answers exactly like "not found" (404) for shops, items and codes of another merchant, so
a merchant cannot learn by probing which ids or codes exist elsewhere.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.volunteers.charity_models import Claim, Merchant, Pledge, PledgeStock
from services.volunteers.charity_rules import (
    EDITABLE_STATES,
    OUTDOOR_GROUPS,
    RedemptionHours,
    claim_window,
    eligible,
    new_code,
    normalise_code,
    period_key,
    pledge_may,
    pledge_next_state,
    qr_payload,
)
from services.volunteers.charity_schemas import ClaimSchema, MerchantSchema, PledgeSchema
from services.volunteers.grids import Tree
from services.volunteers.lifecycle import IllegalTransition
from services.volunteers.models import Grid
from shared.db import Database, utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from shared.identity import Caller

Emit = Callable[[Session, str, dict], dict]
CLAIM_ATTEMPTS = 3


# ----------------------------------------------------------------------------- grids and scope

def subtree(session: Session, roots: Iterable[int]) -> set[int]:
    """The ids of `roots` and every grid below them."""
    tree = Tree.load(session)
    return set().union(*(tree.subtree(root) for root in roots))


def coordinated(session: Session, caller: Caller) -> set[int]:
    """Grids a coordinator acts in (their grids' subtrees), as the grid tree defines it."""
    return Tree.load(session).coordinated_by(caller)


def coordinates(session: Session, caller: Caller, grid_id: int | None) -> bool:
    """Whether the caller coordinates `grid_id` (one of its grids is the grid or an ancestor)."""
    if caller.is_admin:
        return True
    if not caller.has_role("coordinator"):
        return False
    if grid_id is None:
        return True  # a shop or wish not yet placed on the map: any coordinator may take it up
    return grid_id in coordinated(session, caller)


def vetting_payload(session: Session, grid_id: int | None, title: str, submitted_by: int | None) -> dict:
    """What the coordinators who vet a wish or a shop are told: the grid by name, and who they are (the
    nearest grid up the tree that names coordinators; every top grid's when the thing has no grid yet)."""
    tree = Tree.load(session)
    coordinators: list[int] = []
    if grid_id is not None and grid_id in tree.grids:
        current: int | None = grid_id
        while current is not None and not coordinators:
            coordinators = list(tree.grids[current].coordinator_ids or [])
            current = tree.grids[current].parent_id
    else:
        for grid in tree.grids.values():
            if grid.parent_id is None:
                coordinators.extend(u for u in grid.coordinator_ids or [] if u not in coordinators)
    grid = tree.grids.get(grid_id) if grid_id is not None else None
    return {"title": title, "grid_id": grid_id, "grid_name": grid.name if grid is not None else "",
            "coordinator_ids": sorted(set(coordinators)), "submitted_by": submitted_by}


def check_grid(session: Session, grid_id: int | None) -> None:
    if grid_id is not None and session.get(Grid, grid_id) is None:
        raise Invalid("The grid does not exist.", errors={"grid_id": [f"no grid {grid_id}"]})


def page(session: Session, stmt, model, query: dict, dump: Callable, keep: Callable | None = None) -> dict:
    """Newest first by id, `limit` per page, cursor = last id seen; `keep` filters rows Python-side
    (conditions on JSON columns) while pages still come out full."""
    limit = query["limit"]
    last_id = None
    if query.get("cursor"):
        try:
            last_id = int(query["cursor"])
        except ValueError:
            raise Invalid("Bad cursor.", errors={"cursor": ["not a cursor from a previous page"]}) from None
    items: list = []
    batch_size = limit + 1 if keep is None else max(4 * limit, 50)
    while len(items) <= limit:
        stmt_page = stmt.order_by(model.id.desc()).limit(batch_size)
        if last_id is not None:
            stmt_page = stmt_page.where(model.id < last_id)
        batch = session.scalars(stmt_page).all()
        items.extend(row for row in batch if keep is None or keep(row))
        if len(batch) < batch_size:
            break
        last_id = batch[-1].id
    more = len(items) > limit
    items = items[:limit]
    return {"items": [dump(row) for row in items], "next_cursor": str(items[-1].id) if more and items else None}


# ----------------------------------------------------------------------------------- merchants

def _merchant_visible(session: Session, caller: Caller, merchant: Merchant) -> bool:
    return merchant.status == "approved" or (caller.user_id is not None and merchant.user_id == caller.user_id) \
        or coordinates(session, caller, merchant.grid_id)


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
    """A coordinator of the shop's grid approves it; its live items go public (pledge.published)."""
    caller.require_role("coordinator")
    with db.transaction() as session:
        merchant = session.get(Merchant, merchant_id)
        if merchant is None or not _merchant_visible(session, caller, merchant):
            raise NotFound(f"Merchant {merchant_id} does not exist.")
        if not coordinates(session, caller, merchant.grid_id):
            raise Forbidden("Only a coordinator of the shop's grid approves it.")
        if merchant.status == "approved":
            raise Conflict("This shop is approved already.", extra={"state": merchant.status})
        merchant.status, merchant.approved_by, merchant.approved_at = "approved", caller.user_id, utcnow()
        merchant.rejection_reason, merchant.rejected_by, merchant.rejected_at = "", None, None
        if note:
            merchant.note = note
        for pledge in session.scalars(select(Pledge).where(Pledge.merchant_id == merchant.id,
                                                           Pledge.status == "active")).all():
            emit(session, "pledge.published", pledge_payload(pledge, merchant))
        return MerchantSchema().dump(merchant)


def reject_merchant(db: Database, caller: Caller, merchant_id: int, reason: str) -> dict:
    """A coordinator of the shop's grid (who may approve it) turns a pending shop down with a reason, which
    its owner reads on the shop; it may still be approved later (the reason is then cleared)."""
    caller.require_role("coordinator")
    with db.transaction() as session:
        merchant = session.get(Merchant, merchant_id)
        if merchant is None or not _merchant_visible(session, caller, merchant):
            raise NotFound(f"Merchant {merchant_id} does not exist.")
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
        merchant = session.get(Merchant, merchant_id)
        if merchant is None or not _merchant_visible(session, caller, merchant):
            raise NotFound(f"Merchant {merchant_id} does not exist.")
        return MerchantSchema().dump(merchant)


def list_merchants(db: Database, caller: Caller, query: dict) -> dict:
    """Approved shops for everyone; pending ones too for their owner and their grid's coordinators."""
    with db.read() as session:
        stmt = select(Merchant)
        if query.get("mine"):
            caller.require()
            stmt = stmt.where(Merchant.user_id == caller.user_id)
        if query.get("grid_id") is not None:
            stmt = stmt.where(Merchant.grid_id.in_(subtree(session, [query["grid_id"]])))
        for name in ("status", "good_shop", "category", "street_area"):
            if query.get(name) is not None:
                stmt = stmt.where(getattr(Merchant, name) == query[name])
        if caller.is_admin:
            keep = None
        else:
            scope = coordinated(session, caller)

            def keep(m: Merchant) -> bool:
                return m.status == "approved" or (caller.user_id is not None and m.user_id == caller.user_id) \
                    or (caller.has_role("coordinator") and (m.grid_id is None or m.grid_id in scope))
        return page(session, stmt, Merchant, query, MerchantSchema().dump, keep)


def deny(visible: bool, what: str, detail: str):
    """The API's rule for another's object: 403 if the caller can see it, 404 if it cannot (docs/api.md)."""
    if visible:
        raise Forbidden(detail)
    raise NotFound(f"{what} does not exist.")


def _own_merchant(session: Session, caller: Caller, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(f"Merchant {merchant_id} does not exist.")
    if merchant.user_id != caller.user_id and not caller.is_admin:
        deny(merchant.status == "approved", f"Merchant {merchant_id}", "This shop is someone else's.")
    return merchant


# ------------------------------------------------------------------------------------- pledges

def pledge_payload(pledge: Pledge, merchant: Merchant) -> dict:
    return {"pledge_id": pledge.id, "title": pledge.title, "merchant_id": merchant.id,
            "merchant_name": merchant.name, "merchant_user_id": merchant.user_id, "grid_id": merchant.grid_id,
            "beneficiary_groups": list(pledge.beneficiary_groups or [])}


def claim_payload(claim: Claim, pledge: Pledge, merchant: Merchant) -> dict:
    return {**pledge_payload(pledge, merchant), "claim_id": claim.id, "claimant_id": claim.claimant_id,
            "expires_at": claim.expires_at}


def zone_of(merchant: Merchant) -> ZoneInfo:
    return ZoneInfo(merchant.timezone or "Asia/Shanghai")


def _window(pledge: Pledge, merchant: Merchant, now: datetime) -> tuple[datetime, datetime] | None:
    return claim_window(RedemptionHours.parse(pledge.redemption_hours), pledge.valid_from, pledge.valid_until,
                        now.astimezone(zone_of(merchant)))


def is_public(pledge: Pledge, merchant: Merchant, now: datetime) -> bool:
    """Live for beneficiaries: active, the shop approved, and not past its valid period."""
    if pledge.status != "active" or merchant.status != "approved":
        return False
    return pledge.valid_until is None or pledge.valid_until >= now.astimezone(zone_of(merchant)).date()


def remaining(session: Session, pledge: Pledge, merchant: Merchant, now: datetime) -> int:
    """Units left in the stock period of the current (or next) redemption window."""
    window = _window(pledge, merchant, now)
    if window is None:
        return 0
    taken = session.scalar(select(PledgeStock.taken).where(
        PledgeStock.pledge_id == pledge.id,
        PledgeStock.period_key == period_key(pledge.stock_period, window[0].date()))) or 0
    return max(pledge.stock - taken, 0)


def dump_pledge(session: Session, pledge: Pledge, now: datetime | None = None) -> dict:
    merchant = pledge.merchant
    body = PledgeSchema().dump({
        **{c.key: getattr(pledge, c.key) for c in Pledge.__table__.columns},
        "merchant_name": merchant.name, "grid_id": merchant.grid_id, "street_area": merchant.street_area,
        "remaining": remaining(session, pledge, merchant, now or utcnow()),
    })
    return body


def relations_to_shop(session: Session, caller: Caller, merchant: Merchant) -> set[str]:
    relations = set()
    if caller.user_id is not None and merchant.user_id == caller.user_id:
        relations.add("owner")
    if caller.has_role("coordinator") and coordinates(session, caller, merchant.grid_id):
        relations.add("coordinator")
    return relations


def _visible_pledge(session: Session, caller: Caller, pledge_id: int, now: datetime) -> Pledge:
    pledge = session.get(Pledge, pledge_id)
    if pledge is None or not (is_public(pledge, pledge.merchant, now) or relations_to_shop(session, caller, pledge.merchant)):
        raise NotFound(f"Item {pledge_id} does not exist.")
    return pledge


def _check_dates(data: dict, today, *, new_end: bool = True) -> None:
    if data.get("valid_until") is not None:
        if data["valid_until"] < data["valid_from"]:
            raise Invalid("The valid period ends before it starts.",
                          errors={"valid_until": ["must not be before valid_from"]})
        if new_end and data["valid_until"] < today:
            raise Invalid("The valid period is over already.", errors={"valid_until": ["must not be in the past"]})


def create_pledge(db: Database, emit: Emit, caller: Caller, data: dict) -> dict:
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
        pledge = Pledge(merchant_id=merchant.id, status="active", version=1, **data)
        session.add(pledge)
        session.flush()
        session.refresh(pledge)
        if merchant.status == "approved":
            emit(session, "pledge.published", pledge_payload(pledge, merchant))
        return dump_pledge(session, pledge, now)


def ensure_pledge(db: Database, emit: Emit, caller: Caller, data: dict) -> dict:
    """Create an item unless the shop has one of that title (system; demo seed)."""
    caller.require_role("admin")
    with db.read() as session:
        existing = session.scalars(select(Pledge).where(Pledge.merchant_id == data["merchant_id"],
                                                        Pledge.title == data["title"])).first()
        if existing is not None:
            return dump_pledge(session, existing)
    return create_pledge(db, emit, caller, data)


def get_pledge(db: Database, caller: Caller, pledge_id: int) -> dict:
    now = utcnow()
    with db.read() as session:
        return dump_pledge(session, _visible_pledge(session, caller, pledge_id, now), now)


def update_pledge(db: Database, caller: Caller, pledge_id: int, changes: dict,
                  expected_version: int | None = None) -> dict:
    """The owner edits its item; a stale `expected_version` (If-Match) is refused with 412."""
    caller.require()
    now = utcnow()
    with db.transaction() as session:
        pledge = session.get(Pledge, pledge_id, with_for_update=True)
        if pledge is None:
            raise NotFound(f"Item {pledge_id} does not exist.")
        relations = relations_to_shop(session, caller, pledge.merchant)
        if "owner" not in relations:
            deny(bool(relations) or is_public(pledge, pledge.merchant, now), f"Item {pledge_id}",
                 "Only the shop that registered this item edits it.")
        if expected_version is not None and expected_version != pledge.version:
            raise PreconditionFailed("The item changed since you read it; reload and try again.",
                                     extra={"version": pledge.version})
        if pledge.status not in EDITABLE_STATES:
            raise Conflict(f"An item in state {pledge.status!r} cannot be edited.", extra={"state": pledge.status})
        merged = {"valid_from": pledge.valid_from, "valid_until": pledge.valid_until, **changes}
        if merged["valid_from"] is None:
            raise Invalid("valid_from cannot be removed.", errors={"valid_from": ["must be a date"]})
        _check_dates(merged, now.astimezone(zone_of(pledge.merchant)).date(), new_end="valid_until" in changes)
        for name, value in changes.items():
            setattr(pledge, name, value)
        pledge.version += 1
        pledge.updated_at = now
        session.flush()
        return dump_pledge(session, pledge, now)


def change_pledge_status(db: Database, emit: Emit, caller: Caller, pledge_id: int, verb: str,
                         note: str = "") -> dict:
    """pause | resume | end (the owner) and suspend | resume | end (a coordinator of the shop's grid)."""
    caller.require()
    now = utcnow()
    with db.transaction() as session:
        pledge = session.get(Pledge, pledge_id, with_for_update=True)
        relations = relations_to_shop(session, caller, pledge.merchant) if pledge is not None else set()
        if caller.is_admin:
            relations.add("coordinator")
        if pledge is None:
            raise NotFound(f"Item {pledge_id} does not exist.")
        if not relations:
            deny(is_public(pledge, pledge.merchant, now), f"Item {pledge_id}",
                 "Only the item's shop, or a coordinator of its grid, changes its state.")
        try:
            target = pledge_next_state(pledge.status, verb)
        except IllegalTransition as exc:
            raise Conflict(str(exc), extra={"state": pledge.status, "allowed": exc.allowed}) from None
        if not pledge_may(verb, relations, pledge.status):
            raise Forbidden(f"You may not {verb} this item"
                            + (" (a coordinator suspended it)." if pledge.status == "suspended" else "."))
        pledge.status, pledge.status_note = target, note
        pledge.version += 1
        pledge.updated_at = now
        if target == "active" and pledge.merchant.status == "approved":
            emit(session, "pledge.published", pledge_payload(pledge, pledge.merchant))
        session.flush()
        return dump_pledge(session, pledge, now)


def _group_matches(pledge: Pledge, group: str) -> bool:
    groups = set(pledge.beneficiary_groups or ())
    return group in groups or (group in OUTDOOR_GROUPS and "outdoor" in groups)


def list_pledges(db: Database, caller: Caller, query: dict) -> dict:
    """Live items near a grid (its subtree) with the current period's remaining stock; or, with
    `mine`, every item of the caller's shops in any state."""
    now = utcnow()
    with db.read() as session:
        stmt = select(Pledge).join(Merchant, Merchant.id == Pledge.merchant_id)
        if query.get("mine"):
            caller.require()
            stmt = stmt.where(Merchant.user_id == caller.user_id)
            if query.get("status"):
                stmt = stmt.where(Pledge.status == query["status"])
        else:
            stmt = stmt.where(Pledge.status == "active", Merchant.status == "approved")
        if query.get("merchant_id") is not None:
            stmt = stmt.where(Pledge.merchant_id == query["merchant_id"])
        if query.get("grid_id") is not None:
            stmt = stmt.where(Merchant.grid_id.in_(subtree(session, [query["grid_id"]])))
        group = query.get("group")

        def keep(pledge: Pledge) -> bool:
            if group and not _group_matches(pledge, group):
                return False
            return query.get("mine") or is_public(pledge, pledge.merchant, now)
        return page(session, stmt, Pledge, query, lambda p: dump_pledge(session, p, now), keep)


# -------------------------------------------------------------------------------------- claims

def dump_claim(claim: Claim, *, with_code: bool) -> dict:
    pledge = claim.pledge
    body = ClaimSchema().dump({
        **{c.key: getattr(claim, c.key) for c in Claim.__table__.columns},
        "pledge_title": pledge.title, "merchant_name": pledge.merchant.name,
        "qr_payload": qr_payload(claim.code),
    })
    if not with_code:
        # The shop sees who claimed, never the code: only the person holding it can have it redeemed.
        body.pop("code"), body.pop("qr_payload")
    return body


def _ensure_stock_row(session: Session, pledge_id: int, key: str) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(PledgeStock).values(pledge_id=pledge_id, period_key=key, taken=0)
                    .on_conflict_do_nothing(index_elements=["pledge_id", "period_key"]))


def claim_pledge(db: Database, emit: Emit, caller: Caller, pledge_id: int) -> dict:
    """An eligible beneficiary claims one unit; answers the claim with its one-time code and QR payload.

    Exactly `stock` claims succeed per period however many arrive at once, and nobody exceeds the
    per-person limit: both are enforced in the database (see the module docstring).
    """
    caller.require()
    if not caller.groups:
        raise Forbidden("Your account has no confirmed beneficiary group. A grid worker or a partner station "
                        "confirms riders, couriers, sanitation workers and elderly people before they can claim.")
    for attempt in range(CLAIM_ATTEMPTS):
        try:
            return _claim_once(db, emit, caller, pledge_id)
        except IntegrityError:
            # A concurrent claim by the same person took the same slot, or (very rarely) the same code:
            # the next attempt sees the committed row and answers accordingly.
            if attempt == CLAIM_ATTEMPTS - 1:
                raise Conflict("Too many claims at once for this person; try again.") from None
    raise AssertionError("unreachable")


def _claim_once(db: Database, emit: Emit, caller: Caller, pledge_id: int) -> dict:
    now = utcnow()
    with db.transaction() as session:
        pledge = session.get(Pledge, pledge_id)
        # Items of a shop not (or no longer) approved were never public: they do not exist for claimants.
        if pledge is None or pledge.merchant.status != "approved":
            raise NotFound(f"Item {pledge_id} does not exist.")
        merchant = pledge.merchant
        if not is_public(pledge, merchant, now):
            raise Conflict(f"This item cannot be claimed now (it is {pledge.status}).",
                           errors={"pledge_id": [f"item is {pledge.status}"]}, extra={"state": pledge.status})
        if not eligible(pledge.beneficiary_groups, caller.groups):
            raise Forbidden(f"This item is for {', '.join(pledge.beneficiary_groups)}; your account is confirmed "
                            f"for {', '.join(caller.groups)}.")
        window = _window(pledge, merchant, now)
        if window is None:
            raise Conflict("This item has no redemption time left in its valid period.")
        window_start, window_end = window
        day = window_start.date()
        stock_key = period_key(pledge.stock_period, day)
        person_key = period_key(pledge.per_person_period, day)
        if session.get_bind().dialect.name == "postgresql":
            # One person's simultaneous claims on one item queue up here, so each sees the slots the
            # previous one took; the unique constraint on slots stays the guarantee behind it.
            session.execute(text("SELECT pg_advisory_xact_lock(:pledge, :person)"),
                            {"pledge": pledge.id, "person": caller.user_id})
        used = set(session.scalars(select(Claim.slot).where(
            Claim.pledge_id == pledge.id, Claim.claimant_id == caller.user_id,
            Claim.person_period_key == person_key, Claim.slot.is_not(None))).all())
        free = [n for n in range(1, pledge.per_person_limit + 1) if n not in used]
        if not free:
            raise Conflict(f"You have claimed this item {pledge.per_person_limit} time(s) this "
                           f"{pledge.per_person_period} already.",
                           extra={"per_person_limit": pledge.per_person_limit, "period": person_key})
        _ensure_stock_row(session, pledge.id, stock_key)
        claim = Claim(pledge_id=pledge.id, merchant_id=merchant.id, claimant_id=caller.user_id, code=new_code(),
                      state="claimed", stock_period_key=stock_key, person_period_key=person_key, slot=free[0],
                      window_starts_at=window_start, expires_at=window_end, claimed_at=now)
        session.add(claim)
        session.flush()
        emit(session, "pledge.claimed", claim_payload(claim, pledge, merchant))
        # Taking the unit comes last, so the stock row stays locked only until the commit right after.
        # The guard reads the item's stock in the same statement: even an edit racing with the claim
        # cannot let one unit too many through. No row back means none left, and everything above rolls back.
        taken = session.execute(
            update(PledgeStock)
            .where(PledgeStock.pledge_id == pledge.id, PledgeStock.period_key == stock_key,
                   PledgeStock.taken < select(Pledge.stock).where(Pledge.id == pledge.id).scalar_subquery())
            .values(taken=PledgeStock.taken + 1)
            .returning(PledgeStock.taken)
        ).scalar()
        if taken is None:
            raise Conflict("None left: every unit of this period is claimed.",
                           extra={"remaining": 0, "period": stock_key})
        if taken >= pledge.stock:
            emit(session, "pledge.exhausted", pledge_payload(pledge, merchant))
        return dump_claim(claim, with_code=True)


def _no_such_code(code: str) -> NotFound:
    return NotFound("No claim with this code at your shop.", errors={"code": ["unknown code"]})


def redeem(db: Database, emit: Emit, caller: Caller, code: str) -> dict:
    """The shop confirms a claim at the counter, once, inside the claim's redemption window."""
    caller.require_role("merchant")
    canonical = normalise_code(code)
    if canonical is None:
        raise _no_such_code(code)
    now = utcnow()
    with db.transaction() as session:
        claim = session.scalars(select(Claim).where(Claim.code == canonical)).first()
        merchant = session.get(Merchant, claim.merchant_id) if claim is not None else None
        if merchant is None or (merchant.user_id != caller.user_id and not caller.is_admin):
            raise _no_such_code(code)
        zone = zone_of(merchant)
        if claim.state == "redeemed":
            raise Conflict(f"This code was redeemed already, at {claim.redeemed_at.astimezone(zone):%Y-%m-%d %H:%M}.",
                           errors={"code": ["already redeemed"]}, extra={"state": claim.state})
        if claim.state == "expired" or now >= claim.expires_at:
            raise Conflict(f"This code expired at {claim.expires_at.astimezone(zone):%Y-%m-%d %H:%M}.",
                           errors={"code": ["expired"]}, extra={"state": "expired"})
        if now < claim.window_starts_at:
            hours = RedemptionHours.parse(claim.pledge.redemption_hours).describe()
            raise Conflict(f"Outside redemption hours ({hours}); this code can be redeemed from "
                           f"{claim.window_starts_at.astimezone(zone):%Y-%m-%d %H:%M}.",
                           errors={"code": [f"redeemable during {hours}"]},
                           extra={"window_starts_at": claim.window_starts_at.isoformat()})
        # Guarded on the state we saw: of two concurrent redemptions exactly one updates the row.
        done = session.execute(update(Claim).where(Claim.id == claim.id, Claim.state == "claimed")
                               .values(state="redeemed", redeemed_at=now, redeemed_by=caller.user_id)).rowcount
        if done != 1:
            raise Conflict("This code was redeemed already.", errors={"code": ["already redeemed"]})
        session.refresh(claim)
        emit(session, "pledge.redeemed", claim_payload(claim, claim.pledge, merchant))
        return dump_claim(claim, with_code=False)


def list_my_claims(db: Database, caller: Caller, query: dict) -> dict:
    """The caller's own claims, with their codes."""
    caller.require()
    with db.read() as session:
        stmt = select(Claim).where(Claim.claimant_id == caller.user_id)
        if query.get("state"):
            stmt = stmt.where(Claim.state == query["state"])
        return page(session, stmt, Claim, query, lambda c: dump_claim(c, with_code=True))


def list_pledge_claims(db: Database, caller: Caller, pledge_id: int, query: dict) -> dict:
    """Claims on one item, for its shop (without codes) and the shop's coordinators."""
    caller.require()
    with db.read() as session:
        pledge = session.get(Pledge, pledge_id)
        if pledge is None:
            raise NotFound(f"Item {pledge_id} does not exist.")
        if not (relations_to_shop(session, caller, pledge.merchant) or caller.is_admin):
            deny(is_public(pledge, pledge.merchant, utcnow()), f"Item {pledge_id}",
                 "Only the item's shop and its coordinators see its claims.")
        stmt = select(Claim).where(Claim.pledge_id == pledge_id)
        if query.get("state"):
            stmt = stmt.where(Claim.state == query["state"])
        return page(session, stmt, Claim, query, lambda c: dump_claim(c, with_code=False))


def expire_due_claims(db: Database, emit: Emit, limit: int = 200) -> int:
    """Expire claims whose redemption window ended and give their unit back to the period's stock.

    Each claim is taken with a guarded UPDATE on its state in the same transaction as the stock change
    and the event, so with several replicas running this timer every claim expires exactly once.
    """
    now = utcnow()
    with db.read() as session:
        due = session.scalars(select(Claim.id).where(Claim.state == "claimed", Claim.expires_at <= now)
                              .order_by(Claim.expires_at).limit(limit)).all()
    expired = 0
    for claim_id in due:
        with db.transaction() as session:
            won = session.execute(update(Claim).where(Claim.id == claim_id, Claim.state == "claimed")
                                  .values(state="expired", expired_at=now, slot=None)).rowcount
            if won != 1:
                continue  # another replica (or a redemption) got there first
            claim = session.get(Claim, claim_id)
            session.execute(update(PledgeStock)
                            .where(PledgeStock.pledge_id == claim.pledge_id,
                                   PledgeStock.period_key == claim.stock_period_key, PledgeStock.taken > 0)
                            .values(taken=PledgeStock.taken - 1))
            emit(session, "claim.expired", claim_payload(claim, claim.pledge, claim.pledge.merchant))
            expired += 1
    return expired


def count_live(session: Session, merchant_ids: Iterable[int]) -> dict[int, int]:
    """Active items per shop (for reports)."""
    rows = session.execute(select(Pledge.merchant_id, func.count()).where(
        Pledge.merchant_id.in_(list(merchant_ids)), Pledge.status == "active").group_by(Pledge.merchant_id)).all()
    return dict(rows)


"""Use-cases of claims and their redemption: a beneficiary claims a unit of a charity item and gets a
one-time code; the shop redeems the code at the counter, once, in its redemption window; a timer expires
the codes nobody redeemed and gives their unit back.

Stock and per-person limits are enforced by the database: a guarded UPDATE on the period's stock row and a
unique constraint on (item, person, period, slot); see `models`. Codes of another shop answer exactly like
unknown ones (404), so a merchant cannot learn by probing which codes exist elsewhere.
"""
from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.volunteers.charity.access import Emit, deny, is_public, relations_to_shop, window_of, zone_of
from services.volunteers.charity.contracts import ClaimSchema
from services.volunteers.charity.events import claim_payload, item_payload
from services.volunteers.charity.models import CharityItem, CharityItemStock, Claim
from services.volunteers.charity.rules import (
    RedemptionHours,
    eligible,
    new_code,
    normalise_code,
    period_key,
    qr_payload,
)
from shared.claims import claimed, work_through
from shared.db import Database, get_or_404, insert_ignoring, utcnow
from shared.errors import Conflict, Forbidden, NotFound
from shared.identity import Caller
from shared.paging import keyset

CLAIM_ATTEMPTS = 3


def dump_claim(claim: Claim, *, with_code: bool) -> dict:
    item = claim.item
    body = ClaimSchema().dump({
        **{c.key: getattr(claim, c.key) for c in Claim.__table__.columns},
        "pledge_title": item.title, "merchant_name": item.merchant.name,
        "qr_payload": qr_payload(claim.code),
    })
    if not with_code:
        # The shop sees who claimed, never the code: only the person holding it can have it redeemed.
        body.pop("code"), body.pop("qr_payload")
    return body


def claim_item(db: Database, emit: Emit, caller: Caller, item_id: int) -> dict:
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
            return _claim_once(db, emit, caller, item_id)
        except IntegrityError:
            # A concurrent claim by the same person took the same slot, or (very rarely) the same code:
            # the next attempt sees the committed row and answers accordingly.
            if attempt == CLAIM_ATTEMPTS - 1:
                raise Conflict("Too many claims at once for this person; try again.") from None
    raise AssertionError("unreachable")


def _none_left(stock_key: str) -> Conflict:
    return Conflict("None left: every unit of this period is claimed.", extra={"remaining": 0, "period": stock_key})


def _claim_once(db: Database, emit: Emit, caller: Caller, item_id: int) -> dict:
    now = utcnow()
    with db.transaction() as session:
        item = session.get(CharityItem, item_id)
        # Items of a shop not (or no longer) approved were never public: they do not exist for claimants.
        if item is None or item.merchant.status != "approved":
            raise NotFound(f"Item {item_id} does not exist.")
        merchant = item.merchant
        if not is_public(item, merchant, now):
            raise Conflict(f"This item cannot be claimed now (it is {item.status}).",
                           errors={"pledge_id": [f"item is {item.status}"]}, extra={"state": item.status})
        if not eligible(item.beneficiary_groups, caller.groups):
            raise Forbidden(f"This item is for {', '.join(item.beneficiary_groups)}; your account is confirmed "
                            f"for {', '.join(caller.groups)}.")
        window = window_of(item, merchant, now)
        if window is None:
            raise Conflict("This item has no redemption time left in its valid period.")
        window_start, window_end = window
        day = window_start.date()
        stock_key = period_key(item.stock_period, day)
        person_key = period_key(item.per_person_period, day)
        if session.get_bind().dialect.name == "postgresql":
            # One person's simultaneous claims on one item queue up here, so each sees the slots the
            # previous one took; the unique constraint on slots stays the guarantee behind it.
            session.execute(text("SELECT pg_advisory_xact_lock(:item, :person)"),
                            {"item": item.id, "person": caller.user_id})
        used = set(session.scalars(select(Claim.slot).where(
            Claim.pledge_id == item.id, Claim.claimant_id == caller.user_id,
            Claim.person_period_key == person_key, Claim.slot.is_not(None))).all())
        free = [n for n in range(1, item.per_person_limit + 1) if n not in used]
        if not free:
            raise Conflict(f"You have claimed this item {item.per_person_limit} time(s) this "
                           f"{item.per_person_period} already.",
                           extra={"per_person_limit": item.per_person_limit, "period": person_key})
        # When the period's units are all gone already, say so before writing anything: in a rush on one
        # item most claimants are refused, and a refusal need not write and roll back a claim. The guarded
        # update below stays the guarantee (a unit may go between this read and it).
        if (session.scalar(select(CharityItemStock.taken).where(CharityItemStock.pledge_id == item.id,
                                                                CharityItemStock.period_key == stock_key))
                or 0) >= item.stock:
            raise _none_left(stock_key)
        session.execute(insert_ignoring(session, CharityItemStock, ["pledge_id", "period_key"])
                        .values(pledge_id=item.id, period_key=stock_key, taken=0))
        claim = Claim(pledge_id=item.id, merchant_id=merchant.id, claimant_id=caller.user_id, code=new_code(),
                      state="claimed", stock_period_key=stock_key, person_period_key=person_key, slot=free[0],
                      window_starts_at=window_start, expires_at=window_end, claimed_at=now)
        session.add(claim)
        session.flush()
        emit(session, "pledge.claimed", claim_payload(claim, item, merchant))
        # Taking the unit comes last, so the stock row stays locked only until the commit right after.
        # The guard reads the item's stock in the same statement: even an edit racing with the claim
        # cannot let one unit too many through. No row back means none left, and everything above rolls back.
        taken = session.execute(
            update(CharityItemStock)
            .where(CharityItemStock.pledge_id == item.id, CharityItemStock.period_key == stock_key,
                   CharityItemStock.taken < select(CharityItem.stock).where(CharityItem.id == item.id)
                   .scalar_subquery())
            .values(taken=CharityItemStock.taken + 1)
            .returning(CharityItemStock.taken)
        ).scalar()
        if taken is None:
            raise _none_left(stock_key)
        if taken >= item.stock:
            emit(session, "pledge.exhausted", item_payload(item, merchant))
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
        merchant = claim.item.merchant if claim is not None else None
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
            hours = RedemptionHours.parse(claim.item.redemption_hours).describe()
            raise Conflict(f"Outside redemption hours ({hours}); this code can be redeemed from "
                           f"{claim.window_starts_at.astimezone(zone):%Y-%m-%d %H:%M}.",
                           errors={"code": [f"redeemable during {hours}"]},
                           extra={"window_starts_at": claim.window_starts_at.isoformat()})
        # Guarded on the state we saw: of two concurrent redemptions exactly one updates the row.
        if not claimed(session, update(Claim).where(Claim.id == claim.id, Claim.state == "claimed")
                       .values(state="redeemed", redeemed_at=now, redeemed_by=caller.user_id)):
            raise Conflict("This code was redeemed already.", errors={"code": ["already redeemed"]})
        session.refresh(claim)
        emit(session, "pledge.redeemed", claim_payload(claim, claim.item, merchant))
        return dump_claim(claim, with_code=False)


def _page(session: Session, stmt, query: dict, *, with_code: bool) -> dict:
    if query.get("state"):
        stmt = stmt.where(Claim.state == query["state"])
    return keyset(session, stmt, Claim.id, query).answer(
        lambda rows: [dump_claim(claim, with_code=with_code) for claim in rows])


def list_my_claims(db: Database, caller: Caller, query: dict) -> dict:
    """The caller's own claims, with their codes, newest first."""
    caller.require()
    with db.read() as session:
        return _page(session, select(Claim).where(Claim.claimant_id == caller.user_id), query, with_code=True)


def list_item_claims(db: Database, caller: Caller, item_id: int, query: dict) -> dict:
    """Claims on one item, for its shop (without codes) and the shop's coordinators, newest first."""
    caller.require()
    with db.read() as session:
        item = get_or_404(session, CharityItem, item_id, "Item")
        if not (relations_to_shop(session, caller, item.merchant) or caller.is_admin):
            deny(is_public(item, item.merchant, utcnow()), f"Item {item_id}",
                 "Only the item's shop and its coordinators see its claims.")
        return _page(session, select(Claim).where(Claim.pledge_id == item_id), query, with_code=False)


def expire_due_claims(db: Database, emit: Emit, limit: int = 200) -> int:
    """Expire claims whose redemption window ended and give their unit back to the period's stock.

    Each claim is claimed with a guarded UPDATE on its state in the same transaction as the stock change and
    the event (`shared.claims`), so with several replicas running this timer every claim expires exactly once.
    """
    now = utcnow()

    def expire(session: Session, claim_id: int) -> bool:
        if not claimed(session, update(Claim).where(Claim.id == claim_id, Claim.state == "claimed",
                                                    Claim.expires_at <= now)
                       .values(state="expired", expired_at=now, slot=None)):
            return False  # another replica (or a redemption) got there first
        claim = session.get(Claim, claim_id)
        session.execute(update(CharityItemStock)
                        .where(CharityItemStock.pledge_id == claim.pledge_id,
                               CharityItemStock.period_key == claim.stock_period_key, CharityItemStock.taken > 0)
                        .values(taken=CharityItemStock.taken - 1))
        emit(session, "claim.expired", claim_payload(claim, claim.item, claim.item.merchant))
        return True

    due = (select(Claim.id).where(Claim.state == "claimed", Claim.expires_at <= now)
           .order_by(Claim.expires_at).limit(limit))
    return work_through(db, due, expire)

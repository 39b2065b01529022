"""RPC entrypoints for merchants, charity items, claims and their redemption, micro-wishes and reports."""
from __future__ import annotations

from services.volunteers.charity import claims, items, merchants, reports, wishes
from services.volunteers.charity.contracts import (
    MAX_ID,
    ClaimQuerySchema,
    MerchantDecisionSchema,
    MerchantQuerySchema,
    MerchantRejectionSchema,
    MerchantRequestSchema,
    MerchantSeedSchema,
    MonthQuerySchema,
    PledgeFieldsSchema,
    PledgeQuerySchema,
    PledgeRequestSchema,
    PledgeStatusChangeSchema,
    WishQuerySchema,
    WishRequestSchema,
    WishSeedSchema,
    WishStepSchema,
)
from shared.config import env_float, env_int
from shared.errors import Invalid, NotFound
from shared.rpc import load, rpc
from shared.timers import timer

# How often unredeemed claims are checked for the end of their redemption window, and how many per pass.
CLAIM_EXPIRY_INTERVAL = env_float("NUANXIN_CLAIM_EXPIRY_INTERVAL", 10.0)
CLAIM_EXPIRY_BATCH = env_int("NUANXIN_CLAIM_EXPIRY_BATCH", 200)
ITEM_VERBS = ("pause", "resume", "end", "suspend")
WISH_VERBS = ("publish", "reject", "adopt", "deliver", "fulfil", "withdraw")


def _id(value, what: str) -> int:
    """Ids from the URL: anything that cannot be an id of ours is simply not found."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise NotFound(f"{what} {value} does not exist.")
    return value


def _verb(verb: str, allowed) -> str:
    if verb not in allowed:
        raise Invalid("Unknown step.", errors={"verb": [f"one of: {', '.join(allowed)}"]})
    return verb


class CharityEntrypoints:
    # -- merchants -----------------------------------------------------------------------------------------
    @rpc
    def register_merchant(self, data: dict) -> dict:
        """A merchant account registers its own shop (pending until a coordinator approves it)."""
        return merchants.register_merchant(self.db, self.caller, load(MerchantRequestSchema, data), self.emit)

    @rpc
    def ensure_merchant(self, data: dict) -> dict:
        """Record a shop unless one of that name exists on that street (system caller; demo seed)."""
        return merchants.ensure_merchant(self.db, self.caller, load(MerchantSeedSchema, data))

    @rpc
    def approve_merchant(self, merchant_id: int, data: dict | None = None) -> dict:
        """A coordinator of the shop's grid approves it; its active items go public."""
        note = load(MerchantDecisionSchema, data or {})["note"]
        return merchants.approve_merchant(self.db, self.emit, self.caller, _id(merchant_id, "Merchant"), note)

    @rpc
    def reject_merchant(self, merchant_id: int, data: dict | None = None) -> dict:
        """A coordinator of the shop's grid rejects a pending shop with a reason its owner reads."""
        reason = load(MerchantRejectionSchema, data or {})["reason"]
        return merchants.reject_merchant(self.db, self.caller, _id(merchant_id, "Merchant"), reason)

    @rpc
    def get_merchant(self, merchant_id: int) -> dict:
        """One shop (pending ones only for their owner and coordinators; others answer 404)."""
        return merchants.get_merchant(self.db, self.caller, _id(merchant_id, "Merchant"))

    @rpc
    def list_merchants(self, query: dict | None = None) -> dict:
        """Shops, filtered by grid subtree, status, good-shop membership, category, street; paginated."""
        return merchants.list_merchants(self.db, self.caller, load(MerchantQuerySchema, query or {}))

    # -- charity items -------------------------------------------------------------------------------------
    @rpc
    def create_item(self, data: dict) -> dict:
        """The owner of a shop registers a charity item (public once the shop is approved)."""
        return items.create_item(self.db, self.emit, self.caller, load(PledgeRequestSchema, data))

    @rpc
    def ensure_item(self, data: dict) -> dict:
        """Create an item unless the shop has one of that title (system caller; demo seed)."""
        return items.ensure_item(self.db, self.emit, self.caller, load(PledgeRequestSchema, data))

    @rpc
    def get_item(self, item_id: int) -> dict:
        """One item with its remaining stock for the current period (hidden items answer 404)."""
        return items.get_item(self.db, self.caller, _id(item_id, "Item"))

    @rpc
    def update_item(self, item_id: int, changes: dict, expected_version: int | None = None) -> dict:
        """The owner edits its item; `expected_version` from If-Match, a stale one raises PreconditionFailed."""
        changes = load(PledgeFieldsSchema, changes, partial=True)
        return items.update_item(self.db, self.caller, _id(item_id, "Item"), changes, expected_version)

    @rpc
    def change_item_status(self, item_id: int, verb: str, data: dict | None = None) -> dict:
        """pause/resume/end by the owner; suspend/resume/end by a coordinator; 409 names the allowed steps."""
        note = load(PledgeStatusChangeSchema, data or {})["note"]
        return items.change_item_status(self.db, self.emit, self.caller, _id(item_id, "Item"),
                                        _verb(verb, ITEM_VERBS), note)

    @rpc
    def list_items(self, query: dict | None = None) -> dict:
        """Live items near a grid for a group, with today's remaining stock; or the caller's own (`mine`)."""
        return items.list_items(self.db, self.caller, load(PledgeQuerySchema, query or {}))

    # -- claims and redemption -----------------------------------------------------------------------------
    @rpc
    def claim_item(self, item_id: int) -> dict:
        """An eligible beneficiary claims one unit: a one-time code and QR payload; never over stock or limit."""
        return claims.claim_item(self.db, self.emit, self.caller, _id(item_id, "Item"))

    @rpc
    def redeem_claim(self, code: str) -> dict:
        """The shop redeems a code once, in its redemption window; other shops' codes answer 404."""
        return claims.redeem(self.db, self.emit, self.caller, str(code)[:64])

    @rpc
    def list_my_claims(self, query: dict | None = None) -> dict:
        """The caller's claims with their codes, newest first."""
        return claims.list_my_claims(self.db, self.caller, load(ClaimQuerySchema, query or {}))

    @rpc
    def list_item_claims(self, item_id: int, query: dict | None = None) -> dict:
        """Claims on one of the caller's items (no codes)."""
        query = load(ClaimQuerySchema, query or {})
        return claims.list_item_claims(self.db, self.caller, _id(item_id, "Item"), query)

    @timer(interval=CLAIM_EXPIRY_INTERVAL)
    def expire_claims(self):
        """Expire claims past their redemption window (each exactly once, whatever the replica count)."""
        claims.expire_due_claims(self.db, self.emit, CLAIM_EXPIRY_BATCH)

    # -- micro-wishes --------------------------------------------------------------------------------------
    @rpc
    def post_wish(self, data: dict) -> dict:
        """A confirmed beneficiary posts a micro-wish; it waits for a coordinator to vet it."""
        return wishes.post_wish(self.db, self.caller, load(WishRequestSchema, data), self.emit)

    @rpc
    def ensure_wish(self, data: dict) -> dict:
        """Record a wish for an owner unless they have one of that title (system caller; demo seed)."""
        return wishes.ensure_wish(self.db, self.emit, self.caller, load(WishSeedSchema, data))

    @rpc
    def get_wish(self, wish_id: int) -> dict:
        """One wish with its timeline."""
        return wishes.get_wish(self.db, self.caller, _id(wish_id, "Wish"))

    @rpc
    def move_wish(self, wish_id: int, verb: str, data: dict | None = None) -> dict:
        """publish/reject (coordinator), adopt (one merchant or partner), deliver (adopter), fulfil (owner),
        withdraw (owner); an impossible step raises Conflict naming the allowed ones."""
        note = load(WishStepSchema, data or {})["note"]
        return wishes.move_wish(self.db, self.emit, self.caller, _id(wish_id, "Wish"),
                                 _verb(verb, WISH_VERBS), note)

    @rpc
    def list_wishes(self, query: dict | None = None) -> dict:
        """Open wishes (or the caller's own, or those awaiting a coordinator's vetting); paginated."""
        return wishes.list_wishes(self.db, self.caller, load(WishQuerySchema, query or {}))

    # -- reports -------------------------------------------------------------------------------------------
    @rpc
    def merchant_report(self, merchant_id: int, query: dict) -> dict:
        """A shop's month: per item claims, redemptions, expired and open claims."""
        month = load(MonthQuerySchema, query)["month"]
        return reports.merchant_month(self.db, self.caller, _id(merchant_id, "Merchant"), month)

    @rpc
    def grid_merchants_report(self, grid_id: int) -> dict:
        """Shops taking part in a grid's subtree."""
        return reports.grid_merchants(self.db, self.caller, _id(grid_id, "Grid"))

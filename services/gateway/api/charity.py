"""Merchants, their charity items (at /pledges, the API's first name for them), claims and their
redemption, micro-wishes, and the reports on them. Each endpoint forwards the data its contract schema
validated (`services.volunteers.charity.contracts`)."""
from __future__ import annotations

from flask_smorest import Blueprint

from services.gateway.api import (
    SECURED,
    call,
    created,
    current_caller,
    etag,
    if_match_version,
    respond,
    verb,
)
from services.volunteers.charity.contracts import (
    ClaimPageSchema,
    ClaimQuerySchema,
    ClaimSchema,
    GridMerchantsReportSchema,
    MerchantDecisionSchema,
    MerchantPageSchema,
    MerchantQuerySchema,
    MerchantRejectionSchema,
    MerchantReportSchema,
    MerchantRequestSchema,
    MerchantSchema,
    MonthQuerySchema,
    PledgePageSchema,
    PledgeQuerySchema,
    PledgeRequestSchema,
    PledgeSchema,
    PledgeStatusChangeSchema,
    PledgeUpdateSchema,
    WishPageSchema,
    WishQuerySchema,
    WishRequestSchema,
    WishSchema,
    WishStepSchema,
)

blp = Blueprint("charity", __name__, description="Merchants' charity items and micro-wishes")

PUBLIC = [{}, {"bearerAuth": []}]  # browsing works signed out; signed in, the caller's own items show too


def _browser():
    """The caller if signed in, else anonymous (for the public lists)."""
    return current_caller(required=False)


def _item(body: dict, status: int = 200):
    return respond(body, status, {"ETag": etag(body["version"])})


# ------------------------------------------------------------------------------------- merchants

@blp.post("/merchants")
@blp.arguments(MerchantRequestSchema)
@blp.response(201, MerchantSchema)
@blp.alt_response(409, description="You registered a shop of this name already")
@blp.doc(security=SECURED)
def register_merchant(data):
    """Register my shop (merchant accounts); it waits for a coordinator's approval."""
    merchant = call("volunteers", "register_merchant", data)
    return created(merchant, f"/api/v1/merchants/{merchant['id']}")


@blp.get("/merchants")
@blp.arguments(MerchantQuerySchema, location="query")
@blp.response(200, MerchantPageSchema)
@blp.doc(security=PUBLIC)
def list_merchants(query):
    """Shops: filter by grid (its subtree), status, good_shop, category, street_area, or mine."""
    return respond(call("volunteers", "list_merchants", query, caller=_browser()))


@blp.get("/merchants/<int:merchant_id>")
@blp.response(200, MerchantSchema)
@blp.doc(security=PUBLIC)
def get_merchant(merchant_id):
    """One shop."""
    return respond(call("volunteers", "get_merchant", merchant_id, caller=_browser()))


@blp.post("/merchants/<int:merchant_id>/approve")
@blp.arguments(MerchantDecisionSchema)
@blp.response(200, MerchantSchema)
@blp.alt_response(409, description="Approved already")
@blp.doc(security=SECURED)
def approve_merchant(data, merchant_id):
    """Approve a shop (a coordinator of its grid); its active items go public."""
    return respond(call("volunteers", "approve_merchant", merchant_id, data))


@blp.post("/merchants/<int:merchant_id>/reject")
@blp.arguments(MerchantRejectionSchema)
@blp.response(200, MerchantSchema)
@blp.alt_response(409, description="The shop is not waiting for approval")
@blp.doc(security=SECURED)
def reject_merchant(data, merchant_id):
    """Reject a pending shop with a reason (a coordinator of its grid, who may approve it); the owner reads
    the reason on the shop (`rejection_reason`). It may still be approved later."""
    return respond(call("volunteers", "reject_merchant", merchant_id, data))


# --------------------------------------------------------------------------------- charity items

@blp.post("/pledges")
@blp.arguments(PledgeRequestSchema)
@blp.response(201, PledgeSchema)
@blp.doc(security=SECURED)
def create_pledge(data):
    """Register a charity item of one of my shops ("one free coffee a day for riders, 10 a day").

    valid_until must not be before valid_from nor in the past, and redemption_hours' end must be after
    its start (each a 422 naming the field)."""
    item = call("volunteers", "create_item", data)
    response = created(item, f"/api/v1/pledges/{item['id']}")
    response.headers["ETag"] = etag(item["version"])
    return response


@blp.get("/pledges")
@blp.arguments(PledgeQuerySchema, location="query")
@blp.response(200, PledgePageSchema)
@blp.doc(security=PUBLIC)
def list_pledges(query):
    """Live items near a grid (its subtree) for a group, with today's remaining stock; `mine` for my shops'."""
    return respond(call("volunteers", "list_items", query, caller=_browser()))


@blp.get("/pledges/<int:pledge_id>")
@blp.response(200, PledgeSchema)
@blp.doc(security=PUBLIC)
def get_pledge(pledge_id):
    """One item (ETag = its version)."""
    return _item(call("volunteers", "get_item", pledge_id, caller=_browser()))


@blp.patch("/pledges/<int:pledge_id>")
@blp.arguments(PledgeUpdateSchema(partial=True))
@blp.response(200, PledgeSchema)
@blp.alt_response(412, description="If-Match names an older version")
@blp.doc(security=SECURED, parameters=[{"in": "header", "name": "If-Match", "schema": {"type": "string"}}])
def update_pledge(data, pledge_id):
    """Edit my item; send If-Match with the ETag you read.

    The same date and hour rules as creating an item apply to the item as changed (422 naming the field)."""
    return _item(call("volunteers", "update_item", pledge_id, data, if_match_version()))


def _status_endpoint(name: str, summary: str):
    """POST /pledges/{id}/<name>: a step of the item's state, its validated note forwarded."""
    def forward(pledge_id, data):
        return call("volunteers", "change_item_status", pledge_id, name, data)

    return verb(blp, f"/pledges/<int:pledge_id>/{name}", PledgeStatusChangeSchema, PledgeSchema, forward,
                name=f"{name}_pledge", summary=summary, finish=_item,
                responses={409: "Not possible from the item's state (the allowed steps are listed)"})


pause_pledge = _status_endpoint("pause", "Pause my item")
resume_pledge = _status_endpoint("resume", "Resume an item (the owner after a pause, a coordinator after a suspension)")
end_pledge = _status_endpoint("end", "End an item for good")
suspend_pledge = _status_endpoint("suspend", "Suspend an item (a coordinator of the shop's grid)")


# ---------------------------------------------------------------------------------------- claims

@blp.post("/pledges/<int:pledge_id>/claims")
@blp.response(201, ClaimSchema)
@blp.alt_response(403, description="No confirmed beneficiary group, or not one this item is for")
@blp.alt_response(409, description="None left this period, per-person limit reached, or the item is paused/ended")
@blp.doc(security=SECURED)
def claim_pledge(pledge_id):
    """Claim one unit: answers a one-time code and a QR payload to show at the counter."""
    claim = call("volunteers", "claim_item", pledge_id)
    return respond(claim, 201)


@blp.get("/pledges/<int:pledge_id>/claims")
@blp.arguments(ClaimQuerySchema, location="query")
@blp.response(200, ClaimPageSchema)
@blp.doc(security=SECURED)
def list_pledge_claims(query, pledge_id):
    """Claims on one of my items (codes are not shown to the shop)."""
    return respond(call("volunteers", "list_item_claims", pledge_id, query))


@blp.get("/claims")
@blp.arguments(ClaimQuerySchema, location="query")
@blp.response(200, ClaimPageSchema)
@blp.doc(security=SECURED)
def list_my_claims(query):
    """My claims with their codes."""
    return respond(call("volunteers", "list_my_claims", query))


@blp.post("/claims/<string:code>/redeem")
@blp.response(200, ClaimSchema)
@blp.alt_response(404, description="No such code at your shop")
@blp.alt_response(409, description="Redeemed already, expired, or outside redemption hours")
@blp.doc(security=SECURED)
def redeem_claim(code):
    """Redeem a code at the counter (the shop owner)."""
    return respond(call("volunteers", "redeem_claim", code))


# ---------------------------------------------------------------------------------------- wishes

@blp.post("/wishes")
@blp.arguments(WishRequestSchema)
@blp.response(201, WishSchema)
@blp.doc(security=SECURED)
def post_wish(data):
    """Post a micro-wish (confirmed beneficiaries); a coordinator vets it."""
    wish = call("volunteers", "post_wish", data)
    return created(wish, f"/api/v1/wishes/{wish['id']}")


@blp.get("/wishes")
@blp.arguments(WishQuerySchema, location="query")
@blp.response(200, WishPageSchema)
@blp.doc(security=PUBLIC)
def list_wishes(query):
    """Open wishes; `mine` for mine; `state=submitted` for coordinators vetting them."""
    return respond(call("volunteers", "list_wishes", query, caller=_browser()))


@blp.get("/wishes/<int:wish_id>")
@blp.response(200, WishSchema)
@blp.doc(security=PUBLIC)
def get_wish(wish_id):
    """One wish with its timeline."""
    return respond(call("volunteers", "get_wish", wish_id, caller=_browser()))


def _wish_endpoint(name: str, summary: str):
    """POST /wishes/{id}/<name>: a step of the wish's lifecycle (the verbs are the API's), its note forwarded."""
    def forward(wish_id, data):
        return call("volunteers", "move_wish", wish_id, name, data)

    return verb(blp, f"/wishes/<int:wish_id>/{name}", WishStepSchema, WishSchema, forward,
                name=f"{name}_wish", summary=summary,
                responses={409: "Not possible from the wish's state (the allowed steps are listed)"})


publish_wish = _wish_endpoint("publish", "Publish a vetted wish (a coordinator)")
reject_wish = _wish_endpoint("reject", "Reject a wish (a coordinator; note = reason)")
adopt_wish = _wish_endpoint("adopt", "Adopt a published wish (one merchant or partner wins)")
deliver_wish = _wish_endpoint("deliver", "Mark the wish delivered (the adopter)")
fulfil_wish = _wish_endpoint("fulfil", "Confirm receipt (the wish's owner)")
withdraw_wish = _wish_endpoint("withdraw", "Withdraw my wish before it is adopted")


# --------------------------------------------------------------------------------------- reports

@blp.get("/reports/merchants/<int:merchant_id>")
@blp.arguments(MonthQuerySchema, location="query")
@blp.response(200, MerchantReportSchema)
@blp.doc(security=SECURED)
def merchant_report(query, merchant_id):
    """A shop's month (its owner and coordinators): per item claims, redemptions, expired, open."""
    return respond(call("volunteers", "merchant_report", merchant_id, query))


@blp.get("/reports/grids/<int:grid_id>/merchants")
@blp.response(200, GridMerchantsReportSchema)
@blp.doc(security=SECURED)
def grid_merchants_report(grid_id):
    """Shops taking part in a grid's subtree (approved, good shops, with live items)."""
    return respond(call("volunteers", "grid_merchants_report", grid_id))

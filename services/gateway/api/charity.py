"""Merchants, their charity items (pledges), claims and redemptions, and micro-wishes."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from services.gateway.api import (
    SECURED,
    call,
    created,
    current_caller,
    etag,
    if_match_version,
    json_body,
    respond,
)
from services.volunteers.charity_schemas import (
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


def _pledge(body: dict, status: int = 200):
    return respond(body, status, {"ETag": etag(body["version"])})


# ------------------------------------------------------------------------------------- merchants

@blp.post("/merchants")
@blp.arguments(MerchantRequestSchema)
@blp.response(201, MerchantSchema)
@blp.alt_response(409, description="You registered a shop of this name already")
@blp.doc(security=SECURED)
def register_merchant(_data):
    """Register my shop (merchant accounts); it waits for a coordinator's approval."""
    merchant = call("volunteers", "register_merchant", json_body())
    return created(merchant, f"/api/v1/merchants/{merchant['id']}")


@blp.get("/merchants")
@blp.arguments(MerchantQuerySchema, location="query")
@blp.response(200, MerchantPageSchema)
@blp.doc(security=PUBLIC)
def list_merchants(_query):
    """Shops: filter by grid (its subtree), status, good_shop, category, street_area, or mine."""
    return respond(call("volunteers", "list_merchants", request.args.to_dict(), caller=_browser()))


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
def approve_merchant(_data, merchant_id):
    """Approve a shop (a coordinator of its grid); its active items go public."""
    return respond(call("volunteers", "approve_merchant", merchant_id, json_body()))


@blp.post("/merchants/<int:merchant_id>/reject")
@blp.arguments(MerchantRejectionSchema)
@blp.response(200, MerchantSchema)
@blp.alt_response(409, description="The shop is not waiting for approval")
@blp.doc(security=SECURED)
def reject_merchant(_data, merchant_id):
    """Reject a pending shop with a reason (a coordinator of its grid, who may approve it); the owner reads
    the reason on the shop (`rejection_reason`). It may still be approved later."""
    return respond(call("volunteers", "reject_merchant", merchant_id, json_body()))


# --------------------------------------------------------------------------------------- pledges

@blp.post("/pledges")
@blp.arguments(PledgeRequestSchema)
@blp.response(201, PledgeSchema)
@blp.doc(security=SECURED)
def create_pledge(_data):
    """Register a charity item of one of my shops ("one free coffee a day for riders, 10 a day").

    valid_until must not be before valid_from nor in the past, and redemption_hours' end must be after
    its start (each a 422 naming the field)."""
    pledge = call("volunteers", "create_pledge", json_body())
    response = created(pledge, f"/api/v1/pledges/{pledge['id']}")
    response.headers["ETag"] = etag(pledge["version"])
    return response


@blp.get("/pledges")
@blp.arguments(PledgeQuerySchema, location="query")
@blp.response(200, PledgePageSchema)
@blp.doc(security=PUBLIC)
def list_pledges(_query):
    """Live items near a grid (its subtree) for a group, with today's remaining stock; `mine` for my shops'."""
    return respond(call("volunteers", "list_pledges", request.args.to_dict(), caller=_browser()))


@blp.get("/pledges/<int:pledge_id>")
@blp.response(200, PledgeSchema)
@blp.doc(security=PUBLIC)
def get_pledge(pledge_id):
    """One item (ETag = its version)."""
    return _pledge(call("volunteers", "get_pledge", pledge_id, caller=_browser()))


@blp.patch("/pledges/<int:pledge_id>")
@blp.arguments(PledgeUpdateSchema(partial=True))
@blp.response(200, PledgeSchema)
@blp.alt_response(412, description="If-Match names an older version")
@blp.doc(security=SECURED, parameters=[{"in": "header", "name": "If-Match", "schema": {"type": "string"}}])
def update_pledge(_data, pledge_id):
    """Edit my item; send If-Match with the ETag you read.

    The same date and hour rules as creating an item apply to the item as changed (422 naming the field)."""
    return _pledge(call("volunteers", "update_pledge", pledge_id, json_body(), if_match_version()))


def _status_endpoint(verb: str, doc: str):
    @blp.arguments(PledgeStatusChangeSchema)
    @blp.response(200, PledgeSchema)
    @blp.alt_response(409, description="Not possible from the item's state (the allowed steps are listed)")
    @blp.doc(security=SECURED, summary=doc)
    def endpoint(_data, pledge_id):
        return _pledge(call("volunteers", "change_pledge_status", pledge_id, verb, json_body()))

    endpoint.__name__ = f"{verb}_pledge"
    blp.post(f"/pledges/<int:pledge_id>/{verb}")(endpoint)


_status_endpoint("pause", "Pause my item")
_status_endpoint("resume", "Resume an item (the owner after a pause, a coordinator after a suspension)")
_status_endpoint("end", "End an item for good")
_status_endpoint("suspend", "Suspend an item (a coordinator of the shop's grid)")


# ---------------------------------------------------------------------------------------- claims

@blp.post("/pledges/<int:pledge_id>/claims")
@blp.response(201, ClaimSchema)
@blp.alt_response(403, description="No confirmed beneficiary group, or not one this item is for")
@blp.alt_response(409, description="None left this period, per-person limit reached, or the item is paused/ended")
@blp.doc(security=SECURED)
def claim_pledge(pledge_id):
    """Claim one unit: answers a one-time code and a QR payload to show at the counter."""
    claim = call("volunteers", "claim_pledge", pledge_id)
    return respond(claim, 201)


@blp.get("/pledges/<int:pledge_id>/claims")
@blp.arguments(ClaimQuerySchema, location="query")
@blp.response(200, ClaimPageSchema)
@blp.doc(security=SECURED)
def list_pledge_claims(_query, pledge_id):
    """Claims on one of my items (codes are not shown to the shop)."""
    return respond(call("volunteers", "list_pledge_claims", pledge_id, request.args.to_dict()))


@blp.get("/claims")
@blp.arguments(ClaimQuerySchema, location="query")
@blp.response(200, ClaimPageSchema)
@blp.doc(security=SECURED)
def list_my_claims(_query):
    """My claims with their codes."""
    return respond(call("volunteers", "list_my_claims", request.args.to_dict()))


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
def post_wish(_data):
    """Post a micro-wish (confirmed beneficiaries); a coordinator vets it."""
    wish = call("volunteers", "post_wish", json_body())
    return created(wish, f"/api/v1/wishes/{wish['id']}")


@blp.get("/wishes")
@blp.arguments(WishQuerySchema, location="query")
@blp.response(200, WishPageSchema)
@blp.doc(security=PUBLIC)
def list_wishes(_query):
    """Open wishes; `mine` for mine; `state=submitted` for coordinators vetting them."""
    return respond(call("volunteers", "list_wishes", request.args.to_dict(), caller=_browser()))


@blp.get("/wishes/<int:wish_id>")
@blp.response(200, WishSchema)
@blp.doc(security=PUBLIC)
def get_wish(wish_id):
    """One wish with its timeline."""
    return respond(call("volunteers", "get_wish", wish_id, caller=_browser()))


def _wish_endpoint(verb: str, doc: str):
    @blp.arguments(WishStepSchema)
    @blp.response(200, WishSchema)
    @blp.alt_response(409, description="Not possible from the wish's state (the allowed steps are listed)")
    @blp.doc(security=SECURED, summary=doc)
    def endpoint(_data, wish_id):
        return respond(call("volunteers", "move_wish", wish_id, verb, json_body()))

    endpoint.__name__ = f"{verb}_wish"
    blp.post(f"/wishes/<int:wish_id>/{verb}")(endpoint)


_wish_endpoint("publish", "Publish a vetted wish (a coordinator)")
_wish_endpoint("reject", "Reject a wish (a coordinator; note = reason)")
_wish_endpoint("adopt", "Adopt a published wish (one merchant or partner wins)")
_wish_endpoint("deliver", "Mark the wish delivered (the adopter)")
_wish_endpoint("fulfil", "Confirm receipt (the wish's owner)")
_wish_endpoint("withdraw", "Withdraw my wish before it is adopted")


# --------------------------------------------------------------------------------------- reports

@blp.get("/reports/merchants/<int:merchant_id>")
@blp.arguments(MonthQuerySchema, location="query")
@blp.response(200, MerchantReportSchema)
@blp.doc(security=SECURED)
def merchant_report(_query, merchant_id):
    """A shop's month (its owner and coordinators): per item claims, redemptions, expired, open."""
    return respond(call("volunteers", "merchant_report", merchant_id, request.args.to_dict()))


@blp.get("/reports/grids/<int:grid_id>/merchants")
@blp.response(200, GridMerchantsReportSchema)
@blp.doc(security=SECURED)
def grid_merchants_report(grid_id):
    """Shops taking part in a grid's subtree (approved, good shops, with live items)."""
    return respond(call("volunteers", "grid_merchants_report", grid_id))

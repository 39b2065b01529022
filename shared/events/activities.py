"""Events of the activities service: sign-ups, the waitlist, sessions and volunteers' hours."""
from marshmallow import Schema, fields, validate

from shared.events import register


class ActivityTitles(Schema):
    activity_id = fields.Integer(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(load_default="")


class SignUpConfirmedPayload(ActivityTitles):
    signup_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    # The first session still ahead (None when the activity has no session yet).
    first_starts_at = fields.AwareDateTime(allow_none=True, load_default=None)
    timezone = fields.String(load_default="Asia/Shanghai")
    places = fields.Integer(load_default=1)


class WaitlistOfferedPayload(ActivityTitles):
    signup_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    # The places are held until then; after it they go to the next person waiting.
    hold_until = fields.AwareDateTime(required=True)
    timezone = fields.String(load_default="Asia/Shanghai")


class SessionReminderPayload(ActivityTitles):
    session_id = fields.Integer(required=True)
    user_ids = fields.List(fields.Integer(), load_default=list)
    starts_at = fields.AwareDateTime(required=True)
    # Where: the space and site, or the free-text place (a route's meeting point).
    place = fields.String(load_default="")
    timezone = fields.String(load_default="Asia/Shanghai")


class SessionChangedPayload(ActivityTitles):
    session_id = fields.Integer(required=True)
    user_ids = fields.List(fields.Integer(), load_default=list)
    change = fields.String(required=True, validate=validate.OneOf(["moved", "cancelled"]))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    # Where the session was before it moved (None when cancelled).
    old_starts_at = fields.AwareDateTime(allow_none=True, load_default=None)
    reason = fields.String(load_default="")
    timezone = fields.String(load_default="Asia/Shanghai")


class ActivityCancelledPayload(ActivityTitles):
    user_ids = fields.List(fields.Integer(), load_default=list)
    reason = fields.String(load_default="")


class VenueLostPayload(ActivityTitles):
    """Sessions whose room bookings no longer holds for them (one event per bookings event: a rejected or
    expired booking loses all its sessions at once)."""

    # The first session that lost its room, and how many did (`session_ids`, in time order).
    session_id = fields.Integer(required=True)
    session_ids = fields.List(fields.Integer(), load_default=list)
    sessions = fields.Integer(load_default=1)
    # The activity's organisers (they are told).
    user_ids = fields.List(fields.Integer(), load_default=list)
    starts_at = fields.AwareDateTime(required=True)
    space_id = fields.Integer(required=True)
    # The room as people know it (its site and name).
    place = fields.String(load_default="")
    reason = fields.String(required=True, metadata={
        "description": "rejected (by the room's manager) | expired (not decided in time) | cancelled (in "
                       "bookings, by someone other than activities) | released (nobody checked in)"})
    # Bookings' own words, if any (a manager's reason for rejecting or cancelling).
    detail = fields.String(load_default="")
    timezone = fields.String(load_default="Asia/Shanghai")


class HoursCreditedPayload(ActivityTitles):
    # One credit per (session, volunteer); the volunteers service applies each credit_id once.
    credit_id = fields.String(required=True)
    session_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    minutes = fields.Integer(required=True, validate=validate.Range(min=0))
    # The organising team, if any (the hours count for the volunteer, in that team).
    team_id = fields.Integer(allow_none=True, load_default=None)
    ended_at = fields.AwareDateTime(required=True)


register("activity.signup_confirmed", "activities", SignUpConfirmedPayload,
         description="A sign-up holds its places (at once, or after confirming a waitlist offer).")
register("activity.waitlist_offered", "activities", WaitlistOfferedPayload,
         description="Freed places are held for the next person on an activity's waitlist until a deadline.")
register("activity.session_reminder", "activities", SessionReminderPayload,
         description="A session starts soon (sent once to its participants).")
register("activity.session_changed", "activities", SessionChangedPayload,
         description="A session was moved or cancelled.")
register("activity.cancelled", "activities", ActivityCancelledPayload,
         description="An activity was cancelled with all its sessions.")
register("activity.venue_lost", "activities", VenueLostPayload,
         description="Sessions lost the room bookings held for them (rejected, expired, cancelled or released "
                     "there); the organisers are told.")
register("activity.hours_credited", "activities", HoursCreditedPayload,
         description="A volunteer who helped run a session checked out; their minutes count as volunteer hours.")

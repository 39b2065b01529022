"""Events of the bookings service."""
from marshmallow import Schema, fields

from shared.events import register


class BookingPayload(Schema):
    booking_id = fields.Integer(required=True)
    space_id = fields.Integer(required=True)
    space_name = fields.String(required=True)
    site_name = fields.String(load_default="")
    booker_id = fields.Integer(required=True)
    team_id = fields.Integer(allow_none=True, load_default=None)
    title = fields.String(load_default="")
    # The first live occurrence, and how many the booking has.
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    occurrences = fields.Integer(load_default=1)
    timezone = fields.String(load_default="Asia/Shanghai")
    status = fields.String(required=True)
    manager_ids = fields.List(fields.Integer(), load_default=list)
    # The name another service's saga gave the booking (activities' rooms); None for a person's own booking.
    reference = fields.String(allow_none=True, load_default=None)


class BookingDecisionPayload(BookingPayload):
    reason = fields.String(load_default="")
    decided_by = fields.Integer(allow_none=True, load_default=None)


class BookingCancelledPayload(BookingPayload):
    scope = fields.String(load_default="series")  # occurrence | following | series
    occurrence_ids = fields.List(fields.Integer(), load_default=list)
    # The first cancelled occurrence (starts_at/ends_at are the booking's first live one, if any is left).
    cancelled_starts_at = fields.AwareDateTime(allow_none=True, load_default=None)
    cancelled_ends_at = fields.AwareDateTime(allow_none=True, load_default=None)
    cancelled_by = fields.Integer(allow_none=True, load_default=None)
    reason = fields.String(load_default="")


class OccurrencePayload(BookingPayload):
    occurrence_id = fields.Integer(required=True)


class WaitlistOfferedPayload(Schema):
    waitlist_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    space_id = fields.Integer(required=True)
    space_name = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    hold_until = fields.AwareDateTime(required=True)
    timezone = fields.String(load_default="Asia/Shanghai")


register("booking.requested", "bookings", BookingPayload, description="A booking awaits a manager's approval.")
register("booking.confirmed", "bookings", BookingPayload, description="A booking is confirmed.")
register("booking.rejected", "bookings", BookingDecisionPayload, description="A manager rejected a booking.")
register("booking.cancelled", "bookings", BookingCancelledPayload, description="Occurrences were cancelled.")
register("booking.expired", "bookings", BookingDecisionPayload,
         description="A pending booking was not decided before it started.")
register("booking.released", "bookings", OccurrencePayload,
         description="No check-in: the occurrence was released and the slot is free again.")
register("booking.reminder_due", "bookings", OccurrencePayload, description="An occurrence starts soon.")
register("waitlist.offered", "bookings", WaitlistOfferedPayload,
         description="A freed slot is held for the first person on the waitlist.")

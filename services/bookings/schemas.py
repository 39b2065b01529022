"""The bookings service's RPC and HTTP contract (the gateway documents the API from these schemas)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class BookingRequestSchema(Schema):
    space_id = fields.Integer(required=True, validate=validate.Range(min=1))
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    ends_at = fields.AwareDateTime(required=True)
    title = fields.String(load_default="", validate=validate.Length(max=200))
    units = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))

    @validates_schema
    def _period(self, data, **_):
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class OccurrenceSchema(Schema):
    id = fields.Integer()
    unit = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    status = fields.String()


class BookingSchema(Schema):
    id = fields.Integer()
    space_id = fields.Integer()
    booker_id = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    title = fields.String()
    status = fields.String()
    units = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    rrule = fields.String(allow_none=True)
    version = fields.Integer()
    occurrences = fields.List(fields.Nested(OccurrenceSchema))


class SpaceSchema(Schema):
    id = fields.Integer()
    site_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    capacity = fields.Integer()
    units = fields.Integer()
    timezone = fields.String()
    equipment = fields.List(fields.String())

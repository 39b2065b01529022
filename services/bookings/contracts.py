"""The bookings service's contracts: the request and response schemas of its RPC (and so of the HTTP API).

The one public module of the service: the gateway imports these schemas (and nothing else of bookings), validates
with them, documents the API from them and forwards the data it loaded; the service loads that data again with the
same schema, so every schema here loads its own loaded output unchanged (a `data_key` field keeps its loaded value
under that key, via `attribute`). Rules that need the space (opening hours, quotas, conflicts) are the service's.
"""
from marshmallow import Schema, ValidationError, validate, validates, validates_schema

from services.bookings.rules import OpeningHours, RuleViolation, validate_timezone
from services.bookings.states import WAITLIST_STATES
from shared import fields
from shared.identity import ROLES
from shared.paging import PageQuerySchema, page_of

SPACE_KINDS = ("room", "pool")
SITE_KINDS = ("centre", "hub", "grid_station", "micro_station")
CANCEL_SCOPES = ("occurrence", "following", "series")
BOOKING_STATES = ("pending", "confirmed", "rejected", "cancelled", "expired", "offered", "lapsed")

Name = fields.String  # every free-text field below has an explicit maximum length


def _timezone(value: str) -> None:
    try:
        validate_timezone(value)
    except RuleViolation as exc:
        raise ValidationError(exc.message) from None


Page = PageQuerySchema


# --------------------------------------------------------------------------- catalogue


class SpaceRulesSchema(Schema):
    """Opening hours and booking rules of a space (all optional; defaults are permissive)."""

    opening_hours = fields.Dict(
        keys=fields.String(), values=fields.List(fields.List(fields.String(validate=validate.Length(max=5)))),
        allow_none=True, load_default=None,
        metadata={"description": 'Weekly windows in the space\'s zone: {"mon": [["09:00", "21:00"]], ...}; '
                                 "missing days are closed; null = always open"})
    min_duration_minutes = fields.Integer(load_default=15, validate=validate.Range(min=1, max=7 * 24 * 60))
    max_duration_minutes = fields.Integer(load_default=24 * 60, validate=validate.Range(min=1, max=7 * 24 * 60))
    max_advance_days = fields.Integer(load_default=180, validate=validate.Range(min=0, max=3 * 365))
    min_notice_minutes = fields.Integer(load_default=0, validate=validate.Range(min=0, max=30 * 24 * 60))
    buffer_minutes = fields.Integer(load_default=0, validate=validate.Range(min=0, max=24 * 60))
    approval_required = fields.Boolean(load_default=False)
    quota_hours_per_week = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=168))
    quota_bookings_per_week = fields.Integer(load_default=None, allow_none=True,
                                             validate=validate.Range(min=0, max=1000))
    checkin_required = fields.Boolean(load_default=False)
    auto_release_minutes = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0, min_inclusive=False, max=24 * 60),
        metadata={"description": "Without check-in by start + this, the occurrence is released"})
    allowed_roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=list,
                                validate=validate.Length(max=len(ROLES)))
    allowed_team_ids = fields.List(fields.Integer(validate=validate.Range(min=1)), load_default=list,
                                   validate=validate.Length(max=100))

    @validates("opening_hours")
    def _hours(self, value, **_):
        if value is not None:
            try:
                OpeningHours.parse(value)
            except RuleViolation as exc:
                raise ValidationError(exc.message) from None

    @validates_schema
    def _durations(self, data, **_):
        if data["max_duration_minutes"] < data["min_duration_minutes"]:
            raise ValidationError("must not be shorter than min_duration_minutes", "max_duration_minutes")


class SiteRequestSchema(Schema):
    name = Name(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="centre", validate=validate.OneOf(SITE_KINDS))
    address = Name(load_default="", validate=validate.Length(max=300))
    timezone = fields.String(load_default="Asia/Shanghai", validate=[validate.Length(max=64), _timezone],
                             metadata={"description": "an IANA time zone name (e.g. Asia/Shanghai)"})


class SiteSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    address = fields.String()
    timezone = fields.String()


class SiteQuerySchema(Page):
    kind = fields.String(validate=validate.OneOf(SITE_KINDS))


SitePageSchema = page_of(SiteSchema, "SitePageSchema")


class SpaceRequestSchema(Schema):
    site_id = fields.Integer(required=True, validate=validate.Range(min=1))
    name = Name(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="room", validate=validate.OneOf(SPACE_KINDS))
    capacity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000),
                              metadata={"description": "People a room holds"})
    units = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000),
                           metadata={"description": "Identical units of a pool (1 for a room)"})
    timezone = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=64), _timezone],
                             metadata={"description": "an IANA time zone name; default: the site's"})
    equipment = fields.List(fields.String(validate=validate.Length(min=1, max=50)), load_default=list,
                            validate=validate.Length(max=50))
    rules = fields.Nested(SpaceRulesSchema, load_default=lambda: SpaceRulesSchema().load({}))
    manager_ids = fields.List(fields.Integer(validate=validate.Range(min=1)), load_default=list,
                              validate=validate.Length(max=50))

    @validates_schema
    def _units(self, data, **_):
        if data["kind"] == "room" and data["units"] != 1:
            raise ValidationError("a room is one unit; use kind=pool for identical units", "units")


class EnsureSpaceSchema(SpaceRequestSchema):
    """The seed's variant: the site is named by `ensure_space`, not by id."""

    class Meta:
        exclude = ("site_id",)


class SpaceUpdateSchema(Schema):
    name = Name(validate=validate.Length(min=1, max=200))
    capacity = fields.Integer(validate=validate.Range(min=1, max=10000))
    equipment = fields.List(fields.String(validate=validate.Length(min=1, max=50)), validate=validate.Length(max=50))
    rules = fields.Nested(SpaceRulesSchema)
    manager_ids = fields.List(fields.Integer(validate=validate.Range(min=1)), validate=validate.Length(max=50))
    active = fields.Boolean()


class SpaceSchema(Schema):
    id = fields.Integer()
    site_id = fields.Integer()
    site_name = fields.Function(lambda space: space.site.name if space.site else "")
    name = fields.String()
    kind = fields.String()
    capacity = fields.Integer()
    units = fields.Integer()
    timezone = fields.String()
    equipment = fields.List(fields.String())
    rules = fields.Dict()
    manager_ids = fields.List(fields.Integer())
    active = fields.Boolean()


class SpaceQuerySchema(Page):
    site_id = fields.Integer(validate=validate.Range(min=1))
    kind = fields.String(validate=validate.OneOf(SPACE_KINDS))
    min_capacity = fields.Integer(validate=validate.Range(min=1))
    equipment = fields.String(validate=validate.Length(max=300),
                              metadata={"description": "Comma-separated tags the space must all have"})
    free_from = fields.AwareDateTime(metadata={"description": "With free_to: only spaces free for the whole period"})
    free_to = fields.AwareDateTime()
    units = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000),
                           metadata={"description": "Free units needed (pools)"})

    @validates_schema
    def _period(self, data, **_):
        if ("free_from" in data) != ("free_to" in data):
            raise ValidationError("free_from and free_to go together", "free_to")
        if "free_from" in data and data["free_to"] <= data["free_from"]:
            raise ValidationError("must be after free_from", "free_to")


SpacePageSchema = page_of(SpaceSchema, "SpacePageSchema")


class BlackoutRequestSchema(Schema):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    reason = Name(load_default="", validate=validate.Length(max=300))
    whole_site = fields.Boolean(load_default=False,
                                metadata={"description": "Black out every space of the space's site"})

    @validates_schema
    def _period(self, data, **_):
        fields.ordered(data, "starts_at", "ends_at", "must be after starts_at")


class BlackoutSchema(Schema):
    id = fields.Integer()
    site_id = fields.Integer(allow_none=True)
    space_id = fields.Integer(allow_none=True)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    reason = fields.String()


BlackoutPageSchema = page_of(BlackoutSchema, "BlackoutPageSchema", whole=True)


class BlackoutQuerySchema(Schema):
    from_ = fields.AwareDateTime(data_key="from", attribute="from")
    to = fields.AwareDateTime()


class AvailabilityQuerySchema(Schema):
    from_ = fields.AwareDateTime(data_key="from", attribute="from", required=True)
    to = fields.AwareDateTime(required=True)

    @validates_schema
    def _period(self, data, **_):
        if "from" in data and "to" in data:
            if data["to"] <= data["from"]:
                raise ValidationError("must be after from", "to")
            elif (data["to"] - data["from"]).days > 62:
                raise ValidationError("at most 62 days per request", "to")


class FreeIntervalSchema(Schema):
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    free_units = fields.Integer()


class BusyIntervalSchema(Schema):
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    units = fields.Integer()
    booking_id = fields.Integer(allow_none=True, metadata={"description": "Only for the caller's own bookings"})
    title = fields.String(allow_none=True)


class AvailabilitySchema(Schema):
    space_id = fields.Integer()
    timezone = fields.String()
    units = fields.Integer()
    free = fields.List(fields.Nested(FreeIntervalSchema))
    busy = fields.List(fields.Nested(BusyIntervalSchema))


# --------------------------------------------------------------------------- bookings


class BookingRequestSchema(Schema):
    space_id = fields.Integer(required=True, validate=validate.Range(min=1))
    starts_at = fields.DateTime(required=True, metadata={
        "description": "ISO 8601 with offset, or a local wall-clock time in `timezone` (the space's by default)"})
    ends_at = fields.DateTime(required=True)
    timezone = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=64), _timezone],
                             metadata={"description": "Zone (an IANA time zone name) of local starts_at/ends_at; "
                                                    "default the space's"})
    title = fields.String(load_default="", validate=validate.Length(max=200))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    units = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))
    team_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1),
                             metadata={"description": "Book on behalf of a team you lead"})
    rrule = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300), metadata={
        "description": "RRULE subset: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY (2TU, -1FR), BYMONTHDAY, "
                       "COUNT or UNTIL, expanded in the space's wall-clock time"})
    exdates = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                          validate=validate.Length(max=500),
                          metadata={"description": "Dates (YYYY-MM-DD) or local times to leave out of the series"})
    on_conflict = fields.String(load_default="fail", validate=validate.OneOf(("fail", "skip")), metadata={
        "description": "fail: 409 listing every conflict; skip: book the free occurrences of a series"})

    @validates_schema
    def _period(self, data, **_):
        fields.ordered(data, "starts_at", "ends_at", "must be after starts_at")


class ReferencedBookingRequestSchema(BookingRequestSchema):
    """create_booking over RPC: a booking may carry its caller's `reference` (another service's saga), not
    offered over HTTP. A repeat with the same reference answers the booking already made; a reference given
    back with `release_reference` is refused (409)."""

    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "The caller's own unique name for this booking"})


class ReferenceSchema(Schema):
    """release_reference's argument."""

    reference = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ReleasedReferenceSchema(Schema):
    """What release_reference did: the booking made with the reference (if any) and the occurrences it
    cancelled now (none when it was done already)."""

    reference = fields.String()
    booking_id = fields.Integer(allow_none=True)
    released_at = fields.AwareDateTime()
    cancelled_occurrence_ids = fields.List(fields.Integer())


class OccurrenceSchema(Schema):
    id = fields.Integer()
    unit = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    status = fields.String()
    checked_in_at = fields.AwareDateTime(allow_none=True)


class BookingSchema(Schema):
    id = fields.Integer()
    space_id = fields.Integer()
    booker_id = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    title = fields.String()
    notes = fields.String()
    status = fields.String()
    units = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    timezone = fields.String()
    rrule = fields.String(allow_none=True)
    exdates = fields.List(fields.String())
    reason = fields.String()
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    occurrences = fields.List(fields.Nested(OccurrenceSchema))


class ConflictSchema(Schema):
    """A live occurrence in the way: someone else's is only a busy time range; the caller's own carries ids."""

    unit = fields.Integer()
    starts_at = fields.String(metadata={"format": "date-time"})
    ends_at = fields.String(metadata={"format": "date-time"})
    mine = fields.Boolean()
    occurrence_id = fields.Integer(metadata={"description": "Only for the caller's own occurrences"})
    booking_id = fields.Integer(metadata={"description": "Only for the caller's own occurrences"})


class PreviewOccurrenceSchema(Schema):
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    local_date = fields.String(metadata={"description": "The occurrence's date (YYYY-MM-DD) in the space's zone: "
                                                        "send it in exdates to leave it out"})
    local_start = fields.String(metadata={"description": "Its wall-clock start in the space's zone "
                                                         "(YYYY-MM-DDTHH:MM:SS)"})
    free = fields.Boolean(metadata={"description": "No conflict: it would be booked"})
    conflicts = fields.List(fields.Nested(ConflictSchema))


class BookingPreviewSchema(Schema):
    space_id = fields.Integer()
    timezone = fields.String(metadata={"description": "The space's zone, in which a series repeats"})
    status = fields.String(metadata={"description": "What the booking would be: pending (the space needs "
                                                    "approval) or confirmed"})
    rrule = fields.String(allow_none=True, metadata={"description": "The rule as it would be stored"})
    occurrences = fields.List(fields.Nested(PreviewOccurrenceSchema),
                              metadata={"description": "Every occurrence the request asks for, in order"})
    free = fields.Integer(metadata={"description": "How many occurrences are free"})
    conflicting = fields.Integer(metadata={"description": "How many occurrences conflict"})
    bookable = fields.Boolean(metadata={"description": "Whether POST /bookings with the same body would book "
                                                      "(no conflict, or on_conflict=skip with a free occurrence)"})


class BookingUpdateSchema(Schema):
    title = fields.String(validate=validate.Length(max=200))
    notes = fields.String(validate=validate.Length(max=2000))


class BookingQuerySchema(Page):
    mine = fields.Boolean(load_default=None, allow_none=True, metadata={
        "description": "true (the default): bookings you made; false: every booking you may see, yours and "
                       "those of spaces you manage (every booking, for admins)"})
    scope = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("managed",)), metadata={
        "description": "managed: only the bookings of spaces you manage (every booking, for admins)"})
    space_id = fields.Integer(validate=validate.Range(min=1))
    status = fields.String(validate=validate.OneOf(BOOKING_STATES))
    from_ = fields.AwareDateTime(data_key="from", attribute="from",
                                 metadata={"description": "Having an occurrence ending after"})
    to = fields.AwareDateTime(metadata={"description": "Having an occurrence starting before"})

    @validates_schema
    def _mine_or_managed(self, data, **_):
        if data.get("scope") == "managed" and data.get("mine"):
            raise ValidationError("mine=true lists the bookings you made; leave it out with scope=managed", "mine")


BookingPageSchema = page_of(BookingSchema, "BookingPageSchema")


class CancelRequestSchema(Schema):
    scope = fields.String(load_default="series", validate=validate.OneOf(CANCEL_SCOPES))
    occurrence_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    reason = fields.String(load_default="", validate=validate.Length(max=500))

    @validates_schema
    def _occurrence(self, data, **_):
        if data["scope"] != "series" and data.get("occurrence_id") is None:
            raise ValidationError(f"required for scope={data['scope']}", "occurrence_id")


class DecisionSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class RejectionSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CheckInSchema(Schema):
    occurrence_id = fields.Integer(required=True, validate=validate.Range(min=1))


# --------------------------------------------------------------------------- waitlist


class WaitlistRequestSchema(Schema):
    space_id = fields.Integer(required=True, validate=validate.Range(min=1))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    units = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))
    title = fields.String(load_default="", validate=validate.Length(max=200))

    @validates_schema
    def _period(self, data, **_):
        fields.ordered(data, "starts_at", "ends_at", "must be after starts_at")


class WaitlistEntrySchema(Schema):
    id = fields.Integer()
    space_id = fields.Integer()
    user_id = fields.Integer()
    title = fields.String()
    units = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    status = fields.String()
    reason = fields.String(metadata={"description": "Why the entry was skipped (the rule of the space you broke "
                                                    "when the slot freed up for you), else empty"})
    position = fields.Integer(allow_none=True)
    booking_id = fields.Integer(allow_none=True)
    hold_until = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class WaitlistQuerySchema(Page):
    status = fields.String(validate=validate.OneOf(WAITLIST_STATES))


WaitlistPageSchema = page_of(WaitlistEntrySchema, "WaitlistPageSchema")

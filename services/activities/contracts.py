"""The activities service's contracts: the request and response schemas of its RPC (and so of the HTTP API).

The one public module of the service: the gateway imports these schemas (and nothing else of activities),
validates with them, documents the API from them and forwards the data it loaded; the service loads that data
again with the same schema, so every request schema here loads its own loaded output unchanged (a `data_key`
field keeps its loaded value under that key, via `attribute`). Rules that need the database or another service
(the room, the capacity taken, who leads a team) are the service's.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, validate, validates_schema

from services.activities.rules import KINDS, MAX_SESSIONS, SESSION, SIGNUP
from shared import fields
from shared.identity import BENEFICIARY_GROUPS, ROLES
from shared.paging import PageQuerySchema, page_of
from shared.periods import PeriodQuerySchema, ReportPeriodSchema
from shared.recurrence import RuleViolation, validate_timezone

ID = validate.Range(min=1)
ACTIVITY_STATES = ("open", "cancelled", "finished")
MAX_PLACES = 10


def _timezone(value: str) -> None:
    try:
        validate_timezone(value)
    except RuleViolation as exc:
        raise ValidationError(exc.message) from None


# --------------------------------------------------------------------------- sessions and routes


class RouteStopRequestSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class RouteStopSchema(Schema):
    position = fields.Integer()
    name = fields.String()
    note = fields.String()


class SessionRequestSchema(Schema):
    """One session, or a series of them repeating by `rrule` (as bookings repeats: in wall-clock time)."""

    starts_at = fields.DateTime(required=True, metadata={
        "description": "ISO 8601 with offset, or a local wall-clock time in `timezone`"})
    ends_at = fields.DateTime(required=True)
    timezone = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=64), _timezone],
                             metadata={"description": "Zone (an IANA name) of local times and of the series; "
                                                      "default the space's, else the activity's"})
    space_id = fields.Integer(load_default=None, allow_none=True, validate=ID, metadata={
        "description": "A bookings space: the room is booked for every session, as you (409 listing the "
                       "conflicts when it is taken)"})
    place = fields.String(load_default="", validate=validate.Length(max=300),
                          metadata={"description": "Where, in words, when there is no space (a meeting point)"})
    rrule = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300), metadata={
        "description": "RRULE subset as for bookings (FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY, BYMONTHDAY, "
                       f"COUNT or UNTIL), at most {MAX_SESSIONS} sessions"})
    exdates = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                          validate=validate.Length(max=MAX_SESSIONS),
                          metadata={"description": "Dates (YYYY-MM-DD) or local times to leave out of the series"})

    @validates_schema
    def _period(self, data, **_):
        fields.ordered(data, "starts_at", "ends_at", "a session must end after it starts")


class SessionMoveSchema(Schema):
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    timezone = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=64), _timezone])
    space_id = fields.Integer(load_default=None, allow_none=True, validate=ID, metadata={
        "description": "The room for the new time (default: the session's own); booked before the old is "
                       "given back"})
    place = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    reason = fields.String(load_default="", validate=validate.Length(max=500))

    _period = SessionRequestSchema._period


class SessionSchema(Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    space_id = fields.Integer(allow_none=True)
    place = fields.String()
    state = fields.String(metadata={"description": "scheduled | cancelled | done"})
    booking_id = fields.Integer(allow_none=True, metadata={"description": "The bookings booking holding the room"})
    occurrence_id = fields.Integer(allow_none=True)
    venue_status = fields.String(allow_none=True, metadata={
        "description": "The room in bookings: confirmed | pending (awaiting the room's manager) | lost (rejected, "
                       "expired, cancelled or released there); null without a room"})
    walk_ins = fields.Integer()
    cancel_reason = fields.String()


SessionPageSchema = page_of(SessionSchema, "ActivitySessionPageSchema", whole=True)


class ActivityCancelSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


# --------------------------------------------------------------------------- activities


class _Limits(Schema):
    """What an activity's creation and changes share."""

    description_zh = fields.String(validate=validate.Length(max=5000))
    description_en = fields.String(validate=validate.Length(max=5000))
    capacity = fields.Integer(validate=validate.Range(min=1, max=100000),
                              metadata={"description": "Places (at least 1)"})
    signup_opens_at = fields.AwareDateTime(allow_none=True, metadata={"description": "null: at once"})
    signup_closes_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "null: when the first session starts; at the latest the last session's start"})
    cancel_before_minutes = fields.Integer(validate=validate.Range(min=0, max=60 * 24 * 60), metadata={
        "description": "A participant may cancel until this long before the first session"})
    max_places_per_person = fields.Integer(validate=validate.Range(min=1, max=MAX_PLACES))
    one_per_household = fields.Boolean(metadata={"description": "One live sign-up per household"})
    hold_minutes = fields.Integer(validate=validate.Range(min=1, max=7 * 24 * 60), metadata={
        "description": "How long freed places are held for the next person on the waitlist"})
    groups = fields.List(fields.String(validate=validate.OneOf(BENEFICIARY_GROUPS)),
                         validate=[validate.Length(max=len(BENEFICIARY_GROUPS)), fields.Unique()],
                         metadata={"description": "Beneficiary groups who may sign up (with roles: empty = all)"})
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)),
                        validate=[validate.Length(max=len(ROLES)), fields.Unique()],
                        metadata={"description": "Roles whose holders may sign up"})
    route = fields.List(fields.Nested(RouteStopRequestSchema), allow_none=True,
                        validate=validate.Length(min=1, max=50),
                        metadata={"description": "A walking lesson's stops, in order (at least one)"})

    @validates_schema
    def _window(self, data, **_):
        fields.ordered(data, "signup_opens_at", "signup_closes_at", "the sign-up window must close after it opens")


class ActivityRequestSchema(_Limits):
    title_zh = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title_en = fields.String(load_default="", validate=validate.Length(max=200))
    description_zh = fields.String(load_default="", validate=validate.Length(max=5000))
    description_en = fields.String(load_default="", validate=validate.Length(max=5000))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    organiser_team_id = fields.Integer(load_default=None, allow_none=True, validate=ID, metadata={
        "description": "The volunteers team that runs it: its leads are organisers (and may create it)"})
    site_id = fields.Integer(load_default=None, allow_none=True, validate=ID, metadata={
        "description": "The bookings site it belongs to (default: the site of its first room)"})
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    signup_opens_at = fields.AwareDateTime(load_default=None, allow_none=True)
    signup_closes_at = fields.AwareDateTime(load_default=None, allow_none=True)
    cancel_before_minutes = fields.Integer(load_default=0, validate=validate.Range(min=0, max=60 * 24 * 60))
    max_places_per_person = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PLACES))
    one_per_household = fields.Boolean(load_default=False)
    hold_minutes = fields.Integer(load_default=30, validate=validate.Range(min=1, max=7 * 24 * 60))
    groups = fields.List(fields.String(validate=validate.OneOf(BENEFICIARY_GROUPS)), load_default=list,
                         validate=[validate.Length(max=len(BENEFICIARY_GROUPS)), fields.Unique()])
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=list,
                        validate=[validate.Length(max=len(ROLES)), fields.Unique()])
    timezone = fields.String(load_default="Asia/Shanghai", validate=[validate.Length(max=64), _timezone])
    route = fields.List(fields.Nested(RouteStopRequestSchema), load_default=None, allow_none=True,
                        validate=validate.Length(min=1, max=50))
    sessions = fields.List(fields.Nested(SessionRequestSchema), load_default=list, validate=validate.Length(max=20),
                           metadata={"description": "Sessions to add at once: each one-off, or a series (rrule)"})


class ActivityUpdateSchema(_Limits):
    title_zh = fields.String(validate=validate.Length(min=1, max=200))
    title_en = fields.String(validate=validate.Length(max=200))


class ActivityQuerySchema(PageQuerySchema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    site_id = fields.Integer(validate=ID)
    state = fields.String(validate=validate.OneOf(ACTIVITY_STATES))
    from_ = fields.AwareDateTime(data_key="from", attribute="from",
                                 metadata={"description": "Having a session ending after"})
    to = fields.AwareDateTime(metadata={"description": "Having a session starting before"})
    eligible = fields.Boolean(metadata={"description": "true: only those you may sign up for"})
    mine = fields.Boolean(metadata={"description": "true: only those you organise"})

    @validates_schema
    def _period(self, data, **_):
        fields.ordered(data, "from", "to", "must be after from")


class ActivitySchema(Schema):
    id = fields.Integer()
    title_zh = fields.String()
    title_en = fields.String()
    description_zh = fields.String()
    description_en = fields.String()
    kind = fields.String()
    organiser_team_id = fields.Integer(allow_none=True)
    organiser_ids = fields.List(fields.Integer())
    site_id = fields.Integer(allow_none=True)
    site_name = fields.String()
    groups = fields.List(fields.String())
    roles = fields.List(fields.String())
    capacity = fields.Integer()
    taken = fields.Integer(metadata={"description": "Places held (confirmed and offered)"})
    places_left = fields.Function(lambda a: max(a.capacity - a.taken, 0))
    signup_opens_at = fields.AwareDateTime(allow_none=True)
    signup_closes_at = fields.AwareDateTime(allow_none=True)
    cancel_before_minutes = fields.Integer()
    max_places_per_person = fields.Integer()
    one_per_household = fields.Boolean()
    hold_minutes = fields.Integer()
    state = fields.String()
    cancel_reason = fields.String()
    timezone = fields.String()
    route = fields.List(fields.Nested(RouteStopSchema))
    created_by = fields.Integer()
    created_at = fields.AwareDateTime()
    version = fields.Integer()


class ActivityCardSchema(ActivitySchema):
    """An activity as lists show it: with when its sessions (not cancelled) begin and end."""

    first_starts_at = fields.AwareDateTime(allow_none=True, metadata={"description": "Its first session's start"})
    last_ends_at = fields.AwareDateTime(allow_none=True, metadata={"description": "Its last session's end"})
    session_count = fields.Integer()


ActivityPageSchema = page_of(ActivityCardSchema, "ActivityPageSchema")


# --------------------------------------------------------------------------- sign-ups


class SignUpRequestSchema(Schema):
    places = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PLACES),
                            metadata={"description": "At most the activity's max_places_per_person"})
    household = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200),
                              metadata={"description": "Your household (an address); needed when the activity "
                                                       "takes one sign-up per household"})
    wait = fields.Boolean(load_default=False, metadata={
        "description": "true: join the waitlist when it is full (else 409)"})


class SignUpSchema(Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    user_id = fields.Integer()
    display_name = fields.String(metadata={"description": "the participant's name when signing up"})
    places = fields.Integer()
    household = fields.String(allow_none=True)
    state = fields.String(metadata={"description": "confirmed | waitlisted | offered | cancelled | expired"})
    hold_until = fields.AwareDateTime(allow_none=True, metadata={"description": "An offer: confirm before"})
    position = fields.Integer(allow_none=True, metadata={"description": "Place in line while waitlisted"})
    created_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)
    title_zh = fields.String(metadata={"description": "The activity's title"})
    title_en = fields.String()
    first_starts_at = fields.AwareDateTime(allow_none=True, metadata={"description": "Its first session"})
    cancel_until = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Until when you may cancel (null: any time)"})


SignUpPageSchema = page_of(SignUpSchema, "SignUpPageSchema")


class SignUpQuerySchema(PageQuerySchema):
    state = fields.String(validate=validate.OneOf(SIGNUP.states))


class ActivityDetailSchema(ActivitySchema):
    sessions = fields.List(fields.Nested(SessionSchema))
    my_signup = fields.Nested(SignUpSchema, allow_none=True)
    waitlist_length = fields.Integer()
    eligible = fields.Boolean(metadata={"description": "Whether you may sign up (groups and roles)"})
    signup_window = fields.String(metadata={"description": "before | open | closed"})
    organiser = fields.Boolean(metadata={"description": "Whether you organise it"})


SESSION_STATES = SESSION.states


# =========================================================================== attendance and reports
# Check-in, attendance, helpers, walk-ins and reports (attendance.py, reports.py) add their schemas below.

CHECKIN_DIRECTIONS = ("in", "out")
ATTENDANCE_ROLES = ("participant", "helper")
CHECKIN_METHODS = ("code", "ticket", "manual")
STANDINGS = ("expected", "present", "left", "no_show")


class SessionCodeSchema(Schema):
    session_id = fields.Integer()
    code = fields.String(metadata={"description": "six digits; show it as a QR code or as text"})
    expires_at = fields.AwareDateTime(metadata={"description": "when the next code replaces it (the code is "
                                                               "still taken for one more period)"})
    period_seconds = fields.Integer()


class TicketSchema(Schema):
    ticket = fields.String(metadata={"description": "a signed token naming the sign-up: show it as a QR code "
                                                    "for an organiser to scan"})
    signup_id = fields.Integer()
    activity_id = fields.Integer()
    user_id = fields.Integer()


class CheckInRequestSchema(Schema):
    """Exactly one of `code` (yourself, the code on the organiser's screen), `ticket` or `user_id`
    (organisers: a participant's ticket, or someone on the list)."""

    code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))
    ticket = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    user_id = fields.Integer(load_default=None, allow_none=True, validate=ID)
    direction = fields.String(load_default="in", validate=validate.OneOf(CHECKIN_DIRECTIONS), metadata={
        "description": "in (签到) or out (签退); a helper's check-out credits their hours"})

    @validates_schema
    def _one(self, data, **_):
        given = [name for name in ("code", "ticket", "user_id") if data.get(name) is not None]
        if len(given) != 1:
            message = "give exactly one of code, ticket, user_id"
            raise ValidationError({name: [message] for name in (given or ["code"])})


class AttendanceSchema(Schema):
    session_id = fields.Integer()
    user_id = fields.Integer()
    role = fields.String(metadata={"description": " | ".join(ATTENDANCE_ROLES)})
    checked_in_at = fields.AwareDateTime()
    checked_out_at = fields.AwareDateTime(allow_none=True)
    method = fields.String(metadata={"description": " | ".join(CHECKIN_METHODS)})
    recorded = fields.Boolean(metadata={"description": "false when this answered a record already there "
                                                      "(a second scan)"})
    minutes_credited = fields.Integer(allow_none=True, metadata={
        "description": "a helper's minutes credited for the session (null: none yet, or not a helper)"})


class AttendanceItemSchema(Schema):
    user_id = fields.Integer()
    display_name = fields.String(metadata={"description": "as the person signed up, or the helper's volunteer name"})
    role = fields.String(metadata={"description": " | ".join(ATTENDANCE_ROLES)})
    signup_id = fields.Integer(allow_none=True)
    places = fields.Integer(allow_none=True)
    checked_in_at = fields.AwareDateTime(allow_none=True)
    checked_out_at = fields.AwareDateTime(allow_none=True)
    method = fields.String(allow_none=True)
    standing = fields.String(metadata={"description": " | ".join(STANDINGS) + " (no_show once the session ended)"})
    minutes_credited = fields.Integer(allow_none=True)


class AttendanceSummarySchema(Schema):
    participants = fields.Integer(metadata={"description": "confirmed sign-ups and anyone checked in as one"})
    participants_in = fields.Integer()
    no_shows = fields.Integer(metadata={"description": "participants who never came (0 until the session ends)"})
    helpers = fields.Integer()
    walk_ins = fields.Integer()
    visits = fields.Integer(metadata={"description": "check-ins (participants and helpers) and walk-ins"})


class AttendanceListSchema(page_of(AttendanceItemSchema, "AttendancePage", whole=True)):
    session_id = fields.Integer()
    activity_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    ended = fields.Boolean()
    summary = fields.Nested(AttendanceSummarySchema)


class HelperRequestSchema(Schema):
    user_id = fields.Integer(required=True, validate=ID)


class HelperSchema(Schema):
    user_id = fields.Integer()
    display_name = fields.String(metadata={"description": "the volunteer's name when added"})
    added_by = fields.Integer(allow_none=True)
    added_at = fields.AwareDateTime()


HelperPageSchema = page_of(HelperSchema, "HelperPageSchema", whole=True)


class WalkInsRequestSchema(Schema):
    count = fields.Integer(required=True, validate=validate.Range(min=0, max=100_000), metadata={
        "description": "people who came without a sign-up, as counted (replaces the last count)"})


class WalkInsSchema(Schema):
    session_id = fields.Integer()
    count = fields.Integer()


class ActivityReportQuerySchema(PeriodQuerySchema):
    site_id = fields.Integer(load_default=None, allow_none=True, validate=ID,
                             metadata={"description": "one site; every site when absent"})


class ReportFiguresSchema(Schema):
    activities_held = fields.Integer(metadata={"description": "activities with a session held in the period"})
    sessions = fields.Integer(metadata={"description": "sessions held: started in the period, ended, not cancelled"})
    signups = fields.Integer(metadata={"description": "sign-ups made in the period (waitlisted ones too)"})
    expected = fields.Integer(metadata={"description": "confirmed sign-ups of each held session's activity, "
                                                       "summed over the sessions"})
    attended = fields.Integer(metadata={"description": "of those, checked in"})
    attendance_rate = fields.Float(allow_none=True, metadata={"description": "attended / expected (null: none "
                                                                            "expected)"})
    no_shows = fields.Integer(metadata={"description": "expected − attended"})
    check_ins = fields.Integer(metadata={"description": "every check-in at the held sessions (helpers too)"})
    helpers_in = fields.Integer()
    walk_ins = fields.Integer()
    visits = fields.Integer(metadata={"description": "check-ins + walk-ins"})
    volunteer_minutes = fields.Integer()
    volunteer_hours = fields.Float()


class ReportSiteSchema(ReportFiguresSchema):
    site_id = fields.Integer(allow_none=True, metadata={"description": "null: activities at no site"})
    site_name = fields.String()


class ActivityReportSchema(Schema):
    period = fields.Nested(ReportPeriodSchema)
    site_id = fields.Integer(allow_none=True)
    sites = fields.List(fields.Nested(ReportSiteSchema))
    totals = fields.Nested(ReportFiguresSchema)


REPORT_COLUMNS = ("site_id", "site_name", "activities_held", "sessions", "signups", "expected", "attended",
                  "attendance_rate", "no_shows", "check_ins", "helpers_in", "walk_ins", "visits",
                  "volunteer_minutes", "volunteer_hours")


def report_rows(report: dict) -> list[tuple]:
    """The report as CSV rows: the columns, a row per site, then the totals (site_id "total")."""
    rows = [REPORT_COLUMNS]
    rows += [tuple(site[c] for c in REPORT_COLUMNS) for site in report["sites"]]
    rows.append(("total", "", *(report["totals"][c] for c in REPORT_COLUMNS[2:])))
    return rows

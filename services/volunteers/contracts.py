"""The volunteers service's RPC and HTTP contract for grids, teams, volunteers, actions, visits and grid status.

The gateway validates requests with these schemas, the service validates them again, and the OpenAPI
document is generated from them.
"""
from marshmallow import Schema, ValidationError, validate, validates_schema

from services.volunteers.lifecycle import ACTION_STATES, MAX_LEVEL, MIN_LEVEL
from shared import fields
from shared.paging import PageQuerySchema, page_of
from shared.periods import PeriodQuerySchema, ReportPeriodSchema

TEAM_KINDS = ("rider_knights", "good_shops", "placemakers", "storytellers", "action_team", "other")
JOIN_POLICIES = ("open", "approval", "invitation")
AUDIENCE_ONLY = ("merchants", "volunteers", "coordinators")
HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="a time as HH:MM")
NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="lower-case letters, digits and _")
Id = fields.Integer


def _id(**kwargs):
    return fields.Integer(validate=validate.Range(min=1), **kwargs)


# ------------------------------------------------------------------------------------------------ grids

OUTLINE_RING = "one closed ring of [longitude, latitude] positions (WGS 84), the last repeating the first"
MAX_OUTLINE_SPAN = 0.5  # degrees of longitude or latitude across: a sub-district is a few kilometres


class OutlineSchema(Schema):
    """A grid's shape: a GeoJSON Polygon in lon/lat with one ring (no holes), 4 to 200 positions."""

    type = fields.String(required=True, validate=validate.OneOf(["Polygon"]))
    coordinates = fields.List(
        fields.List(fields.List(fields.Float(), validate=validate.Length(equal=2)),
                    validate=validate.Length(min=4, max=200)),
        required=True, validate=validate.Length(equal=1),
        metadata={"description": f"{OUTLINE_RING}; longitude -180..180, latitude -90..90; at most "
                                 f"{MAX_OUTLINE_SPAN} degrees across; a simple ring enclosing an area"})

    @validates_schema
    def _a_plausible_ring(self, data, **_):
        problems = outline_problems(data["coordinates"][0])
        if problems:
            raise ValidationError({"coordinates": problems})


def outline_problems(ring: list[list[float]]) -> list[str]:
    """What is wrong with an outline's ring, in words (empty when it is fine)."""
    problems = []
    for index, (lon, lat) in enumerate(ring):
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            problems.append(f"position {index} is not [longitude -180..180, latitude -90..90]")
    if problems:
        return problems
    if ring[0] != ring[-1]:
        return ["the ring is not closed: its last position must repeat the first"]
    points = [tuple(p) for p in ring[:-1]]
    if len(set(points)) < 3:
        return ["the ring needs at least 3 distinct positions"]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    if max(lons) - min(lons) > MAX_OUTLINE_SPAN or max(lats) - min(lats) > MAX_OUTLINE_SPAN:
        problems.append(f"the outline spans more than {MAX_OUTLINE_SPAN} degrees: a grid is a few kilometres across")
    area = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(points, points[1:] + points[:1], strict=True)) / 2
    if _crosses_itself(points):
        problems.append("the ring crosses itself")
    elif abs(area) < 1e-10:
        problems.append("the ring encloses no area")
    return problems


def _crosses_itself(points: list[tuple[float, float]]) -> bool:
    """Whether two non-adjacent edges of the closed ring intersect (at most 199 edges: a few thousand checks)."""
    def orient(a, b, c):
        value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (value > 0) - (value < 0)

    def on_segment(a, b, c):
        return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])

    def intersect(p1, p2, p3, p4):
        d1, d2, d3, d4 = orient(p3, p4, p1), orient(p3, p4, p2), orient(p1, p2, p3), orient(p1, p2, p4)
        if d1 != d2 and d3 != d4:
            return True
        return ((d1 == 0 and on_segment(p3, p4, p1)) or (d2 == 0 and on_segment(p3, p4, p2))
                or (d3 == 0 and on_segment(p1, p2, p3)) or (d4 == 0 and on_segment(p1, p2, p4)))

    edges = [(points[i], points[(i + 1) % len(points)]) for i in range(len(points))]
    count = len(edges)
    for i in range(count):
        for j in range(i + 1, count):
            if j == i + 1 or (i == 0 and j == count - 1):
                continue  # neighbours share a corner
            if intersect(*edges[i], *edges[j]):
                return True
    return False


class GridRequestSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    level = fields.Integer(required=True, validate=validate.Range(min=MIN_LEVEL, max=MAX_LEVEL))
    parent_id = _id(load_default=None, allow_none=True)
    coordinator_ids = fields.List(_id(), load_default=list, validate=validate.Length(max=50))
    outline = fields.Nested(OutlineSchema, load_default=None, allow_none=True, metadata={
        "description": "the grid's shape for the map (GeoJSON Polygon, lon/lat); null: none yet"})


class GridPatchSchema(Schema):
    outline = fields.Nested(OutlineSchema, allow_none=True, metadata={
        "description": "the grid's new shape (GeoJSON Polygon, lon/lat); null takes it away"})


class GridSchema(Schema):
    id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    name = fields.String()
    level = fields.Integer()
    coordinator_ids = fields.List(fields.Integer())
    outline = fields.Nested(OutlineSchema, allow_none=True, metadata={
        "description": "GeoJSON Polygon in lon/lat (WGS 84), one closed ring; null when none was drawn"})
    depth = fields.Integer(metadata={"description": "0 for the sub-district, 1 below it, and so on"})
    path = fields.List(fields.Integer(), metadata={
        "description": "ids from the root of the tree down to this grid, this grid last"})


GridPageSchema = page_of(GridSchema, "GridPageSchema", whole=True)


class AudienceSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["team", "grid"]))
    id = _id(required=True)
    only = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(AUDIENCE_ONLY))


# ------------------------------------------------------------------------------------------------ teams

class TeamRequestSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="other", validate=validate.OneOf(TEAM_KINDS))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    join_policy = fields.String(load_default="approval", validate=validate.OneOf(JOIN_POLICIES))
    lead_ids = fields.List(_id(), load_default=list, validate=validate.Length(max=20))


class TeamSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    description = fields.String()
    join_policy = fields.String()
    lead_ids = fields.List(fields.Integer())
    member_count = fields.Integer()
    hours_total = fields.Float(metadata={"description": "hours logged on actions done for the team and credited "
                                                        "for helping run the team's activities"})


TeamPageSchema = page_of(TeamSchema, "TeamPageSchema", whole=True)


class TeamQuerySchema(Schema):
    mine = fields.Boolean(load_default=False, metadata={"description": "only teams I am an active member of"})


class MemberSchema(Schema):
    user_id = fields.Integer()
    display_name = fields.String()
    role = fields.String()
    status = fields.String(metadata={"description": "invited | pending | active"})
    joined_at = fields.AwareDateTime(allow_none=True)


MemberPageSchema = page_of(MemberSchema, "MemberPageSchema", whole=True)


class InviteSchema(Schema):
    user_id = _id(required=True)
    role = fields.String(load_default="member", validate=validate.OneOf(["member", "lead"]))


# ------------------------------------------------------------------------------------------- volunteers

class WindowSchema(Schema):
    weekday = fields.Integer(required=True, validate=validate.Range(min=0, max=6),
                             metadata={"description": "0 = Monday"})
    start = fields.String(required=True, validate=HHMM)
    end = fields.String(required=True, validate=HHMM)

    @validates_schema
    def _not_empty(self, data, **_):
        if data["start"] == data["end"]:
            raise ValidationError("must differ from start (a window past midnight ends earlier)", "end")


class PeriodSchema(Schema):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=200))

    @validates_schema
    def _order(self, data, **_):
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class VolunteerRequestSchema(Schema):
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    phone = fields.String(load_default="", validate=validate.Length(max=32))
    skills = fields.Dict(keys=fields.String(validate=NAME), values=fields.Integer(validate=validate.Range(min=1, max=5)),
                         load_default=dict, validate=validate.Length(max=30))
    grid_ids = fields.List(_id(), load_default=list, validate=validate.Length(max=30))
    availability = fields.List(fields.Nested(WindowSchema), load_default=list, validate=validate.Length(max=50))
    unavailable = fields.List(fields.Nested(PeriodSchema), load_default=list, validate=validate.Length(max=50))
    on_leave = fields.Boolean(load_default=False)
    max_open_actions = fields.Integer(load_default=3, validate=validate.Range(min=1, max=20))
    timezone = fields.String(load_default="Asia/Shanghai", validate=validate.Length(max=64))


class VolunteerPatchSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=100))
    phone = fields.String(validate=validate.Length(max=32))
    skills = fields.Dict(keys=fields.String(validate=NAME), values=fields.Integer(validate=validate.Range(min=1, max=5)),
                         validate=validate.Length(max=30))
    grid_ids = fields.List(_id(), validate=validate.Length(max=30))
    availability = fields.List(fields.Nested(WindowSchema), validate=validate.Length(max=50))
    unavailable = fields.List(fields.Nested(PeriodSchema), validate=validate.Length(max=50))
    on_leave = fields.Boolean()
    max_open_actions = fields.Integer(validate=validate.Range(min=1, max=20))
    timezone = fields.String(validate=validate.Length(max=64))


class VolunteerSchema(Schema):
    id = fields.Integer(attribute="user_id", metadata={"description": "the volunteer's user id"})
    display_name = fields.String()
    phone = fields.String()
    skills = fields.Dict(keys=fields.String(), values=fields.Integer())
    grid_ids = fields.List(fields.Integer())
    availability = fields.List(fields.Nested(WindowSchema))
    unavailable = fields.List(fields.Nested(PeriodSchema))
    on_leave = fields.Boolean()
    max_open_actions = fields.Integer()
    timezone = fields.String()
    team_ids = fields.List(fields.Integer())
    open_actions = fields.Integer()
    hours_total = fields.Float(metadata={"description": "hours logged on actions and credited for helping run "
                                                        "activities' sessions"})
    last_action_at = fields.AwareDateTime(allow_none=True)


class VolunteerQuerySchema(PageQuerySchema):
    grid_id = _id(load_default=None, allow_none=True)
    team_id = _id(load_default=None, allow_none=True)
    skill = fields.String(load_default=None, allow_none=True, validate=NAME)


VolunteerPageSchema = page_of(VolunteerSchema, "VolunteerPageSchema")


# ------------------------------------------------------------------------------------------- categories

class CategoryRequestSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    label = fields.String(load_default="", validate=validate.Length(max=100))
    accept_within_minutes = fields.Dict(keys=fields.String(validate=validate.OneOf(["1", "2", "3"])),
                                        values=fields.Float(validate=validate.Range(min=0, min_inclusive=False)),
                                        required=True)
    resolve_within_minutes = fields.Dict(keys=fields.String(validate=validate.OneOf(["1", "2", "3"])),
                                         values=fields.Float(validate=validate.Range(min=0, min_inclusive=False)),
                                         required=True)
    required_skill = fields.String(load_default=None, allow_none=True, validate=NAME)
    min_skill_level = fields.Integer(load_default=1, validate=validate.Range(min=1, max=5))

    @validates_schema
    def _every_level(self, data, **_):
        errors = {}
        for name in ("accept_within_minutes", "resolve_within_minutes"):
            if set(data.get(name) or {}) != {"1", "2", "3"}:
                errors[name] = ["give minutes for each level 1, 2 and 3"]
        if errors:
            raise ValidationError(errors)


class CategorySchema(Schema):
    name = fields.String()
    label = fields.String()
    accept_within_minutes = fields.Dict(keys=fields.String(), values=fields.Float())
    resolve_within_minutes = fields.Dict(keys=fields.String(), values=fields.Float())
    required_skill = fields.String(allow_none=True)
    min_skill_level = fields.Integer()


CategoryPageSchema = page_of(CategorySchema, "CategoryPageSchema", whole=True)


# ---------------------------------------------------------------------------------------------- actions

class ActionReportSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(required=True, validate=NAME)
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    location = fields.String(load_default="", validate=validate.Length(max=300))
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180))
    grid_id = _id(required=True)
    photo_urls = fields.List(fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500)),
                             load_default=list, validate=validate.Length(max=9))
    merchant_id = _id(load_default=None, allow_none=True)

    @validates_schema
    def _both_coordinates(self, data, **_):
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError({"latitude": ["give both latitude and longitude, or neither"]})


class ChecklistItemSchema(Schema):
    item = fields.String()
    done = fields.Boolean()


class AssigneeSchema(Schema):
    user_id = fields.Integer()
    display_name = fields.String(metadata={"description": "their volunteer name (empty without a profile)"})
    status = fields.String(metadata={"description": "asked | declined | accepted"})


class ActionSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "single | mass"})
    parent_id = fields.Integer(allow_none=True)
    title = fields.String()
    category = fields.String()
    description = fields.String()
    location = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    photo_urls = fields.List(fields.String())
    grid_id = fields.Integer()
    merchant_id = fields.Integer(allow_none=True)
    state = fields.String()
    level = fields.Integer()
    deadline_at = fields.AwareDateTime(allow_none=True)
    deadline_kind = fields.String(allow_none=True, metadata={"description": "accept | resolve"})
    escalations = fields.Integer()
    reporter_id = fields.Integer(allow_none=True)
    reporter_name = fields.String(metadata={
        "description": "the reporter's display name when they reported (as the timeline's actor_name); "
                       "empty for the system"})
    follower_ids = fields.List(fields.Integer())
    candidate_ids = fields.List(fields.Integer())
    assignees = fields.List(fields.Nested(AssigneeSchema), metadata={
        "description": "who was asked to take it (candidates, and who accepted), by name: coordinators of the "
                       "action's grid see everyone; others see who accepted and themselves"})
    team_id = fields.Integer(allow_none=True)
    accepted_by = fields.Integer(allow_none=True)
    accepted_by_name = fields.String(allow_none=True, metadata={
        "description": "who accepted, by the name they had when they accepted; null while nobody has"})
    accepted_at = fields.AwareDateTime(allow_none=True)
    outcome = fields.String()
    resolved_at = fields.AwareDateTime(allow_none=True)
    rating = fields.Integer(allow_none=True)
    feedback = fields.String()
    checklist = fields.List(fields.Nested(ChecklistItemSchema))
    survivor_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    version = fields.Integer()
    allowed = fields.List(fields.String(), metadata={"description": "verbs the caller may apply now"})
    progress = fields.Dict(metadata={"description": "mass actions: children counted by state"})


class ActionQuerySchema(PageQuerySchema):
    grid_id = _id(load_default=None, allow_none=True)
    state = fields.List(fields.String(validate=validate.OneOf(ACTION_STATES)), load_default=list,
                        validate=validate.Length(max=len(ACTION_STATES)), metadata={
                            "description": "actions in any of these states: repeat the parameter "
                                           "(state=dispatched&state=accepted)"})
    level = fields.List(fields.Integer(validate=validate.Range(min=MIN_LEVEL, max=MAX_LEVEL)), load_default=list,
                        validate=validate.Length(max=MAX_LEVEL), metadata={
                            "description": "actions now at any of these escalation levels (1 micro-grid, 2 big "
                                           "grid, 3 command): repeat the parameter (level=2&level=3)"})
    category = fields.String(load_default=None, allow_none=True, validate=NAME)
    parent_id = _id(load_default=None, allow_none=True)
    mine = fields.Boolean(load_default=False, metadata={
        "description": "only actions I reported, follow, was asked to take or accepted"})


ActionPageSchema = page_of(ActionSchema, "ActionPageSchema")


class NoteSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class DispatchSchema(Schema):
    volunteer_ids = fields.List(_id(), load_default=None, allow_none=True, validate=validate.Length(min=1, max=50))
    team_id = _id(load_default=None, allow_none=True)
    broadcast = fields.Boolean(load_default=False, metadata={
        "description": "ask everyone who passes the hard filters (within team_id if given); first to accept wins"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    checklist = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=None,
                            allow_none=True, validate=validate.Length(max=20), metadata={
                                "description": "the steps the volunteer ticks before resolving; replaces the "
                                               "action's list (omit to keep it)"})

    @validates_schema
    def _one_mode(self, data, **_):
        if data.get("volunteer_ids") and (data.get("team_id") or data.get("broadcast")):
            raise ValidationError({"volunteer_ids": ["name volunteers, or a team, or broadcast — not both"]})
        if not data.get("volunteer_ids") and not data.get("team_id") and not data.get("broadcast"):
            raise ValidationError({"volunteer_ids": ["name volunteers, a team_id, or set broadcast"]})


class DeclineSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class ResolveSchema(Schema):
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class VerifySchema(Schema):
    rating = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=5))
    feedback = fields.String(load_default="", validate=validate.Length(max=2000))


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class CancelSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class MergeSchema(Schema):
    survivor_id = _id(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ChecklistTickSchema(Schema):
    index = fields.Integer(required=True, validate=validate.Range(min=0, max=49))
    done = fields.Boolean(load_default=True)


class HoursEditSchema(Schema):
    user_id = _id(load_default=None, allow_none=True, metadata={"description": "default: the one who accepted"})
    minutes = fields.Integer(required=True, validate=validate.Range(min=0, max=24 * 60 * 7))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class WorkLogSchema(Schema):
    action_id = fields.Integer()
    user_id = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    minutes = fields.Integer()
    started_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime()
    edit_reason = fields.String()
    edited_by = fields.Integer(allow_none=True)


class TimelineEntrySchema(Schema):
    verb = fields.String()
    from_state = fields.String()
    to_state = fields.String()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(metadata={"description": "who acted, by name; empty for the system"})
    at = fields.AwareDateTime()
    note = fields.String()
    data = fields.Dict()


TimelinePageSchema = page_of(TimelineEntrySchema, "TimelinePageSchema", whole=True)


class SuggestionSchema(Schema):
    volunteer_id = fields.Integer()
    display_name = fields.String()
    score = fields.Float()
    eligible = fields.Boolean()
    reasons = fields.List(fields.String())
    rejections = fields.List(fields.Dict())


SuggestionPageSchema = page_of(SuggestionSchema, "SuggestionPageSchema", whole=True)


class SuggestionQuerySchema(Schema):
    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=50))


class MassActionSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=150))
    category = fields.String(required=True, validate=NAME)
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    grid_ids = fields.List(_id(), required=True, validate=validate.Length(min=1, max=50))
    target = fields.String(load_default="merchants", validate=validate.OneOf(["merchants"]))
    checklist = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                            validate=validate.Length(max=20))
    team_id = _id(load_default=None, allow_none=True, metadata={
        "description": "dispatch every check to this team at once"})


# ----------------------------------------------------------------------------------------------- visits

class VisitRequestSchema(Schema):
    merchant_id = _id(required=True)
    findings = fields.String(load_default="", validate=validate.Length(max=4000))
    visited_at = fields.AwareDateTime(load_default=None, allow_none=True)
    needs_follow_up = fields.Boolean(load_default=False)
    follow_up_title = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    follow_up_category = fields.String(load_default=None, allow_none=True, validate=NAME)

    @validates_schema
    def _follow_up(self, data, **_):
        if data.get("needs_follow_up") and not data.get("follow_up_category"):
            raise ValidationError({"follow_up_category": ["required when needs_follow_up is true"]})


class VisitSchema(Schema):
    id = fields.Integer()
    merchant_id = fields.Integer()
    grid_id = fields.Integer(allow_none=True)
    visitor_id = fields.Integer()
    visited_at = fields.AwareDateTime()
    findings = fields.String()
    needs_follow_up = fields.Boolean()
    action_id = fields.Integer(allow_none=True)


class VisitQuerySchema(PageQuerySchema):
    grid_id = _id(load_default=None, allow_none=True)
    merchant_id = _id(load_default=None, allow_none=True)
    mine = fields.Boolean(load_default=False, metadata={"description": "only visits I made"})


VisitPageSchema = page_of(VisitSchema, "VisitPageSchema")


class OverdueQuerySchema(Schema):
    grid_id = _id(load_default=None, allow_none=True)
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))


class OverdueMerchantSchema(Schema):
    merchant_id = fields.Integer()
    name = fields.String()
    last_visited_at = fields.AwareDateTime(allow_none=True)


class OverdueGridSchema(Schema):
    grid_id = fields.Integer()
    grid_name = fields.String()
    merchants = fields.List(fields.Nested(OverdueMerchantSchema))


OverdueGridPageSchema = page_of(OverdueGridSchema, "OverdueGridPageSchema", whole=True)


# ------------------------------------------------------------------------------------------ grid status

class GridStatusSchema(Schema):
    grid_id = fields.Integer()
    name = fields.String()
    level = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    open = fields.Integer()
    overdue = fields.Integer()
    escalated = fields.Integer()
    colour = fields.String(metadata={"description": "green | yellow | red"})


GridStatusPageSchema = page_of(GridStatusSchema, "GridStatusPageSchema", whole=True)


# ------------------------------------------------------------------------------------------ grid report

class GridReportQuerySchema(PeriodQuerySchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]), metadata={
        "description": "csv: the same report as CSV rows (section, key, value); so does `Accept: text/csv`"})


class ReportGridSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    level = fields.Integer()
    grid_ids = fields.List(fields.Integer(), metadata={"description": "the grids counted: this one and below"})


class CategoryCountSchema(Schema):
    category = fields.String()
    label = fields.String()
    count = fields.Integer()


class LevelCountSchema(Schema):
    level = fields.Integer()
    count = fields.Integer()


class TimeToCloseSchema(Schema):
    median_minutes = fields.Float(allow_none=True)
    mean_minutes = fields.Float(allow_none=True)


class ReportActionsSchema(Schema):
    reported = fields.Integer(metadata={"description": "actions reported in the period (mass checks not counted)"})
    by_category = fields.List(fields.Nested(CategoryCountSchema))
    by_level = fields.List(fields.Nested(LevelCountSchema), metadata={
        "description": "actions reported in the period by the level they are at now"})
    closed = fields.Integer(metadata={"description": "actions closed in the period"})
    time_to_close = fields.Nested(TimeToCloseSchema, metadata={
        "description": "from report to close, of the actions closed in the period; null when none closed"})
    escalations = fields.Integer(metadata={"description": "escalations (by hand or by the timer) in the period"})
    escalated_actions = fields.Integer()


class ReportCharitySchema(Schema):
    claimed = fields.Integer(metadata={"description": "charity items claimed in the period at the grids' shops"})
    redeemed = fields.Integer(metadata={"description": "charity items redeemed in the period"})


class ReportVisitsSchema(Schema):
    count = fields.Integer()
    shops_visited = fields.Integer()
    needing_follow_up = fields.Integer()


class GridReportSchema(Schema):
    grid = fields.Nested(ReportGridSchema)
    period = fields.Nested(ReportPeriodSchema)
    actions = fields.Nested(ReportActionsSchema)
    charity = fields.Nested(ReportCharitySchema)
    visits = fields.Nested(ReportVisitsSchema)


def report_rows(report: dict) -> list[tuple[str, str, object]]:
    """The report flattened to (section, key, value) rows: the CSV the console downloads."""
    actions, period = report["actions"], report["period"]
    rows: list[tuple[str, str, object]] = [
        ("grid", "id", report["grid"]["id"]), ("grid", "name", report["grid"]["name"]),
        ("period", "from", period["from"]), ("period", "to", period["to"]), ("period", "timezone", period["timezone"]),
        ("actions", "reported", actions["reported"]), ("actions", "closed", actions["closed"]),
        ("actions", "median_minutes_to_close", actions["time_to_close"]["median_minutes"]),
        ("actions", "mean_minutes_to_close", actions["time_to_close"]["mean_minutes"]),
        ("actions", "escalations", actions["escalations"]), ("actions", "escalated_actions", actions["escalated_actions"]),
    ]
    rows += [("actions_by_category", row["category"], row["count"]) for row in actions["by_category"]]
    rows += [("actions_by_level", str(row["level"]), row["count"]) for row in actions["by_level"]]
    rows += [("charity", key, value) for key, value in report["charity"].items()]
    rows += [("visits", key, value) for key, value in report["visits"].items()]
    return rows

"""Grids, teams, volunteers, actions (the three whistles), visits and grid status."""
from __future__ import annotations

from flask_smorest import Blueprint

from services.gateway.api import SECURED, call, created, csv_answer, respond, verb, wants_csv
from services.volunteers.contracts import (
    ActionPageSchema,
    ActionQuerySchema,
    ActionReportSchema,
    ActionSchema,
    CancelSchema,
    CategoryPageSchema,
    ChecklistTickSchema,
    DeclineSchema,
    DispatchSchema,
    GridPageSchema,
    GridPatchSchema,
    GridReportQuerySchema,
    GridReportSchema,
    GridRequestSchema,
    GridSchema,
    GridStatusPageSchema,
    HoursEditSchema,
    InviteSchema,
    MassActionSchema,
    MemberPageSchema,
    MemberSchema,
    MergeSchema,
    NoteSchema,
    OverdueGridPageSchema,
    OverdueQuerySchema,
    ReasonSchema,
    ResolveSchema,
    SuggestionPageSchema,
    SuggestionQuerySchema,
    TeamPageSchema,
    TeamQuerySchema,
    TeamRequestSchema,
    TeamSchema,
    TimelinePageSchema,
    VerifySchema,
    VisitPageSchema,
    VisitQuerySchema,
    VisitRequestSchema,
    VisitSchema,
    VolunteerPageSchema,
    VolunteerPatchSchema,
    VolunteerQuerySchema,
    VolunteerRequestSchema,
    VolunteerSchema,
    WorkLogSchema,
    report_rows,
)
from shared.paging import whole

blp = Blueprint("volunteers", __name__, description="Grids, teams, volunteers and actions")

ILLEGAL = "The action's state does not allow this; `allowed` names the verbs that are possible"
DENIED = "Not a coordinator of the action's grid, or not the volunteer it was dispatched to; nothing changed"


# ---------------------------------------------------------------------------------------------------- grids

@blp.get("/grids")
@blp.response(200, GridPageSchema)
@blp.doc(security=SECURED)
def list_grids():
    """The grid tree (sub-district, big grids, micro-grids) as a flat list with parent_id, ordered
    depth-first (each grid followed by its subtree); `depth` and `path` place each grid. Answered whole."""
    return respond(whole(call("volunteers", "list_grids")))


@blp.post("/grids")
@blp.arguments(GridRequestSchema)
@blp.response(201, GridSchema)
@blp.doc(security=SECURED)
def create_grid(data):
    """Add a grid node (admin), optionally with its outline: a GeoJSON Polygon in lon/lat, one closed ring
    of 4 to 200 positions, at most 0.5 degrees across, not crossing itself (422 with field messages
    otherwise)."""
    grid = call("volunteers", "create_grid", data)
    return created(grid, f"/api/v1/grids/{grid['id']}")


@blp.get("/grids/<int:grid_id>")
@blp.response(200, GridSchema)
@blp.doc(security=SECURED)
def get_grid(grid_id):
    """One grid node with its coordinators and outline."""
    return respond(call("volunteers", "get_grid", grid_id))


@blp.patch("/grids/<int:grid_id>")
@blp.arguments(GridPatchSchema)
@blp.response(200, GridSchema)
@blp.alt_response(404, description="No such grid")
@blp.doc(security=SECURED)
def update_grid(data, grid_id):
    """Change a grid (admin, who creates grids): `outline`, a GeoJSON Polygon in lon/lat — one closed ring
    of 4 to 200 positions, at most 0.5 degrees across, not crossing itself (422 with field messages
    otherwise) — or null to take it away."""
    return respond(call("volunteers", "update_grid", grid_id, data))


@blp.get("/grid-status")
@blp.response(200, GridStatusPageSchema)
@blp.doc(security=SECURED)
def grid_status():
    """The colour map: per grid (its whole subtree) open, overdue and escalated actions, green/yellow/red.
    Answered whole."""
    return respond(whole(call("volunteers", "grid_status")))


@blp.get("/reports/grids/<int:grid_id>")
@blp.arguments(GridReportQuerySchema, location="query")
@blp.response(200, GridReportSchema)
@blp.alt_response(404, description="No such grid")
@blp.doc(security=SECURED, responses={"200": {"description": "The report; as CSV when asked", "content": {
    "application/json": {"schema": GridReportSchema}, "text/csv": {"schema": {"type": "string"}}}}})
def grid_report(query, grid_id):
    """A grid's report for the console (coordinators of the grid or a grid above it), its whole subtree
    counted over the days `from`..`to` in your time zone: actions reported by category and by level,
    closed, median and mean minutes from report to close, escalations, charity items claimed and redeemed
    at its shops, visits. `to` must not be before `from` nor more than 366 days after it. The same as CSV
    rows (section, key, value) with `?format=csv` or `Accept: text/csv`."""
    report = call("volunteers", "grid_report", grid_id, query)
    if not wants_csv():
        return respond(report)
    return csv_answer([("section", "key", "value"), *report_rows(report)],
                      f"grid-{grid_id}-{report['period']['from']}-{report['period']['to']}.csv")


# ---------------------------------------------------------------------------------------------------- teams

@blp.get("/teams")
@blp.arguments(TeamQuerySchema, location="query")
@blp.response(200, TeamPageSchema)
@blp.doc(security=SECURED)
def list_teams(query):
    """Every team with its leads, member count and hours total; `mine`: the teams you belong to. Answered
    whole."""
    return respond(whole(call("volunteers", "list_teams", query)))


@blp.post("/teams")
@blp.arguments(TeamRequestSchema)
@blp.response(201, TeamSchema)
@blp.alt_response(409, description="A team of that name exists")
@blp.doc(security=SECURED)
def create_team(data):
    """A new team (coordinators)."""
    team = call("volunteers", "create_team", data)
    return created(team, f"/api/v1/teams/{team['id']}")


@blp.get("/teams/<int:team_id>")
@blp.response(200, TeamSchema)
@blp.doc(security=SECURED)
def get_team(team_id):
    """One team."""
    return respond(call("volunteers", "get_team", team_id))


@blp.get("/teams/<int:team_id>/members")
@blp.response(200, MemberPageSchema)
@blp.doc(security=SECURED)
def list_members(team_id):
    """The team's members (leads and coordinators also see invitations and requests). Answered whole."""
    return respond(whole(call("volunteers", "list_team_members", team_id)))


@blp.post("/teams/<int:team_id>/join")
@blp.response(200, MemberSchema)
@blp.alt_response(409, description="Already a member")
@blp.doc(security=SECURED)
def join_team(team_id):
    """Join an open team, accept an invitation, or ask to join a team that approves its members."""
    return respond(call("volunteers", "join_team", team_id))


invite = verb(blp, "/teams/<int:team_id>/invite", InviteSchema, MemberSchema,
              lambda team_id, data: call("volunteers", "invite_to_team", team_id, data),
              name="invite", summary="A lead or coordinator invites a volunteer.")


@blp.post("/teams/<int:team_id>/members/<int:user_id>/approve")
@blp.response(200, MemberSchema)
@blp.alt_response(409, description="No pending request from that user")
@blp.doc(security=SECURED)
def approve(team_id, user_id):
    """A lead or coordinator approves a request to join."""
    return respond(call("volunteers", "approve_member", team_id, user_id))


# ----------------------------------------------------------------------------------------------- volunteers

@blp.get("/volunteers")
@blp.arguments(VolunteerQuerySchema, location="query")
@blp.response(200, VolunteerPageSchema)
@blp.doc(security=SECURED)
def list_volunteers(query):
    """Volunteers (coordinators), filterable by grid, team and skill."""
    return respond(call("volunteers", "list_volunteers", query))


@blp.post("/volunteers/me")
@blp.arguments(VolunteerRequestSchema)
@blp.response(201, VolunteerSchema)
@blp.alt_response(409, description="The profile exists already")
@blp.doc(security=SECURED)
def create_profile(data):
    """Become a volunteer: skills, grids served, weekly availability, how many open actions at most."""
    return created(call("volunteers", "create_volunteer", data), "/api/v1/volunteers/me")


@blp.get("/volunteers/me")
@blp.response(200, VolunteerSchema)
@blp.doc(security=SECURED)
def my_profile():
    """The caller's volunteer profile with teams, open actions and hours."""
    return respond(call("volunteers", "get_volunteer"))


@blp.patch("/volunteers/me")
@blp.arguments(VolunteerPatchSchema)
@blp.response(200, VolunteerSchema)
@blp.doc(security=SECURED)
def update_profile(data):
    """Change some fields of the caller's profile."""
    return respond(call("volunteers", "update_volunteer", data))


@blp.get("/volunteers/<int:user_id>")
@blp.response(200, VolunteerSchema)
@blp.doc(security=SECURED)
def get_volunteer(user_id):
    """A volunteer's profile (coordinators)."""
    return respond(call("volunteers", "get_volunteer", user_id))


# -------------------------------------------------------------------------------------------------- actions

@blp.get("/action-categories")
@blp.response(200, CategoryPageSchema)
@blp.doc(security=SECURED)
def list_categories():
    """Action categories and their time limits per level (minutes). Answered whole."""
    return respond(whole(call("volunteers", "list_categories")))


@blp.post("/actions")
@blp.arguments(ActionReportSchema)
@blp.response(201, ActionSchema)
@blp.doc(security=SECURED)
def report_action(data):
    """Report a problem (category, description, location, optional coordinates and photos) in a grid."""
    action = call("volunteers", "report_action", data)
    return created(action, f"/api/v1/actions/{action['id']}")


@blp.get("/actions")
@blp.arguments(ActionQuerySchema, location="query")
@blp.response(200, ActionPageSchema)
@blp.doc(security=SECURED)
def list_actions(query):
    """Actions the caller may see, newest first; filter by grid (its subtree), state and level (repeat either
    for any of several: `state=dispatched&state=accepted`), category, parent, mine."""
    return respond(call("volunteers", "list_actions", query))


@blp.post("/actions/mass")
@blp.arguments(MassActionSchema)
@blp.response(201, ActionSchema)
@blp.doc(security=SECURED)
def mass_action(data):
    """One command, one check per approved merchant in the grids (e.g. typhoon storefront checks)."""
    action = call("volunteers", "create_mass_action", data)
    return created(action, f"/api/v1/actions/{action['id']}")


@blp.get("/actions/<int:action_id>")
@blp.response(200, ActionSchema)
@blp.doc(security=SECURED)
def get_action(action_id):
    """One action with the verbs the caller may apply now."""
    return respond(call("volunteers", "get_action", action_id))


@blp.get("/actions/<int:action_id>/timeline")
@blp.response(200, TimelinePageSchema)
@blp.doc(security=SECURED)
def action_timeline(action_id):
    """Every change: who, when, what, note; oldest first. Answered whole."""
    return respond(whole(call("volunteers", "action_timeline", action_id)))


@blp.get("/actions/<int:action_id>/suggestions")
@blp.arguments(SuggestionQuerySchema, location="query")
@blp.response(200, SuggestionPageSchema)
@blp.doc(security=SECURED)
def suggestions(query, action_id):
    """Who to ask: eligible volunteers ranked with the reasons of their score, then the others with why not.
    The best `limit` are answered, in one page."""
    return respond(whole(call("volunteers", "suggest_volunteers", action_id, query)))


def _verb(name: str, schema, method: str, description: str, with_body: bool = True):
    """POST /actions/{id}/<name>: each verb hands its validated body to one RPC method."""
    def forward(action_id, data):
        return call("volunteers", method, *((action_id, data) if with_body else (action_id,)))

    return verb(blp, f"/actions/<int:action_id>/{name}", schema, ActionSchema, forward,
                name=f"action_{name.replace('-', '_')}", summary=description,
                responses={409: ILLEGAL, 403: DENIED})


action_dispatch = _verb("dispatch", DispatchSchema, "dispatch_action",
                        "Ask named volunteers, a team, or everyone eligible (broadcast); the first to accept wins.")
action_accept = _verb("accept", NoteSchema, "accept_action", "Take the action (only one volunteer wins).",
                      with_body=False)
action_decline = _verb("decline", DeclineSchema, "decline_action", "Decline an action dispatched to you.")
action_start = _verb("start", NoteSchema, "start_action", "Start work.", with_body=False)
action_tick = _verb("checklist", ChecklistTickSchema, "tick_checklist", "Tick (or untick) a checklist item.")
action_resolve = _verb("resolve", ResolveSchema, "resolve_action", "Write the outcome.")
action_verify = _verb("verify", VerifySchema, "verify_action",
                      "Confirm the outcome (reporter or coordinator): the action closes; optional rating.")
action_reopen = _verb("reopen", ReasonSchema, "reopen_action", "Dispute the outcome, with a reason.")
action_escalate = _verb("escalate", ReasonSchema, "escalate_action", "Move one level up, with a reason.")
action_cancel = _verb("cancel", CancelSchema, "cancel_action", "Cancel the action.")
action_merge = _verb("merge", MergeSchema, "merge_action", "Merge into another action as a duplicate.")


edit_hours = verb(blp, "/actions/<int:action_id>/hours", HoursEditSchema, WorkLogSchema,
                  lambda action_id, data: call("volunteers", "edit_hours", action_id, data),
                  name="edit_hours", summary="Correct the hours logged on an action, with a reason.")


# --------------------------------------------------------------------------------------------------- visits

@blp.post("/visits")
@blp.arguments(VisitRequestSchema)
@blp.response(201, VisitSchema)
@blp.doc(security=SECURED)
def log_visit(data):
    """A grid worker records a visit to a merchant; needs_follow_up reports an action."""
    visit = call("volunteers", "log_visit", data)
    return created(visit, f"/api/v1/visits/{visit['id']}")


@blp.get("/visits")
@blp.arguments(VisitQuerySchema, location="query")
@blp.response(200, VisitPageSchema)
@blp.doc(security=SECURED)
def list_visits(query):
    """Visits in the caller's grids, newest first; `mine`: only the visits you made."""
    return respond(call("volunteers", "list_visits", query))


@blp.get("/visits/overdue")
@blp.arguments(OverdueQuerySchema, location="query")
@blp.response(200, OverdueGridPageSchema)
@blp.doc(security=SECURED)
def overdue_visits(query):
    """Per grid, merchants not visited in the last `days` days (default 30). Answered whole."""
    return respond(whole(call("volunteers", "overdue_visits", query)))

"""RPC entrypoints for grids, teams, volunteers, actions, visits and grid status (thin: validate, delegate)."""
from __future__ import annotations

from services.volunteers import actions, grid_reports, grids, teams, visits
from services.volunteers.contracts import (
    ActionQuerySchema,
    ActionReportSchema,
    AudienceSchema,
    CancelSchema,
    CategoryRequestSchema,
    ChecklistTickSchema,
    DeclineSchema,
    DispatchSchema,
    GridPatchSchema,
    GridReportQuerySchema,
    GridRequestSchema,
    HoursEditSchema,
    InviteSchema,
    MassActionSchema,
    MergeSchema,
    OverdueQuerySchema,
    ReasonSchema,
    ResolveSchema,
    SuggestionQuerySchema,
    TeamQuerySchema,
    TeamRequestSchema,
    VerifySchema,
    VisitQuerySchema,
    VisitRequestSchema,
    VolunteerPatchSchema,
    VolunteerQuerySchema,
    VolunteerRequestSchema,
)
from shared import config
from shared.rpc import load, rpc
from shared.timers import timer


def _id(value) -> int:
    from shared.errors import Invalid

    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("Bad id.", errors={"id": ["a positive integer"]})
    return value


class ActionsEntrypoints:
    # ------------------------------------------------------------------------------------------- grids
    @rpc
    def list_grids(self) -> list[dict]:
        """The grid tree, flat, parents first, each node with its coordinators."""
        return grids.list_grids(self.db, self.caller)

    @rpc
    def get_grid(self, grid_id: int) -> dict:
        return grids.get_grid(self.db, self.caller, _id(grid_id))

    @rpc
    def create_grid(self, data: dict) -> dict:
        """Add a grid node (admin); a node sits below a node of a higher level."""
        return grids.create_grid(self.db, self.caller, load(GridRequestSchema, data))

    @rpc
    def update_grid(self, grid_id: int, data: dict) -> dict:
        """Change a grid's outline (admin, as for creating grids); `{"outline": null}` takes it away."""
        return grids.update_grid(self.db, self.caller, _id(grid_id), load(GridPatchSchema, data))

    @rpc
    def grid_report(self, grid_id: int, query: dict | None = None) -> dict:
        """A grid's (subtree's) period for the console: actions by category and level, time to close,
        escalations, charity items claimed and redeemed, visits (coordinators of the grid or above)."""
        loaded = load(GridReportQuerySchema, query or {})
        return grid_reports.grid_report(self.db, self.caller, _id(grid_id), loaded["from"], loaded["to"])

    @rpc
    def ensure_grid(self, data: dict) -> dict:
        """Create the grid unless one of that name exists under that parent; adds coordinators (admin)."""
        return grids.ensure_grid(self.db, self.caller, load(GridRequestSchema, data))

    @rpc
    def coordinator_scope(self, user_id: int) -> list[int]:
        """Grid ids a person coordinates, subtrees included (the system and admins; anyone for themselves)."""
        return grids.coordinator_scope(self.db, self.caller, _id(user_id))

    @rpc
    def person_standing(self, user_id: int) -> dict:
        """The grids a person belongs to and which of them the calling coordinator's scope covers."""
        return grids.person_standing(self.db, self.caller, _id(user_id))

    @rpc
    def assign_coordinator(self, user_id: int, grid_ids: list[int]) -> list[int]:
        """Make someone the coordinator of exactly these grids (admins; [] takes every grid away)."""
        if not isinstance(grid_ids, list) or not all(isinstance(g, int) and not isinstance(g, bool)
                                                      for g in grid_ids):
            from shared.errors import Invalid

            raise Invalid("Bad grids.", errors={"grids": ["a list of grid ids"]})
        return grids.assign_coordinator(self.db, self.caller, _id(user_id), grid_ids)

    @rpc
    def audience_members(self, audience: dict) -> list[int]:
        """User ids of a team (members and leads) or a grid's subtree (coordinators, volunteers, merchants).

        `{"kind": "grid", "id": 7, "only": "merchants"|"volunteers"|"coordinators"}` narrows a grid
        audience. System and coordinator callers only (a coordinator within their own grids).
        """
        return grids.audience_members(self.db, self.caller, load(AudienceSchema, audience))

    # ------------------------------------------------------------------------------------------- teams
    @rpc
    def list_teams(self, query: dict | None = None) -> list[dict]:
        """Every team with its leads, member count and hours total (`mine`: the caller's teams)."""
        return teams.list_teams(self.db, self.caller, load(TeamQuerySchema, query or {}))

    @rpc
    def get_team(self, team_id: int) -> dict:
        return teams.get_team(self.db, _id(team_id))

    @rpc
    def team_leads(self, team_id: int) -> list[int]:
        """User ids of the team's active leads (a lead may book and act for the team)."""
        return teams.team_leads(self.db, _id(team_id))

    @rpc
    def create_team(self, data: dict) -> dict:
        """A new team (coordinators); named leads become active leads at once."""
        return teams.create_team(self.db, self.emit, self.caller, load(TeamRequestSchema, data))

    @rpc
    def ensure_team(self, data: dict) -> dict:
        """Create the team unless one of that name exists; add its leads (admin; seeds and tests)."""
        return teams.ensure_team(self.db, self.emit, self.caller, load(TeamRequestSchema, data))

    @rpc
    def list_team_members(self, team_id: int) -> list[dict]:
        return teams.list_members(self.db, self.caller, _id(team_id))

    @rpc
    def join_team(self, team_id: int) -> dict:
        """Join an open team, accept an invitation, or ask to join (approval teams); emits team.member_joined."""
        return teams.join(self.db, self.emit, self.caller, _id(team_id))

    @rpc
    def invite_to_team(self, team_id: int, data: dict) -> dict:
        """A lead or coordinator invites a volunteer (who then joins); a pending request becomes a member."""
        return teams.invite(self.db, self.emit, self.caller, _id(team_id), load(InviteSchema, data))

    @rpc
    def approve_member(self, team_id: int, user_id: int) -> dict:
        """A lead or coordinator approves a pending request to join."""
        return teams.approve(self.db, self.emit, self.caller, _id(team_id), _id(user_id))

    # -------------------------------------------------------------------------------------- volunteers
    @rpc
    def create_volunteer(self, data: dict) -> dict:
        """The caller's volunteer profile (409 when it exists)."""
        return teams.create_profile(self.db, self.caller, load(VolunteerRequestSchema, data))

    @rpc
    def ensure_volunteer(self, user_id: int, data: dict) -> dict:
        """Create or replace a volunteer's profile (admin; seeds and tests)."""
        return teams.ensure_profile(self.db, self.caller, _id(user_id), load(VolunteerRequestSchema, data))

    @rpc
    def get_volunteer(self, user_id: int | None = None) -> dict:
        """A profile with teams, open actions and hours: the caller's own, or anyone's for coordinators."""
        return teams.get_profile(self.db, self.caller, _id(user_id) if user_id is not None else None)

    @rpc
    def update_volunteer(self, data: dict) -> dict:
        return teams.update_profile(self.db, self.caller, load(VolunteerPatchSchema, data))

    @rpc
    def list_volunteers(self, query: dict | None = None) -> dict:
        """Volunteers (coordinators), filterable by grid subtree, team and skill; paginated."""
        return teams.list_volunteers(self.db, self.caller, load(VolunteerQuerySchema, query or {}))

    # ---------------------------------------------------------------------------------------- actions
    @rpc
    def ensure_category(self, data: dict) -> dict:
        """Create or update an action category and its time limits per level (admin)."""
        return actions.ensure_category(self.db, self.caller, load(CategoryRequestSchema, data))

    @rpc
    def list_categories(self) -> list[dict]:
        return actions.list_categories(self.db)

    @rpc
    def report_action(self, data: dict) -> dict:
        """Report a problem in a grid; emits action.reported to the grid's coordinators."""
        return actions.report(self.db, self.emit, self.caller, load(ActionReportSchema, data))

    @rpc
    def get_action(self, action_id: int) -> dict:
        """One action with the verbs the caller may apply now (and progress counts for a mass action)."""
        return actions.get_action(self.db, self.caller, _id(action_id))

    @rpc
    def list_actions(self, query: dict | None = None) -> dict:
        """Actions the caller may see, newest first, filterable by grid subtree, states, levels, category, mine."""
        query = dict(query or {})
        for field in ("state", "level"):  # one value alone stands for a list of one
            if field in query and not isinstance(query[field], list):
                query[field] = [query[field]]
        return actions.list_actions(self.db, self.caller, load(ActionQuerySchema, query))

    @rpc
    def action_timeline(self, action_id: int) -> list[dict]:
        """Every change of the action: who, when, what, note."""
        return actions.timeline(self.db, self.caller, _id(action_id))

    @rpc
    def suggest_volunteers(self, action_id: int, query: dict | None = None) -> list[dict]:
        """Ranked volunteers with the reasons of their score, then the filtered-out ones with why."""
        return actions.suggestions(self.db, self.caller, _id(action_id),
                                   load(SuggestionQuerySchema, query or {})["limit"])

    @rpc
    def dispatch_action(self, action_id: int, data: dict) -> dict:
        """Ask named volunteers, a team, or everyone eligible; a coordinator of the action's grid only."""
        return actions.dispatch_action(self.db, self.emit, self.caller, _id(action_id), load(DispatchSchema, data))

    @rpc
    def accept_action(self, action_id: int) -> dict:
        """The first asked volunteer to accept takes the action; the others get 409."""
        return actions.accept(self.db, self.emit, self.caller, _id(action_id))

    @rpc
    def decline_action(self, action_id: int, data: dict | None = None) -> dict:
        """Decline; when nobody asked is left, the action returns to the coordinators (triaged)."""
        return actions.decline(self.db, self.emit, self.caller, _id(action_id),
                               load(DeclineSchema, data or {})["reason"])

    @rpc
    def start_action(self, action_id: int) -> dict:
        return actions.start(self.db, self.caller, _id(action_id))

    @rpc
    def tick_checklist(self, action_id: int, data: dict) -> dict:
        return actions.tick(self.db, self.caller, _id(action_id), load(ChecklistTickSchema, data))

    @rpc
    def resolve_action(self, action_id: int, data: dict) -> dict:
        """The resolver writes the outcome; hours from accept to now are logged."""
        return actions.resolve(self.db, self.emit, self.caller, _id(action_id), load(ResolveSchema, data)["outcome"])

    @rpc
    def verify_action(self, action_id: int, data: dict | None = None) -> dict:
        """The reporter or a coordinator confirms: verified then closed; the reporter may rate 1..5."""
        return actions.verify(self.db, self.emit, self.caller, _id(action_id), load(VerifySchema, data or {}))

    @rpc
    def reopen_action(self, action_id: int, data: dict) -> dict:
        """The reporter or a coordinator disputes the outcome, with a reason."""
        return actions.reopen(self.db, self.emit, self.caller, _id(action_id), load(ReasonSchema, data)["reason"])

    @rpc
    def escalate_action(self, action_id: int, data: dict) -> dict:
        """A coordinator moves the action one level up, with a reason; emits action.escalated."""
        return actions.escalate(self.db, self.emit, self.caller, _id(action_id), load(ReasonSchema, data)["reason"])

    @rpc
    def cancel_action(self, action_id: int, data: dict | None = None) -> dict:
        return actions.cancel(self.db, self.emit, self.caller, _id(action_id), load(CancelSchema, data or {})["reason"])

    @rpc
    def merge_action(self, action_id: int, data: dict) -> dict:
        """Mark the action a duplicate of another; its reporter follows the survivor."""
        data = load(MergeSchema, data)
        return actions.merge(self.db, self.emit, self.caller, _id(action_id), data["survivor_id"], data["note"])

    @rpc
    def edit_hours(self, action_id: int, data: dict) -> dict:
        """Correct logged hours with a reason."""
        return actions.edit_hours(self.db, self.caller, _id(action_id), load(HoursEditSchema, data))

    @rpc
    def create_mass_action(self, data: dict) -> dict:
        """One check per approved merchant in the grids, each with the checklist; the parent counts progress."""
        return actions.create_mass_action(self.db, self.emit, self.caller, load(MassActionSchema, data))

    @timer(interval=config.env_float("NUANXIN_ESCALATION_INTERVAL", 30.0))
    def escalate_overdue(self):
        """Escalate actions whose time limit passed, once each even with several replicas."""
        actions.escalate_overdue(self.db, self.emit)

    # ----------------------------------------------------------------------------------------- visits
    @rpc
    def log_visit(self, data: dict) -> dict:
        """A grid worker records a visit; needs_follow_up reports an action for the merchant."""
        return visits.log_visit(self.db, self.emit, self.caller, load(VisitRequestSchema, data))

    @rpc
    def list_visits(self, query: dict | None = None) -> dict:
        return visits.list_visits(self.db, self.caller, load(VisitQuerySchema, query or {}))

    @rpc
    def overdue_visits(self, query: dict | None = None) -> list[dict]:
        """Per grid, approved merchants not visited in `days` (default 30) days."""
        return visits.overdue_visits(self.db, self.caller, load(OverdueQuerySchema, query or {}))

    @rpc
    def grid_status(self) -> list[dict]:
        """Per grid: open, overdue and escalated actions and its colour (green/yellow/red)."""
        return visits.grid_status(self.db, self.caller)

"""Events of the volunteers service: actions (the three whistles) and teams."""
from marshmallow import Schema, fields

from shared.events import register


class ActionPayload(Schema):
    action_id = fields.Integer(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True)
    # The category's label for people (店招松动); the key above is for programs.
    category_label = fields.String(load_default="")
    grid_id = fields.Integer(required=True)
    grid_name = fields.String(load_default="")
    level = fields.Integer(required=True)
    # The grid whose coordinators handle the action at its level (the grid it rose to when escalated).
    level_grid_name = fields.String(load_default="")
    state = fields.String(required=True)
    reporter_id = fields.Integer(allow_none=True, load_default=None)
    # Who is asked to act: dispatched candidates, or the one who accepted.
    assignee_ids = fields.List(fields.Integer(), load_default=list)
    team_id = fields.Integer(allow_none=True, load_default=None)
    # Coordinators of the grid level currently responsible.
    coordinator_ids = fields.List(fields.Integer(), load_default=list)
    # Coordinators of the levels the action passed through on its way up (they keep hearing of it).
    earlier_coordinator_ids = fields.List(fields.Integer(), load_default=list)
    # Candidates no longer asked: someone else accepted, or the action was dispatched elsewhere.
    released_ids = fields.List(fields.Integer(), load_default=list)
    # Everyone following the action (reporters of merged duplicates included).
    follower_ids = fields.List(fields.Integer(), load_default=list)
    actor_id = fields.Integer(allow_none=True, load_default=None)
    # The actor's display name as it was when they acted ("" for the system).
    actor_name = fields.String(load_default="")
    note = fields.String(load_default="")
    # The next time limit (to be accepted or resolved at the current level), so reminders can be scheduled.
    deadline_at = fields.AwareDateTime(allow_none=True, load_default=None)
    deadline_kind = fields.String(allow_none=True, load_default=None)  # accept | resolve
    # A check created by a mass action points at its parent; checks and visits name the merchant.
    parent_id = fields.Integer(allow_none=True, load_default=None)
    merchant_id = fields.Integer(allow_none=True, load_default=None)
    kind = fields.String(load_default="single")  # single | mass
    # A check's mass action: its title, who ordered it, and how far its checks are.
    parent_title = fields.String(load_default="")
    parent_reporter_id = fields.Integer(allow_none=True, load_default=None)
    progress = fields.Dict(load_default=dict)


class ActionEscalatedPayload(ActionPayload):
    from_level = fields.Integer(required=True)
    to_level = fields.Integer(required=True)
    reason = fields.String(required=True)
    automatic = fields.Boolean(load_default=False)


class ActionMergedPayload(ActionPayload):
    # The case the duplicate now follows, named for the people who reported or followed the duplicate.
    survivor_id = fields.Integer(required=True)
    survivor_title = fields.String(required=True)


class TeamMemberJoinedPayload(Schema):
    team_id = fields.Integer(required=True)
    team_name = fields.String(required=True)
    user_id = fields.Integer(required=True)
    lead_ids = fields.List(fields.Integer(), load_default=list)


class TeamInvitationPayload(Schema):
    team_id = fields.Integer(required=True)
    team_name = fields.String(required=True)
    user_id = fields.Integer(required=True)
    role = fields.String(load_default="member")
    invited_by = fields.Integer(allow_none=True, load_default=None)
    invited_by_name = fields.String(load_default="")


register("action.reported", "volunteers", ActionPayload, description="A problem was reported.")
register("action.dispatched", "volunteers", ActionPayload, description="An action was dispatched.")
register("action.accepted", "volunteers", ActionPayload, description="A volunteer accepted an action.")
register("action.declined", "volunteers", ActionPayload, description="A volunteer declined an action.")
register("action.escalated", "volunteers", ActionEscalatedPayload,
         description="An action moved one level up (automatically or by hand).")
register("action.resolved", "volunteers", ActionPayload, description="The resolver wrote the outcome.")
register("action.closed", "volunteers", ActionPayload, description="The outcome was verified; closed.")
register("action.reopened", "volunteers", ActionPayload, description="The outcome was disputed.")
register("action.cancelled", "volunteers", ActionPayload,
         description="An action was called off; whoever was still asked to take it is released.")
register("action.merged", "volunteers", ActionMergedPayload,
         description="An action was merged into another as its duplicate; whoever was asked is released.")
register("team.member_joined", "volunteers", TeamMemberJoinedPayload, description="Someone joined a team.")
register("team.member_invited", "volunteers", TeamInvitationPayload,
         description="Someone was invited to a team; joining accepts.")

"""Activities: classes, walking lessons, contests, parties…; their sessions (rooms booked in bookings), sign-ups
with a waitlist, check-in and reports."""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from services.activities.contracts import (
    ActivityCancelSchema,
    ActivityDetailSchema,
    ActivityPageSchema,
    ActivityQuerySchema,
    ActivityReportQuerySchema,
    ActivityReportSchema,
    ActivityRequestSchema,
    ActivityUpdateSchema,
    AttendanceListSchema,
    AttendanceSchema,
    CheckInRequestSchema,
    HelperPageSchema,
    HelperRequestSchema,
    SessionCodeSchema,
    SessionMoveSchema,
    SessionPageSchema,
    SessionRequestSchema,
    SessionSchema,
    SignUpPageSchema,
    SignUpQuerySchema,
    SignUpRequestSchema,
    SignUpSchema,
    TicketSchema,
    WalkInsRequestSchema,
    WalkInsSchema,
    report_rows,
)
from services.gateway.api import (
    SECURED,
    call,
    created,
    csv_answer,
    etag,
    if_match_version,
    respond,
    verb,
    wants_csv,
)

blp = Blueprint("activities", __name__, description="Activities, their sessions, sign-ups and waitlist, "
                                                    "check-in and reports")

ORGANISERS = "Only the activity's organisers (its creator, the organising team's leads), coordinators and admins"
ROOM_TAKEN = "The room is taken at some of the sessions' times (each one is listed in `conflicts`): nothing added"
NO_BOOKINGS = "The bookings service did not answer: nothing added (a room it may have booked is given back)"


def _activity(activity: dict, status: int = 200) -> Response:
    return respond(activity, status, {"ETag": etag(activity["version"])})


# --------------------------------------------------------------------------- activities


@blp.get("/activities")
@blp.arguments(ActivityQuerySchema, location="query")
@blp.response(200, ActivityPageSchema)
@blp.doc(security=SECURED)
def list_activities(query):
    """Activities, newest first: by kind, site, state, a period with a session in it (`to` after `from`, else
    422 naming `to`), those you may sign up for (`eligible=true`) or organise (`mine=true`)."""
    return respond(call("activities", "list_activities", query))


@blp.post("/activities")
@blp.arguments(ActivityRequestSchema)
@blp.response(201, ActivityDetailSchema)
@blp.alt_response(403, description="Coordinators, space managers, admins and the organising team's leads create")
@blp.alt_response(409, description=ROOM_TAKEN)
@blp.alt_response(503, description=NO_BOOKINGS)
@blp.doc(security=SECURED)
def create_activity(data):
    """Create an activity with its route and first sessions (one-off or a series by `rrule`, at a space or a
    place in words).

    Each a 422 naming its field: capacity at least 1, a session ending after it starts, the sign-up window
    closing after it opens and opening before the last session (closing by its start), a route with at least
    one stop, organiser_team_id an existing team, space_id an existing space, a space's rules (as bookings)."""
    activity = call("activities", "create_activity", data)
    response = created(activity, f"/api/v1/activities/{activity['id']}")
    response.headers["ETag"] = etag(activity["version"])
    return response


@blp.get("/activities/<int:activity_id>")
@blp.response(200, ActivityDetailSchema)
@blp.alt_response(404, description="No such activity")
@blp.doc(security=SECURED)
def get_activity(activity_id):
    """One activity with its sessions, route, your sign-up, places left and the waitlist's length (ETag)."""
    return _activity(call("activities", "get_activity", activity_id))


@blp.patch("/activities/<int:activity_id>")
@blp.arguments(ActivityUpdateSchema)
@blp.response(200, ActivityDetailSchema)
@blp.alt_response(403, description=ORGANISERS)
@blp.alt_response(412, description="If-Match names an older version")
@blp.doc(security=SECURED)
def update_activity(data, activity_id):
    """Change texts, capacity (not below the places taken: 422), the window, limits, eligibility or the route
    (send If-Match with the ETag you read). Places freed by a larger capacity go to the waitlist."""
    return _activity(call("activities", "update_activity", activity_id, data, expected_version=if_match_version()))


cancel_activity = verb(
    blp, "/activities/<int:activity_id>/cancel", ActivityCancelSchema, ActivityDetailSchema,
    lambda activity_id, data: call("activities", "cancel_activity", activity_id, data), name="cancel_activity",
    summary="Cancel the activity: its sessions are cancelled, rooms given back, sign-ups cancelled and "
            "participants told.", responses={403: ORGANISERS, 409: "The activity is not open"}, finish=_activity)


@blp.get("/activities/<int:activity_id>/sessions")
@blp.response(200, SessionPageSchema)
@blp.doc(security=SECURED)
def list_sessions(activity_id):
    """The activity's sessions in time order (answered whole)."""
    return respond(call("activities", "list_sessions", activity_id))


@blp.post("/activities/<int:activity_id>/sessions")
@blp.arguments(SessionRequestSchema)
@blp.response(201, SessionPageSchema)
@blp.alt_response(403, description=ORGANISERS)
@blp.alt_response(409, description=ROOM_TAKEN)
@blp.alt_response(503, description=NO_BOOKINGS)
@blp.doc(security=SECURED)
def add_sessions(data, activity_id):
    """Add a session or a series (`rrule`, repeating in the room's wall-clock time); with `space_id` the room is
    booked in bookings, as you, for every session.

    Each a 422 naming its field: ends_at after starts_at, timezone an IANA name, rrule and exdates, space_id an
    existing space and its rules, the sign-up window still opening before the last session."""
    return respond(call("activities", "add_sessions", activity_id, data), 201)


@blp.patch("/activity-sessions/<int:session_id>")
@blp.arguments(SessionMoveSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(403, description=ORGANISERS)
@blp.alt_response(409, description=ROOM_TAKEN + " (the session stays as it was)")
@blp.alt_response(503, description=NO_BOOKINGS)
@blp.doc(security=SECURED)
def move_session(data, session_id):
    """Move a session: the room for the new time (default: the same space) is booked first, then the old one is
    given back; participants are told."""
    return respond(call("activities", "move_session", session_id, data))


cancel_session = verb(
    blp, "/activity-sessions/<int:session_id>/cancel", ActivityCancelSchema, SessionSchema,
    lambda session_id, data: call("activities", "cancel_session", session_id, data), name="cancel_session",
    summary="Cancel one session: its room is given back, participants told.",
    responses={403: ORGANISERS, 409: "The session is not scheduled"})


# --------------------------------------------------------------------------- sign-ups


@blp.post("/activities/<int:activity_id>/signups")
@blp.arguments(SignUpRequestSchema)
@blp.response(201, SignUpSchema)
@blp.alt_response(403, description="The activity is for other groups or roles")
@blp.alt_response(409, description="Full (ask to `wait`), outside the sign-up window, not open, or you (or your "
                                   "household) have signed up already")
@blp.doc(security=SECURED)
def sign_up(data, activity_id):
    """Sign up for `places` (at most the activity's max per person, else 422): confirmed while places are free,
    never more than the capacity; else, with `wait=true`, on the waitlist. `household` is needed (422) when the
    activity takes one sign-up per household."""
    signup = call("activities", "sign_up", activity_id, data)
    return created(signup, f"/api/v1/activity-signups/{signup['id']}")


@blp.get("/activities/<int:activity_id>/signups")
@blp.arguments(SignUpQuerySchema, location="query")
@blp.response(200, SignUpPageSchema)
@blp.alt_response(403, description=ORGANISERS)
@blp.doc(security=SECURED)
def list_signups(query, activity_id):
    """Everyone's sign-ups of the activity, in line order."""
    return respond(call("activities", "list_signups", activity_id, query))


@blp.get("/me/activity-signups")
@blp.arguments(SignUpQuerySchema, location="query")
@blp.response(200, SignUpPageSchema)
@blp.doc(security=SECURED)
def my_signups(query):
    """Your sign-ups, newest first, with each activity's title, first session and your cancel deadline."""
    return respond(call("activities", "my_signups", query))


@blp.post("/activity-signups/<int:signup_id>/cancel")
@blp.response(200, SignUpSchema)
@blp.alt_response(404, description="No such sign-up, or someone else's")
@blp.alt_response(409, description="Past the cancel deadline, or cancelled already")
@blp.doc(security=SECURED)
def cancel_signup(signup_id):
    """Cancel your sign-up until the deadline (organisers any time); its places go to the next in line."""
    return respond(call("activities", "cancel_signup", signup_id))


@blp.post("/activity-signups/<int:signup_id>/confirm")
@blp.response(200, SignUpSchema)
@blp.alt_response(409, description="Not offered, or the hold lapsed")
@blp.doc(security=SECURED)
def confirm_offer(signup_id):
    """Take the places held for you from the waitlist, before `hold_until`."""
    return respond(call("activities", "confirm_offer", signup_id))


# =========================================================================== attendance and reports
# Check-in, attendance, helpers, walk-ins and reports: their endpoints below.


@blp.get("/activity-sessions/<int:session_id>/code")
@blp.response(200, SessionCodeSchema)
@blp.alt_response(403, description="Not an organiser of the activity")
@blp.alt_response(409, description="The session is cancelled")
@blp.doc(security=SECURED)
def session_code(session_id):
    """The session's check-in code now (organisers): six digits that change every `period_seconds`; show it
    as a QR code and fetch the next before `expires_at` (a code is still taken one period after it)."""
    return respond(call("activities", "session_code", session_id))


@blp.get("/activity-signups/<int:signup_id>/ticket")
@blp.response(200, TicketSchema)
@blp.alt_response(404, description="No such sign-up of yours")
@blp.alt_response(409, description="The sign-up holds no confirmed place")
@blp.doc(security=SECURED)
def signup_ticket(signup_id):
    """Your ticket for a confirmed sign-up: a signed token for an organiser to scan at check-in."""
    return respond(call("activities", "ticket", signup_id))


check_in_session = verb(
    blp, "/activity-sessions/<int:session_id>/check-in", CheckInRequestSchema, AttendanceSchema,
    lambda session_id, data: call("activities", "check_in", session_id, data), name="check_in_session",
    summary="Check in (签到) or out (签退, `direction`: out): yourself with the session's `code`, or — organisers — "
            "a participant's `ticket` or a `user_id`. Recorded once: a repeat answers the record already there "
            "(`recorded` false). A helper's check-out credits their hours. A code older than one period and "
            "its grace is 422 on `code` \"expired\".",
    responses={403: "Checking in someone else without organising the activity, or without a place",
               409: "The session is cancelled, check-in is not open, or (out) not checked in"})


@blp.get("/activity-sessions/<int:session_id>/attendance")
@blp.response(200, AttendanceListSchema)
@blp.alt_response(403, description="Not an organiser of the activity")
@blp.doc(security=SECURED)
def session_attendance(session_id):
    """Who is expected at a session and who came (organisers): participants with a confirmed place and the
    session's helpers, in and out, no-shows once it has ended; with walk-ins and visits. Answered whole."""
    return respond(call("activities", "attendance", session_id))


@blp.get("/activity-sessions/<int:session_id>/helpers")
@blp.response(200, HelperPageSchema)
@blp.alt_response(403, description="Not an organiser of the activity")
@blp.doc(security=SECURED)
def session_helpers(session_id):
    """The volunteers who help run the session (organisers). Answered whole."""
    return respond(call("activities", "list_helpers", session_id))


@blp.post("/activity-sessions/<int:session_id>/helpers")
@blp.arguments(HelperRequestSchema)
@blp.response(200, HelperPageSchema)
@blp.alt_response(403, description="Not an organiser of the activity")
@blp.doc(security=SECURED)
def add_session_helper(data, session_id):
    """Name a volunteer who helps run the session (organisers); their check-out credits their hours. Naming
    them again changes nothing. Answers the session's helpers."""
    return respond(call("activities", "add_helper", session_id, data))


@blp.delete("/activity-sessions/<int:session_id>/helpers/<int:user_id>")
@blp.response(200, HelperPageSchema)
@blp.alt_response(403, description="Not an organiser of the activity")
@blp.alt_response(409, description="The helper has checked in already")
@blp.doc(security=SECURED)
def remove_session_helper(session_id, user_id):
    """Take a helper off the session before they checked in (organisers). Answers the session's helpers."""
    return respond(call("activities", "remove_helper", session_id, user_id))


set_walk_ins = verb(
    blp, "/activity-sessions/<int:session_id>/walk-ins", WalkInsRequestSchema, WalkInsSchema,
    lambda session_id, data: call("activities", "set_walk_ins", session_id, data), name="set_walk_ins",
    summary="How many came without a sign-up, as an organiser counted them (a new count replaces the last); "
            "they count as visits.",
    responses={403: "Not an organiser of the activity", 409: "The session is cancelled"})


@blp.get("/activities/reports")
@blp.arguments(ActivityReportQuerySchema, location="query")
@blp.response(200, ActivityReportSchema)
@blp.doc(security=SECURED, responses={"200": {"description": "The report; as CSV when asked", "content": {
    "application/json": {"schema": ActivityReportSchema}, "text/csv": {"schema": {"type": "string"}}}}})
def activities_report(query):
    """Activities per site over the days `from`..`to` in your time zone (coordinators, space managers,
    admins): activities held, sessions held, sign-ups, attendance rate, no-shows, volunteer hours and visits
    (check-ins and walk-ins), and the totals. `site_id`: one site. As CSV (a row per site, then the totals)
    with `?format=csv` or `Accept: text/csv`."""
    report = call("activities", "report", query)
    if not wants_csv():
        return respond(report)
    site = f"site-{report['site_id']}-" if report["site_id"] else ""
    return csv_answer(report_rows(report),
                      f"activities-{site}{report['period']['from']}-{report['period']['to']}.csv")

"""Entrypoints of the activities service (thin: validate, authorise via the caller, delegate)."""
from __future__ import annotations

from datetime import timedelta

from services.activities import activities, attendance, reports, rooms, sessions, signups, venue
from services.activities.contracts import (
    ActivityCancelSchema,
    ActivityQuerySchema,
    ActivityReportQuerySchema,
    ActivityRequestSchema,
    ActivityUpdateSchema,
    CheckInRequestSchema,
    HelperRequestSchema,
    SessionMoveSchema,
    SessionRequestSchema,
    SignUpQuerySchema,
    SignUpRequestSchema,
    WalkInsRequestSchema,
)
from services.activities.models import infra
from services.activities.venue import Bookings
from shared.config import env_float, rpc_timeout
from shared.inbox import consumes
from shared.remote import ServiceRpc
from shared.rpc import load, rpc
from shared.service import ServiceBase
from shared.timers import timer

# How often the timers look for due work (seconds); tests shorten it.
TIMER_SECONDS = env_float("ACTIVITIES_TIMER_SECONDS", 15)
# How long activities waits for the bookings service (seconds; NUANXIN_RPC_TIMEOUT by default).
BOOKINGS_TIMEOUT = env_float("ACTIVITIES_RPC_TIMEOUT", 0) or rpc_timeout()
# A hold still `booking` after this long was left by a process that died between asking and recording.
STUCK_AFTER = timedelta(seconds=3 * BOOKINGS_TIMEOUT)
# A room not given back yet is asked again this long after the last try.
RELEASE_RETRY = timedelta(seconds=env_float("ACTIVITIES_RELEASE_RETRY_SECONDS", BOOKINGS_TIMEOUT))
# Participants are reminded this long before each session.
REMINDER_LEAD = timedelta(hours=env_float("ACTIVITIES_REMINDER_HOURS", 24))


class ActivitiesService(ServiceBase, infra=infra):
    name = "activities"

    bookings = ServiceRpc("bookings", timeout=BOOKINGS_TIMEOUT)
    bookings_system = ServiceRpc("bookings", as_system=True, timeout=BOOKINGS_TIMEOUT)
    volunteers = ServiceRpc("volunteers")
    # The organiser is authorised here; a helper's profile is then read as the system.
    volunteers_system = ServiceRpc("volunteers", as_system=True)

    def _bookings(self) -> Bookings:
        """The bookings service as the venue saga asks it: rooms as the caller, giving back as the system."""
        return Bookings(
            space=lambda space_id: self.bookings.call("get_space", space_id),
            site=lambda site_id: self.bookings.call("get_site", site_id),
            # Each attempt of a retried request books with a reference of its own (venue.py): a new request to
            # bookings, not a repeat answered with the first attempt's booking.
            book=lambda request: self.bookings.keyed(request["reference"]).call("create_booking", request),
            release=lambda reference: self.bookings_system.call("release_reference", reference),
            cancel_occurrence=lambda booking_id, occurrence_id, reason: self.bookings_system.call(
                "cancel_booking", booking_id, {"scope": "occurrence", "occurrence_id": occurrence_id,
                                               "reason": reason}),
        )

    def _team_leads(self, team_id: int) -> list[int]:
        return list(self.volunteers.call("team_leads", team_id))

    def _request_key(self) -> str | None:
        """The request's idempotency key (shared/idempotency.py), for the saga's own once-only record."""
        return getattr(self.request_log, "key", None)

    # -- activities ------------------------------------------------------------------------------------------
    # The saga's steps commit on their own (once=False): its record of a hold, and of a failure, must outlive
    # the request. They take effect once by the request's key all the same: the activity records it
    # (request_key), a hold's reference is made from it (venue.py).
    @rpc(once=False)
    def create_activity(self, request: dict) -> dict:
        """Create an activity with its route and first sessions (rooms booked as the caller; 409 with the
        conflicts and nothing left when one is taken, 503 when bookings does not answer)."""
        return activities.create_activity(self.db, self.caller, load(ActivityRequestSchema, request),
                                          team_leads=self._team_leads, bookings=self._bookings(),
                                          request_key=self._request_key())

    @rpc
    def list_activities(self, query: dict | None = None) -> dict:
        """Activities, newest first, filtered by kind, site, state, period, eligibility, organiser."""
        return activities.list_activities(self.db, self.caller, load(ActivityQuerySchema, query or {}))

    @rpc
    def get_activity(self, activity_id: int) -> dict:
        """One activity with its sessions, route, the caller's sign-up, places left and waitlist length."""
        return activities.get_activity(self.db, self.caller, activity_id)

    @rpc
    def update_activity(self, activity_id: int, request: dict, expected_version: int | None = None) -> dict:
        """Change an activity (organisers); a stale expected_version is 412."""
        return activities.update_activity(self.db, self.emit, self.caller, activity_id,
                                          load(ActivityUpdateSchema, request), expected_version)

    @rpc
    def cancel_activity(self, activity_id: int, request: dict | None = None) -> dict:
        """Cancel an activity: sessions cancelled, rooms given back, sign-ups cancelled, participants told."""
        return activities.cancel_activity(self.db, self.emit, self.caller, activity_id,
                                          load(ActivityCancelSchema, request or {}))

    # -- sessions --------------------------------------------------------------------------------------------
    @rpc(once=False)
    def add_sessions(self, activity_id: int, request: dict) -> dict:
        """Add a session or a series (its room booked through the venue saga)."""
        data = load(SessionRequestSchema, request)

        def add():
            return sessions.add_sessions(self.db, self.caller, activity_id, data, self._bookings(),
                                         self._request_key())

        if data.get("space_id") is None:  # no room, no saga: one transaction, the usual exactly-once record
            return self.request_log.run("add_sessions", add)
        return add()

    @rpc
    def list_sessions(self, activity_id: int) -> dict:
        """The activity's sessions in time order."""
        return sessions.sessions_of(self.db, self.caller, activity_id)

    @rpc(once=False)
    def move_session(self, session_id: int, request: dict) -> dict:
        """Move a session: the new time's room booked first, the old given back; participants told."""
        return sessions.move_session(self.db, self.emit, self.caller, session_id, load(SessionMoveSchema, request),
                                     self._bookings(), self._request_key())

    @rpc
    def cancel_session(self, session_id: int, request: dict | None = None) -> dict:
        """Cancel one session: its room given back, participants told."""
        return sessions.cancel_session(self.db, self.emit, self.caller, session_id, load(ActivityCancelSchema, request or {}))

    # -- sign-ups --------------------------------------------------------------------------------------------
    @rpc
    def sign_up(self, activity_id: int, request: dict) -> dict:
        """Sign up: confirmed while places are free (never more than the capacity), else the waitlist."""
        return signups.sign_up(self.db, self.emit, self.caller, activity_id, load(SignUpRequestSchema, request))

    @rpc
    def list_signups(self, activity_id: int, query: dict | None = None) -> dict:
        """Everyone's sign-ups of an activity (organisers)."""
        return signups.list_signups(self.db, self.caller, activity_id, load(SignUpQuerySchema, query or {}))

    @rpc
    def my_signups(self, query: dict | None = None) -> dict:
        """The caller's sign-ups."""
        return signups.my_signups(self.db, self.caller, load(SignUpQuerySchema, query or {}))

    @rpc
    def cancel_signup(self, signup_id: int) -> dict:
        """Cancel a sign-up (the participant before the deadline, organisers any time)."""
        return signups.cancel_signup(self.db, self.emit, self.caller, signup_id)

    @rpc
    def confirm_offer(self, signup_id: int) -> dict:
        """Take the places held for you from the waitlist, before the hold lapses."""
        return signups.confirm_offer(self.db, self.emit, self.caller, signup_id)

    # -- bookings' events of the rooms sessions hold (each applied once: the inbox) ---------------------------
    @consumes("bookings", "booking.confirmed", when=rooms.held_by_sessions)
    def on_booking_confirmed(self, session, event):
        """A manager approved a room: its sessions awaiting approval hold it."""
        rooms.confirmed(session, event["payload"])

    @consumes("bookings", "booking.rejected", when=rooms.held_by_sessions)
    def on_booking_rejected(self, session, event):
        """A manager rejected a room: its sessions lost it; the organisers are told."""
        rooms.lost(session, self.emit, event["type"], event["payload"])

    @consumes("bookings", "booking.expired", when=rooms.held_by_sessions)
    def on_booking_expired(self, session, event):
        """A room was not approved in time: its sessions lost it; the organisers are told."""
        rooms.lost(session, self.emit, event["type"], event["payload"])

    @consumes("bookings", "booking.cancelled", when=rooms.held_by_sessions)
    def on_booking_cancelled(self, session, event):
        """Occurrences were cancelled in bookings: sessions that held them lost their room, unless activities
        gave it back itself (the session cancelled or moved)."""
        rooms.lost(session, self.emit, event["type"], event["payload"])

    @consumes("bookings", "booking.released", when=rooms.held_by_sessions)
    def on_booking_released(self, session, event):
        """Nobody checked in to a room: the session lost it; the organisers are told."""
        rooms.lost(session, self.emit, event["type"], event["payload"])

    # -- timers (each item claimed once across replicas) -----------------------------------------------------
    @timer(interval=TIMER_SECONDS)
    def give_back_rooms(self):
        """The venue saga's compensation: holds releasing, or stuck asking, are given back in bookings."""
        venue.compensate(self.db, self._bookings(), stuck_after=STUCK_AFTER, lease=RELEASE_RETRY)

    @timer(interval=TIMER_SECONDS)
    def lapse_offers(self):
        signups.lapse_offers(self.db, self.emit)

    @timer(interval=TIMER_SECONDS)
    def send_reminders(self):
        sessions.send_reminders(self.db, self.emit, REMINDER_LEAD)

    # ======================================================================================================
    # Check-in, attendance, helpers, walk-ins and reports (attendance.py, reports.py): their RPCs below.

    @rpc
    def session_code(self, session_id: int) -> dict:
        """The session's rotating check-in code now (organisers)."""
        return attendance.session_code(self.db, self.caller, session_id)

    @rpc
    def ticket(self, signup_id: int) -> dict:
        """The participant's signed ticket for a confirmed sign-up."""
        return attendance.ticket(self.db, self.caller, signup_id)

    @rpc
    def check_in(self, session_id: int, request: dict) -> dict:
        """Check in or out by code (yourself), ticket or user id (organisers); recorded once."""
        return attendance.check_in(self.db, self.emit, self.caller, session_id, load(CheckInRequestSchema, request))

    @rpc
    def attendance(self, session_id: int) -> dict:
        """A session's attendance list (organisers)."""
        return attendance.attendance(self.db, self.caller, session_id)

    @rpc
    def list_helpers(self, session_id: int) -> dict:
        return attendance.list_helpers(self.db, self.caller, session_id)

    @rpc
    def add_helper(self, session_id: int, request: dict) -> dict:
        return attendance.add_helper(self.db, self.caller, session_id, load(HelperRequestSchema, request),
                                     lambda user_id: self.volunteers_system.call("get_volunteer", user_id))

    @rpc
    def remove_helper(self, session_id: int, user_id: int) -> dict:
        return attendance.remove_helper(self.db, self.caller, session_id, user_id)

    @rpc
    def set_walk_ins(self, session_id: int, request: dict) -> dict:
        return attendance.set_walk_ins(self.db, self.caller, session_id, load(WalkInsRequestSchema, request))

    @rpc
    def report(self, query: dict) -> dict:
        """Activities per site over a period (coordinators, space managers, admins)."""
        return reports.report(self.db, self.caller, load(ActivityReportQuerySchema, query))

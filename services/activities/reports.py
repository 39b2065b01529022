"""The activities report per site over a period: activities held, sessions, sign-ups, attendance rate,
no-shows, volunteer hours and visits (check-ins and walk-ins; a centre's "visits since February" figure).

Counted over the days `from`..`to` in the caller's time zone. A session counts when it was *held*: it
started in the period, has ended, was not cancelled and its room (if any) was held. Expected participants
are the confirmed sign-ups of each held session's activity (one per sign-up, for every session of it);
those of them who checked in attended, the rest are no-shows. The gateway also renders it as CSV.
"""
from __future__ import annotations

from sqlalchemy import and_, func, select

from services.activities.access import shown
from services.activities.contracts import ActivityReportSchema
from services.activities.models import Activity, ActivitySession, Attendance, HoursCredit, SignUp
from shared.db import Database, utcnow
from shared.identity import Caller
from shared.periods import bounds, zone

REPORT_ROLES = ("coordinator", "space_manager")  # and admins

FIGURES = ("activities_held", "sessions", "signups", "expected", "attended", "no_shows", "check_ins",
           "helpers_in", "walk_ins", "visits", "volunteer_minutes")


def _rate(attended: int, expected: int) -> float | None:
    return round(attended / expected, 4) if expected else None


def _finish(figures: dict) -> dict:
    """The derived figures: rate, hours and visits."""
    figures["attendance_rate"] = _rate(figures["attended"], figures["expected"])
    figures["volunteer_hours"] = round(figures["volunteer_minutes"] / 60, 2)
    figures["visits"] = figures["check_ins"] + figures["walk_ins"]
    return figures


def report(db: Database, caller: Caller, query: dict) -> dict:
    """The report for `query` (`from`, `to`, optional `site_id`); coordinators, space managers, admins."""
    caller.require_role(*REPORT_ROLES)
    first, last, site_id = query["from"], query["to"], query.get("site_id")
    where = zone(caller.timezone)
    starts_at, ends_at = bounds(first, last, where)
    now = utcnow()
    with db.read() as session:
        held = (select(ActivitySession.id.label("session_id"), ActivitySession.activity_id,
                       ActivitySession.walk_ins, Activity.site_id)
                .join(Activity, Activity.id == ActivitySession.activity_id)
                .where(ActivitySession.starts_at >= starts_at, ActivitySession.starts_at < ends_at,
                       ActivitySession.ends_at <= now, ActivitySession.state != "cancelled", shown()))
        activities = select(Activity.id, Activity.site_id)
        if site_id is not None:
            held = held.where(Activity.site_id == site_id)
            activities = activities.where(Activity.site_id == site_id)
        held, activities = held.subquery(), activities.subquery()
        sites: dict = {}

        def add(rows, *names):
            for row in rows:
                figures = sites.setdefault(row[0], dict.fromkeys(FIGURES, 0))
                for name, value in zip(names, row[1:], strict=True):
                    figures[name] += int(value or 0)

        add(session.execute(select(held.c.site_id, func.count(func.distinct(held.c.activity_id)), func.count(),
                                   func.sum(held.c.walk_ins)).group_by(held.c.site_id)),
            "activities_held", "sessions", "walk_ins")
        add(session.execute(select(activities.c.site_id, func.count()).select_from(SignUp)
                            .join(activities, activities.c.id == SignUp.activity_id)
                            .where(SignUp.created_at >= starts_at, SignUp.created_at < ends_at)
                            .group_by(activities.c.site_id)), "signups")
        add(session.execute(select(held.c.site_id, func.count(), func.count(Attendance.id)).select_from(held)
                            .join(SignUp, and_(SignUp.activity_id == held.c.activity_id, SignUp.state == "confirmed"))
                            .outerjoin(Attendance, and_(Attendance.session_id == held.c.session_id,
                                                        Attendance.user_id == SignUp.user_id))
                            .group_by(held.c.site_id)), "expected", "attended")
        add(session.execute(select(held.c.site_id, func.count(), func.count(func.nullif(Attendance.role, "participant")))
                            .select_from(Attendance).join(held, held.c.session_id == Attendance.session_id)
                            .group_by(held.c.site_id)), "check_ins", "helpers_in")
        add(session.execute(select(held.c.site_id, func.sum(HoursCredit.minutes)).select_from(HoursCredit)
                            .join(held, held.c.session_id == HoursCredit.session_id)
                            .group_by(held.c.site_id)), "volunteer_minutes")
        names = dict(session.execute(select(Activity.site_id, func.max(Activity.site_name))
                                     .where(Activity.site_id.in_([s for s in sites if s is not None]))
                                     .group_by(Activity.site_id)).all())

    rows = []
    totals = dict.fromkeys(FIGURES, 0)
    for key in sorted(sites, key=lambda s: (s is None, s or 0)):
        figures = sites[key]
        figures["no_shows"] = figures["expected"] - figures["attended"]
        for name in FIGURES:
            totals[name] += figures[name]
        rows.append({"site_id": key, "site_name": names.get(key, "") if key is not None else "", **_finish(figures)})
    return ActivityReportSchema().dump({
        "period": {"from": first.isoformat(), "to": last.isoformat(), "timezone": where.key,
                   "starts_at": starts_at, "ends_at": ends_at},
        "site_id": site_id, "sites": rows, "totals": _finish(totals)})


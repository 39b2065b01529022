"""Hours a volunteer gave helping run an activity's session, credited by the activities service.

`activity.hours_credited` arrives through the inbox (applied once per event id); the credit is written once
per `credit_id` too (a unique column), so the same credit sent again under a new event id adds nothing. The
hours are a work log like an action's: a volunteer's and a team's hours total count them.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from services.volunteers.models import WorkLog
from shared.db import insert_ignoring


def credit(session: Session, payload: dict) -> bool:
    """Record one credit (the event's payload); False if that credit was recorded already."""
    ended = payload["ended_at"]
    inserted = session.execute(insert_ignoring(session, WorkLog, ["credit_id"]).values(
        credit_id=payload["credit_id"], user_id=payload["user_id"], team_id=payload.get("team_id"),
        minutes=payload["minutes"], started_at=ended - timedelta(minutes=payload["minutes"]), ended_at=ended,
        activity_id=payload["activity_id"], activity_session_id=payload["session_id"],
        title=(payload.get("title_zh") or payload.get("title_en") or "")[:200], action_id=None,
        edit_reason="", edited_by=None))
    return inserted.rowcount == 1

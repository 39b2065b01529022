"""Event handlers for what the activities service tells volunteers (applied once each, via the inbox)."""
from __future__ import annotations

from services.volunteers import activity_hours
from shared.inbox import consumes


class ActivitiesEntrypoints:
    @consumes("activities", "activity.hours_credited")
    def on_activity_hours_credited(self, session, event):
        """A volunteer helped run a session: their minutes count among their (and the team's) hours."""
        activity_hours.credit(session, event["payload"])

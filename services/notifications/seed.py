"""Demo notification settings: quiet hours for the resident, robots muted where they would be noise."""
from __future__ import annotations


def seed(call, people: dict) -> None:
    # 王小明 sleeps from 22:00 to 07:00; typhoon alerts still wake him (critical ones pass).
    call("notifications", "ensure_preferences", people["demo"]["id"],
         {"quiet_hours": {"start": "22:00", "end": "07:00"}, "timezone": "Asia/Shanghai"})
    # 骑士 张师傅 wants charity news in the app only, not on his channels.
    call("notifications", "ensure_preferences", people["rider"]["id"],
         {"quiet_hours": {"start": "23:00", "end": "06:30"}, "categories": {"charity": {"wecom": False}}})

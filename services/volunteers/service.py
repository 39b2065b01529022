"""The volunteers service: one nameko service whose entrypoints live in `entrypoints/` by area."""
from __future__ import annotations

from services.volunteers.entrypoints.actions import ActionsEntrypoints
from services.volunteers.entrypoints.activities import ActivitiesEntrypoints
from services.volunteers.entrypoints.charity import CharityEntrypoints
from services.volunteers.models import infra
from shared.service import ServiceBase


class VolunteersService(ActionsEntrypoints, CharityEntrypoints, ActivitiesEntrypoints, ServiceBase, infra=infra):
    name = "volunteers"


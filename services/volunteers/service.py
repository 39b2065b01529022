"""The volunteers service: one nameko service whose entrypoints live in `entrypoints/` by area."""
from __future__ import annotations

from services.volunteers.entrypoints.actions import ActionsEntrypoints
from services.volunteers.entrypoints.charity import CharityEntrypoints
from services.volunteers.models import infra
from shared.idempotency import RequestLogProvider
from shared.inbox import InboxProvider
from shared.outbox import OutboxProvider
from shared.providers import CallerProvider, DatabaseProvider
from shared.service import ServiceBase


class VolunteersService(ActionsEntrypoints, CharityEntrypoints, ServiceBase):
    name = "volunteers"

    db = DatabaseProvider("volunteers")
    emit = OutboxProvider("volunteers", infra)
    inbox = InboxProvider("volunteers", infra)
    request_log = RequestLogProvider("volunteers", infra)
    caller = CallerProvider()

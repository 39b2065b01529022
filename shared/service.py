"""What every nameko service of the suite has: its database, outbox, inbox, caller, and a health ping."""
from __future__ import annotations

import logging

from shared.amqp import handler_of, parking
from shared.db import Infrastructure
from shared.idempotency import RequestLog, RequestLogProvider
from shared.inbox import InboxProvider
from shared.logs import RequestIdProvider
from shared.outbox import OutboxProvider
from shared.providers import CallerProvider, DatabaseProvider
from shared.rpc import rpc
from shared.timers import timer

log = logging.getLogger(__name__)


class ServiceBase:
    """The dependencies and entrypoints every service has. A service names itself and its tables'
    infrastructure, `class BookingsService(ServiceBase, infra=infra): name = "bookings"`, and gets `db`,
    `emit` (the outbox), `inbox`, `request_log` (exactly-once answers) and `caller`, each for that name."""

    name: str

    request_id = RequestIdProvider()

    def __init_subclass__(cls, *, infra: Infrastructure | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if infra is not None:
            cls.db = DatabaseProvider(cls.name)
            cls.emit = OutboxProvider(cls.name, infra)
            cls.inbox = InboxProvider(cls.name, infra)
            cls.request_log = RequestLogProvider(cls.name, infra)
            cls.caller = CallerProvider()

    @rpc
    def ping(self) -> dict:
        """Health: answers when the service is up, and says whether its database answers."""
        try:
            database = self.db.ping()
        except Exception as exc:  # reported, not raised: health is a report
            database = f"{type(exc).__name__}"
        return {"service": self.name, "database": database is True, "error": None if database is True else database}

    @parking
    def take_parked(self, body, queue: str, reason: str):
        """A message one of this service's quorum queues gave up on (shared/amqp.py): an event goes to the inbox
        as a failed attempt of its handler; an RPC request, whose caller was answered 503 long ago, is dropped."""
        handler = handler_of(queue)
        if handler is not None and hasattr(type(self), handler):
            status = self.inbox.take_over(body, handler, f"the broker gave up on it in {queue} ({reason})")
            log.warning("event %s from %s (%s) handed to the inbox: %s",
                        (body or {}).get("event_id") if isinstance(body, dict) else None, queue, reason, status)
        elif reason == "expired":
            log.debug("an RPC request in %s expired unanswered", queue)
        else:
            log.error("a message in %s was dropped by the broker (%s): %.200r", queue or "a queue", reason, body)

    @timer(interval=2)
    def retry_failed_events(self):
        """Re-run failed event handlers whose backoff has passed."""
        self.inbox.retry_due(self)

    @timer(interval=3600)
    def forget_answered_requests(self):
        """Forget answered requests older than the idempotency window."""
        request_log = getattr(self, "request_log", None)
        if isinstance(request_log, RequestLog):
            request_log.purge()

"""What every nameko service of the suite has: its database, outbox, inbox, caller, and a health ping."""
from __future__ import annotations

from shared.idempotency import RequestLog
from shared.logs import RequestIdProvider
from shared.rpc import rpc
from shared.timers import timer


class ServiceBase:
    """Mixin with the entrypoints every service exposes."""

    name: str

    request_id = RequestIdProvider()

    @rpc
    def ping(self) -> dict:
        """Health: answers when the service is up, and says whether its database answers."""
        try:
            database = self.db.ping()
        except Exception as exc:  # reported, not raised: health is a report
            database = f"{type(exc).__name__}"
        return {"service": self.name, "database": database is True, "error": None if database is True else database}

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

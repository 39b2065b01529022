"""Calls from one service to another: bounded by a timeout, expiring unanswered, as the caller or the system.

nameko's `RpcProxy` waits forever and leaves an unanswered request in its queue to run later. Here every
call waits at most `NUANXIN_RPC_TIMEOUT` seconds, the request expires in the broker after the same time,
and a service that does not answer becomes `Unavailable` (503 at the gateway).
"""
from __future__ import annotations

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from shared import config
from shared.amqp import BROKER_ERRORS, ReplyListener, ServiceProxy, renew_rpc_channels
from shared.db import record_effect
from shared.errors import Unavailable
from shared.idempotency import derive
from shared.identity import CONTEXT_KEY, IDEMPOTENCY_KEY, SYSTEM


class _CallContext:
    """The worker's context as sent with one call: as the system if asked, and with the worker's
    idempotency key replaced by one derived for this call (so each call of a keyed request is keyed)."""

    def __init__(self, worker_ctx, as_system: bool, idempotency_key: str | None):
        self._worker_ctx = worker_ctx
        self.container = worker_ctx.container
        self._as_system = as_system
        self._key = idempotency_key

    @property
    def context_data(self) -> dict:
        data = self._worker_ctx.context_data
        if self._as_system:
            data[CONTEXT_KEY] = SYSTEM.to_context()
        data.pop(IDEMPOTENCY_KEY, None)
        if self._key:
            data[IDEMPOTENCY_KEY] = self._key
        return data


class ServiceCalls:
    def __init__(self, rpc: ServiceRpc, worker_ctx, parts: tuple = ()):
        self._rpc = rpc
        self._worker_ctx = worker_ctx
        self._service = rpc.target_service
        self._timeout = rpc.timeout
        self._parts = parts
        self._calls = 0

    def keyed(self, *parts) -> ServiceCalls:
        """The same calls with their keys derived from `parts` too: for a call that is a new request on each
        attempt of a retried one (a saga's new attempt, with a reference of its own), not a repeat of the first."""
        return ServiceCalls(self._rpc, self._worker_ctx, (*self._parts, *parts))

    def _proxy(self, method: str) -> ServiceProxy:
        key = self._worker_ctx.data.get(IDEMPOTENCY_KEY)
        self._calls += 1
        derived = derive(key, self._service, method, *self._parts, self._calls) if key else None
        context = _CallContext(self._worker_ctx, self._rpc.as_system, derived)
        return ServiceProxy(context, self._service, self._rpc.rpc_reply_listener, **self._rpc.options)

    def call(self, method: str, *args, **kwargs):
        """Call `method` and wait for its answer; domain errors come back as themselves."""
        # The other service may act on it: this worker's request is no longer safe to run again.
        record_effect()
        try:
            reply = getattr(self._proxy(method), method).call_async(*args, **kwargs)
            with eventlet.Timeout(self._timeout):
                return reply.result()
        except (eventlet.Timeout, UnknownService):
            renew_rpc_channels()  # unanswered: the channel that carried it may be one a quorum queue holds back
            raise Unavailable(f"The {self._service} service did not answer within {self._timeout:g} s; "
                              "try again shortly.") from None
        except BROKER_ERRORS as exc:
            raise Unavailable(f"The message broker is unreachable ({type(exc).__name__}); "
                              "try again shortly.") from None


class ServiceRpc(RpcProxy):
    """`self.volunteers.call("team_leads", 7)`: RPC with a timeout (`timeout` seconds, else
    NUANXIN_RPC_TIMEOUT), carrying the original caller (or the system, with `as_system=True`)."""

    rpc_reply_listener = ReplyListener()

    def __init__(self, target_service: str, *, as_system: bool = False, timeout: float | None = None, **options):
        self.timeout = timeout or config.rpc_timeout()
        self.as_system = as_system
        super().__init__(target_service, expiration=self.timeout, **options)

    def get_dependency(self, worker_ctx):
        return ServiceCalls(self, worker_ctx)

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
from shared.errors import Unavailable
from shared.identity import CONTEXT_KEY, SYSTEM


class _AsSystem:
    """The worker's context, but speaking as the system (a service asking on its own behalf)."""

    def __init__(self, worker_ctx):
        self._worker_ctx = worker_ctx
        self.container = worker_ctx.container

    @property
    def context_data(self) -> dict:
        data = self._worker_ctx.context_data
        data[CONTEXT_KEY] = SYSTEM.to_context()
        return data


class ServiceCalls:
    def __init__(self, proxy, service: str, timeout: float):
        self._proxy = proxy
        self._service = service
        self._timeout = timeout

    def call(self, method: str, *args, **kwargs):
        """Call `method` and wait for its answer; domain errors come back as themselves."""
        try:
            reply = getattr(self._proxy, method).call_async(*args, **kwargs)
            with eventlet.Timeout(self._timeout):
                return reply.result()
        except (eventlet.Timeout, UnknownService):
            raise Unavailable(f"The {self._service} service did not answer within {self._timeout:g} s; "
                              "try again shortly.") from None


class ServiceRpc(RpcProxy):
    """`self.volunteers.call("team_leads", 7)`: RPC with a timeout, carrying the original caller
    (or the system, with `as_system=True`)."""

    def __init__(self, target_service: str, *, as_system: bool = False, **options):
        self.timeout = config.rpc_timeout()
        self.as_system = as_system
        super().__init__(target_service, expiration=self.timeout, **options)

    def get_dependency(self, worker_ctx):
        proxy = super().get_dependency(_AsSystem(worker_ctx) if self.as_system else worker_ctx)
        return ServiceCalls(proxy, self.target_service, self.timeout)

"""Calls to other services as the system, each bounded by a timeout (nameko's RpcProxy has none)."""
from __future__ import annotations

import eventlet
from nameko.rpc import RpcProxy

from shared import config
from shared.errors import Unavailable
from shared.identity import CONTEXT_KEY, SYSTEM


class _AsSystem:
    """The worker's context, but speaking as the system (notifications asks on its own behalf)."""

    def __init__(self, worker_ctx):
        self._worker_ctx = worker_ctx
        self.container = worker_ctx.container

    @property
    def context_data(self) -> dict:
        data = self._worker_ctx.context_data
        data[CONTEXT_KEY] = SYSTEM.to_context()
        return data


class ServiceCalls:
    def __init__(self, proxy, service: str):
        self._proxy = proxy
        self._service = service

    def call(self, method: str, *args, **kwargs):
        """Call `method`; Unavailable (503) when the service does not answer within the RPC timeout."""
        timeout = config.rpc_timeout()
        reply = getattr(self._proxy, method).call_async(*args, **kwargs)
        try:
            with eventlet.Timeout(timeout):
                return reply.result()
        except eventlet.Timeout:
            raise Unavailable(f"The {self._service} service did not answer within {timeout:g} s; "
                              "try again shortly.") from None


class SystemRpc(RpcProxy):
    """`self.volunteers.call("audience_members", {...})`: RPC as the system, with a timeout."""

    def get_dependency(self, worker_ctx):
        proxy = super().get_dependency(_AsSystem(worker_ctx))
        return ServiceCalls(proxy, self.target_service)

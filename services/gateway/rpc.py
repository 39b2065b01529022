"""Calling the services: a pool of standalone nameko RPC proxies, one in use per thread at a time.

A standalone proxy is single-threaded and owns a connection and a reply queue, so proxies are pooled and
reused, never shared by two threads at once and never created per request. Every call has a timeout;
a proxy that timed out or lost its connection is discarded, and so is an idle one whose broker node closed
its connection meanwhile, or said it would (its reply queue is gone with that node; a new proxy connects to
any live node of `AMQP_URI`).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from contextlib import contextmanager

from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from shared import config
from shared.amqp import (
    BROKER_ERRORS,
    ServiceProxy,
    StandaloneReplyListener,
    idle_connection_usable,
    renew_rpc_channels,
)
from shared.errors import DomainError
from shared.identity import Caller, context_for

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """A service did not answer in time, or the broker is unreachable."""

    def __init__(self, detail: str, retry_after: int = 5):
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class ProxyPool:
    def __init__(self, amqp_uri: str | None = None, timeout: float | None = None, size: int = 16):
        self.config = {"AMQP_URI": amqp_uri or config.amqp_uri(), "serializer": "json"}
        self.timeout = timeout if timeout is not None else config.rpc_timeout()
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    def _new(self):
        for attempt in (1, 2):
            standalone = ClusterRpcProxy(self.config, context_data={}, timeout=self.timeout,
                                         reply_listener_cls=StandaloneReplyListener)
            try:
                standalone.start()
                return standalone
            except BROKER_ERRORS as exc:
                # Connecting and declaring a reply queue may meet a node that is just going (or gone): once more.
                self._discard(standalone)
                if attempt == 2:
                    raise
                log.warning("a new RPC proxy could not start (%s: %s); trying once more", type(exc).__name__, exc)

    @contextmanager
    def proxy(self, context: dict):
        if not self._slots.acquire(timeout=self.timeout):
            raise ServiceUnavailable("The gateway is busy; try again shortly.")
        standalone = None
        try:
            while standalone is None:
                try:
                    standalone = self._idle.get_nowait()
                except queue.Empty:
                    standalone = self._new()
                    break
                if not idle_connection_usable(standalone._reply_listener.queue_consumer.connection):
                    self._discard(standalone)
                    standalone = None
            # The proxy's worker context is what nameko sends as context data with each call.
            standalone._worker_ctx.data.clear()
            standalone._worker_ctx.data.update(context)
            yield standalone
            self._idle.put(standalone)
        except BaseException:
            if standalone is not None:
                self._discard(standalone)
            raise
        finally:
            self._slots.release()

    def _discard(self, standalone) -> None:
        try:
            standalone.stop()
        except Exception:  # the connection may already be gone
            log.debug("discarding a broken proxy", exc_info=True)

    def call(self, service: str, method: str, *args, caller: Caller, request_id: str | None = None,
             idempotency_key: str | None = None, **kwargs):
        try:
            # The service acts on a keyed request only if it can commit before this gateway stops waiting.
            deadline = time.time() + self.timeout if idempotency_key else None
            with self.proxy(context_for(caller, request_id, idempotency_key, deadline)) as standalone:
                # A request nobody took within the timeout expires in its queue: a caller told 503
                # must not find the work done later by a service that came back.
                target = ServiceProxy(standalone._worker_ctx, service, standalone._reply_listener,
                                      expiration=self.timeout)
                return getattr(target, method)(*args, **kwargs)
        except DomainError:
            raise
        except RpcTimeout:
            renew_rpc_channels()  # the channel that carried it may be one a quorum queue holds back
            raise ServiceUnavailable(f"The {service} service did not answer within {self.timeout:g} s.") from None
        except UnknownService:
            raise ServiceUnavailable(f"The {service} service is not running.") from None
        except BROKER_ERRORS as exc:  # the broker restarts, is down or loses a node: the proxy was discarded
            log.warning("broker unreachable calling %s.%s: %s: %s", service, method, type(exc).__name__, exc)
            raise ServiceUnavailable("The message broker is unreachable.") from None

    def close(self) -> None:
        while True:
            try:
                standalone = self._idle.get_nowait()
            except queue.Empty:
                return
            self._discard(standalone)

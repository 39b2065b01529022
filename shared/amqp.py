"""nameko's AMQP entrypoints, made to ride out a broker restart and a database fault.

nameko 2.x acknowledges a message on the connection it arrived on. When the broker restarts while a
worker runs, that connection is gone by the time the worker finishes: nameko's ack (or the reply's
publish) raises `ConnectionResetError`, the worker thread dies with it, and the container kills the
whole service. Here a message that cannot be acknowledged is left to the broker, which redelivers it to
the reconnected consumer (keyed requests take effect once, see shared/idempotency.py; events are
de-duplicated by the inbox), and a reply that cannot be published is dropped (the caller's wait ends in
its timeout, a 503). Each is one WARNING line; the service stays up.

RPC requests and replies are published without waiting for the broker's confirm (`RpcPublisher`): the
reply is the confirmation. A request or reply the broker loses ends in the caller's timeout (503 at the
gateway), which a keyed retry repairs once; waiting for a confirm would only add a broker round trip before
the request is even on its way. Events keep confirms (shared/outbox.py): nobody would notice one lost.

Every extension here shares one `QueueConsumer` per container (nameko shares extensions by class), so a
service still has a single consuming connection. An RPC whose worker met a database fault that rolled
everything back (`shared.db.retry_is_safe`) is run once more before it answers `Unavailable`.
"""
from __future__ import annotations

import logging
import sys

import amqp.exceptions
import eventlet
import kombu.exceptions
from kombu import Connection
from kombu.pools import producers
from nameko import events, messaging
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    DEFAULT_TRANSPORT_OPTIONS,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import deserialize_to_instance

from shared.db import DatabaseUnavailable, forget_work, retry_is_safe
from shared.errors import EXPECTED

log = logging.getLogger(__name__)

# The domain errors cross the wire as themselves: nameko rebuilds a registered class from its path and args
# on the calling side (the gateway, or a service calling another).
for _error in (*EXPECTED, DatabaseUnavailable):
    deserialize_to_instance(_error)

# What a dead or dying broker connection raises: py-amqp's own errors (including ConnectionForced when
# the broker shuts down), kombu's after its retries, and the socket's (ConnectionResetError, BrokenPipe…).
CONNECTION_ERRORS = (amqp.exceptions.ConnectionError, kombu.exceptions.OperationalError, OSError)

# How long an event whose handler met a database fault waits before it goes back to its queue.
REQUEUE_DELAY = 1.0


def _describe(message) -> str:
    info = getattr(message, "delivery_info", None) or {}
    return str(info.get("routing_key") or "a message")


class RpcPublisher(Publisher):
    """Publishes an RPC request or reply without a publisher confirm, and not persisted.

    Nothing waits for the broker: the answer (or the caller's timeout) says what became of the message. It
    lives no longer than its caller waits, so writing it to disk buys nothing. `mandatory` is off too, since
    only a confirm makes an unroutable message visible: a call to a service whose queue was never declared
    ends in the caller's timeout rather than at once."""

    use_confirms = False
    delivery_mode = NON_PERSISTENT

    # One kombu Connection per broker address and credentials, the key of kombu's pool of connections
    # without confirms (pooled apart from those with: kombu keys its pools by the transport options).
    # nameko's publish builds a new one, parsing the URL, for every message.
    _connections: dict[tuple, Connection] = {}

    def publish(self, payload, **kwargs):
        publish_kwargs = {**self.publish_kwargs, **kwargs}
        headers = {**publish_kwargs.pop("headers", {}), **publish_kwargs.pop("extra_headers", {})}
        for ignored in ("use_confirms", "mandatory", "transport_options"):
            publish_kwargs.pop(ignored, None)
        options = {"delivery_mode": self.delivery_mode, "priority": self.priority, "expiration": self.expiration,
                   "serializer": self.serializer, "compression": self.compression, "retry": self.retry,
                   "retry_policy": self.retry_policy, "declare": list(self.declare)}
        options.update(publish_kwargs)  # what is given for this message wins
        with producers[self._connection()].acquire(block=True) as producer:
            producer.publish(payload, headers=headers, mandatory=False, **options)

    def _connection(self) -> Connection:
        key = (self.amqp_uri, repr(self.ssl), self.login_method)
        connection = self._connections.get(key)
        if connection is None:
            connection = self._connections.setdefault(key, Connection(
                self.amqp_uri, ssl=self.ssl, login_method=self.login_method,
                transport_options={**DEFAULT_TRANSPORT_OPTIONS, "confirm_publish": False}))
        return connection


class MethodProxy(nameko_rpc.MethodProxy):
    publisher_cls = RpcPublisher


class ServiceProxy(nameko_rpc.ServiceProxy):
    """nameko's `ServiceProxy`, publishing its requests with `RpcPublisher`."""

    def __getattr__(self, name):
        return MethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener, **self.options)


class Responder(nameko_rpc.Responder):
    publisher_cls = RpcPublisher


class QueueConsumer(messaging.QueueConsumer):
    """nameko's consumer, except that an ack or requeue on a lost connection is left to the broker."""

    def ack_message(self, message):
        try:
            super().ack_message(message)
        except CONNECTION_ERRORS as exc:
            log.warning("could not acknowledge %s (%s: %s); the broker will deliver it again",
                        _describe(message), type(exc).__name__, exc)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except CONNECTION_ERRORS as exc:
            log.warning("could not requeue %s (%s: %s); the broker will deliver it again",
                        _describe(message), type(exc).__name__, exc)


class RpcConsumer(nameko_rpc.RpcConsumer):
    queue_consumer = QueueConsumer()

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = Responder(
            config[AMQP_URI_CONFIG_KEY], nameko_rpc.get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except CONNECTION_ERRORS as exc:
            # The work is done (or failed) either way; the caller's wait ends in its timeout.
            log.warning("could not send the reply to %s (%s: %s); the caller will time out",
                        _describe(message), type(exc).__name__, exc)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class Rpc(nameko_rpc.Rpc):
    """The RPC entrypoint of the suite's services (`shared.rpc.rpc`)."""

    rpc_consumer = RpcConsumer()

    def handle_result(self, message, worker_ctx, result, exc_info):
        try:
            if exc_info is not None and retry_is_safe(exc_info[1]):
                result, exc_info = self._run_again(worker_ctx, exc_info[1])
        finally:
            forget_work()
        return super().handle_result(message, worker_ctx, result, exc_info)

    def _run_again(self, worker_ctx, fault):
        log.warning("%s met a database fault before anything committed (%s); running it once more",
                    self.method_name, fault)
        method = getattr(worker_ctx.service, self.method_name)
        try:
            return method(*worker_ctx.args, **worker_ctx.kwargs), None
        except self.expected_exceptions as exc:
            log.warning("%s failed again: %s", self.method_name, exc)
            return None, sys.exc_info()
        except Exception:
            log.exception("%s failed again", self.method_name)
            return None, sys.exc_info()


rpc = Rpc.decorator


class ReplyListener(nameko_rpc.ReplyListener):
    """Where a service's own RPC calls (shared.remote.ServiceRpc) receive their answers."""

    queue_consumer = QueueConsumer()


class EventHandler(events.EventHandler):
    """The event entrypoint of `shared.inbox.consumes`.

    An event whose handler could not even record its failure because the database is unreachable goes
    back to its queue (after a short pause), instead of being acknowledged and lost.
    """

    queue_consumer = QueueConsumer()

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None and isinstance(exc_info[1], DatabaseUnavailable):
            log.warning("event %s not handled: %s; it goes back to its queue", _describe(message), exc_info[1])
            eventlet.sleep(REQUEUE_DELAY)
            self.queue_consumer.requeue_message(message)
            return
        super().handle_message_processed(message, result, exc_info)


event_handler = EventHandler.decorator

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
A channel without confirms can lose more than one message, though: one that sent its first message to a
quorum queue whose leader had just died (RabbitMQ 3.10) has every later message to that queue held back by
the queue for good. So an RPC that goes unanswered (`renew_rpc_channels`) sends the process's next requests
and replies out on new channels: the loss of a node costs each pooled channel at most one timeout.

The queues that must outlive a broker node — every RPC request queue and event handler queue — are declared
by the services as quorum queues (NUANXIN_QUEUE_TYPE, default `quorum`): replicated on the cluster's nodes,
with a delivery limit (NUANXIN_DELIVERY_LIMIT) after which the broker dead-letters a message nobody ever
acknowledged (its handler stopped the process each time, say) to the service's parking queue, `parked-<service>`.
The service takes it from there (`parking`, shared/service.py): an event goes to its inbox as a failed attempt
(retried by the timer, parked after the last attempt, as any failed event), an RPC request is logged and
dropped (its caller was told 503 long ago). Reply queues are classic and transient: they live as long as
their connection's node, and a consumer that moves to another node declares its reply queue there anew.
`AMQP_URI` may name several nodes (`;`-separated): every connection takes the first node that answers and,
when its node dies, reconnects to another one.

Every extension here shares one `QueueConsumer` per container (nameko shares extensions by class), so a
service still has a single consuming connection. An RPC whose worker met a database fault that rolled
everything back (`shared.db.retry_is_safe`) is run once more before it answers `Unavailable`.
"""
from __future__ import annotations

import functools
import logging
import socket
import sys
import uuid

import amqp.exceptions
import eventlet
import kombu.exceptions
from kombu import Connection, Exchange, Queue
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
from nameko.exceptions import ContainerBeingKilled, deserialize_to_instance
from nameko.standalone.rpc import SingleThreadedReplyListener
from nameko.utils import sanitize_url

from shared import config as settings
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
# What a broker losing a node may also raise: a channel refused mid-way, e.g. a reply queue declared on a live
# node and not found when it is bound, while the cluster is still forgetting the node that died.
BROKER_ERRORS = (*CONNECTION_ERRORS, amqp.exceptions.ChannelError)

# How long an event whose handler met a database fault waits before it goes back to its queue.
REQUEUE_DELAY = 1.0


# Where a quorum queue dead-letters a message it gave up on, routed by the service's name to its parking queue.
PARKING_EXCHANGE = "nuanxin.parked"


def queue_arguments(service: str) -> dict:
    """The arguments of a service's RPC and event queues: quorum, with the delivery limit and the parking."""
    if settings.queue_type() != "quorum":
        return {}
    return {"x-queue-type": "quorum", "x-delivery-limit": settings.delivery_limit(),
            "x-dead-letter-exchange": PARKING_EXCHANGE, "x-dead-letter-routing-key": service}


def _replicated(queue: Queue, service: str) -> Queue:
    return Queue(queue.name, exchange=queue.exchange, routing_key=queue.routing_key, durable=True,
                 queue_arguments={**(queue.queue_arguments or {}), **queue_arguments(service)})


def parking_queue(service: str) -> Queue:
    """`parked-<service>`: the messages the service's queues gave up on, until the service takes them."""
    arguments = {"x-queue-type": "quorum"} if settings.queue_type() == "quorum" else {}
    return Queue(f"parked-{service}", exchange=Exchange(PARKING_EXCHANGE, type="direct", durable=True),
                 routing_key=service, durable=True, queue_arguments=arguments)


def handler_of(queue_name: str) -> str | None:
    """The handler an event queue feeds (`evt-<source>-<type>--<service>.<handler>`), else None."""
    if queue_name.startswith("evt-") and "--" in queue_name:
        return queue_name.rsplit("--", 1)[1].rsplit(".", 1)[-1] or None
    return None


def reply_queue(service_name: str, config: dict) -> tuple[Queue, str]:
    """A reply queue and its routing key: classic and transient (it dies with its node, and is declared anew
    wherever its consumer reconnects), expiring unused as nameko's does."""
    routing_key = str(uuid.uuid4())
    queue = Queue(nameko_rpc.RPC_REPLY_QUEUE_TEMPLATE.format(service_name, routing_key),
                  exchange=nameko_rpc.get_rpc_exchange(config), routing_key=routing_key, durable=False,
                  queue_arguments={"x-expires": nameko_rpc.RPC_REPLY_QUEUE_TTL})
    return queue, routing_key


def idle_connection_usable(connection: Connection) -> bool:
    """Whether an idle connection can carry the next call, judged without reading from it.

    Between calls nothing is due on such a connection (it has no heartbeats, and its last call was answered),
    so anything waiting to be read means the broker is done with it: a node that died has closed or reset the
    socket, and a node that stopped or restarted has sent its Connection.Close, which sits unread. A reply
    queue on that connection is gone with its node; a request sent through it would be answered into nothing.
    """
    try:
        # The established connection only: kombu's `connection` property would open a new one.
        sock = connection._connection.transport.sock
        sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:  # nothing to read: the connection is open and quiet
        return True
    except Exception:
        return False
    return False  # end of stream, or a frame the broker sent meanwhile


def safe_uri(uri: str) -> str:
    """`AMQP_URI` without its passwords, every node's (nameko's own log line masks only the first)."""
    return ";".join(sanitize_url(part) for part in uri.split(";"))


def _describe(message) -> str:
    info = getattr(message, "delivery_info", None) or {}
    return str(info.get("routing_key") or "a message")


# Bumped when an RPC goes unanswered: a pooled connection whose channel predates it gets a new channel.
_channel_generation = 0


def renew_rpc_channels() -> None:
    """An RPC went unanswered: publish this process's next RPC messages on new channels (see the module's
    docstring). Each pooled connection opens its new channel when it is next used; nothing is interrupted."""
    global _channel_generation
    _channel_generation += 1


def _renew_if_stale(producer) -> None:
    connection = producer.__connection__  # the pooled connection the producer holds while acquired
    seen = getattr(connection, "nuanxin_channel_generation", None)
    if seen != _channel_generation:
        connection.nuanxin_channel_generation = _channel_generation
        if seen is not None and connection.connected:
            log.info("RPC messages from this connection go out on a new channel after an unanswered call")
            connection.revive(None)  # closes its default channel; the producer's next publish opens another
            producer.revive(connection)


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
            _renew_if_stale(producer)
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

    def get_consumers(self, consumer_cls, channel):
        try:
            return super().get_consumers(consumer_cls, channel)
        except amqp.exceptions.PreconditionFailed as exc:
            log.error("a queue of this service exists with other arguments (%s). A classic queue cannot become a "
                      "quorum queue: once it is empty, delete it (rabbitmqctl delete_queue --if-empty <name>) and "
                      "this service, trying again every second, takes its place; or set NUANXIN_QUEUE_TYPE=classic "
                      "(docs/SCALING.md, The broker cluster)", exc)
            raise

    def on_connection_error(self, exc, interval):
        log.warning("broker unreachable at %s (%s); trying again in %s s", safe_uri(self.amqp_uri), exc, interval)

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

    def setup(self):
        super().setup()
        self.queue = _replicated(self.queue, self.container.service_name)

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

    def setup(self):
        self.queue, self.routing_key = reply_queue(self.container.service_name, self.container.config)
        self.queue_consumer.register_provider(self)


class StandaloneReplyListener(SingleThreadedReplyListener):
    """Where a standalone proxy (the gateway's, services/gateway/rpc.py) receives its answers."""

    def setup(self):
        self.queue, self.routing_key = reply_queue(self.container.service_name, self.container.config)
        self.queue_consumer.register_provider(self)


class _RequeueOnDatabaseFault:
    """A message whose worker could not reach the database goes back to its queue after a short pause."""

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None and isinstance(exc_info[1], DatabaseUnavailable):
            log.warning("%s not handled: %s; it goes back to its queue", _describe(message), exc_info[1])
            eventlet.sleep(REQUEUE_DELAY)
            self.queue_consumer.requeue_message(message)
            return
        super().handle_message_processed(message, result, exc_info)


class EventHandler(_RequeueOnDatabaseFault, events.EventHandler):
    """The event entrypoint of `shared.inbox.consumes`, on the handler's (quorum) queue.

    An event whose handler could not even record its failure because the database is unreachable goes
    back to its queue (after a short pause), instead of being acknowledged and lost.
    """

    queue_consumer = QueueConsumer()

    def setup(self):
        super().setup()
        self.queue = _replicated(self.queue, self.container.service_name)


event_handler = EventHandler.decorator


class Parking(_RequeueOnDatabaseFault, messaging.Consumer):
    """The entrypoint of a service's parking queue: the method is called with the message's body, the queue
    that gave it up and why (`delivery_limit`, or `expired` for an RPC request nobody took in time)."""

    queue_consumer = QueueConsumer()

    def __init__(self, **kwargs):
        super().__init__(queue=None, **kwargs)

    def setup(self):
        self.queue = parking_queue(self.container.service_name)
        super().setup()

    def handle_message(self, body, message):
        headers = message.headers or {}
        death = (headers.get("x-death") or [{}])[0]
        queue = str(headers.get("x-first-death-queue") or death.get("queue") or "")
        reason = str(headers.get("x-first-death-reason") or death.get("reason") or "")
        try:
            self.container.spawn_worker(self, (body, queue, reason), {},
                                        handle_result=functools.partial(self.handle_result, message))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)


parking = Parking.decorator

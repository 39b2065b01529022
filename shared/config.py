"""Configuration read from the environment, with embedded defaults that run on one machine.

Every setting has a default so that `make run` works on a fresh checkout; production overrides them
with environment variables (or `*_FILE` variables pointing at files outside the repository, for secrets).
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

# Every service with a database of its own (the one list the others derive from), and those of them that are
# nameko services (all but the HTTP gateway), whose class is services.<name>.service:<Name>Service.
SERVICES = ("bookings", "volunteers", "notifications", "activities", "gateway")
BACKENDS = tuple(service for service in SERVICES if service != "gateway")
DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"


def env(name: str, default: str | None = None) -> str | None:
    """An environment variable, or the contents of the file named by NAME_FILE."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_float(name: str, default: float) -> float:
    value = env(name)
    return float(value) if value not in (None, "") else default


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value not in (None, "") else default


def env_networks(name: str, default: str = "") -> tuple:
    """A comma-separated list of networks in CIDR notation (`127.0.0.0/8, ::1/128`), as `ipaddress` networks.

    A single address stands for its own network; an entry that is not a network is a configuration error.
    """
    networks = []
    for entry in (env(name, default) or "").split(","):
        if entry.strip():
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{name}: {entry.strip()!r} is not a network (e.g. 10.0.0.0/8 or ::1/128)") from None
    return tuple(networks)


def channel_allowed_networks() -> tuple:
    """Networks that channel addresses may reach although they are not public (loopback, private, …).

    Empty by default: channels reach only public addresses. For a test suite or an intranet mail server,
    e.g. `NUANXIN_CHANNEL_ALLOWED_NETWORKS=127.0.0.0/8,::1/128`.
    """
    return env_networks("NUANXIN_CHANNEL_ALLOWED_NETWORKS")


def data_dir() -> Path:
    path = Path(env("NUANXIN_DATA_DIR", "var") or "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def amqp_uri() -> str:
    """The broker: one URL, or the nodes of a cluster separated by `;` (kombu's failover syntax), e.g.
    `pyamqp://u:p@rabbit-1:5672/;pyamqp://u:p@rabbit-2:5672/;pyamqp://u:p@rabbit-3:5672/`. Every connection
    (services, the gateway's proxies, the outbox relay) takes the first node that answers and moves to
    another one when its node dies."""
    return env("AMQP_URI", DEFAULT_AMQP_URI) or DEFAULT_AMQP_URI


QUEUE_TYPES = ("quorum", "classic")


def queue_type() -> str:
    """NUANXIN_QUEUE_TYPE: `quorum` (default), the services' RPC and event queues replicated on the cluster's
    nodes and outliving any one of them; `classic` keeps them on one node (see docs/SCALING.md)."""
    value = (env("NUANXIN_QUEUE_TYPE", "quorum") or "quorum").strip().lower()
    if value not in QUEUE_TYPES:
        raise ValueError(f"NUANXIN_QUEUE_TYPE: {value!r} is not one of {', '.join(QUEUE_TYPES)}")
    return value


def delivery_limit() -> int:
    """NUANXIN_DELIVERY_LIMIT: how many times a quorum queue hands a message out again (its consumer died, or
    gave it back) before the broker dead-letters it to the service's parking queue."""
    return env_int("NUANXIN_DELIVERY_LIMIT", 10)


def database_url(service: str) -> str:
    """`<SERVICE>_DATABASE_URL`, else a SQLite file per service under the data folder."""
    url = env(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / (service + '.db')}"


def rpc_timeout() -> float:
    """Seconds any RPC call between processes may take before it is abandoned."""
    return env_float("NUANXIN_RPC_TIMEOUT", 10.0)


def secret_key() -> str:
    """The token signing key: NUANXIN_SECRET_KEY(_FILE), else a random key kept in the data folder.

    The generated key lives outside git (under the data folder) so every local process shares it.
    """
    key = env("NUANXIN_SECRET_KEY")
    if key:
        return key
    path = data_dir() / "secret_key"
    if not path.exists():
        import secrets

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()

"""Container healthcheck: `python -m services.healthcheck bookings` exits 0 when the service answers
its ping RPC and its database is up."""
from __future__ import annotations

import sys

from services.gateway.rpc import ProxyPool, ServiceUnavailable
from shared.identity import SYSTEM


def main(service: str) -> int:
    pool = ProxyPool(timeout=5, size=1)
    try:
        answer = pool.call(service, "ping", caller=SYSTEM)
    except ServiceUnavailable as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    finally:
        pool.close()
    return 0 if answer.get("database") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

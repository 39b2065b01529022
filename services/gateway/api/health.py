"""GET /healthz: the broker, every service (a ping RPC) and every database."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, current_app, jsonify
from kombu import Connection

from services.gateway.rpc import ProxyPool, ServiceUnavailable
from shared import config
from shared.identity import SYSTEM

blp = Blueprint("health", __name__)
SERVICES = config.BACKENDS
HEALTH_TIMEOUT = 3.0


def check_broker(uri: str) -> dict:
    try:
        with Connection(uri, connect_timeout=HEALTH_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, timeout=HEALTH_TIMEOUT)
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}


def check_service(pool: ProxyPool, name: str) -> dict:
    try:
        answer = pool.call(name, "ping", caller=SYSTEM)
        return {"ok": bool(answer.get("database")), "database": answer.get("database"),
                **({"error": answer["error"]} if answer.get("error") else {})}
    except ServiceUnavailable as exc:
        return {"ok": False, "error": exc.detail}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def health_report(amqp_uri: str, pool: ProxyPool, gateway_db) -> dict:
    parts: dict = {}
    with ThreadPoolExecutor(max_workers=len(SERVICES) + 1) as pool_exec:
        broker = pool_exec.submit(check_broker, amqp_uri)
        futures = {name: pool_exec.submit(check_service, pool, name) for name in SERVICES}
        parts["broker"] = broker.result()
        for name, future in futures.items():
            parts[name] = future.result()
    try:
        parts["gateway_database"] = {"ok": gateway_db.ping()}
    except Exception as exc:
        parts["gateway_database"] = {"ok": False, "error": type(exc).__name__}
    return {"status": "ok" if all(p["ok"] for p in parts.values()) else "degraded", "parts": parts}


@blp.get("/healthz")
def healthz():
    pool = current_app.extensions.get("nuanxin.health_rpc")
    if pool is None:
        pool = current_app.extensions["nuanxin.health_rpc"] = ProxyPool(timeout=HEALTH_TIMEOUT, size=4)
    report = health_report(config.amqp_uri(), pool, current_app.extensions["nuanxin.db"])
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    return response

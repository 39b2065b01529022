"""`nuanxin`: the operator's command line. It uses the same code paths as the services."""
from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
import time

from sqlalchemy.exc import DBAPIError

from shared import config
from shared.db import DatabaseUnavailable

SERVICES = config.BACKENDS


def _system_call():
    from services.gateway.rpc import ProxyPool
    from shared.identity import SYSTEM

    pool = ProxyPool(size=2)

    def call(service, method, *args, caller=SYSTEM, **kwargs):
        return pool.call(service, method, *args, caller=caller, **kwargs)

    return call, pool


def cmd_migrate(args) -> int:
    from shared.migrations import MIGRATED, upgrade

    for service in args.services or MIGRATED:
        upgrade(service)
        print(f"migrated {service}")
    return 0


def cmd_check_broker(args) -> int:
    from services.gateway.api.health import check_broker

    result = check_broker(config.amqp_uri())
    print(json.dumps(result))
    return 0 if result["ok"] else 1


def cmd_seed(args) -> int:
    from services.seed import seed

    call, pool = _system_call()
    try:
        people = seed(call)
    finally:
        pool.close()
    print(f"seeded the demo neighbourhood; logins are in {config.data_dir() / 'demo-logins.txt'}")
    for username, person in people.items():
        print(f"  {username:<12} {person['password']:<18} {person['who']}")
    return 0


def cmd_create_admin(args) -> int:
    """An admin account; its password comes from NUANXIN_ADMIN_PASSWORD or a prompt, never a default."""
    from services.gateway.accounts import create_account
    from shared.db import database_for
    from shared.errors import DomainError

    password = os.environ.get("NUANXIN_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("set NUANXIN_ADMIN_PASSWORD or run in a terminal to be asked for the password", file=sys.stderr)
            return 2
        password = getpass.getpass("Password (10+ characters): ")
        if getpass.getpass("Again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 2
    try:
        account = create_account(database_for("gateway"), {"username": args.username, "password": password,
                                                            "display_name": args.display_name or args.username},
                                 roles=["admin", "resident"])
    except DomainError as exc:
        print(f"not created: {exc.detail} {json.dumps(exc.errors, ensure_ascii=False) if exc.errors else ''}",
              file=sys.stderr)
        return 1
    print(f"created admin {account['username']} (id {account['id']})")
    return 0


def cmd_health(args) -> int:
    from services.gateway.api.health import health_report
    from services.gateway.rpc import ProxyPool
    from shared.db import database_for

    pool = ProxyPool(timeout=3, size=4)
    try:
        report = health_report(config.amqp_uri(), pool, database_for("gateway"))
    finally:
        pool.close()
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if report["status"] == "ok" else 1


def _inbox_of(service: str):
    import importlib

    from shared.db import database_for
    from shared.inbox import Inbox

    models = importlib.import_module(f"services.{service}.models")
    return Inbox(database_for(service), models.infra)


def cmd_events(args) -> int:
    services = [args.service] if args.service else list(SERVICES)
    if args.action == "parked":
        rows = [dict(row, service=s) for s in services for row in _inbox_of(s).parked()]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    total = sum(_inbox_of(s).replay(args.event_ids or None) for s in services)
    print(f"replaying {total} parked event(s)")
    return 0


def cmd_deliveries(args) -> int:
    """Parked channel messages (e-mail, WeCom, webhooks…) of the notifications service: list or replay."""
    from services.notifications import deliveries

    if args.action == "parked":
        print(json.dumps(deliveries.parked_deliveries(), indent=2, ensure_ascii=False, default=str))
        return 0
    try:
        ids = [int(i) for i in args.ids]
    except ValueError:
        print("delivery ids are numbers", file=sys.stderr)
        return 2
    print(f"replaying {deliveries.replay_deliveries(ids or None)} parked deliver(y/ies)")
    return 0


def cmd_run(args) -> int:
    from services.launcher import Suite, default_log_path, wait_healthy

    cmd_migrate(argparse.Namespace(services=None))
    suite = Suite(bind=args.bind, workers=args.workers, log_path=default_log_path()).start()
    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    base = f"http://{args.bind}"
    try:
        wait_healthy(base, timeout=90)
        cmd_seed(args)
        print(f"\nNuanxin is up. The app: {base}/   The API's docs: {base}/api/docs   Health: {base}/healthz")
        print("Sign in: curl -s -X POST " + base + "/api/v1/auth/token -H 'Content-Type: application/json' "
              "-d '{\"username\": \"demo\", \"password\": \"<from the list above>\"}'")
        print("Or, from this folder in bash: . docs/demo.sh; curl -s $API/me -H \"Authorization: Bearer "
              "$(login demo)\"   (README.md, \"Calling the API\")")
        print("Ctrl-C stops everything.\n")
        while not stopping:
            dead = suite.dead()
            if dead:
                print(f"process(es) exited: {', '.join(dead)}; stopping", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except TimeoutError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        print("stopping…")
        suite.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nuanxin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="apply every service's migrations")
    p.add_argument("services", nargs="*", help="bookings, volunteers, notifications, gateway (default: all)")
    p.set_defaults(func=cmd_migrate)
    sub.add_parser("check-broker", help="is the broker at AMQP_URI reachable?").set_defaults(func=cmd_check_broker)
    sub.add_parser("seed", help="seed the demo neighbourhood (services must be running)").set_defaults(func=cmd_seed)
    p = sub.add_parser("create-admin", help="create an admin account (password from a prompt "
                                            "or NUANXIN_ADMIN_PASSWORD)")
    p.add_argument("username")
    p.add_argument("--display-name")
    p.set_defaults(func=cmd_create_admin)
    sub.add_parser("health", help="the health of every part").set_defaults(func=cmd_health)
    p = sub.add_parser("events", help="list or replay parked (dead-lettered) events")
    p.add_argument("action", choices=["parked", "replay"])
    p.add_argument("event_ids", nargs="*")
    p.add_argument("--service", choices=SERVICES)
    p.set_defaults(func=cmd_events)
    p = sub.add_parser("deliveries", help="list or replay parked channel messages (notifications)")
    p.add_argument("action", choices=["parked", "replay"])
    p.add_argument("ids", nargs="*", help="delivery ids to replay (default: every parked one)")
    p.set_defaults(func=cmd_deliveries)
    p = sub.add_parser("run", help="migrate, start the whole suite, seed the demo, wait for Ctrl-C")
    p.add_argument("--bind", default=config.env("NUANXIN_BIND", "127.0.0.1:8000"))
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_run)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (DatabaseUnavailable, DBAPIError) as exc:
        # An operator's command meets a database that is away: say so in one line.
        cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) and exc.__cause__ else exc
        cause = getattr(cause, "orig", None) or cause
        first = (str(cause).strip().splitlines() or [""])[0]
        print(f"nuanxin {args.command}: the database is unavailable ({type(cause).__name__}: {first})",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

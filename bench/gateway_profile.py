"""Where a gateway request's time goes: pyinstrument over sequential `GET /api/v1/spaces`.

    .venv/bin/python -m bench.gateway_profile [--rounds 300] [--all]

Starts the suite on SQLite (tests.support.suite.RunningSuite), builds the gateway's Flask app in this
process against the same broker and databases, warms it up, then profiles `rounds` requests through Flask's
test client (no gunicorn, no socket: the gateway's own work and its wait for the RPC). Prints the wall time
and this thread's CPU time per request, then pyinstrument's call tree (`--all` shows library frames too).
A diagnostic, not part of `make bench`: docs/PERFORMANCE.md says what it found.
"""
from __future__ import annotations

import argparse
import os
import time

from pyinstrument import Profiler

from tests.support.suite import RunningSuite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--all", action="store_true", help="show library frames too")
    args = parser.parse_args()
    running = RunningSuite("sqlite").start()
    try:
        os.environ.update(running.env)
        from services.gateway.app import create_app

        app = create_app()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {running.user().token}"}
        for _ in range(50):
            assert client.get("/api/v1/spaces", headers=headers).status_code == 200
        profiler = Profiler(interval=0.0002)
        wall, cpu = time.perf_counter(), time.thread_time()
        profiler.start()
        for _ in range(args.rounds):
            client.get("/api/v1/spaces", headers=headers)
        profiler.stop()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        print(f"{args.rounds} × GET /api/v1/spaces in process: {wall / args.rounds * 1000:.2f} ms wall, "
              f"{cpu / args.rounds * 1000:.2f} ms CPU of this thread per request")
        print(profiler.output_text(unicode=True, color=False, show_all=args.all))
    finally:
        running.stop()


if __name__ == "__main__":
    main()

"""A broadcast to 10 000 people: time from `POST /broadcasts` until every inbox entry is written.

    .venv/bin/python -m bench.notifications_broadcast [--recipients 10000] [--backend postgres|sqlite]

Starts the suite (PostgreSQL by default), fills the notifications directory with that many merchants
(as `account.registered` would), then an admin broadcasts to the merchant role over HTTP. Prints the
HTTP answer time, the time until the broadcast is `done` with every entry written, and the row count.
"""
from __future__ import annotations

import argparse
import time

from sqlalchemy import func, insert, select

from services.notifications.models import Broadcast, InboxEntry, Recipient
from tests.support.suite import RunningSuite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--backend", default="postgres", choices=["postgres", "sqlite"])
    args = parser.parse_args()
    suite = RunningSuite(args.backend).start()
    try:
        db = suite.database("notifications")
        first = 80_000_000
        with db.transaction() as session:
            for start in range(0, args.recipients, 2000):
                session.execute(insert(Recipient), [
                    {"user_id": first + i, "username": f"shop{i}", "display_name": f"好店家 {i}",
                     "locale": "en" if i % 5 == 0 else "zh-CN", "timezone": "Asia/Shanghai",
                     "roles": ["merchant"], "grids": [], "groups": [], "active": True}
                    for i in range(start, min(start + 2000, args.recipients))])
        admin = suite.user(roles=["admin"])
        started = time.perf_counter()
        response = admin.post("/broadcasts", json={
            "title": "台风“普拉桑”预警", "body": "请今晚 18:00 前检查店招、收起外摆,最近的避难点见附近驿站。",
            "severity": "critical", "audience": [{"kind": "role", "role": "merchant"}]})
        answered = time.perf_counter() - started
        response.raise_for_status()
        broadcast = response.json()
        deadline = time.monotonic() + 120
        while True:
            with db.read() as session:
                state = session.scalar(select(Broadcast.state).where(Broadcast.id == broadcast["id"]))
            if state == "done":
                break
            if time.monotonic() > deadline:
                raise SystemExit("the fan-out did not finish within 2 minutes")
            time.sleep(0.02)
        finished = time.perf_counter() - started
        with db.read() as session:
            written = session.scalar(select(func.count()).select_from(InboxEntry)
                                     .where(InboxEntry.source_key == f"broadcast:{broadcast['id']}"))
        print(f"broadcast to {broadcast['targeted']} recipients ({args.backend}, loopback)")
        print(f"  POST /broadcasts answered in {answered * 1000:7.0f} ms (audience resolved, stored)")
        print(f"  every inbox entry written in {finished:7.2f} s   (goal ≤ 10 s)")
        print(f"  inbox entries written: {written}")
    finally:
        suite.stop()


if __name__ == "__main__":
    main()

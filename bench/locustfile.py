"""The users of the load test (bench/load_test.py starts locust with this file; not run alone).

Each simulated user is a resident signed in as a seeded account (BENCH_LOAD_SEED names the JSON file the
load test wrote): mostly looking at a space's availability and reading their inbox, sometimes booking an
hour of their own, claiming a charity item for riders or reporting a problem in their grid. Every answer is
counted by operation and status into BENCH_LOAD_STATUSES when locust stops; a 5xx fails its request.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta

from locust import HttpUser, between, events, task

SEED = json.loads(open(os.environ["BENCH_LOAD_SEED"], encoding="utf-8").read())
STATUSES: Counter = Counter()
_numbers = itertools.count()
_lock = threading.Lock()


@events.request.add_listener
def _count(request_type, name, response, exception, **_):
    status = getattr(response, "status_code", None) or type(exception).__name__
    STATUSES[f"{name} {status}"] += 1


@events.quitting.add_listener
def _write(environment, **_):
    with open(os.environ["BENCH_LOAD_STATUSES"], "w", encoding="utf-8") as handle:
        json.dump(dict(STATUSES), handle)


class Resident(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        with _lock:
            self.number = next(_numbers)
        account = SEED["accounts"][self.number % len(SEED["accounts"])]
        self.client.headers["Authorization"] = f"Bearer {account['token']}"
        self.slot = 0
        self.day = datetime.fromisoformat(SEED["day"])

    def _send(self, method: str, path: str, name: str, ok: tuple[int, ...], **kwargs):
        with self.client.request(method, "/api/v1" + path, name=name, catch_response=True, **kwargs) as response:
            if response.status_code in ok:
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(4)
    def availability(self):
        space = random.choice(SEED["rooms"])
        start = self.day + timedelta(days=random.randrange(14))
        self._send("GET", f"/spaces/{space}/availability", "availability", (200,),
                   params={"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()})

    @task(3)
    def inbox(self):
        self._send("GET", "/notifications", "inbox", (200,), params={"limit": 20})

    @task(2)
    def booking(self):
        # Each user walks hours of their own on the shared pool: every booking is real and fits.
        start = self.day + timedelta(hours=self.slot * SEED["users"] + self.number)
        self.slot += 1
        self._send("POST", "/bookings", "booking", (201,), headers={"Idempotency-Key": uuid.uuid4().hex},
                   json={"space_id": SEED["pool"], "starts_at": start.isoformat(),
                         "ends_at": (start + timedelta(hours=1)).isoformat()})

    @task(1)
    def claim(self):
        # 409 when this period's units are gone or the person reached their limit: an answer, not an error.
        self._send("POST", f"/pledges/{random.choice(SEED['items'])}/claims", "charity claim", (201, 409), json={})

    @task(1)
    def report(self):
        self._send("POST", "/actions", "action report", (201,), headers={"Idempotency-Key": uuid.uuid4().hex},
                   json={"title": f"井盖松动 {uuid.uuid4().hex[:6]}", "category": SEED["category"],
                         "grid_id": SEED["grid"], "location": "新华路 211 号"})

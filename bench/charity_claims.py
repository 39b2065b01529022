"""100 people claim the same charity item at the same moment, over HTTP, against the suite on PostgreSQL.

    .venv/bin/python -m bench.charity_claims [--claimants 100] [--stock 10] [--rounds 3] [--shared-broker]

Starts the suite (tests.support.suite.RunningSuite, PostgreSQL; by default with a RabbitMQ node of its own,
bench/suite.py), seeds a grid tree with an approved shop and one signed-in rider account per claimant. For
reference, 20 of them first claim an item of 20 units one after another (a claim's own time, no queue in
front of it). Then for each round it registers a fresh item for riders with `--stock` units (one per person)
and has every claimant — one thread each, having looked at the item first, as a person on its page would,
then on a new connection — press "claim" at once: the threads wait on a barrier and send
`POST /pledges/{id}/claims` when it releases. Records the time from the release until the last answer, each
request's latency (p50, p99), the answers by status, and checks in the volunteers database that exactly
`--stock` claims exist for the item and that its stock row says `--stock` taken.
Bounded: the accounts' sign-ins (a minute or two on a busy machine), seconds per round, the suite's stop.
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections import Counter

from sqlalchemy import func, select

from bench.report import report
from bench.suite import running
from tests.support.suite import RunningSuite


def seed(suite: RunningSuite, claimants: int) -> dict:
    from tests.charity.support import coordinator, grid_tree, open_shop, users

    grids = grid_tree(suite)
    owner = suite.user(roles=["resident", "merchant"])
    shop = open_shop(suite, owner, grids["lane"], coordinator(suite, grids["north"]))
    return {"owner": owner, "shop": shop, "claimants": users(suite, claimants, roles=["resident"], groups=["rider"])}


def one_round(suite: RunningSuite, world: dict, stock: int, together: bool = True, count: int | None = None) -> dict:
    """`count` claimants (all by default) claim a fresh item with `stock` units: all at once, or one after
    another (`together=False`, the reference: a claim's own time without a queue in front of it)."""
    from services.volunteers.charity.models import CharityItemStock, Claim
    from tests.charity.support import register_pledge

    item = register_pledge(world["owner"], world["shop"]["id"], title="骑手免费午餐", stock=stock, per_person_limit=1)
    path = f"/pledges/{item['id']}/claims"
    claimants = world["claimants"][:count]
    for client in claimants:  # each person has the item's page open (the gateway has checked their session)
        client.get(f"/pledges/{item['id']}").raise_for_status()
        # and presses "claim" on a connection of its own: a kept-alive one may be closed by the server (its
        # keep-alive is 2 s) just as the request goes out, and a POST is not sent again.
        client.session.close()
    barrier = threading.Barrier(len(claimants) + 1) if together else None
    answers: list[tuple[int, float, float] | None] = [None] * len(claimants)
    unexpected: list[str] = []

    def press(n: int) -> None:
        if barrier is not None:
            barrier.wait()
        sent = time.perf_counter()
        try:
            response = claimants[n].post(path, json={}, timeout=60)
            status = response.status_code
            if status not in (201, 409):
                unexpected.append(f"{status} {response.text[:160]}")
        except Exception as exc:  # noqa: BLE001 - a refused or timed-out connection counts as an answer of its own
            status = 0
            unexpected.append(f"no answer: {type(exc).__name__}")
        done = time.perf_counter()
        answers[n] = (status, sent, done)

    if together:
        threads = [threading.Thread(target=press, args=(n,)) for n in range(len(claimants))]
        for thread in threads:
            thread.start()
        barrier.wait()
        released = time.perf_counter()
        for thread in threads:
            thread.join(120)
    else:
        released = time.perf_counter()
        for n in range(len(claimants)):
            press(n)
    statuses = Counter(a[0] for a in answers if a)
    latencies = sorted((a[2] - a[1]) * 1000 for a in answers if a)
    with suite.database("volunteers").read() as session:
        claims = session.scalar(select(func.count()).select_from(Claim).where(Claim.pledge_id == item["id"]))
        taken = session.scalar(select(func.sum(CharityItemStock.taken)).where(CharityItemStock.pledge_id == item["id"]))
    return {"all": (max(a[2] for a in answers if a) - released) * 1000, "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))], "statuses": statuses,
            "claims": claims, "taken": taken or 0, "unexpected": unexpected, "stock": stock, "count": len(claimants)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claimants", type=int, default=100)
    parser.add_argument("--stock", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shared-broker", action="store_true",
                        help="a vhost on the machine's RabbitMQ instead of a node of the benchmark's own")
    args = parser.parse_args()
    with running(private_broker=not args.shared_broker) as (suite, _rabbit):
        world = seed(suite, args.claimants)
        alone = min(20, args.claimants)
        results = [one_round(suite, world, alone, together=False, count=alone)]
        results += [one_round(suite, world, args.stock) for _ in range(args.rounds)]
        log = suite.log()
    broker = "a vhost on the machine's RabbitMQ" if args.shared_broker else "a RabbitMQ node of its own"
    rows = []
    for n, r in enumerate(results):
        s = r["statuses"]
        server_errors = sum(k for status, k in s.items() if status >= 500)
        other = sum(k for status, k in s.items() if status not in (201, 409) and status < 500)
        exact = r["claims"] == r["stock"] == r["taken"] == s[201]
        rows.append([f"{n}: {r['count']} at once, {r['stock']} units" if n else
                     f"reference: {r['count']} one after another, {r['stock']} units", f"{r['all']:.0f}", f"{r['p50']:.0f}", f"{r['p99']:.0f}", s[201], s[409], other, server_errors,
                     f"{r['claims']} / {r['taken']}", "yes" if exact else "no"])
    report("charity-claims", f"{args.claimants} people claim one item with {args.stock} units at the same moment "
                             f"(HTTP, PostgreSQL; milliseconds)",
           ["round", "all answered", "p50", "p99", "201", "409", "other", "5xx", "claims / taken in the database",
            "exactly the stock"], rows,
           [f"{args.claimants} distinct rider accounts, one thread each, released by a barrier; each had fetched the "
            "item first, and opens a new connection for its claim; \"all answered\" runs from the release to the "
            "last answer",
            f"broker: {broker}; "
            "gateway: 2 gunicorn workers × 8 threads (the suite's default), so at most 16 claims are in the "
            "gateway at once and the rest wait in its accept queue; per person limit 1",
            f"the suite's log: {log.count('Traceback')} tracebacks, {log.count('too many clients')} lines of "
            "PostgreSQL refusing a connection",
            *[f"round {n}, other answers: " + "; ".join(sorted(set(r["unexpected"])))
              for n, r in enumerate(results) if r["unexpected"]]])


if __name__ == "__main__":
    main()

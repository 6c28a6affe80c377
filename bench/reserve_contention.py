"""Reservations under contention: reservations/s and p50/p99 latency through `reserving.reserve`.

    python bench/reserve_contention.py                       # both databases, 3 s per scenario
    python bench/reserve_contention.py --db sqlite --seconds 5
    python bench/reserve_contention.py --quick                # CI smoke, a few seconds

Scenarios: 1, 8 and 32 concurrent clients (threads), low contention (random SKU out of
10,000) and high contention (every client on the same 5 SKUs). Each call reserves one unit
for its own holder; stock is large enough that none is refused, so the figures measure the
lock-and-check path, not refusals. After each database: `app.queries.violations()` must be
[] (I1–I9 including I4: totals rows equal the pending reservations and never exceed stock).
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from datetime import UTC, datetime

import benchlib

from jxc.services import reserving as rs
from jxc.services.posting import SYSTEM


def run(app, world, warehouse_id: int, clients: int, hot: tuple[int, ...] | None, seconds: float) -> dict:
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        barrier.wait()
        n = 0
        while time.perf_counter() < stop:
            product = rng.choice(hot or world.products)
            t0 = time.perf_counter()
            try:
                rs.reserve(app.uow_factory, rs.ReserveRequest(product, warehouse_id, "1", f"bench:{seed}:{n}"),
                           SYSTEM, datetime.now(UTC))
                mine.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
                with lock:
                    errors.append(type(exc).__name__ + ": " + str(exc)[:80])
            n += 1
        with lock:
            latencies.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = benchlib.summarize(latencies, time.perf_counter() - t0)
    out["errors"] = len(errors)
    if errors:
        out["first_error"] = errors[0]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--products", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="CI smoke: 0.5 s per scenario, 1,000 SKUs")
    ap.add_argument("--out", default=str(benchlib.RESULTS / "reserve_contention.json"))
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.products = 0.5, 1_000
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    rows, failed = [], False
    for db in dbs:
        app, _ = benchlib.open_book(db, "jxc_bench_reserve", pool=40)
        print(f"== {db}: seeding {args.products:,} SKUs …", flush=True)
        world = benchlib.seed_world(app, args.products)
        with app.uow() as uow:
            warehouse_id = uow.records.get("locations", world.shelves[0])["warehouse_id"]
        for clients in (1, 8, 32):
            for name, hot in (("low", None), ("high", world.products[:5])):
                r = run(app, world, warehouse_id, clients, hot, args.seconds)
                rows.append({"db": db, "clients": clients, "contention": name, **r})
                print(f"   {clients:>2} clients, {name:<4} contention: {r['rate']:7.0f}/s  p50 {r['p50_ms']:6.2f} ms"
                      f"  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}", flush=True)
                failed |= r["errors"] > 0
        violations = app.queries.violations()
        print(f"   invariant check: {len(violations)} violations")
        failed |= bool(violations)
        app.dispose()
        if db == "postgresql":
            benchlib.drop_pg_database("jxc_bench_reserve")
    benchlib.print_table(rows, [("db", "db", ""), ("clients", "clients", "d"), ("contention", "contention", ""),
                                ("rate", "res/s", ".0f"), ("p50_ms", "p50 ms", ".2f"), ("p99_ms", "p99 ms", ".2f"),
                                ("errors", "errors", "d")])
    benchlib.write_json(__import__("pathlib").Path(args.out), {
        "command": "python bench/reserve_contention.py " + " ".join(sys.argv[1:]), "machine": benchlib.machine(),
        "seconds": args.seconds, "products": args.products, "rows": rows})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Posting throughput: postings/s and p50/p99 latency, the service against a raw-driver baseline.

    python bench/post_throughput.py                 # both databases, 3 s per measurement
    python bench/post_throughput.py --quick         # CI smoke: a few seconds in total
    python bench/post_throughput.py --db sqlite --seconds 5 --rounds 3

Each scenario (1- or 10-line documents × 1 or 8 posters × low or high contention)
is measured for the service (`jxc.services.posting.post`) and for the raw
baseline (`raw_baseline.py`: the same statements on plain sqlite3 / psycopg),
interleaved round by round on the same database, so both see the same data and
the same machine noise. Afterwards `app.queries.violations()` must be empty.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import benchlib
import raw_baseline
from benchlib import Doc, World

from jxc.bootstrap import App
from jxc.services.posting import Actor, post

CLERK = Actor("bench", frozenset({"document.post"}))
HOT = 5  # SKUs every poster hits under high contention
TARGETS = {"sqlite": (1, 0.40), "postgresql": (8, 0.70)}  # posters, minimum service/raw ratio


class ServicePoster:
    def __init__(self, app: App) -> None:
        self.factory = app.uow_factory

    def post(self, doc: Doc, now: datetime) -> int:
        return post(self.factory, benchlib.to_request(doc, now), CLERK, now).posting_id

    def close(self) -> None:
        pass


def measure(make_poster: Callable[[], Any], world: World, lines: int, posters: int,
            hot: tuple[int, ...] | None, seconds: float, seed: int) -> dict[str, Any]:
    """Run ``posters`` threads for ``seconds``; every thread posts with its own poster."""
    start: list[float] = []
    ready = threading.Barrier(posters + 1, action=lambda: start.append(time.perf_counter()))
    out: list[tuple[list[float], Counter[str], float]] = [([], Counter(), 0.0)] * posters

    def worker(i: int) -> None:
        poster, rng = make_poster(), random.Random(seed * 1000 + i)
        lat: list[float] = []
        errors: Counter[str] = Counter()
        for _ in range(5):  # warm up: connections, statement caches, prepared statements
            poster.post(benchlib.make_doc(rng, world, lines, hot), datetime.now(UTC))
        ready.wait()
        deadline = start[0] + seconds
        while time.perf_counter() < deadline:
            doc = benchlib.make_doc(rng, world, lines, hot)
            now = datetime.now(UTC)
            t0 = time.perf_counter()
            try:
                poster.post(doc, now)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors[f"{type(exc).__name__}: {str(exc)[:60]}"] += 1
                continue
            lat.append(time.perf_counter() - t0)
        out[i] = (lat, errors, time.perf_counter())
        poster.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(posters)]
    for t in threads:
        t.start()
    ready.wait()  # the clock starts when every poster has warmed up
    for t in threads:
        t.join()
    wall = max(end for _, _, end in out) - start[0]
    latencies = [x for lat, _, _ in out for x in lat]
    errors = sum((e for _, e, _ in out), Counter())
    return {"latencies": latencies, "wall_s": wall, "errors": dict(errors)}


def scenarios(posters: list[int]) -> list[tuple[int, int, str]]:
    return [(lines, n, contention) for lines in (1, 10) for n in posters for contention in ("low", "high")]


def bench_db(db: str, args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[str]]:
    print(f"\n== {db}: building a fresh book with {args.products} SKUs …", flush=True)
    app, target = benchlib.open_book(db, args.pg_name)
    try:
        world = benchlib.seed_world(app, args.products)
        impls = {"raw": raw_baseline.factory(db, target), "service": lambda: ServicePoster(app)}
        rows = []
        for lines, posters, contention in scenarios(args.posters):
            hot = world.products[:HOT] if contention == "high" else None
            acc = {name: {"latencies": [], "wall_s": 0.0, "errors": Counter()} for name in impls}
            for rnd in range(args.rounds):
                order = list(impls) if rnd % 2 == 0 else list(reversed(impls))
                for name in order:
                    m = measure(impls[name], world, lines, posters, hot, args.seconds, seed=rnd)
                    acc[name]["latencies"] += m["latencies"]
                    acc[name]["wall_s"] += m["wall_s"]
                    acc[name]["errors"].update(m["errors"])
            stats = {name: benchlib.summarize(a["latencies"], a["wall_s"]) for name, a in acc.items()}
            for name in impls:
                rows.append({"db": db, "impl": name, "lines": lines, "posters": posters,
                             "contention": contention, **stats[name],
                             "ratio": stats[name]["rate"] / stats["raw"]["rate"] if stats["raw"]["rate"] else None,
                             "errors": dict(acc[name]["errors"])})
            print(f"   {lines:>2} lines × {posters} posters, {contention:<4} contention: raw "
                  f"{stats['raw']['rate']:7.0f}/s  service {stats['service']['rate']:7.0f}/s  "
                  f"ratio {rows[-1]['ratio'] or 0:.2f}", flush=True)
        found = [f"{v.invariant} {v.subject}: {v.detail}" for v in app.queries.violations()]
        print(f"   invariant check after the run: {len(found)} violations", flush=True)
        return rows, found
    finally:
        app.dispose()
        if db == "postgresql" and not args.keep:
            benchlib.drop_pg_database(args.pg_name)


def verdicts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets: SQLite service ≥ 40 % of raw (1 poster), PostgreSQL ≥ 70 % (8 posters)."""
    out = []
    for r in rows:
        posters, minimum = TARGETS[r["db"]]
        if r["impl"] == "service" and r["posters"] == posters:
            out.append({"db": r["db"], "lines": r["lines"], "posters": posters, "contention": r["contention"],
                        "ratio": r["ratio"], "target": minimum, "met": (r["ratio"] or 0) >= minimum})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=3.0, help="length of one measurement")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved raw/service rounds per scenario")
    ap.add_argument("--posters", default="1,8", help="comma-separated poster (thread) counts")
    ap.add_argument("--products", type=int, default=1000, help="SKUs in the catalogue")
    ap.add_argument("--quick", action="store_true", help="CI smoke: 0.4 s per measurement, 1 round")
    ap.add_argument("--pg-name", default="jxc_bench", help="PostgreSQL database to (re)create")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    ap.add_argument("--out", type=Path, default=benchlib.RESULTS / "post_throughput.json")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds = 0.4, 1
    args.posters = [int(x) for x in args.posters.split(",")]
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    rows: list[dict[str, Any]] = []
    violations: dict[str, list[str]] = {}
    started = time.perf_counter()
    for db in dbs:
        r, violations[db] = bench_db(db, args)
        rows += r
    print()
    benchlib.print_table(rows, [("db", "db", ""), ("impl", "impl", ""), ("lines", "lines", "d"),
                                ("posters", "posters", "d"), ("contention", "contention", ""),
                                ("n", "n", "d"), ("rate", "post/s", ".0f"), ("p50_ms", "p50 ms", ".2f"),
                                ("p99_ms", "p99 ms", ".2f"), ("ratio", "×raw", ".2f")])
    checks = verdicts(rows)
    print()
    for v in checks:
        print(f"target {v['db']:<10} {v['lines']:>2} lines {v['posters']} posters {v['contention']:<4}: "
              f"{v['ratio']:.2f} ≥ {v['target']:.2f}  {'MET' if v['met'] else 'NOT MET'}")
    errors = {f"{r['db']}/{r['impl']}": r["errors"] for r in rows if r["errors"]}
    if errors:
        print("errors:", errors)
    benchlib.write_json(args.out, {
        "benchmark": "post_throughput", "command": " ".join(["python", "bench/post_throughput.py", *sys.argv[1:]]),
        "at": datetime.now(UTC).isoformat(), "machine": benchlib.machine(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "results": rows, "targets": checks, "violations": violations,
        "total_s": time.perf_counter() - started})
    bad = {db: v for db, v in violations.items() if v}
    if bad:
        print("INVARIANT VIOLATIONS:", bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Time travel at scale: `stock_at(T, product)` on a 1,000,000-entry ledger.

    python bench/asof_query.py --entries 1000000          # ~ a few minutes, SQLite
    python bench/asof_query.py --entries 20000 --queries 200   # CI smoke
    python bench/asof_query.py --db postgresql

The ledger is bulk-inserted with SQL (postings, ledger entries, balances, and a
hash-chained audit record per posting), generated so that every invariant holds:
each posting is balanced, physical stock never goes negative, balances equal the
ledger, and the chain verifies. Then a few periods are closed with the real
`close_period` service (snapshots), random (T, product) questions are timed, a
sample of answers is compared with a replay of the generated data, and
`app.queries.violations()` must be empty.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import benchlib
from sqlalchemy import func, select, text

from jxc.services.ports import AuditEntry
from jxc.services.posting import SYSTEM, close_period
from jxc.storage import audit as audit_chain
from jxc.storage.tables import audit_records, balances, books, ledger_entries, postings

LINES = 10  # movements per posting: 2 entries each
COST = Decimal("2.5")
BATCH = 20_000


def generate(world: benchlib.World, n_postings: int, start: datetime, span: timedelta, seed: int):
    """Yield (posting row, entry rows, audit entry); track stock so no shelf goes negative."""
    rng = random.Random(seed)
    stock: dict[tuple[int, int], int] = {}
    times = sorted(start + span * rng.random() for _ in range(n_postings))
    for pid, at in enumerate(times, start=1):
        entries = []
        for line_no, product in enumerate(rng.sample(world.products, LINES), start=1):
            shelf, qty = rng.choice(world.shelves), rng.randint(1, 20)
            if stock.get((shelf, product), 0) >= qty and rng.random() < 0.45:
                src, dst = shelf, world.customer
                stock[(shelf, product)] -= qty
            else:
                src, dst = world.supplier, shelf
                stock[(shelf, product)] = stock.get((shelf, product), 0) + qty
            q, v = Decimal(qty), Decimal(qty) * COST
            for loc, sign in ((src, -1), (dst, 1)):
                entries.append({"posting_id": pid, "line_no": line_no, "product_id": product, "lot_id": 0,
                                "location_id": loc, "status": "available", "qty": sign * q,
                                "unit_cost": COST, "value": sign * v, "effective_at": at})
        header = {"id": pid, "kind": "bulk", "effective_at": at, "posted_at": at, "actor": "bench",
                  "allow_negative": False}
        after = {"kind": "bulk", "effective_at": at.isoformat(), "lines": LINES, "reverses_id": None,
                 "allow_negative": False, "reference": None}
        yield header, entries, AuditEntry("posting.post", "posting", str(pid), "bench", at, None, after)


def bulk_load(app: Any, world: benchlib.World, entries: int, start: datetime, span: timedelta,
              seed: int) -> dict[tuple[int, int], list[tuple[datetime, int]]]:
    """Insert the generated ledger; return per (shelf, product) its movements (for spot checks)."""
    n_postings = max(1, entries // (2 * LINES))
    moves: dict[tuple[int, int], list[tuple[datetime, int]]] = {}
    sums: dict[tuple[int, int], list[Decimal]] = {}
    with app.engine.begin() as conn:
        head = conn.execute(select(books.c.audit_seq, books.c.audit_hash).where(books.c.id == 1)).one()
        seq, prev = head[0], head[1]
        first_id = (conn.execute(select(func.max(postings.c.id))).scalar() or 0)
        heads, rows, audits = [], [], []
        for header, ents, audit_entry in generate(world, n_postings, start, span, seed):
            header["id"] += first_id
            for e in ents:
                e["posting_id"] = header["id"]
                s = sums.setdefault((e["location_id"], e["product_id"]), [Decimal(0), Decimal(0)])
                s[0] += e["qty"]
                s[1] += e["value"]
                if e["location_id"] in world.shelves:
                    moves.setdefault((e["location_id"], e["product_id"]), []).append(
                        (e["effective_at"], int(e["qty"])))
            audit_entry = AuditEntry(audit_entry.action, "posting", str(header["id"]), "bench",
                                     audit_entry.at, None, audit_entry.after)
            seq += 1
            row = audit_chain.row_for(audit_entry, seq, prev)
            prev = row["hash"]
            heads.append(header)
            rows += ents
            audits.append(row)
            if len(rows) >= BATCH:
                _flush(conn, heads, rows, audits)
        _flush(conn, heads, rows, audits)
        _add_to_balances(conn, sums)
        conn.execute(books.update().where(books.c.id == 1).values(audit_seq=seq, audit_hash=prev))
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('postings', 'id'), "
                              "(SELECT max(id) FROM postings))"))
    return moves


def _flush(conn: Any, heads: list, rows: list, audits: list) -> None:
    if heads:
        conn.execute(postings.insert(), heads)
        conn.execute(ledger_entries.insert(), rows)
        conn.execute(audit_records.insert(), audits)
    heads.clear()
    rows.clear()
    audits.clear()


def _add_to_balances(conn: Any, sums: dict[tuple[int, int], list[Decimal]]) -> None:
    """Balances = opening rows already there + Σ generated entries (I1), by SQL increment."""
    from sqlalchemy.dialects import postgresql, sqlite

    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(balances)
    upsert = ins.on_conflict_do_update(
        index_elements=[balances.c.location_id, balances.c.product_id, balances.c.lot_id, balances.c.status],
        set_={"qty": balances.c.qty + ins.excluded.qty, "value": balances.c.value + ins.excluded.value})
    conn.execute(upsert, [{"location_id": loc, "product_id": p, "lot_id": 0, "status": "available",
                           "qty": q, "value": v} for (loc, p), (q, v) in sorted(sums.items())])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--products", type=int, default=2000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--closes", type=int, default=3, help="periods to close (snapshots)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg-name", default="jxc_bench_asof")
    ap.add_argument("--out", type=Path, default=benchlib.RESULTS / "asof_query.json")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    app, _ = benchlib.open_book(args.db, args.pg_name)
    try:
        return run(app, args, started)
    finally:
        app.dispose()
        if args.db == "postgresql":
            benchlib.drop_pg_database(args.pg_name)


def run(app: Any, args: argparse.Namespace, started: float) -> int:
    now = datetime.now(UTC)
    span = timedelta(days=360)
    start = now - span - timedelta(days=1)
    print(f"== {args.db}: seeding {args.products} SKUs, then {args.entries:,} ledger entries …", flush=True)
    world = benchlib.seed_world(app, args.products, opening_qty=0)  # stock comes from generated receipts
    t0 = time.perf_counter()
    moves = bulk_load(app, world, args.entries, start + timedelta(seconds=1), span, args.seed)
    load_s = time.perf_counter() - t0
    with app.engine.connect() as conn:
        n_entries = conn.execute(select(func.count()).select_from(ledger_entries)).scalar()
    print(f"   loaded {n_entries:,} entries in {load_s:.1f} s", flush=True)
    t0 = time.perf_counter()
    for i in range(1, args.closes + 1):
        close_period(app.uow_factory, start + span * i / (args.closes + 1), SYSTEM, now)
    close_s = time.perf_counter() - t0
    print(f"   closed {args.closes} periods in {close_s:.1f} s", flush=True)
    rng = random.Random(args.seed)
    lat, checked, wrong = [], 0, []
    for i in range(args.queries):
        at = start + (span + timedelta(days=1)) * rng.random()
        product = rng.choice(world.products)
        t = time.perf_counter()
        result = app.queries.stock_at(at=at, product_id=product)
        lat.append(time.perf_counter() - t)
        if i % 50 == 0:  # spot check against a replay of what was generated
            checked += 1
            for shelf in world.shelves:
                want = sum(q for when, q in moves.get((shelf, product), []) if when <= at)
                got = sum(a.qty for k, a in result.items() if k.location_id == shelf)
                if got != want:
                    wrong.append(f"product {product} shelf {shelf} at {at}: {got} != {want}")
    stats = benchlib.summarize(lat, sum(lat))
    print(f"   stock_at(T, product): n={stats['n']}  p50 {stats['p50_ms']:.2f} ms  p99 {stats['p99_ms']:.2f} ms "
          f"(target < 10 ms: {'MET' if stats['p99_ms'] < 10 else 'NOT MET'})", flush=True)
    print(f"   spot checks against replay: {checked} questions, {len(wrong)} wrong", flush=True)
    t0 = time.perf_counter()
    found = [f"{v.invariant} {v.subject}: {v.detail}" for v in app.queries.violations()]
    check_s = time.perf_counter() - t0
    print(f"   invariant check: {len(found)} violations ({check_s:.1f} s)", flush=True)
    benchlib.write_json(args.out, {
        "benchmark": "asof_query", "command": " ".join(["python", "bench/asof_query.py", *sys.argv[1:]]),
        "at": now.isoformat(), "machine": benchlib.machine(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "entries": n_entries, "load_s": load_s, "close_s": close_s, "query": stats,
        "target_ms": 10, "met": stats["p99_ms"] < 10, "spot_checks": checked, "wrong": wrong,
        "violations": found, "check_s": check_s, "total_s": time.perf_counter() - started})
    return 1 if (found or wrong) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Chat orders against a real book: catalog build from the database, cache hits, and parse latency.

    python bench/chat_order_db.py                  # SQLite file (WAL), 2,000 SKUs
    python bench/chat_order_db.py --db postgresql  # a throw-away PostgreSQL database (jxc_bench_chat)
    python bench/chat_order_db.py --quick          # 300 SKUs, a few seconds

Seeds 2,000 products (the 246 real SKUs of tests/data/chat_orders/catalog.csv plus the
generated variants of `synthetic_catalog()`), a 箱 conversion on every 10th, a barcode on
every 5th, 200 learned aliases, stock for all, and 50 customers with phones and addresses.
Then, through `services.chat_intake` exactly as the API calls it:
- cold: the first parse, which builds the catalog from the database;
- fingerprint: the per-call `catalog_revision()` statement alone;
- parse: every labelled message (three sets), without and with a warehouse (availability
  per line), p50 / p99 / max — the budget is 50 ms per message;
- rebuild: the first parse after an alias was recorded (the cache is invalidated);
- draft: `draft_order` end to end (parse + `trade.create_order` + customer memory).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import benchlib
from chat_order_eval import DATA, LABELLED_SETS, load_messages, synthetic_catalog

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.domain.ledger import Movement
from jxc.services import chat_intake as ci
from jxc.services import masterdata
from jxc.services.posting import SYSTEM, PostingRequest, post


def open_book(db: str) -> App:
    if db == "sqlite":
        app = build(Settings(data_dir=Path(tempfile.mkdtemp(prefix="jxc-bench-chat-"))))
    else:
        app = build(Settings(database_url=benchlib.fresh_pg_database("jxc_bench_chat")))
    app.create_all()
    return app


def seed(app: App, size: int) -> tuple[int, list[int], list[int]]:
    now = datetime.now(UTC)
    f = app.uow_factory
    wh = masterdata.create(f, "warehouses", {"code": "CWH", "name": "社区店"}, SYSTEM, now)
    shelf = masterdata.create(f, "locations", {"code": "CS-1", "name": "货架", "warehouse_id": wh}, SYSTEM, now)
    catalog = synthetic_catalog(size)
    with app.uow() as uow:
        ids = [uow.records.insert("products", {
            "code": p.sku, "name": p.name, "spec": p.spec or None, "base_unit": p.unit, "tracking": "none",
            "active": True, "version": 1, "updated_at": now}) for p in catalog.products]
        for i, pid in enumerate(ids):
            if i % 10 == 3:
                uow.records.insert("unit_conversions", {"product_id": pid, "unit": "箱", "factor": Decimal(12)})
            if i % 5 == 1:
                uow.records.insert("product_barcodes", {"product_id": pid, "barcode": f"69{i:011d}"})
        opening = uow.records.find("locations", code="V-OPENING")["id"]
        customers = [uow.records.insert("partners", {
            "code": f"C{i:03d}", "name": f"顾客{i}", "role": "customer", "phone": f"139{i:08d}",
            "address": f"阳光花园{i % 9 + 1}栋{100 + i}", "active": True, "version": 1, "updated_at": now})
            for i in range(50)]
        uow.commit()
    for i in range(200):
        ci.record_alias(f, app.chat_catalog, f"暗号{i}", ids[(i * 7) % len(ids)], SYSTEM, now)
    moves = [Movement(pid, Decimal(100), opening, shelf, unit_cost=Decimal(3)) for pid in ids]
    for i in range(0, len(moves), 200):
        post(f, PostingRequest("opening", tuple(moves[i:i + 200]), now), SYSTEM, now)
    return wh, ids, customers


def _stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2),
            "p99_ms": round(ms[max(0, int(len(ms) * 0.99) - 1)], 2), "max_ms": round(ms[-1], 2)}


def run(db: str, size: int, rounds: int) -> dict:
    app = open_book(db)
    try:
        wh, ids, customers = seed(app, size)
        f, now = app.uow_factory, datetime.now(UTC)
        texts = [r["text"] for name in LABELLED_SETS if (DATA / name).exists() for r in load_messages(DATA / name)]
        cache = ci.ChatCatalog()
        started = time.perf_counter()
        ci.parse_message(f, cache, texts[0], SYSTEM, now)
        cold_ms = (time.perf_counter() - started) * 1000
        fingerprint = []
        for _ in range(200):
            with app.uow() as uow:
                started = time.perf_counter()
                uow.chat.catalog_revision()
                fingerprint.append((time.perf_counter() - started) * 1000)
        result = {"db": db, "skus": size, "cold_build_ms": round(cold_ms, 1),
                  "fingerprint": _stats(fingerprint)}
        for label, warehouse in (("parse", None), ("parse_with_availability", wh)):
            timings = []
            for _ in range(rounds):
                for text in texts:
                    started = time.perf_counter()
                    ci.parse_message(f, cache, text, SYSTEM, now, warehouse)
                    timings.append((time.perf_counter() - started) * 1000)
            result[label] = _stats(timings)
        rebuilds = []
        for i in range(3):
            ci.record_alias(f, ci.ChatCatalog(), f"新暗号{i}", ids[i], SYSTEM, now)  # another process's cache
            started = time.perf_counter()
            ci.parse_message(f, cache, texts[i], SYSTEM, now)
            rebuilds.append((time.perf_counter() - started) * 1000)
        result["rebuild_after_alias"] = _stats(rebuilds)
        drafts = []
        for i, text in enumerate(t for t in texts if "蓝莓" in t):
            if i >= 30:
                break
            started = time.perf_counter()
            ci.draft_order(f, cache, ci.ChatOrderInput(text, wh, customers[i % len(customers)]), SYSTEM, now)
            drafts.append((time.perf_counter() - started) * 1000)
        result["draft_order"] = _stats(drafts)
        result["catalog_builds"] = cache.builds
        return result
    finally:
        app.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--skus", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    size = 300 if args.quick else args.skus
    result = run(args.db, size, args.rounds)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if not args.quick:
        benchlib.RESULTS.mkdir(exist_ok=True)
        (benchlib.RESULTS / f"chat_order_db.{args.db}.json").write_text(json.dumps(result, indent=1))
    return 0 if result["parse_with_availability"]["p99_ms"] < 50 else 1


if __name__ == "__main__":
    sys.exit(main())

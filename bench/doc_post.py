"""Document posting latency — `documents.submit` of sales deliveries and purchase receipts, one poster.

    python bench/doc_post.py --db sqlite --docs 400 --lines 3
    PYTHONPATH=/path/to/other/checkout/src python bench/doc_post.py ...   # the same on other code

`bench/post_throughput.py` posts through `services.posting.post` (the ledger alone); this one goes
through the document lifecycle — create the draft, then time `documents.submit`, the transaction
that posts the ledger, balances, money owed, audit, outbox and (since the summary projection)
the report_sums rows. Only APIs that existed before the projection are used, so the same script
measures the code before and after it: run it once per checkout, alternating, and compare.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jxc.bootstrap import build
from jxc.config import Settings
from jxc.domain.documents import DocumentKind as K
from jxc.services import documents as docs
from jxc.services import masterdata
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor

BOSS = Actor("bench", frozenset({"*"}), role="owner")
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def book(db: str):
    if db == "sqlite":
        app = build(Settings(data_dir=Path(tempfile.mkdtemp(prefix="jxc-bench-doc-"))))
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from benchlib import fresh_pg_database

        app = build(Settings(database_url=fresh_pg_database("jxc_bench_doc_post")))
    app.create_all()
    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--docs", type=int, default=400, help="documents posted (timed)")
    ap.add_argument("--lines", type=int, default=3)
    ap.add_argument("--products", type=int, default=200)
    ap.add_argument("--label", default="", help="a name for this checkout in the output")
    args = ap.parse_args()
    app = book(args.db)
    f, rng = app.uow_factory, random.Random(5)
    wh = masterdata.create(f, "warehouses", {"code": "BW", "name": "仓"}, SYSTEM, START)
    masterdata.create(f, "locations", {"code": "B-01", "name": "货架", "warehouse_id": wh}, SYSTEM, START)
    cus = [masterdata.create(f, "partners", {"code": f"BC{i}", "name": f"客户{i}", "role": "customer"}, SYSTEM, START)
           for i in range(20)]
    sup = masterdata.create(f, "partners", {"code": "BS", "name": "供应商", "role": "supplier"}, SYSTEM, START)
    prods = [masterdata.create(f, "products", {"code": f"BP{i}", "name": f"商品{i}", "base_unit": "个"}, SYSTEM,
                               START) for i in range(args.products)]
    opening = docs.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, wh, tuple(LineInput(p, "100000", unit_price="2")
                                                                             for p in prods),
                                              effective_at=START, partner_id=sup), BOSS, START)
    docs.submit(f, opening, BOSS, START)
    lat: dict[str, list[float]] = {"sales_delivery": [], "purchase_receipt": []}
    for i in range(args.docs):
        at = START + timedelta(minutes=7 * i)
        kind = K.SALES_DELIVERY if i % 4 else K.PURCHASE_RECEIPT
        lines = tuple(LineInput(p, str(rng.randint(1, 5)), unit_price="3.5") for p in rng.sample(prods, args.lines))
        partner = rng.choice(cus) if kind is K.SALES_DELIVERY else sup
        draft = docs.create_draft(f, DraftInput(kind, wh, lines, effective_at=at, partner_id=partner), BOSS, at)
        t = time.perf_counter()
        docs.submit(f, draft, BOSS, at)
        lat[kind.value].append(time.perf_counter() - t)
    out = {"label": args.label, "args": vars(args)}
    for kind, xs in lat.items():
        xs.sort()
        out[kind] = {"n": len(xs), "mean_ms": statistics.fmean(xs) * 1000, "p50_ms": xs[len(xs) // 2] * 1000,
                     "p90_ms": xs[int(len(xs) * 0.9)] * 1000}
    print(json.dumps(out))
    app.dispose()


if __name__ == "__main__":
    main()

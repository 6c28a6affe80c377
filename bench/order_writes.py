"""Order write cost — sales orders created, confirmed and delivered through the services, one clerk.

    python bench/order_writes.py --orders 300               # SQLite file (WAL)
    python bench/order_writes.py --db postgresql --orders 300

What the order-fulfilment projection (order_sums) costs the writer: each order is created (draft),
confirmed (reserves 3 lines) and delivered in two deliveries (half, then the rest), all through
`services.trade` on a fresh book with 100 SKUs in stock and 50 customers; p50 / p99 per step and
orders per second. Run it on two checkouts to compare.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import RESULTS, fresh_pg_database, machine, percentile, print_table, write_json  # noqa: E402

from jxc.bootstrap import build  # noqa: E402
from jxc.config import Settings  # noqa: E402
from jxc.domain.documents import DocumentKind as K  # noqa: E402
from jxc.services import documents as docs  # noqa: E402
from jxc.services import masterdata, trade  # noqa: E402
from jxc.services.doc_rules import DraftInput, LineInput  # noqa: E402
from jxc.services.posting import SYSTEM, Actor  # noqa: E402

BOSS = Actor("bench", frozenset({"*"}), role="owner")
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--orders", type=int, default=300)
    args = ap.parse_args()
    if args.db == "sqlite":
        app = build(Settings(data_dir=Path(tempfile.mkdtemp(prefix="jxc-bench-orders-"))))
    else:
        app = build(Settings(database_url=fresh_pg_database("jxc_bench_orders")))
    app.create_all()
    f, rng = app.uow_factory, random.Random(5)
    wh = masterdata.create(f, "warehouses", {"code": "W1", "name": "仓"}, SYSTEM, START)
    masterdata.create(f, "locations", {"code": "L1", "name": "货架", "warehouse_id": wh}, SYSTEM, START)
    prods = [masterdata.create(f, "products", {"code": f"P{i:03d}", "name": f"商品{i}", "base_unit": "个"}, SYSTEM,
                               START) for i in range(100)]
    cus = [masterdata.create(f, "partners", {"code": f"C{i:02d}", "name": f"客户{i}", "role": "customer"}, SYSTEM,
                             START) for i in range(50)]
    stock = docs.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, wh, tuple(LineInput(p, "1000000", unit_price="1")
                                                                          for p in prods)), BOSS, START)
    docs.submit(f, stock, BOSS, START)
    steps: dict[str, list[float]] = {"create": [], "confirm": [], "deliver half": [], "deliver rest": []}
    t0 = time.perf_counter()
    for i in range(args.orders):
        now = START + timedelta(minutes=7 * i)
        lines = [trade.OrderLineInput(p, str(rng.randint(2, 10)), unit_price="3") for p in rng.sample(prods, 3)]
        t = time.perf_counter()
        oid = trade.create_order(f, "sales", rng.choice(cus), wh, lines, BOSS, now)
        steps["create"].append(time.perf_counter() - t)
        t = time.perf_counter()
        trade.confirm_order(f, oid, BOSS, now)
        steps["confirm"].append(time.perf_counter() - t)
        t = time.perf_counter()
        trade.deliver(f, oid, {1: "1", 2: "1", 3: "1"}, BOSS, now)
        steps["deliver half"].append(time.perf_counter() - t)
        t = time.perf_counter()
        trade.deliver(f, oid, None, BOSS, now)
        steps["deliver rest"].append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    violations = app.queries.violations()
    rows = [{"step": k, "p50_ms": percentile(sorted(v), 0.5) * 1000, "p99_ms": percentile(sorted(v), 0.99) * 1000}
            for k, v in steps.items()]
    print_table(rows, [("step", "step", ""), ("p50_ms", "p50 ms", ".1f"), ("p99_ms", "p99 ms", ".1f")])
    print(f"{args.orders} orders in {total:.1f} s: {args.orders / total:.1f} orders/s (create, confirm, 2 deliveries); "
          f"violations after: {len(violations)}")
    write_json(RESULTS / f"order_writes.{args.db}.json", {"args": vars(args), "orders_per_s": args.orders / total,
                                                          "steps": rows, "violations": len(violations),
                                                          "machine": machine()})
    app.dispose()
    if violations:
        raise SystemExit(f"invariant check failed: {violations[:3]}")


if __name__ == "__main__":
    main()

"""Report latency on a busy shop's history — `services/reports.py` over bulk-loaded documents.

    python bench/reports.py --days 30 --per-day 3000            # SQLite (scaled-down 2-year shape)
    python bench/reports.py --db postgresql --days 30 --per-day 3000
    python bench/reports.py --days 2 --per-day 200 --queries 5   # smoke

BULK LOAD (marked): the data set is written straight through the driver with executemany
(SQLAlchemy Core inserts into documents, document_lines, postings, ledger_entries, orders and
order_lines), NOT through the posting services — posting 2 million documents one by one would
take hours on this machine. After the load the report projections are rebuilt (PROJECTION REBUILD,
marked), as the migration does for an existing book. The rows have the shape the services write (posted deliveries,
receipts and returns with a posting each; two ledger entries per line, COGS at the customer
location; sales / purchase orders with delivered quantities). Balances and the audit chain are
not written, so `jxc check` on a bench book reports violations by design; the benchmark
measures read queries only.

Per day: ``per-day`` sales orders of 3 lines, each delivered by one delivery (1 in 100 later
returned), ``per-day`` / 10 purchase receipts of 5 lines against purchase orders.
Then each report is timed ``--queries`` times per grouping, over a random one-month window
(the everyday question) and over the whole history (the worst case), page size 50.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import RESULTS, fresh_pg_database, machine, percentile, print_table, write_json  # noqa: E402

from jxc.bootstrap import build  # noqa: E402
from jxc.config import Settings  # noqa: E402
from jxc.services import reports  # noqa: E402
from jxc.services.posting import Actor  # noqa: E402
from jxc.storage.tables import document_lines, documents, ledger_entries, postings  # noqa: E402
from jxc.storage.tables_trade import order_lines, orders  # noqa: E402

BOSS = Actor("bench", frozenset({"*"}), role="owner")
START = datetime(2024, 11, 1, 1, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")  # ReportFilter's default utc_offset_minutes (480)


def build_book(db: str) -> tuple[object, str]:
    if db == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="jxc-bench-reports-"))
        app = build(Settings(data_dir=tmp))
    else:
        app = build(Settings(database_url=fresh_pg_database("jxc_bench_reports")))
    app.create_all()  # schema from tables.py, with the report indexes
    return app, db


def seed_master(app, n_products: int, n_customers: int, n_suppliers: int) -> dict[str, object]:
    now = START
    with app.uow() as uow:
        wh = uow.records.insert("warehouses", {"code": "RWH", "name": "报表仓", "kind": "warehouse", "active": True,
                                               "version": 1, "updated_at": now})
        shelf = uow.records.insert("locations", {"code": "R-01", "name": "货架", "kind": "physical",
                                                 "warehouse_id": wh, "active": True, "version": 1, "updated_at": now})
        prods = [uow.records.insert("products", {"code": f"R{i:05d}", "name": f"商品{i}", "base_unit": "个",
                                                 "tracking": "none", "active": True, "version": 1,
                                                 "updated_at": now}) for i in range(n_products)]
        cus = [uow.records.insert("partners", {"code": f"C{i:04d}", "name": f"客户{i}", "role": "customer",
                                               "active": True, "version": 1, "updated_at": now})
               for i in range(n_customers)]
        sup = [uow.records.insert("partners", {"code": f"S{i:03d}", "name": f"供应商{i}", "role": "supplier",
                                               "active": True, "version": 1, "updated_at": now})
               for i in range(n_suppliers)]
        virtual = {k: uow.records.find("locations", code=k)["id"] for k in ("V-SUPPLIER", "V-CUSTOMER")}
        uow.commit()
    return {"wh": wh, "shelf": shelf, "products": prods, "customers": cus, "suppliers": sup, **virtual}


class Loader:
    """BULK LOAD through the driver (executemany), ids assigned here; flushed every day."""

    def __init__(self, app) -> None:
        self.app = app
        self.ids = {"doc": 0, "line": 0, "posting": 0, "entry": 0, "order": 0, "oline": 0}
        self.rows: dict[str, list[dict]] = {t: [] for t in ("documents", "document_lines", "postings",
                                                            "ledger_entries", "orders", "order_lines")}

    def next(self, k: str) -> int:
        self.ids[k] += 1
        return self.ids[k]

    def order(self, kind: str, partner: int, wh: int, at: datetime, lines: list[tuple[int, Decimal, Decimal]],
              done: bool) -> list[int]:
        oid = self.next("order")
        self.rows["orders"].append({"id": oid, "kind": kind, "number": f"{'XS' if kind == 'sales' else 'CG'}{oid}",
                                    "state": "done" if done else "partial", "partner_id": partner, "warehouse_id": wh,
                                    "needed_on": at + timedelta(days=1), "remark": None, "version": 1,
                                    "created_by": "bench", "created_at": at, "updated_at": at})
        out = []
        for n, (p, q, price) in enumerate(lines, 1):
            lid = self.next("oline")
            out.append(lid)
            self.rows["order_lines"].append({"id": lid, "order_id": oid, "line_no": n, "product_id": p, "unit": "个",
                                             "qty": q, "qty_base": q, "qty_done": q if done else q / 2,
                                             "unit_price": price, "reservation_id": None, "shortage": Decimal(0)})
        return out

    def document(self, kind: str, partner: int, wh: int, at: datetime, lines: list[tuple], src: int, dst: int,
                 source_doc: int | None = None) -> int:
        pid, did = self.next("posting"), self.next("doc")
        prefix = {"sales_delivery": "XSCK", "purchase_receipt": "CGRK", "sales_return": "XSTH"}[kind]
        self.rows["postings"].append({"id": pid, "kind": kind, "effective_at": at, "posted_at": at, "actor": "bench",
                                      "reverses_id": None, "idempotency_key": None, "request_hash": None,
                                      "allow_negative": False, "reference": f"{prefix}{did}", "remark": None})
        self.rows["documents"].append({
            "id": did, "kind": kind, "number": f"{prefix}{did}", "state": "posted", "warehouse_id": wh,
            "to_warehouse_id": None, "partner_id": partner, "effective_at": at, "remark": None, "reason_code": None,
            "reason_text": None, "source_document_id": source_doc, "posting_id": pid, "reversal_posting_id": None,
            "allow_negative": False, "approval_level": 0, "approval_plan": None, "idempotency_key": None,
            "version": 2, "created_by": "bench", "created_at": at, "updated_by": "bench", "updated_at": at,
            "submitted_at": None, "reminder_level": 0})
        for n, (p, q, price, unit_cost, order_line) in enumerate(lines, 1):
            self.rows["document_lines"].append({
                "id": self.next("line"), "document_id": did, "line_no": n, "product_id": p, "unit": "个", "qty": q,
                "qty_base": q, "lot_id": 0, "unit_price": price, "location_id": None, "to_location_id": None,
                "role": "", "from_status": "available", "to_status": None, "source_line_no": None,
                "order_line_id": order_line, "reservation_id": None, "remark": None})
            value = (q * unit_cost).quantize(Decimal("0.0001"))
            for loc, sign in ((src, -1), (dst, 1)):
                self.rows["ledger_entries"].append({
                    "id": self.next("entry"), "posting_id": pid, "line_no": n, "product_id": p, "lot_id": 0,
                    "location_id": loc, "status": "available", "qty": sign * q, "unit_cost": unit_cost,
                    "value": sign * value, "effective_at": at})
        return did

    def flush(self) -> int:
        tables = {"postings": postings, "documents": documents, "document_lines": document_lines,
                  "ledger_entries": ledger_entries, "orders": orders, "order_lines": order_lines}
        n = 0
        with self.app.engine.begin() as conn:
            for name in ("postings", "documents", "document_lines", "ledger_entries", "orders", "order_lines"):
                if self.rows[name]:
                    conn.execute(tables[name].insert(), self.rows[name])
                    n += len(self.rows[name])
                    self.rows[name] = []
        return n


def load(app, m: dict, days: int, per_day: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    ld = Loader(app)
    prices = {p: Decimal(rng.randint(100, 5000)) / 100 for p in m["products"]}
    total = 0
    for day in range(days):
        base = START + timedelta(days=day)
        for i in range(per_day // 10):  # purchase orders, received in one receipt
            at = base + timedelta(seconds=rng.randint(0, 12 * 3600))
            sup = rng.choice(m["suppliers"])
            lines = [(p, Decimal(rng.randint(10, 100)), (prices[p] * Decimal("0.6")).quantize(Decimal("0.01")))
                     for p in rng.sample(m["products"], 5)]
            ol = ld.order("purchase", sup, m["wh"], at, lines, done=i % 7 != 0)
            ld.document("purchase_receipt", sup, m["wh"], at, [(p, q, c, c, o) for (p, q, c), o in zip(lines, ol,
                                                                                                      strict=True)],
                        m["V-SUPPLIER"], m["shelf"])
        for i in range(per_day):  # sales orders, each delivered once; 1 % returned
            at = base + timedelta(seconds=rng.randint(0, 14 * 3600))
            cus = rng.choice(m["customers"])
            lines = [(p, Decimal(rng.randint(1, 6)), prices[p]) for p in rng.sample(m["products"], 3)]
            ol = ld.order("sales", cus, m["wh"], at, lines, done=i % 20 != 0)
            cost = [(prices[p] * Decimal("0.6")).quantize(Decimal("0.000001")) for p, _, _ in lines]
            did = ld.document("sales_delivery", cus, m["wh"], at,
                              [(p, q, pr, c, o) for (p, q, pr), c, o in zip(lines, cost, ol, strict=True)],
                              m["shelf"], m["V-CUSTOMER"])
            if i % 100 == 0:
                p, q, pr = lines[0]
                ld.document("sales_return", cus, m["wh"], at + timedelta(hours=2), [(p, Decimal(1), pr, cost[0], None)],
                            m["V-CUSTOMER"], m["shelf"], source_doc=did)
        total += ld.flush()
        if (day + 1) % 10 == 0:
            print(f"  day {day + 1}/{days}: {total:,} rows", flush=True)
    return total


CASES = [("sales_summary", "product"), ("sales_summary", "partner"), ("sales_summary", "day"),
         ("purchase_summary", "partner"), ("gross_profit", "product"), ("gross_profit", "partner"),
         ("gross_profit", "document"), ("gross_profit", "month"), ("purchase_fulfilment", "partner"),
         ("sales_fill_rate", "product"), ("sales_fill_rate", "partner"), ("sales_fill_rate", "day"),
         ("sales_fill_rate", "product", "partner_id"), ("sales_fill_rate", "partner", "product_id")]
# a third element: filter on one random customer / product (fill rate: the live query, crossing dimensions)


def measure(app, m: dict, days: int, queries: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for name, by, *only in CASES:
        for window in ("month", "all"):
            lat = []
            for _ in range(queries):
                one = {k: rng.choice(m["customers"] if k == "partner_id" else m["products"]) for k in only}
                if window == "month":
                    day = (START + timedelta(days=rng.randint(0, max(0, days - 30)))).astimezone(ZONE).date()
                    start = datetime.combine(day, datetime.min.time(), tzinfo=ZONE)  # a date range, as the report page asks
                    flt = reports.ReportFilter(start, start + timedelta(days=30), **one)
                else:
                    flt = reports.ReportFilter(**one)
                t = time.perf_counter()
                page = reports.run(app.queries, BOSS, name, by, flt, 0, 50)
                lat.append(time.perf_counter() - t)
                assert page["items"] or one, (name, by, window)
            lat.sort()
            out.append({"report": name, "by": by + "".join(f" ({k})" for k in only), "window": window, "n": len(lat),
                        "p50_ms": percentile(lat, 0.5) * 1000, "p99_ms": percentile(lat, 0.99) * 1000})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--per-day", type=int, default=3000)
    ap.add_argument("--products", type=int, default=2000)
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--queries", type=int, default=20)
    args = ap.parse_args()
    app, db = build_book(args.db)
    m = seed_master(app, args.products, args.customers, 20)
    t = time.perf_counter()
    rows = load(app, m, args.days, args.per_day)
    load_s = time.perf_counter() - t
    # PROJECTION REBUILD (marked): the bulk load wrote orders straight into their tables, past the
    # trade repository that keeps order_sums; rebuild it as the migration does for an existing book.
    t = time.perf_counter()
    rebuilt = app.rebuild_reports()
    rebuild_s = time.perf_counter() - t
    if db == "postgresql":
        with app.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(f"BULK loaded {rows:,} rows ({args.days} days × {args.per_day} orders/day) in {load_s:.1f} s")
    print(f"REBUILT report projections {rebuilt} in {rebuild_s:.1f} s")
    results = measure(app, m, args.days, args.queries)
    print_table(results, [("report", "report", ""), ("by", "by", ""), ("window", "window", ""),
                          ("p50_ms", "p50 ms", ".1f"), ("p99_ms", "p99 ms", ".1f")])
    write_json(RESULTS / f"reports.{db}.json", {"args": vars(args), "rows": rows, "load_s": load_s,
                                                "rebuilt": rebuilt, "rebuild_s": rebuild_s,
                                                "machine": machine(), "results": results})
    app.dispose()


if __name__ == "__main__":
    main()

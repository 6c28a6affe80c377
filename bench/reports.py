"""Report latency on a busy shop's history — `services/reports.py` over bulk-loaded documents.

    python bench/reports.py --days 30 --per-day 3000            # SQLite (scaled-down 2-year shape)
    python bench/reports.py --db postgresql --days 30 --per-day 3000
    python bench/reports.py --days 360 --per-day 250 --queries 5 --compare-lines
    python bench/reports.py --days 2 --per-day 200 --queries 5   # smoke
    python bench/reports.py --projection-only --days 730 --per-day 3000 --queries 5   # the 2-year shape

PROJECTION REBUILD (marked): after the bulk load, `rebuild_report_sums` fills the summary projection
(汇总表, report_sums) from the loaded documents — what the posting transaction writes row by row in a
real book. `--compare-lines` also times the line query (the report without the projection) on the
same data, interleaved.

PROJECTION ONLY (marked): `--projection-only` writes no documents at all: it generates the same
orders as the bulk load (same random shape) and writes straight into report_sums the rows that
their postings would have produced, then times the reports the projection answers. Reports that
need documents (gross profit by document, fulfilment) are not measured in that mode.

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
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import RESULTS, fresh_pg_database, machine, percentile, print_table, write_json  # noqa: E402

from jxc.bootstrap import build  # noqa: E402
from jxc.config import Settings  # noqa: E402
from jxc.services import reports  # noqa: E402
from jxc.services.posting import Actor  # noqa: E402
from jxc.storage import reports_repo  # noqa: E402
from jxc.storage.report_sums import line_amount, rebuild_report_sums  # noqa: E402
from jxc.storage.tables import document_lines, documents, ledger_entries, postings  # noqa: E402
from jxc.storage.tables_reports import report_sums  # noqa: E402
from jxc.storage.tables_trade import order_lines, orders  # noqa: E402

BOSS = Actor("bench", frozenset({"*"}), role="owner")
START = datetime(2024, 11, 1, 1, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))  # the book's reports.timezone (default) and the filters' offset


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


CASES = [("sales_summary", "product", None), ("sales_summary", "partner", None), ("sales_summary", "day", None),
         ("purchase_summary", "partner", None), ("gross_profit", "product", None), ("gross_profit", "partner", None),
         ("gross_profit", "document", None), ("gross_profit", "month", None), ("purchase_fulfilment", "partner", None),
         ("sales_fill_rate", "product", None), ("sales_fill_rate", "partner", None), ("sales_fill_rate", "day", None),
         ("sales_fill_rate", "product", "partner_id"), ("sales_fill_rate", "partner", "product_id"),
         # filters that cross the projection's dims fall back to the line query, selective through indexes
         ("sales_summary", "product", "partner_id"), ("sales_summary", "partner", "product_id")]
NEEDS_DOCUMENTS = {("gross_profit", "document"), ("purchase_fulfilment", "partner"), ("sales_fill_rate", "product")}


def _lines(name: str, by: str, flt: reports.ReportFilter) -> float:
    """The same report from the document lines (no projection), timed."""
    f = {k: getattr(flt, k) for k in ("since", "until", "warehouse_id", "partner_id", "product_id",
                                      "utc_offset_minutes")}
    t = time.perf_counter()
    if name == "gross_profit":
        rows = reports_repo.gross_profit_lines(APP[0].engine, by, f, 0, 51)
    else:
        rows = reports_repo.summary_lines(APP[0].engine, name.split("_")[0], by, f, 0, 51)
    took = time.perf_counter() - t
    assert rows, (name, by)
    return took


APP: list = []


def measure(app, m: dict, days: int, queries: int, seed: int = 11, compare: bool = False,
            projection_only: bool = False) -> list[dict]:
    rng = random.Random(seed)
    APP[:] = [app]
    out = []
    for name, by, cross in CASES:
        if projection_only and ((name, by) in NEEDS_DOCUMENTS or cross or name.endswith(("fulfilment", "fill_rate"))):
            continue
        for window in ("month", "all"):
            lat, lines = [], []
            for _ in range(queries):
                extra = {}
                if cross:
                    extra[cross] = rng.choice(m["customers"] if cross == "partner_id" else m["products"])
                if window == "month":  # 30 local days from a local midnight: what the web page sends
                    day = (START + timedelta(days=rng.randint(0, max(0, days - 30)))).astimezone(SHANGHAI).date()
                    since = datetime.combine(day, clock(), tzinfo=SHANGHAI)
                    flt = reports.ReportFilter(since, since + timedelta(days=30), **extra)
                else:
                    flt = reports.ReportFilter(**extra)
                t = time.perf_counter()
                page = reports.run(app.queries, BOSS, name, by, flt, 0, 50)
                lat.append(time.perf_counter() - t)
                assert page["items"] or cross, (name, by, window)
                if compare and (name, by) not in NEEDS_DOCUMENTS and by != "document" and not cross:
                    lines.append(_lines(name, by, flt))
            lat.sort()
            lines.sort()
            row = {"report": name, "by": by, "filter": cross or "", "window": window, "n": len(lat),
                   "p50_ms": percentile(lat, 0.5) * 1000, "p99_ms": percentile(lat, 0.99) * 1000}
            if lines:
                row |= {"lines_p50_ms": percentile(lines, 0.5) * 1000, "lines_p99_ms": percentile(lines, 0.99) * 1000}
            out.append(row)
    return out


def projection_only(app, m: dict, days: int, per_day: int, seed: int = 7) -> int:
    """PROJECTION ONLY (marked): the report_sums rows of the bulk load's orders, no documents written.
    Same random shape as `load` (deliveries, 1 % returned, receipts); COGS at 60 % of the price."""
    rng = random.Random(seed)
    prices = {p: Decimal(rng.randint(100, 5000)) / 100 for p in m["products"]}
    months: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
    total = 0

    def add(acc: dict, key: tuple, qty: Decimal, amount: Decimal, cogs: Decimal, ret: bool) -> None:
        a = acc[key]
        a[0] += 1
        a[1] += -qty if ret else qty
        a[2] += -amount if ret else amount
        if ret:
            a[3] += qty
            a[4] += amount
        a[5] += cogs

    def flush(acc: dict, grain: str) -> int:
        rows = [{"dim": k[0], "grain": grain, "period": k[1], "side": k[2], "warehouse_id": m["wh"], "key_id": k[3],
                 "documents": v[0], "qty": v[1], "amount": v[2], "qty_returned": v[3], "amount_returned": v[4],
                 "cogs": v[5]} for k, v in sorted(acc.items())]
        with app.engine.begin() as conn:
            for i in range(0, len(rows), 20000):
                conn.execute(report_sums.insert(), rows[i:i + 20000])
        return len(rows)

    days_acc: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0)])

    def doc(side: str, partner: int, at: datetime, lines: list, ret: bool = False) -> None:
        on = at.astimezone(SHANGHAI).date()
        tq, ta, tc = Decimal(0), Decimal(0), Decimal(0)
        for p, q, price, cost in lines:
            amount = line_amount(q, price)
            cogs = (q * cost).quantize(Decimal("0.0001")) * (-1 if ret else 1) if side == "sales" else Decimal(0)
            for target, d in ((days_acc, on), (months, on.replace(day=1))):
                add(target, ("product", d, side, p), q, amount, cogs, ret)
            tq, ta, tc = tq + q, ta + amount, tc + cogs
        for target, d in ((days_acc, on), (months, on.replace(day=1))):
            add(target, ("partner", d, side, partner), tq, ta, tc, ret)

    for day in range(days):
        base = START + timedelta(days=day)
        for _ in range(per_day // 10):
            at = base + timedelta(seconds=rng.randint(0, 12 * 3600))
            sup = rng.choice(m["suppliers"])
            lines = [(p, Decimal(rng.randint(10, 100)), (prices[p] * Decimal("0.6")).quantize(Decimal("0.01")))
                     for p in rng.sample(m["products"], 5)]
            doc("purchase", sup, at, [(p, q, c, c) for p, q, c in lines])
        for i in range(per_day):
            at = base + timedelta(seconds=rng.randint(0, 14 * 3600))
            cus = rng.choice(m["customers"])
            lines = [(p, Decimal(rng.randint(1, 6)), prices[p]) for p in rng.sample(m["products"], 3)]
            cost = [(prices[p] * Decimal("0.6")).quantize(Decimal("0.000001")) for p, _, _ in lines]
            doc("sales", cus, at, [(p, q, pr, c) for (p, q, pr), c in zip(lines, cost, strict=True)])
            if i % 100 == 0:
                p, q, pr = lines[0]
                doc("sales", cus, at + timedelta(hours=2), [(p, Decimal(1), pr, cost[0])], ret=True)
        # later iterations only add to local days from the next one on: write the finished days
        upto = (base + timedelta(days=1)).astimezone(SHANGHAI).date()
        done = {k: days_acc.pop(k) for k in [k for k in days_acc if k[1] < upto]}
        total += flush(done, "day")
        if (day + 1) % 30 == 0:
            print(f"  day {day + 1}/{days}: {total:,} projection rows", flush=True)
    total += flush(dict(days_acc), "day")
    return total + flush(months, "month")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--per-day", type=int, default=3000)
    ap.add_argument("--products", type=int, default=2000)
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--compare-lines", action="store_true", help="also time the line query (no projection)")
    ap.add_argument("--projection-only", action="store_true",
                    help="write only the projection rows the orders would produce (no documents)")
    args = ap.parse_args()
    app, db = build_book(args.db)
    m = seed_master(app, args.products, args.customers, 20)
    t = time.perf_counter()
    rebuild_s = None
    if args.projection_only:
        rows = projection_only(app, m, args.days, args.per_day)
        load_s = time.perf_counter() - t
        print(f"PROJECTION ONLY: wrote {rows:,} report_sums rows ({args.days} days × {args.per_day} orders/day) "
              f"in {load_s:.1f} s; no documents")
    else:
        rows = load(app, m, args.days, args.per_day)
        load_s = time.perf_counter() - t
        print(f"BULK loaded {rows:,} rows ({args.days} days × {args.per_day} orders/day) in {load_s:.1f} s")
        t = time.perf_counter()
        with app.engine.begin() as conn:  # PROJECTION REBUILD (marked): what postings write one by one
            projected = rebuild_report_sums(conn)
        rebuild_s = time.perf_counter() - t
        print(f"PROJECTION REBUILD: {projected:,} report_sums rows in {rebuild_s:.1f} s")
    if db == "postgresql":
        with app.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    results = measure(app, m, args.days, args.queries, compare=args.compare_lines,
                      projection_only=args.projection_only)
    cols = [("report", "report", ""), ("by", "by", ""), ("filter", "filter", ""), ("window", "window", ""),
            ("p50_ms", "p50 ms", ".1f"), ("p99_ms", "p99 ms", ".1f")]
    if args.compare_lines:
        cols += [("lines_p50_ms", "lines p50", ".1f"), ("lines_p99_ms", "lines p99", ".1f")]
    print_table(results, cols)
    suffix = ".projection" if args.projection_only else ""
    write_json(RESULTS / f"reports.{db}{suffix}.json", {"args": vars(args), "rows": rows, "load_s": load_s,
                                                        "rebuild_s": rebuild_s, "machine": machine(),
                                                        "results": results})
    app.dispose()


if __name__ == "__main__":
    main()

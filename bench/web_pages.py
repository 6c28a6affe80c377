"""网页响应时间 — server time of each main page on the demo shop (`jxc serve --demo` data).

    PYTHONPATH=src python bench/web_pages.py                 # SQLite file (WAL), 30 demo days
    PYTHONPATH=src python bench/web_pages.py --days 90 --runs 30
    PYTHONPATH=src python bench/web_pages.py --days 7 --catalog 2000 --only search   # product search, +2,000 SKUs

Builds the 鲜邻优选 demo book (the same `build_demo` as `jxc serve --demo`) in a temporary
folder, logs in as the owner through the login form, then requests each page ``--runs``
times in-process (FastAPI TestClient: routing, services, SQL and Jinja rendering; no
network). Prints median and p95 per page and writes bench/results/web_pages.json.
The budget is 200 ms per page (issue 7).

``--catalog N`` adds the first N SKUs of the 宏达建材 wholesale catalogue (`wholesale_catalog`,
with their barcodes) to the book through `masterdata.create`, so the product searches run on a
catalogue of the wholesaler's size; ``--only search`` times just the product-search pages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
BUDGET_MS = 200.0
PAGES = ("/", "/kpi/health", "/kpi/outbound", "/products", "/products?q=tudou", "/products?q=td",
         "/products/{product}", "/partners", "/warehouses", "/locations", "/ledger", "/ledger?after={ledger_cursor}",
         "/ledger?product=SC004", "/alerts", "/audit", "/audit?page=10", "/settings?tab=book", "/stock",
         "/documents")
SEARCH_PAGES = ("/products?q=tudou", "/products?q=td", "/products?q=jcsn", "/products?q=水泥", "/products?q=zzzz",
                "/products/search?q=td", "/products/search?q=jcsn", "/products/search?q=水泥",
                "/products/search?q=zzzz", "/products/search?q=6900001047292")


def add_catalog(app: object, size: int, now: object) -> int:
    """The wholesaler's first ``size`` SKUs (code, name, spec, category, unit, barcode) in one transaction."""
    from jxc.services import masterdata
    from jxc.services.demo_catalog import wholesale_catalog
    from jxc.services.posting import SYSTEM

    with app.batch() as f:  # type: ignore[attr-defined]
        for sku in wholesale_catalog(size):
            pid = masterdata.create(f, "products", {"code": sku.code, "name": sku.name, "spec": sku.spec,
                                                    "category": sku.category, "base_unit": sku.unit}, SYSTEM, now)
            if sku.barcode:
                masterdata.add_barcode(f, pid, sku.barcode, SYSTEM, now)
    return size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--catalog", type=int, default=0, help="add this many wholesale SKUs (max 2000)")
    parser.add_argument("--only", choices=("all", "search"), default="all")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from jxc.bootstrap import build
    from jxc.config import Settings
    from jxc.interfaces.api.app import create_app
    from jxc.interfaces.api.pagination import encode
    from jxc.services.demo import DEMO_PASSWORD, build_demo

    with tempfile.TemporaryDirectory() as tmp:
        app = build(Settings(data_dir=Path(tmp)))
        app.create_all()
        t0 = time.perf_counter()
        summary = build_demo(app.uow_factory, app.clock.now(), app.settings.zone, days=args.days)
        print(f"demo: {summary.products} products, {summary.postings} postings, "
              f"built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        if args.catalog:
            t0 = time.perf_counter()
            add_catalog(app, args.catalog, app.clock.now())
            print(f"catalog: +{args.catalog} wholesale SKUs in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        product = app.queries.page_records("products", None, 1, code="SC004")[0]["id"]
        everything = {"product_id": None, "warehouse_id": None, "kind": None, "lot": None, "since": None,
                      "until": None, "warehouse_ids": None}
        deep = app.web.ledger_page(offset=950, limit=1, **everything).rows  # ~ page 20 of the ledger
        ledger_cursor = encode("ledger", deep[0]["id"] if deep else 0)
        client = TestClient(create_app(app))
        r = client.post("/login", data={"username": "laoban", "password": DEMO_PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, r.text
        rows = []
        for path in SEARCH_PAGES if args.only == "search" else PAGES + SEARCH_PAGES[2:]:
            url = path.format(product=product, ledger_cursor=ledger_cursor)
            assert client.get(url).status_code == 200, url  # warm: templates compiled, caches filled
            times, cpu = [], []
            for _ in range(args.runs):
                start, start_cpu = time.perf_counter(), time.process_time()
                resp = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)  # this process only: less noise on a busy box
                assert resp.status_code == 200, url
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            rows.append({"page": url, "median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
                         "cpu_median_ms": round(statistics.median(cpu), 1)})
            print(f"{url:32} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
                  f"cpu {statistics.median(cpu):7.1f} ms")
        app.dispose()
    RESULTS.mkdir(exist_ok=True)
    out = {"days": args.days, "runs": args.runs, "postings": summary.postings, "catalog_added": args.catalog,
           "products": summary.products + args.catalog, "pages": rows,
           "budget_ms": BUDGET_MS}
    (RESULTS / ("web_pages.json" if args.only == "all" else f"web_search_{args.catalog}.json")).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    slow = [r for r in rows if r["p95_ms"] > BUDGET_MS]
    if slow:
        print(f"over the {BUDGET_MS:.0f} ms budget: {[r['page'] for r in slow]}", file=sys.stderr)
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())

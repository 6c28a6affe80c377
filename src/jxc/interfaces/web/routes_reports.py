"""报表页面 — the reports of services/reports.py on one page: kind, period, partner, product,
warehouse, group by; pages of 50; .csv / .xlsx export of the filtered report. Partner and product
are picked by typing (code, name, pinyin initials; barcode for products): /partners/search here,
/products/search (routes_scan) for products, both through static/picker.js.

Guarantees:
- Figures are `reports.run`'s, the same as GET /api/v1/reports/{name}: grouped, summed and
  paged in the database; the page adds nothing but labels.
- `report.view` is needed (gross profit also `price.view_cost`); a refusal shows its reason.
- An export holds every row of the filtered report (up to EXPORT_MAX), not only the page shown.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jxc.domain.errors import DomainError
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import doc_views as dv
from jxc.interfaces.web import views, web_export
from jxc.interfaces.web.i18n import N_, gettext_for
from jxc.interfaces.web.routes import Page
from jxc.interfaces.web.web_common import error_text, render
from jxc.services import reports
from jxc.services.catalog_search import initials, is_initials_query

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
EXPORT_MAX = 20_000
NAMES = {"sales_summary": N_("销售汇总"), "purchase_summary": N_("采购汇总"), "gross_profit": N_("毛利"),
         "purchase_fulfilment": N_("采购订单到货率"), "sales_fill_rate": N_("销售订单满足率")}
GROUPS = {"product": N_("商品"), "partner": N_("往来单位"), "warehouse": N_("仓库"), "day": N_("按日"),
          "month": N_("按月"), "document": N_("单据")}
SUMMARY = (("documents", N_("单据数")), ("qty", N_("数量")), ("amount", N_("金额")),
           ("qty_returned", N_("退货数量")), ("amount_returned", N_("退货金额")))
COLUMNS = {
    "sales_summary": SUMMARY, "purchase_summary": SUMMARY,
    "gross_profit": (("revenue", N_("销售收入")), ("cogs", N_("销售成本")), ("gross_profit", N_("毛利")),
                     ("margin", N_("毛利率"))),
    "purchase_fulfilment": (("orders", N_("订单数")), ("orders_done", N_("已完成订单")), ("qty_ordered", N_("订购数量")),
                            ("qty_filled", N_("已到数量")), ("fill_rate", N_("完成率"))),
    "sales_fill_rate": (("orders", N_("订单数")), ("orders_done", N_("已完成订单")), ("qty_ordered", N_("订购数量")),
                        ("qty_filled", N_("已发数量")), ("fill_rate", N_("完成率"))),
}
RATES = ("margin", "fill_rate")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def _filters(request: Request) -> dict[str, Any]:
    qp = request.query_params
    app = jxc(request)
    today = app.clock.now().astimezone(app.settings.zone).date()
    name = qp.get("report", "sales_summary")
    name = name if name in NAMES else "sales_summary"
    by = qp.get("by", "product")
    by = by if by in reports.GROUPINGS[name] else reports.GROUPINGS[name][0]
    return {"report": name, "by": by, "on": _day(qp.get("on", "")) or today.replace(day=1),
            "to": _day(qp.get("to", "")) or today, "partner_id": _int(qp.get("partner_id", "")),
            "product_id": _int(qp.get("product_id", "")), "warehouse_id": _int(qp.get("warehouse_id", "")),
            "page": max(1, min(_int(qp.get("page", "")) or 1, 10_000))}


def _run(app: Any, actor: Any, f: dict[str, Any], offset: int, limit: int) -> dict[str, Any]:
    zone = app.settings.zone
    since = datetime.combine(f["on"], datetime.min.time(), tzinfo=zone)
    until = datetime.combine(f["to"] + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    offset_min = int((since.utcoffset() or timedelta()).total_seconds() // 60)
    flt = reports.ReportFilter(since, until, f["warehouse_id"], f["partner_id"], f["product_id"], offset_min)
    return reports.run(app.queries, actor, f["report"], f["by"], flt, offset, limit)


def _label(row: dict[str, Any], by: str) -> str:
    if by == "document":
        return row.get("number") or f"#{row['key']}"
    if by in ("product", "partner", "warehouse"):
        return " ".join(x for x in (row.get("code"), row.get("name")) if x) or f"#{row['key']}"
    return str(row["key"])


@router.get("/reports")
def report_page(request: Request, v: Page, format: str = "") -> Response:  # noqa: A002 — the query name
    """报表 — one report at a time, filtered and grouped; pages of 50; ``format=csv|xlsx`` exports."""
    app = jxc(request)
    _ = gettext_for(request)
    f = _filters(request)
    try:
        if format in ("csv", "xlsx"):
            rows: list[dict[str, Any]] = []
            offset: int | None = 0
            while offset is not None and len(rows) < EXPORT_MAX:
                got = _run(app, v.actor, f, offset, reports.MAX_LIMIT)
                rows += got["items"]
                offset = got["next_offset"]
            cols = COLUMNS[f["report"]]
            group, title = GROUPS[f["by"]], NAMES[f["report"]]
            head = [_(group)] + [_(label) for _k, label in cols]
            body = [[_label(r, f["by"])] + [r.get(k) for k, _l in cols] for r in rows]
            return web_export.table(format, f"{f['report']}-{f['on']}-{f['to']}", _(title), head, body)
        page = _run(app, v.actor, f, (f["page"] - 1) * PAGE_SIZE, PAGE_SIZE)
    except DomainError as exc:
        status = exc.status if exc.status != 400 else 422
        return render(request, "error.html", status, viewer=v, message=error_text(request, exc))
    rows = [dict(r, label=_label(r, f["by"])) for r in page["items"]]
    ch = dv.choices(app, v.actor)
    return render(request, "reports.html", viewer=v, f=f, rows=rows, names=NAMES, groups=GROUPS,
                  groupings=reports.GROUPINGS, columns=COLUMNS[f["report"]], rates=RATES,
                  more=page["next_offset"] is not None, warehouses=ch["warehouses"],
                  partner=_one(app, "partners", f["partner_id"]), product=_one(app, "products", f["product_id"]),
                  num=views.number)


def _one(app: Any, table: str, record_id: int | None) -> dict[str, Any] | None:
    rows = app.queries.page_records(table, None, 1, id=record_id) if record_id else []
    return rows[0] if rows else None


@router.get("/partners/search")
def partner_search(request: Request, v: Page, q: str = "") -> Response:
    """往来单位搜索 — code or name contains, then pinyin initials (`xfl` → 幸福里餐馆); 20 at most.

    The picker on /reports uses it (static/picker.js), as /products/search serves the product picker."""
    q = q.strip()[:40]
    found = search_partners(dv.choices(jxc(request), v.actor)["partners"], q) if q else []
    return render(request, "_partner_results.html", partners=found, q=q)


def search_partners(rows: list[dict[str, Any]], q: str, limit: int = dv.SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Code / name hits first (in the given order), then names whose pinyin initials contain ``q``."""
    low = q.lower()
    direct = [r for r in rows if low in (r["code"] or "").lower() or q in r["name"]]
    more = [r for r in rows if is_initials_query(q) and low in initials(r["name"]) and r not in direct]
    return (direct + more)[:limit]

"""报表 — purchase / sales summaries, gross profit, order fulfilment and fill rates.

Guarantees:
- Each report is grouped (`by`), filtered (period, warehouse, partner, product) and
  paged (`offset` + `limit` ≤ 500, one extra row says there is a next page); the
  grouping, sums and paging run in the database, so a page costs the same on two
  years of data as on two days (see docs/benchmarks.md).
- Who may see what: every report needs `report.view`; gross profit shows cost, so it
  also needs `price.view_cost`. A user limited to some warehouses sees only theirs.
- Figures tie out to the documents: summaries are Σ lines of posted documents,
  COGS is the ledger's value at the customer for each delivery / return posting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jxc.domain.errors import DomainError, Forbidden
from jxc.services.access import require
from jxc.services.ports import AuditEntry, Queries, UnitOfWork
from jxc.services.posting import Actor

GROUPINGS: Mapping[str, tuple[str, ...]] = {
    "purchase_summary": ("product", "partner", "warehouse", "day", "month"),
    "sales_summary": ("product", "partner", "warehouse", "day", "month"),
    "gross_profit": ("document", "product", "partner", "warehouse", "day", "month"),
    "purchase_fulfilment": ("partner", "product", "warehouse", "day", "month"),
    "sales_fill_rate": ("partner", "product", "warehouse", "day", "month"),
}
ALIASES = {"customer": "partner", "supplier": "partner", "period": "month"}
MAX_LIMIT = 500


@dataclass(frozen=True)
class ReportFilter:
    """筛选 — business-time range [since, until), warehouse, partner, product."""

    since: datetime | None = None
    until: datetime | None = None
    warehouse_id: int | None = None
    partner_id: int | None = None
    product_id: int | None = None
    utc_offset_minutes: int = 480  # business time zone for day / month buckets (Asia/Shanghai)


def run(queries: Queries, actor: Actor, name: str, by: str, flt: ReportFilter, offset: int = 0,
        limit: int = 50) -> dict[str, Any]:
    """One page of a report: {"report", "by", "items", "next_offset"}."""
    require(actor, "report.view")
    if name not in GROUPINGS:
        raise DomainError("VALUE_INVALID", f"没有名为 {name} 的报表，可选：{', '.join(GROUPINGS)}",
                          f"there is no report named {name}; choose one of {', '.join(GROUPINGS)}", field="report")
    by = ALIASES.get(by, by)
    if by not in GROUPINGS[name]:
        raise DomainError("VALUE_INVALID", f"报表 {name} 可按 {', '.join(GROUPINGS[name])} 汇总",
                          f"report {name} groups by one of {', '.join(GROUPINGS[name])}", field="by")
    if name == "gross_profit":
        require(actor, "price.view_cost")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise DomainError("VALUE_INVALID", "每页 1–500 条", "limit must be 1–500 and offset ≥ 0", field="limit")
    for at, field in ((flt.since, "since"), (flt.until, "until")):
        if at is not None and at.tzinfo is None:
            raise DomainError("VALUE_INVALID", f"{field} 必须带时区", f"{field} must carry a time zone", field=field)
    filters: dict[str, Any] = {k: getattr(flt, k) for k in ("since", "until", "warehouse_id", "partner_id",
                                                             "product_id", "utc_offset_minutes")}
    if actor.warehouses is not None:
        if flt.warehouse_id is not None and flt.warehouse_id not in actor.warehouses:
            raise Forbidden("WAREHOUSE_NOT_PERMITTED", f"{actor.name} 无权查看该仓库/门店",
                            f"{actor.name} may not see this warehouse", field="warehouse_id")
        filters["warehouse_ids"] = sorted(actor.warehouses)
    rows = queries.report(name, by, filters, offset, limit + 1)
    more = len(rows) > limit
    return {"report": name, "by": by, "items": rows[:limit], "next_offset": offset + limit if more else None}


def rebuild(f: Callable[[], UnitOfWork], actor: Actor, now: datetime) -> dict[str, int]:
    """重建报表投影 — recompute both projections in one transaction (the writers wait meanwhile): the
    summary projection (汇总表, report_sums) from posted documents and the order-fulfilment projection
    (订单完成汇总, order_sums) from the orders; returns the rows of each. Needed only after data came in
    around the services (a bulk load, a restored copy edited by hand)."""
    require(actor, "settings.edit")
    with f() as uow:
        uow.book.lock_head()  # first, as every writer does before it touches a projection row: no deadlock
        rows = {"report_sums": uow.report_sums.rebuild(), "order_sums": uow.report_sums.rebuild_orders(now)}
        uow.audit.append(AuditEntry("reports.rebuild", "report_sums", "all", actor.name, now, None, rows,
                                    actor.ip, actor.device))
        uow.commit()
    return rows

"""订单完成率 — purchase-order fulfilment and sales-order fill rate, from the projection or live.

Guarantees:
- One answer, two ways: `fulfilment` reads `order_sums` (storage/order_sums.py) when it can give
  the live query's exact result, and runs the live query over orders ⋈ order_lines otherwise. The
  property test in tests/storage/test_order_sums.py holds every grouping × filter to that.
- The projection serves a request when its zone has the request's `utc_offset_minutes`, `since` /
  `until` fall on local midnight, and the filters stay inside one dimension: by partner (optionally
  one partner), by product (optionally one product), by warehouse / day / month (optionally one
  partner or one product). A partner filter with by=product, a product filter with by=partner, or
  both filters together run live; those are selective and served by ix_orders_partner_created /
  ix_order_lines_product.
- A range reads whole months from month rows and only its ragged ends from day rows, so a page
  over two years reads about 24 × keys rows, not millions of order lines.
- Only orders that count: state confirmed / partial / done / closed; filled = min(done, ordered).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, or_, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from jxc.storage.order_sums import COUNTED, fixed_offset, projection_zone
from jxc.storage.tables import partners, products, warehouses
from jxc.storage.tables_report_orders import order_sums
from jxc.storage.tables_trade import order_lines, orders
from jxc.storage.types import Quantity

MEASURES = ("orders", "orders_done", "lines", "lines_filled")


def fulfilment(engine: Engine, side: str, by: str, f: Mapping[str, Any], offset: int, limit: int
               ) -> list[dict[str, Any]]:
    """订单完成率 — ordered vs delivered / received (capped at ordered), per partner / product / period."""
    with engine.connect() as conn:
        q = projected(conn, side, by, f)
        if q is None:
            q = live(conn, side, by, f)
        rows = [dict(r) for r in conn.execute(q.offset(offset).limit(limit)).mappings()]
        _label(conn, by, rows)
    for r in rows:
        r["fill_rate"] = (r["qty_filled"] / r["qty_ordered"]).quantize(Decimal("0.0001")) if r["qty_ordered"] else None
    return rows


# ── live: orders ⋈ order_lines ────────────────────────────────────────────────

def live(conn: Connection, side: str, by: str, f: Mapping[str, Any]) -> Any:
    """The query over the orders themselves (grouped, ordered by key; the caller pages it)."""
    o, ol = orders.c, order_lines.c
    if by in ("day", "month"):
        key: ColumnElement[Any] = _local(conn, o.created_at, by, f.get("utc_offset_minutes", 480))
    else:
        key = {"product": ol.product_id, "partner": o.partner_id, "warehouse": o.warehouse_id}[by]
    key = key.label("key")
    filled = case((ol.qty_done > ol.qty_base, ol.qty_base), else_=ol.qty_done)
    q = (select(key, func.count(func.distinct(o.id)).label("orders"),
                func.count(func.distinct(case((o.state == "done", o.id), else_=None))).label("orders_done"),
                func.count().label("lines"),
                func.sum(case((ol.qty_done >= ol.qty_base, 1), else_=0)).label("lines_filled"),
                type_coerce(func.sum(ol.qty_base), Quantity()).label("qty_ordered"),
                type_coerce(func.sum(filled), Quantity()).label("qty_filled"))
         .join_from(order_lines, orders, o.id == ol.order_id)
         .where(o.kind == side, o.state.in_(COUNTED)))
    for col, name in ((o.warehouse_id, "warehouse_id"), (o.partner_id, "partner_id"), (ol.product_id, "product_id")):
        if f.get(name) is not None:
            q = q.where(col == f[name])
    if f.get("warehouse_ids") is not None:
        q = q.where(o.warehouse_id.in_(list(f["warehouse_ids"])))
    if f.get("since") is not None:
        q = q.where(o.created_at >= f["since"])
    if f.get("until") is not None:
        q = q.where(o.created_at < f["until"])
    return q.group_by(key).order_by(key)


def _local(conn: Connection, col: Any, unit: str, offset_minutes: int) -> ColumnElement[str]:
    if conn.dialect.name == "sqlite":
        return func.strftime("%Y-%m" if unit == "month" else "%Y-%m-%d", col, f"{offset_minutes:+d} minutes")
    return func.to_char(func.timezone("UTC", col) + timedelta(minutes=offset_minutes),
                        "YYYY-MM" if unit == "month" else "YYYY-MM-DD")


# ── projected: order_sums ─────────────────────────────────────────────────────

def projected(conn: Connection, side: str, by: str, f: Mapping[str, Any]) -> Any | None:
    """The same query over `order_sums`, or None when the projection cannot answer it exactly."""
    plan = _dimension(by, f)
    days = _local_days(conn, f)
    if plan is None or days is None:
        return None
    dim, key_id = plan
    s = order_sums.c
    if by in ("day", "month"):
        key: ColumnElement[Any] = _format(conn, s.period, by)
    else:
        key = {"product": s.key_id, "partner": s.key_id, "warehouse": s.warehouse_id}[by]
    key = key.label("key")
    q = (select(key, *[func.sum(s[m]).label(m) for m in MEASURES],
                type_coerce(func.sum(s.qty_ordered), Quantity()).label("qty_ordered"),
                type_coerce(func.sum(s.qty_filled), Quantity()).label("qty_filled"))
         .where(s.side == side, s.dim == dim, _periods(by, *days)))
    if key_id is not None:
        q = q.where(s.key_id == key_id)
    if f.get("warehouse_id") is not None:
        q = q.where(s.warehouse_id == f["warehouse_id"])
    if f.get("warehouse_ids") is not None:
        q = q.where(s.warehouse_id.in_(list(f["warehouse_ids"])))
    return q.group_by(key).having(func.sum(s.orders) > 0).order_by(key)


def _dimension(by: str, f: Mapping[str, Any]) -> tuple[str, int | None] | None:
    """Which rows answer ``by`` under the filters: (dim, key_id filter), or None (crosses dimensions)."""
    partner, product = f.get("partner_id"), f.get("product_id")
    if partner is not None and product is not None:
        return None
    if by == "product":
        return None if partner is not None else ("product", product)
    if by == "partner":
        return None if product is not None else ("partner", partner)
    if product is not None:
        return "product", product
    if partner is not None:
        return "partner", partner
    return "all", None


def _local_days(conn: Connection, f: Mapping[str, Any]) -> tuple[date | None, date | None] | None:
    """since / until as local days of the projection's zone, or None when they are not its midnights."""
    off = fixed_offset(projection_zone(conn))
    if off is None or off != f.get("utc_offset_minutes", 480):
        return None
    out: list[date | None] = []
    for at in (f.get("since"), f.get("until")):
        if at is None:
            out.append(None)
            continue
        local = at.astimezone(UTC).replace(tzinfo=None) + timedelta(minutes=off)
        if local != datetime.combine(local.date(), datetime.min.time()):
            return None
        out.append(local.date())
    return out[0], out[1]


def _periods(by: str, since: date | None, until: date | None) -> ColumnElement[bool]:
    """Day rows for by=day; otherwise month rows for the whole months and day rows for the ends."""
    s = order_sums.c

    def span(grain: str, lo: date | None, hi: date | None) -> ColumnElement[bool]:
        cond = [s.grain == grain]
        if lo is not None:
            cond.append(s.period >= lo)
        if hi is not None:
            cond.append(s.period < hi)
        return and_(*cond)

    if by == "day":
        return span("day", since, until)
    first = since if since is None or since.day == 1 else _next_month(since)
    last = None if until is None else until.replace(day=1)
    if first is not None and last is not None and first >= last:
        return span("day", since, until)  # no whole month inside
    parts = [span("month", first, last)]
    if since is not None and first is not None and since < first:
        parts.append(span("day", since, first))
    if until is not None and last is not None and last < until:
        parts.append(span("day", last, until))
    return or_(*parts)


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _format(conn: Connection, col: Any, unit: str) -> ColumnElement[str]:
    if conn.dialect.name == "sqlite":
        return func.strftime("%Y-%m" if unit == "month" else "%Y-%m-%d", col)
    return func.to_char(col, "YYYY-MM" if unit == "month" else "YYYY-MM-DD")


def _label(conn: Connection, by: str, rows: list[dict[str, Any]]) -> None:
    """Code and name of the partners / products / warehouses on one page (the grouping stays on ids)."""
    table = {"product": products, "partner": partners, "warehouse": warehouses}.get(by)
    if table is None:
        return
    keys = [r["key"] for r in rows if r["key"] is not None]
    names = {r[0]: (r[1], r[2]) for r in conn.execute(
        select(table.c.id, table.c.code, table.c.name).where(table.c.id.in_(keys)))}
    for r in rows:
        r["code"], r["name"] = names.get(r["key"], (None, None))

"""报表查询 — purchase / sales summaries, gross profit, order fulfilment; grouped, filtered, paged in SQL.

Guarantees:
- Figures come from posted documents only (a reversed document and its reversal
  both drop out); returns count negative against their kind.
- COGS is the ledger's value at the customer location for each posting — the cost
  the posting actually carried (DESIGN.md §4: no re-costing), so gross profit ties
  out to the ledger, not to a recomputed average.
- Exact on both databases: sums run over NUMERIC (PostgreSQL) or scaled integers
  (SQLite; a line's amount is rounded half-up to 0.0001 before summing).
- Every query is bounded by `limit`/`offset` and served by indexes on
  documents(kind, effective_at), document_lines(document_id),
  ledger_entries(posting_id) and orders(kind, created_at).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, case, func, literal_column, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from jxc.storage import fulfilment_repo
from jxc.storage.tables import (
    document_lines,
    documents,
    ledger_entries,
    locations,
    partners,
    products,
    warehouses,
)
from jxc.storage.types import Money, Quantity

KINDS = {"purchase": ("purchase_receipt", "purchase_return"), "sales": ("sales_delivery", "sales_return")}
ZERO = Decimal(0)


def _period(engine: Engine, col: Any, unit: str, offset_minutes: int) -> ColumnElement[str]:
    if engine.dialect.name == "sqlite":
        return func.strftime("%Y-%m" if unit == "month" else "%Y-%m-%d", col, f"{offset_minutes:+d} minutes")
    return func.to_char(func.timezone("UTC", col) + timedelta(minutes=offset_minutes),
                        "YYYY-MM" if unit == "month" else "YYYY-MM-DD")


def _amount(engine: Engine) -> ColumnElement[Any]:
    """A document line's amount (qty_base × unit_price), typed as money."""
    if engine.dialect.name == "sqlite":  # scaled 1e4 × 1e6 → 1e4, half up
        raw = "((document_lines.qty_base * coalesce(document_lines.unit_price, 0) + 500000) / 1000000)"
    else:
        raw = "(document_lines.qty_base * coalesce(document_lines.unit_price, 0))"
    return type_coerce(literal_column(raw), Money())


def _key(engine: Engine, by: str, f: Mapping[str, Any], time_col: Any, partner_col: Any, product_col: Any,
         doc_col: Any, wh_col: Any) -> ColumnElement[Any]:
    if by in ("day", "month"):
        return _period(engine, time_col, by, f.get("utc_offset_minutes", 480))
    return {"product": product_col, "partner": partner_col, "warehouse": wh_col, "document": doc_col}[by]


def _doc_filters(q: Any, f: Mapping[str, Any]) -> Any:
    d = documents.c
    if f.get("since") is not None:
        q = q.where(d.effective_at >= f["since"])
    if f.get("until") is not None:
        q = q.where(d.effective_at < f["until"])
    for col, name in ((d.warehouse_id, "warehouse_id"), (d.partner_id, "partner_id")):
        if f.get(name) is not None:
            q = q.where(col == f[name])
    if f.get("warehouse_ids") is not None:
        q = q.where(d.warehouse_id.in_(list(f["warehouse_ids"])))
    return q


def summary(engine: Engine, side: str, by: str, f: Mapping[str, Any], offset: int, limit: int
            ) -> list[dict[str, Any]]:
    """采购 / 销售汇总 — documents, quantity and amount (net of returns), and the returns themselves."""
    d, ln = documents.c, document_lines.c
    out_kind, ret_kind = KINDS[side]
    key = _key(engine, by, f, d.effective_at, d.partner_id, ln.product_id, d.id, d.warehouse_id).label("key")
    is_ret = d.kind == ret_kind
    amount = _amount(engine)
    q = (select(key, func.count(func.distinct(d.id)).label("documents"),
                type_coerce(func.sum(case((is_ret, -ln.qty_base), else_=ln.qty_base)), Quantity()).label("qty"),
                type_coerce(func.sum(case((is_ret, -amount), else_=amount)), Money()).label("amount"),
                type_coerce(func.sum(case((is_ret, ln.qty_base), else_=None)), Quantity()).label("qty_returned"),
                type_coerce(func.sum(case((is_ret, amount), else_=None)), Money()).label("amount_returned"))
         .join_from(document_lines, documents, d.id == ln.document_id)
         .where(d.kind.in_((out_kind, ret_kind)), d.state == "posted"))
    q = _doc_filters(q, f)
    if f.get("product_id") is not None:
        q = q.where(ln.product_id == f["product_id"])
    q = q.group_by(key).order_by(key).offset(offset).limit(limit)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
        _label(conn, by, rows)
    for r in rows:
        r["qty_returned"] = r["qty_returned"] or ZERO
        r["amount_returned"] = r["amount_returned"] or ZERO
    return rows


def gross_profit(engine: Engine, by: str, f: Mapping[str, Any], offset: int, limit: int) -> list[dict[str, Any]]:
    """毛利 — revenue (deliveries − returns at their prices) and COGS (ledger value at the customer).

    Two grouped queries instead of one union: revenue is grouped and paged, then COGS is summed only
    for the keys on that page, so the ledger side never aggregates more than a page's documents.
    """
    d, ln, e = documents.c, document_lines.c, ledger_entries.c
    kinds = KINDS["sales"]
    amount = _amount(engine)
    rk = _key(engine, by, f, d.effective_at, d.partner_id, ln.product_id, d.id, d.warehouse_id).label("key")
    rev = (select(rk, type_coerce(func.sum(case((d.kind == kinds[1], -amount), else_=amount)), Money()).label("revenue"))
           .join_from(document_lines, documents, d.id == ln.document_id)
           .where(d.kind.in_(kinds), d.state == "posted"))
    rev = _doc_filters(rev, f)
    if f.get("product_id") is not None:
        rev = rev.where(ln.product_id == f["product_id"])
    rev = rev.group_by(rk).order_by(rk).offset(offset).limit(limit)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(rev).mappings()]
        keys = [r["key"] for r in rows]
        ck = _key(engine, by, f, d.effective_at, d.partner_id, e.product_id, d.id, d.warehouse_id).label("key")
        customer = select(locations.c.id).where(locations.c.code == "V-CUSTOMER").scalar_subquery()
        cogs = (select(ck, type_coerce(func.sum(e.value), Money()).label("cogs"))
                .join_from(documents, ledger_entries, e.posting_id == d.posting_id)
                .where(d.kind.in_(kinds), d.state == "posted", e.location_id == customer, ck.in_(keys)))
        cogs = _doc_filters(cogs, f)
        if f.get("product_id") is not None:
            cogs = cogs.where(e.product_id == f["product_id"])
        got = {r[0]: r[1] for r in conn.execute(cogs.group_by(ck))} if keys else {}
        _label(conn, by, rows)
    for r in rows:
        r["revenue"], r["cogs"] = r["revenue"] or ZERO, got.get(r["key"]) or ZERO
        r["gross_profit"] = r["revenue"] - r["cogs"]
        r["margin"] = (r["gross_profit"] / r["revenue"]).quantize(Decimal("0.0001")) if r["revenue"] else None
    return rows


def _label(conn: Any, by: str, rows: list[dict[str, Any]]) -> None:
    """Names for the keys of one page (a second, small query: the grouping stays on ids)."""
    table = {"product": products, "partner": partners, "warehouse": warehouses}.get(by)
    keys = [r["key"] for r in rows if r["key"] is not None]
    if by == "document":
        names = {r[0]: (r[1], r[2]) for r in conn.execute(
            select(documents.c.id, documents.c.number, documents.c.kind).where(documents.c.id.in_(keys)))}
        for r in rows:
            r["number"], r["kind"] = names.get(r["key"], (None, None))
        return
    if table is None:
        return
    names = {r[0]: (r[1], r[2]) for r in conn.execute(
        select(table.c.id, table.c.code, table.c.name).where(table.c.id.in_(keys)))}
    for r in rows:
        r["code"], r["name"] = names.get(r["key"], (None, None))


def run(engine: Engine, name: str, by: str, filters: Mapping[str, Any], offset: int, limit: int
        ) -> list[dict[str, Any]]:
    if name in ("purchase_summary", "sales_summary"):
        return summary(engine, name.split("_")[0], by, filters, offset, limit)
    if name == "gross_profit":
        return gross_profit(engine, by, filters, offset, limit)
    return fulfilment_repo.fulfilment(engine, "purchase" if name == "purchase_fulfilment" else "sales", by, filters,
                                      offset, limit)




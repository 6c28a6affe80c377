"""报表查询 — purchase / sales summaries, gross profit, order fulfilment; grouped, filtered, paged in SQL.

Guarantees:
- Figures come from posted documents only (a reversed document and its reversal
  both drop out); returns count negative against their kind.
- Summaries and gross profit by product / partner / warehouse / day / month read the
  summary projection (汇总表, `report_sums`, written in each posting's transaction):
  a report costs the projection rows of its window — days × keys, not lines. They fall
  back to the line query (`summary_lines`, `gross_profit_lines`) when a filter crosses the
  projection's dims (partner filter by product, product filter by partner), when the
  range is not whole local days, or when the filter's UTC offset is not the projection
  zone's (`reports.timezone`) over the range. Both give the same rows (a property test
  holds them equal).
- COGS is the ledger's value at the customer location for each posting — the cost
  the posting actually carried (DESIGN.md §4: no re-costing), so gross profit ties
  out to the ledger, not to a recomputed average.
- Gross profit by document pages the documents first (primary-key order), then sums
  lines and ledger entries of that page only.
- Exact on both databases: a line's amount is rounded half-up to 0.0001 before summing,
  over NUMERIC (PostgreSQL) or scaled integers (SQLite).
- Every query is bounded by `limit`/`offset`; the line queries are served by indexes on
  documents(kind, state, effective_at, …), document_lines(document_id, …) and
  document_lines(product_id), ledger_entries(posting_id) and orders(kind, created_at).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from jxc.storage import fulfilment_repo
from jxc.storage.book_settings import report_zone
from jxc.storage.report_sums import line_amount_sql, zone_segments
from jxc.storage.tables import (
    document_lines,
    documents,
    ledger_entries,
    locations,
    partners,
    products,
    warehouses,
)
from jxc.storage.tables_reports import report_sums
from jxc.storage.types import Money, Quantity

KINDS = {"purchase": ("purchase_receipt", "purchase_return"), "sales": ("sales_delivery", "sales_return")}
ZERO = Decimal(0)


def _period(engine: Engine, col: Any, unit: str, offset_minutes: int) -> ColumnElement[str]:
    if engine.dialect.name == "sqlite":
        return func.strftime("%Y-%m" if unit == "month" else "%Y-%m-%d", col, f"{offset_minutes:+d} minutes")
    return func.to_char(func.timezone("UTC", col) + timedelta(minutes=offset_minutes),
                        "YYYY-MM" if unit == "month" else "YYYY-MM-DD")


def _amount(engine: Engine) -> ColumnElement[Any]:
    """A document line's amount (qty_base × unit_price, half up to 0.0001), typed as money."""
    return line_amount_sql(engine.dialect.name)


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


def _posted(kinds: tuple[str, ...], f: Mapping[str, Any]) -> ColumnElement[bool]:
    """Posted documents of these kinds. With a product or partner filter the tests on kind and state
    are written so that no index serves them (`kind || ''`): the rows are then reached through the
    product's or the partner's own index. SQLite, which has no statistics, would otherwise
    range-scan every document of the kinds and probe each (linear in the history)."""
    d = documents.c
    if f.get("product_id") is not None or f.get("partner_id") is not None:
        return and_(d.kind.concat("").in_(kinds), d.state.concat("") == "posted")
    return and_(d.kind.in_(kinds), d.state == "posted")


# ── the projection (汇总表): which rows answer a report, or None for the line query ──────────


@dataclass(frozen=True)
class Plan:
    """A report served by `report_sums`: the dim to read and the local days [since_on, until_on)."""

    dim: str
    since_on: date | None
    until_on: date | None


def _local_midnight(at: datetime, offset_s: int) -> date | None:
    local = at.astimezone(timezone(timedelta(seconds=offset_s)))
    return local.date() if local.time() == time() else None


def projection_plan(conn: Connection, by: str, f: Mapping[str, Any], side: str = "sales") -> Plan | None:
    """The projection answers unless the filters cross its dims (partner filter by product, product
    filter by partner), the range is not whole local days, or the filter's UTC offset is not the
    projection zone's over the range. Then the line query answers (same rows, slower)."""
    product, partner = f.get("product_id"), f.get("partner_id")
    if by == "document" or (product is not None and partner is not None):
        return None
    if (by == "product" and partner is not None) or (by == "partner" and product is not None):
        return None
    dim = "product" if by == "product" or product is not None else "partner"
    offset_s = int(f.get("utc_offset_minutes", 480)) * 60
    since, until = f.get("since"), f.get("until")
    since_on = _local_midnight(since, offset_s) if since is not None else None
    until_on = _local_midnight(until, offset_s) if until is not None else None
    if (since is not None and since_on is None) or (until is not None and until_on is None):
        return None
    zone = ZoneInfo(report_zone(conn))
    r = report_sums.c
    days = select(r.period).where(r.dim == dim, r.side == side, r.grain == "day")  # min / max: from the key
    first, last = conn.execute(select(days.with_only_columns(func.min(r.period)).scalar_subquery(),
                                      days.with_only_columns(func.max(r.period)).scalar_subquery())).one()
    lo = since or (datetime.combine(first, time(), zone) if first else None)
    hi = until or (datetime.combine(last + timedelta(days=1), time(), zone) if last else None)
    if lo is not None and hi is not None:
        segments = zone_segments(zone, lo, max(lo, hi))
        if len(segments) != 1 or segments[0].offset_s != offset_s:
            return None
    return Plan(dim, since_on, until_on)


def _next_month(on: date) -> date:
    return (on.replace(day=28) + timedelta(days=4)).replace(day=1)


def _window(plan: Plan, by: str) -> ColumnElement[bool]:
    """Month rows for the whole months of the range, day rows for the partial months at its edges."""
    r = report_sums.c
    s, u = plan.since_on, plan.until_on

    def days(a: date | None, b: date | None) -> ColumnElement[bool]:
        return and_(r.grain == "day", *([r.period >= a] if a else []), *([r.period < b] if b else []))

    if by == "day":
        return days(s, u)
    whole_from = s if s is None or s.day == 1 else _next_month(s)  # first whole month
    whole_to = u.replace(day=1) if u is not None else None  # end of the last whole month
    if whole_from is not None and whole_to is not None and whole_from >= whole_to:
        return days(s, u)
    parts = [and_(r.grain == "month", *([r.period >= whole_from] if whole_from else []),
                  *([r.period < whole_to] if whole_to else []))]
    if s is not None and whole_from is not None and s < whole_from:
        parts.append(days(s, whole_from))
    if u is not None and whole_to is not None and whole_to < u:
        parts.append(days(whole_to, u))
    return or_(*parts)


def _sums_key(engine: Engine, by: str) -> ColumnElement[Any]:
    r = report_sums.c
    if by == "month":
        month = func.substr(r.period, 1, 7) if engine.dialect.name == "sqlite" else func.to_char(r.period, "YYYY-MM")
        return type_coerce(month, String())
    return {"product": r.key_id, "partner": func.nullif(r.key_id, 0), "warehouse": r.warehouse_id,
            "day": r.period}[by]


def _sums_select(engine: Engine, plan: Plan, side: str, by: str, f: Mapping[str, Any],
                 measures: list[Any]) -> Any:
    r = report_sums.c
    key = _sums_key(engine, by).label("key")
    q = select(key, *measures).where(r.dim == plan.dim, r.side == side, _window(plan, by))
    if f.get("warehouse_id") is not None:
        q = q.where(r.warehouse_id == f["warehouse_id"])
    if f.get("warehouse_ids") is not None:
        q = q.where(r.warehouse_id.in_(list(f["warehouse_ids"])))
    for name in ("partner_id", "product_id"):
        if f.get(name) is not None:
            q = q.where(r.key_id == f[name])
    return q.group_by(key).having(func.sum(r.documents) > 0).order_by(key)


def _day_keys(by: str, rows: list[dict[str, Any]]) -> None:
    if by == "day":
        for row in rows:
            row["key"] = row["key"].isoformat()


# ── the reports ─────────────────────────────────────────────────────────────────────────────


def summary(engine: Engine, side: str, by: str, f: Mapping[str, Any], offset: int, limit: int
            ) -> list[dict[str, Any]]:
    """采购 / 销售汇总 — documents, quantity and amount (net of returns), and the returns themselves."""
    r = report_sums.c
    with engine.connect() as conn:
        plan = projection_plan(conn, by, f, side)
        if plan is not None:
            q = _sums_select(engine, plan, side, by, f, [
                type_coerce(func.sum(r.documents), Integer()).label("documents"),
                type_coerce(func.sum(r.qty), Quantity()).label("qty"),
                type_coerce(func.sum(r.amount), Money()).label("amount"),
                type_coerce(func.sum(r.qty_returned), Quantity()).label("qty_returned"),
                type_coerce(func.sum(r.amount_returned), Money()).label("amount_returned")])
            rows = [dict(x) for x in conn.execute(q.offset(offset).limit(limit)).mappings()]
            _day_keys(by, rows)
            _label(conn, by, rows)
            return rows
    return summary_lines(engine, side, by, f, offset, limit)


def summary_lines(engine: Engine, side: str, by: str, f: Mapping[str, Any], offset: int, limit: int
                  ) -> list[dict[str, Any]]:
    """The summary from document lines at query time: cost grows with the rows in the window."""
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
         .where(_posted((out_kind, ret_kind), f)))
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


def _margins(rows: list[dict[str, Any]], cogs: Mapping[Any, Decimal]) -> list[dict[str, Any]]:
    for r in rows:
        r["revenue"], r["cogs"] = r["revenue"] or ZERO, cogs.get(r["key"]) or ZERO
        r["gross_profit"] = r["revenue"] - r["cogs"]
        r["margin"] = (r["gross_profit"] / r["revenue"]).quantize(Decimal("0.0001")) if r["revenue"] else None
    return rows


def gross_profit(engine: Engine, by: str, f: Mapping[str, Any], offset: int, limit: int) -> list[dict[str, Any]]:
    """毛利 — revenue (deliveries − returns at their prices) and COGS (ledger value at the customer)."""
    if by == "document":
        return gross_profit_documents(engine, f, offset, limit)
    r = report_sums.c
    with engine.connect() as conn:
        plan = projection_plan(conn, by, f)
        if plan is not None:
            q = _sums_select(engine, plan, "sales", by, f, [
                type_coerce(func.sum(r.amount), Money()).label("revenue"),
                type_coerce(func.sum(r.cogs), Money()).label("cogs")])
            rows = [dict(x) for x in conn.execute(q.offset(offset).limit(limit)).mappings()]
            _day_keys(by, rows)
            cogs = {x["key"]: x.pop("cogs") for x in rows}
            _label(conn, by, rows)
            return _margins(rows, cogs)
    return gross_profit_lines(engine, by, f, offset, limit)


def gross_profit_documents(engine: Engine, f: Mapping[str, Any], offset: int, limit: int
                           ) -> list[dict[str, Any]]:
    """毛利 by document: one page of documents (in id order, from the primary key), then their lines
    and ledger entries only — never the whole history."""
    d, ln, e = documents.c, document_lines.c, ledger_entries.c
    kinds = KINDS["sales"]
    product = f.get("product_id")
    has_line = (d.id.in_(select(ln.document_id).where(ln.product_id == product)) if product is not None
                else exists().where(ln.document_id == d.id))
    page = _doc_filters(select(d.id).where(_posted(kinds, f), has_line), f)
    with engine.connect() as conn:
        ids = list(conn.execute(page.order_by(d.id).offset(offset).limit(limit)).scalars())
        if not ids:
            return []
        amount = _amount(engine)
        rev = (select(ln.document_id, type_coerce(func.sum(case((d.kind == kinds[1], -amount), else_=amount)),
                                                  Money()))
               .join_from(document_lines, documents, d.id == ln.document_id).where(ln.document_id.in_(ids))
               .group_by(ln.document_id))
        cogs = (select(d.id, type_coerce(func.sum(e.value), Money()))
                .join_from(documents, ledger_entries, e.posting_id == d.posting_id)
                .where(d.id.in_(ids), e.location_id == _customer()).group_by(d.id))
        if product is not None:
            rev, cogs = rev.where(ln.product_id == product), cogs.where(e.product_id == product)
        revenue = dict(conn.execute(rev).all())
        rows = [{"key": i, "revenue": revenue.get(i)} for i in ids]
        got = dict(conn.execute(cogs).all())
        _label(conn, "document", rows)
    return _margins(rows, got)


def _customer() -> Any:
    return select(locations.c.id).where(locations.c.code == "V-CUSTOMER").scalar_subquery()


def gross_profit_lines(engine: Engine, by: str, f: Mapping[str, Any], offset: int, limit: int
                       ) -> list[dict[str, Any]]:
    """毛利 from document lines at query time. Two grouped queries instead of one union: revenue is
    grouped and paged, then COGS is summed only for the keys on that page."""
    d, ln, e = documents.c, document_lines.c, ledger_entries.c
    kinds = KINDS["sales"]
    amount = _amount(engine)
    rk = _key(engine, by, f, d.effective_at, d.partner_id, ln.product_id, d.id, d.warehouse_id).label("key")
    rev = (select(rk, type_coerce(func.sum(case((d.kind == kinds[1], -amount), else_=amount)), Money()).label("revenue"))
           .join_from(document_lines, documents, d.id == ln.document_id)
           .where(_posted(kinds, f)))
    rev = _doc_filters(rev, f)
    if f.get("product_id") is not None:
        rev = rev.where(ln.product_id == f["product_id"])
    rev = rev.group_by(rk).order_by(rk).offset(offset).limit(limit)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(rev).mappings()]
        keys = [r["key"] for r in rows]
        ck = _key(engine, by, f, d.effective_at, d.partner_id, e.product_id, d.id, d.warehouse_id).label("key")
        on_page = or_(ck.in_([k for k in keys if k is not None]), *([ck.is_(None)] if None in keys else []))
        cogs = (select(ck, type_coerce(func.sum(e.value), Money()).label("cogs"))
                .join_from(documents, ledger_entries, e.posting_id == d.posting_id)
                .where(_posted(kinds, f), e.location_id == _customer(), on_page))
        cogs = _doc_filters(cogs, f)
        if f.get("product_id") is not None:
            cogs = cogs.where(e.product_id == f["product_id"])
        got = {r[0]: r[1] for r in conn.execute(cogs.group_by(ck))} if keys else {}
        _label(conn, by, rows)
    return _margins(rows, got)


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




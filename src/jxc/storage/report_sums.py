"""汇总表 — write, rebuild and verify the report projection (`tables_reports.report_sums`).

Guarantees:
- `SqlReportSumsRepository.record(doc, posting_id, +1)` adds one posted purchase receipt / return or
  sales delivery / return, in the posting's transaction; `record(doc, posting_id, -1)` at its
  reversal (红冲) subtracts exactly what it added, at the original document's period. Other kinds
  are ignored. Rows are upserted as SQL increments (never read-modify-write), in primary-key order.
- `rebuild_report_sums(conn)` makes the table equal to `recomputed(conn)`, the same sums computed
  from posted documents, their lines and the ledger; `jxc check` R1 compares the two.
- A line's amount is qty_base × unit_price rounded half-up to 0.0001, the same in Python, SQLite
  (scaled integers) and PostgreSQL (NUMERIC), so the projection and the line query agree exactly.
- Periods are the local day / month in the book setting `reports.timezone`: Python converts with
  zoneinfo; SQL shifts by the zone's UTC offset per stretch of constant offset (`zone_segments`),
  so both give the same day for every instant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Select,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from jxc.domain.settings import SETTINGS
from jxc.storage.book_settings import REPORT_ZONE, report_zone
from jxc.storage.engine import Driver
from jxc.storage.order_sums import rebuild_order_sums
from jxc.storage.tables import document_lines, documents, ledger_entries, locations
from jxc.storage.tables_reports import report_sums
from jxc.storage.types import Money

KINDS: Mapping[str, tuple[str, bool]] = {  # kind → (side, is a return)
    "purchase_receipt": ("purchase", False), "purchase_return": ("purchase", True),
    "sales_delivery": ("sales", False), "sales_return": ("sales", True)}
SIDE_KINDS = {"purchase": ("purchase_receipt", "purchase_return"), "sales": ("sales_delivery", "sales_return")}
ZONE_SETTING = REPORT_ZONE
KEY = ("dim", "grain", "period", "side", "warehouse_id", "key_id")
PK = ("dim", "side", "grain", "period", "warehouse_id", "key_id")  # the primary key's order: rows lock in it
MEASURES = ("documents", "qty", "amount", "qty_returned", "amount_returned", "cogs")
CENT = Decimal("0.0001")
ZERO = Decimal(0)


def line_amount(qty_base: Decimal, unit_price: Decimal | None) -> Decimal:
    return (qty_base * (unit_price or ZERO)).quantize(CENT, ROUND_HALF_UP)


def line_amount_sql(dialect: str) -> ColumnElement[Any]:
    """The same amount in SQL, typed as money (SQLite: scaled 1e4 × 1e6 → 1e4, half up)."""
    if dialect == "sqlite":
        raw = "((document_lines.qty_base * coalesce(document_lines.unit_price, 0) + 500000) / 1000000)"
    else:
        raw = "round(document_lines.qty_base * coalesce(document_lines.unit_price, 0), 4)"
    return type_coerce(literal_column(raw), Money())


# ── time zone stretches ─────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Segment:
    """[start, end) in UTC during which the zone's UTC offset is `offset_s` seconds."""

    start: datetime
    end: datetime
    offset_s: int


def _offset(zone: ZoneInfo, at: datetime) -> int:
    off = at.astimezone(zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def zone_segments(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[Segment]:
    """The stretches of constant UTC offset covering [lo, hi). The zone is sampled every 6 hours
    (zones change offset at most a few times a year); a change is located to the microsecond."""
    out: list[Segment] = []
    start, off, t = lo, _offset(zone, lo), lo
    while t < hi:
        nxt = min(t + timedelta(hours=6), hi)
        if _offset(zone, nxt) != off:
            a, b = t, nxt  # offset(a) == off != offset(b)
            while b - a > timedelta(microseconds=1):
                mid = a + (b - a) / 2
                a, b = (mid, b) if _offset(zone, mid) == off else (a, mid)
            out.append(Segment(start, b, off))
            start, off = b, _offset(zone, b)
        t = nxt
    out.append(Segment(start, hi, off))
    return [s for s in out if s.start < s.end] or out[-1:]


def _shifted(dialect: str, col: Any, offset_s: int, month: bool) -> ColumnElement[Any]:
    if dialect == "sqlite":
        mods = (f"{offset_s:+d} seconds", "start of month") if month else (f"{offset_s:+d} seconds",)
        return func.date(col, *mods)
    local = func.timezone("UTC", col) + timedelta(seconds=offset_s)
    return cast(func.date_trunc("month", local) if month else local, Date)


def local_period_sql(dialect: str, col: Any, segments: Sequence[Segment], month: bool) -> ColumnElement[Any]:
    """The local day (or 1st of the month) of a UTC time column, as the Date column stores it."""
    if len(segments) == 1:
        return _shifted(dialect, col, segments[0].offset_s, month)
    return case(*[(col < s.end, _shifted(dialect, col, s.offset_s, month)) for s in segments[:-1]],
                else_=_shifted(dialect, col, segments[-1].offset_s, month))


# ── writing, in the posting transaction ─────────────────────────────────────────────────


_COLS = ", ".join((*PK, *MEASURES))
_ON_CONFLICT = (f"ON CONFLICT ({', '.join(PK)}) DO UPDATE SET "
                + ", ".join(f"{m} = report_sums.{m} + excluded.{m}" for m in MEASURES))
# PostgreSQL: all rows in one statement (one round trip), kept in primary-key order by ORDINALITY
_PG_UPSERT = (f"INSERT INTO report_sums ({_COLS}) SELECT {_COLS} FROM unnest(%s::varchar[], %s::varchar[], "
              "%s::varchar[], %s::date[], %s::int[], %s::int[], %s::int[], %s::numeric[], %s::numeric[], "
              f"%s::numeric[], %s::numeric[], %s::numeric[]) WITH ORDINALITY AS u({_COLS}, n) ORDER BY u.n "
              + _ON_CONFLICT)


class SqlReportSumsRepository:
    """The posting path's statements run on the unit of work's driver cursor (storage/engine.py), like
    balances: three statements per document — the zone, the COGS of a sales posting, one upsert."""

    def __init__(self, conn: Connection, drv: Driver) -> None:
        self.conn = conn
        self.drv = drv

    def record(self, doc: Mapping[str, Any], posting_id: int | None, sign: int) -> None:
        """Add (+1, at posting) or subtract (−1, at reversal) one document's sums."""
        if doc["kind"] not in KINDS:
            return
        s, drv = self.drv.sql, self.drv
        raw = drv.run(f"SELECT value FROM book_settings WHERE key = {s.p}", (ZONE_SETTING,)).fetchone()
        zone = ZoneInfo(json.loads(raw[0]) if raw else SETTINGS[ZONE_SETTING].default)
        cogs: dict[int, Decimal] = {}
        if KINDS[doc["kind"]][0] == "sales" and posting_id is not None:  # no posting: no-stock trading
            cogs = {r[0]: s.read_qty(r[1]) for r in drv.run(  # Money and Quantity share the 1e4 codec
                f"SELECT product_id, SUM(value) FROM ledger_entries WHERE posting_id = {s.p} AND location_id = "
                f"(SELECT id FROM locations WHERE code = 'V-CUSTOMER') GROUP BY product_id", (posting_id,))}
        rows = document_rows(doc, cogs, zone, sign)
        if s.pg:
            drv.run(_PG_UPSERT, [list(col) for col in zip(*[[r[k] for k in (*PK, *MEASURES)] for r in rows],
                                                          strict=True)])
            return
        day = _date_writer(drv.conn.dialect)
        drv.many(f"INSERT INTO report_sums ({_COLS}) VALUES ({s.marks(len(PK) + len(MEASURES))}) {_ON_CONFLICT}",
                 [(r["dim"], r["side"], r["grain"], day(r["period"]), r["warehouse_id"], r["key_id"],
                   r["documents"], *(s.qty(r[m]) for m in MEASURES[1:])) for r in rows])  # all scaled by 1e4

    def rebuild(self) -> int:
        return rebuild_report_sums(self.conn)

    def rebuild_orders(self, now: datetime) -> int:
        """The order-fulfilment projection (订单完成汇总, storage/order_sums.py), rebuilt beside it."""
        return rebuild_order_sums(self.conn, now)


def _date_writer(dialect: Any) -> Any:
    return report_sums.c.period.type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)


def _customer() -> Any:
    return select(locations.c.id).where(locations.c.code == "V-CUSTOMER").scalar_subquery()


def document_rows(doc: Mapping[str, Any], cogs: Mapping[int, Decimal], zone: ZoneInfo,
                  sign: int) -> list[dict[str, Any]]:
    """The projection rows one document contributes (× sign), sorted by primary key."""
    side, is_return = KINDS[doc["kind"]]
    per_product: dict[int, list[Decimal]] = {}
    for ln in doc["lines"]:
        acc = per_product.setdefault(ln["product_id"], [ZERO, ZERO])
        acc[0] += ln["qty_base"]
        acc[1] += line_amount(ln["qty_base"], ln.get("unit_price"))
    direction = -1 if is_return else 1

    def measures(qty: Decimal, amount: Decimal, cost: Decimal) -> dict[str, Any]:
        return {"documents": sign, "qty": sign * direction * qty, "amount": sign * direction * amount,
                "qty_returned": sign * qty if is_return else ZERO,
                "amount_returned": sign * amount if is_return else ZERO, "cogs": sign * cost}

    day = doc["effective_at"].astimezone(zone).date()
    head = {"side": side, "warehouse_id": doc["warehouse_id"]}
    rows = []
    for grain, period in (("day", day), ("month", day.replace(day=1))):
        for pid, (qty, amount) in per_product.items():
            rows.append({"dim": "product", "grain": grain, "period": period, "key_id": pid, **head,
                         **measures(qty, amount, cogs.get(pid, ZERO))})
        rows.append({"dim": "partner", "grain": grain, "period": period, "key_id": doc.get("partner_id") or 0,
                     **head, **measures(sum((a[0] for a in per_product.values()), ZERO),
                                        sum((a[1] for a in per_product.values()), ZERO),
                                        sum(cogs.values(), ZERO))})
    rows.sort(key=lambda r: tuple(r[k] for k in PK))
    return rows


# ── recomputation, rebuild ──────────────────────────────────────────────────────────────


def _data_segments(conn: Connection, zone: ZoneInfo) -> list[Segment]:
    d = documents.c
    lo, hi = conn.execute(select(func.min(d.effective_at), func.max(d.effective_at))
                          .where(d.kind.in_(list(KINDS)))).one()
    if lo is None:
        now = datetime.now(UTC)
        return [Segment(now, now, _offset(zone, now))]
    return zone_segments(zone, lo, hi + timedelta(seconds=1))


def recomputed(conn: Connection, dim: str, grain: str, zone: ZoneInfo | None = None) -> Select[Any]:
    """The projection's rows of one (dim, grain), computed from posted documents, lines and ledger."""
    zone = zone or ZoneInfo(report_zone(conn))
    dialect = conn.dialect.name
    d, ln, e = documents.c, document_lines.c, ledger_entries.c
    period = local_period_sql(dialect, d.effective_at, _data_segments(conn, zone), grain == "month")
    is_ret = d.kind.in_(("purchase_return", "sales_return"))
    side = case((d.kind.in_(SIDE_KINDS["purchase"]), "purchase"), else_="sales")
    sales = d.kind.in_(SIDE_KINDS["sales"])
    at_customer = select(e.posting_id, *([e.product_id] if dim == "product" else []),
                         func.sum(e.value).label("value")).where(e.location_id == _customer())
    if dim == "product":
        lines = (select(ln.document_id, ln.product_id, func.sum(ln.qty_base).label("qty"),
                        func.sum(line_amount_sql(dialect)).label("amount"))
                 .group_by(ln.document_id, ln.product_id).subquery())
        key = lines.c.product_id
        costs = at_customer.group_by(e.posting_id, e.product_id).subquery()
        on_cost = and_(costs.c.posting_id == d.posting_id, costs.c.product_id == lines.c.product_id)
    else:
        lines = (select(ln.document_id, func.sum(ln.qty_base).label("qty"),
                        func.sum(line_amount_sql(dialect)).label("amount")).group_by(ln.document_id).subquery())
        key = func.coalesce(d.partner_id, 0)
        costs = at_customer.group_by(e.posting_id).subquery()
        on_cost = costs.c.posting_id == d.posting_id
    cost = costs.c.value
    q, amount = lines.c.qty, lines.c.amount
    return (select(literal(dim).label("dim"), literal(grain).label("grain"), period.label("period"),
                   side.label("side"), d.warehouse_id.label("warehouse_id"), key.label("key_id"),
                   cast(func.count(), Integer).label("documents"),
                   func.sum(case((is_ret, -q), else_=q)).label("qty"),
                   func.sum(case((is_ret, -amount), else_=amount)).label("amount"),
                   func.sum(case((is_ret, q), else_=0)).label("qty_returned"),
                   func.sum(case((is_ret, amount), else_=0)).label("amount_returned"),
                   func.sum(case((sales, func.coalesce(cost, 0)), else_=0)).label("cogs"))
            .join_from(lines, documents, d.id == lines.c.document_id).outerjoin(costs, on_cost)
            .where(d.state == "posted", d.kind.in_(list(KINDS)))
            .group_by(period, side, d.warehouse_id, key))


def rebuild_report_sums(conn: Connection) -> int:
    """Recompute the whole projection from posted documents (migration back-fill, `jxc reports rebuild`,
    a change of `reports.timezone`); returns the number of rows written."""
    zone = ZoneInfo(report_zone(conn))
    conn.execute(delete(report_sums))
    cols = [*KEY, *MEASURES]
    for dim in ("product", "partner"):
        for grain in ("day", "month"):
            conn.execute(report_sums.insert().from_select(cols, recomputed(conn, dim, grain, zone)))
    return int(conn.execute(select(func.count()).select_from(report_sums)).scalar_one())

"""订单完成汇总 — keeps `order_sums` (tables_report_orders.py) equal to what its orders say.

Guarantees:
- Same transaction: every write to orders / order_lines goes through SqlTradeRepository, which
  hands the order's before / after rows to `OrderSumsWriter.change`; the delta (after's
  contribution − before's) is written by `flush()` just before the unit of work (or the batch
  savepoint) commits, and dropped with it on rollback.
- No deadlock, no lost update: a transaction's deltas are merged per key and written at the end
  with one `INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n` run over the rows in key order
  (executemany), so two transactions lock shared rows in the same order and hold them only until
  their commit.
- What counts is exactly what the live query counts: orders in state confirmed / partial / done /
  closed with at least one line; a line's filled quantity is min(qty_done, qty_base).
- Days and months are cut in the zone recorded in `report_projections` (the book setting
  `reports.timezone` when it was last rebuilt). Only a zone with one fixed UTC offset (no daylight
  saving) is projected: the reports' own time buckets are fixed offsets, and the projection must
  give the live query's answer exactly. Otherwise the table stays empty and reports run live.
- `rebuild_order_sums` recomputes everything in SQL; on PostgreSQL it takes an exclusive advisory
  lock that every writer holds shared, so a rebuild never interleaves with a delta. R2
  (`check`) compares the table with that recomputation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Date, and_, case, cast, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from jxc.domain.settings import SETTINGS
from jxc.services.ports import Violation
from jxc.storage.book_settings import REPORT_ZONE, report_zone
from jxc.storage.tables_report_orders import order_sums, report_projections
from jxc.storage.tables_trade import order_lines, orders

NAME = "order_sums"
SETTING = REPORT_ZONE
COUNTED = ("confirmed", "partial", "done", "closed")
KEY = ("side", "dim", "grain", "period", "key_id", "warehouse_id")
MEASURES = ("orders", "orders_done", "lines", "lines_filled", "qty_ordered", "qty_filled")
LOCK_ID = 0x6A78_6F31  # pg advisory lock: writers shared, rebuild exclusive
HEADER = ("kind", "state", "created_at", "partner_id", "warehouse_id")  # order columns the sums depend on
LINE = ("order_id", "product_id", "qty_base", "qty_done")  # line columns the sums depend on

Key = tuple[str, str, str, date, int, int]
Sums = list[Any]  # orders, orders_done, lines, lines_filled, qty_ordered, qty_filled


# ── the zone ──────────────────────────────────────────────────────────────────

@lru_cache(maxsize=64)
def fixed_offset(zone: str) -> int | None:
    """The zone's UTC offset in minutes if it is the same all through 2000–2100 (sampled twice a
    month: any daylight-saving period shows), else None."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    seen = {datetime(y, m, d, tzinfo=UTC).astimezone(tz).utcoffset()
            for y in range(2000, 2101) for m in range(1, 13) for d in (1, 15)}
    if len(seen) != 1:
        return None
    off = seen.pop()
    return None if off is None else int(off.total_seconds() // 60)


def projection_zone(conn: Connection, lock: bool = False) -> str:
    """The zone `order_sums` is cut in: its `report_projections` row, else the setting's default (a
    book whose projection was never rebuilt has no orders in it yet). ``lock``: hold the writers'
    shared advisory lock (PostgreSQL) until the transaction ends."""
    if lock and conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock_shared(LOCK_ID)))
    zone = conn.execute(select(report_projections.c.zone).where(report_projections.c.name == NAME)).scalar()
    return zone or SETTINGS[SETTING].default


# ── one order's contribution, and a delta ─────────────────────────────────────

def contribution(order: Mapping[str, Any] | None, lines: Sequence[Mapping[str, Any]], offset: int
                 ) -> dict[Key, Sums]:
    """What one order adds to `order_sums`: nothing unless it counts and has lines."""
    if order is None or order["state"] not in COUNTED or not lines:
        return {}
    local = (order["created_at"].astimezone(UTC) + timedelta(minutes=offset)).date()
    done = 1 if order["state"] == "done" else 0
    side, wh = order["kind"], order["warehouse_id"]
    whole: Sums = [1, done, 0, 0, Decimal(0), Decimal(0)]
    per_product: dict[int, Sums] = {}
    for ln in lines:
        filled = ln["qty_base"] if ln["qty_done"] > ln["qty_base"] else ln["qty_done"]
        add = (1, 1 if ln["qty_done"] >= ln["qty_base"] else 0, ln["qty_base"], filled)
        for s in (whole, per_product.setdefault(ln["product_id"], [1, done, 0, 0, Decimal(0), Decimal(0)])):
            for i, v in enumerate(add, 2):
                s[i] += v
    out: dict[Key, Sums] = {}
    for grain, period in (("day", local), ("month", local.replace(day=1))):
        out[(side, "all", grain, period, 0, wh)] = list(whole)
        out[(side, "partner", grain, period, order["partner_id"], wh)] = list(whole)
        for product_id, s in per_product.items():
            out[(side, "product", grain, period, product_id, wh)] = list(s)
    return out


def counts(order: Mapping[str, Any] | None) -> bool:
    return order is not None and order["state"] in COUNTED


class OrderSumsWriter:
    """The pending deltas of one unit of work; `flush()` writes them, `discard()` forgets them."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending: dict[Key, Sums] = {}
        self._offset: int | None = None
        self._zone_read = False

    def offset(self) -> int | None:
        if not self._zone_read:
            self._offset = fixed_offset(projection_zone(self.conn, lock=True))
            self._zone_read = True
        return self._offset

    def change(self, before: Mapping[str, Any] | None, before_lines: Sequence[Mapping[str, Any]],
               after: Mapping[str, Any] | None, after_lines: Sequence[Mapping[str, Any]]) -> None:
        """Record the delta of one order going from ``before`` to ``after`` (header, its lines)."""
        if not (counts(before) or counts(after)):
            return  # a draft or a cancelled order: nothing projected, no zone read, no lock
        offset = self.offset()
        if offset is None:
            return  # a zone with daylight saving: the reports run live
        for sign, sums in ((-1, contribution(before, before_lines, offset)),
                           (1, contribution(after, after_lines, offset))):
            for key, s in sums.items():
                acc = self.pending.setdefault(key, [0, 0, 0, 0, Decimal(0), Decimal(0)])
                for i, v in enumerate(s):
                    acc[i] += sign * v

    def flush(self) -> None:
        rows = [dict(zip(KEY, k, strict=True)) | dict(zip(MEASURES, s, strict=True))
                for k, s in sorted(self.pending.items()) if any(s)]
        self.discard()
        if rows:  # one statement, its rows run in key order (executemany)
            self.conn.execute(_upsert(self.conn.dialect.name), rows)

    def discard(self) -> None:
        self.pending = {}
        self._zone_read = False  # the advisory lock ends with the transaction


@lru_cache(maxsize=2)
def _upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n, built once (so it is compiled once)."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(order_sums)
    return ins.on_conflict_do_update(index_elements=list(KEY),
                                     set_={m: order_sums.c[m] + ins.excluded[m] for m in MEASURES})


# ── recomputation: rebuild and R2 ─────────────────────────────────────────────

def _local_day(conn: Connection, offset: int) -> ColumnElement[Any]:
    col = orders.c.created_at
    if conn.dialect.name == "sqlite":
        return func.date(col, f"{offset:+d} minutes")
    return cast(func.timezone("UTC", col) + timedelta(minutes=offset), Date)


def _month(conn: Connection, col: Any) -> ColumnElement[Any]:
    if conn.dialect.name == "sqlite":
        return func.date(col, "start of month")
    return cast(func.date_trunc("month", col), Date)


def _day_rows(conn: Connection, offset: int) -> list[Any]:
    """SELECTs of the day rows of dims 'product' and 'partner', columns in `KEY + MEASURES` order."""
    o, ol = orders.c, order_lines.c
    day = _local_day(conn, offset).label("period")
    done = case((o.state == "done", 1), else_=0).label("done")

    def per_order(*extra: Any) -> Any:  # one row per order (and product): its lines' sums
        return (select(o.kind.label("side"), day, o.warehouse_id, o.partner_id, o.id, done, *extra,
                       func.count().label("lines"),
                       func.sum(case((ol.qty_done >= ol.qty_base, 1), else_=0)).label("lines_filled"),
                       func.sum(ol.qty_base).label("qty_ordered"),
                       func.sum(case((ol.qty_done > ol.qty_base, ol.qty_base), else_=ol.qty_done)).label("qty_filled"))
                .join_from(order_lines, orders, o.id == ol.order_id).where(o.state.in_(COUNTED))
                .group_by(o.id, o.kind, day, o.warehouse_id, o.partner_id, o.state, *extra).subquery())

    out = []
    for dim, sub in (("product", per_order(ol.product_id)), ("partner", per_order())):
        key = sub.c.product_id if dim == "product" else sub.c.partner_id
        c = sub.c
        out.append(select(c.side, literal(dim).label("dim"), literal("day").label("grain"), c.period,
                          key.label("key_id"), c.warehouse_id, func.count().label("orders"),
                          func.sum(c.done).label("orders_done"), func.sum(c.lines).label("lines"),
                          func.sum(c.lines_filled).label("lines_filled"), func.sum(c.qty_ordered).label("qty_ordered"),
                          func.sum(c.qty_filled).label("qty_filled"))
                   .group_by(c.side, c.period, key, c.warehouse_id))
    return out


def _derived(where: Any, dim: Any, grain: str, period: Any, key_id: Any, group: Sequence[Any]) -> Any:
    """Rows summed from rows already in `order_sums` (dim 'all' from 'partner', months from days)."""
    s = order_sums.c
    return (select(s.side, dim.label("dim"), literal(grain).label("grain"), period.label("period"),
                   key_id.label("key_id"), s.warehouse_id, *[func.sum(s[m]).label(m) for m in MEASURES])
            .where(where).group_by(*group))


def rebuild_order_sums(conn: Connection, now: datetime | None = None) -> int:
    """重建订单完成汇总 — recompute `order_sums` from orders, in the zone of the book setting
    `reports.timezone`; returns the rows written. The migration that adds the table calls this."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(LOCK_ID)))  # waits for writers in flight
    zone = report_zone(conn)
    p = report_projections
    done = conn.execute(p.update().where(p.c.name == NAME).values(zone=zone, rebuilt_at=now or datetime.now(UTC)))
    if not done.rowcount:
        conn.execute(p.insert().values(name=NAME, zone=zone, rebuilt_at=now or datetime.now(UTC)))
    conn.execute(delete(order_sums))
    offset = fixed_offset(zone)
    if offset is None:
        return 0
    cols = [order_sums.c[n] for n in (*KEY, *MEASURES)]
    for q in _day_rows(conn, offset):
        conn.execute(order_sums.insert().from_select(cols, q))
    s = order_sums.c
    conn.execute(order_sums.insert().from_select(cols, _derived(  # every order once: its partner rows
        and_(s.dim == "partner", s.grain == "day"), literal("all"), "day", s.period, literal(0),
        (s.side, s.period, s.warehouse_id))))
    month = _month(conn, s.period)
    conn.execute(order_sums.insert().from_select(cols, _derived(  # a month is the sum of its days
        s.grain == "day", s.dim, "month", month, s.key_id, (s.side, s.dim, month, s.key_id, s.warehouse_id))))
    return int(conn.execute(select(func.count()).select_from(order_sums)).scalar_one())


def recompute(conn: Connection, offset: int) -> dict[Key, tuple[Any, ...]]:
    """What `order_sums` should hold, computed from the orders (the rebuild's queries, read back)."""
    day: dict[Key, list[Any]] = {}
    for q in _day_rows(conn, offset):
        for r in conn.execute(q):
            day[_key(r)] = list(r[6:])
    out: dict[Key, list[Any]] = {}
    for k, v in day.items():
        targets = [k, (k[0], k[1], "month", k[3].replace(day=1), k[4], k[5])]
        if k[1] == "partner":
            targets += [(k[0], "all", "day", k[3], 0, k[5]), (k[0], "all", "month", k[3].replace(day=1), 0, k[5])]
        for t in targets:
            acc = out.setdefault(t, [0, 0, 0, 0, Decimal(0), Decimal(0)])
            for i, x in enumerate(v):
                acc[i] += _measure(i, x)
    return {k: tuple(v) for k, v in out.items()}


def stored(conn: Connection) -> dict[Key, tuple[Any, ...]]:
    """`order_sums` as it is, all-zero rows left out (a delta can leave one; it means nothing)."""
    cols = [order_sums.c[n] for n in (*KEY, *MEASURES)]
    return {_key(r): tuple(r[6:]) for r in conn.execute(select(*cols)) if any(r[6:])}


def _key(r: Any) -> Key:
    period = r[3] if isinstance(r[3], date) else date.fromisoformat(r[3])
    return (r[0], r[1], r[2], period, int(r[4]), int(r[5]))


def _measure(i: int, x: Any) -> Any:
    return int(x) if i < 4 else Decimal(x)


def check(conn: Connection, limit: int = 20) -> list[Violation]:
    """R2 — `order_sums` equals its recomputation from the orders (in its own zone)."""
    offset = fixed_offset(projection_zone(conn))
    want = {} if offset is None else recompute(conn, offset)
    have = stored(conn)
    out = []
    for key in sorted(set(want) | set(have)):
        w, h = want.get(key), have.get(key)
        if w != h:
            out.append(Violation("R2", f"order_sums{key[:3]} {key[3]} key={key[4]} warehouse={key[5]}",
                                 f"holds {dict(zip(MEASURES, h or (), strict=False)) or 'nothing'} but the orders "
                                 f"give {dict(zip(MEASURES, w or (), strict=False)) or 'nothing'}"))
            if len(out) >= limit:
                break
    return out


def changed(values: Iterable[str], columns: Iterable[str]) -> bool:
    return not set(values).isdisjoint(columns)

"""订单仓储 — purchase and sales orders with their lines; price history from posted receipts.

Guarantees: this is the only writer of orders and order_lines (a test holds every other module to
it), and every write that changes what an order contributes to the order-fulfilment projection
hands its before / after rows to `self.sums` (storage/order_sums.py) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, update

from jxc.storage.order_sums import HEADER, LINE, OrderSumsWriter, changed, counts
from jxc.storage.tables import document_lines, documents
from jxc.storage.tables_trade import order_lines, orders


class SqlTradeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"
        self.sums = OrderSumsWriter(conn)  # 订单完成汇总: flushed by the unit of work before it commits

    def insert(self, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> int:
        oid = self.conn.execute(orders.insert().returning(orders.c.id), dict(header)).scalar_one()
        rows = [{**ln, "order_id": oid, "line_no": i} for i, ln in enumerate(lines, 1)]
        self.conn.execute(order_lines.insert(), rows)
        self.sums.change(None, [], header, rows)
        return oid

    def get(self, order_id: int, lock: bool = False) -> dict[str, Any] | None:
        q = select(orders).where(orders.c.id == order_id)
        if lock and self._pg:
            q = q.with_for_update()
        row = self.conn.execute(q).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["lines"] = [dict(r) for r in self.conn.execute(
            select(order_lines).where(order_lines.c.order_id == order_id).order_by(order_lines.c.line_no)).mappings()]
        return out

    def update(self, order_id: int, values: Mapping[str, Any]) -> None:
        if changed(values, HEADER):  # state, mostly: read the row as it is under the update's own lock
            before = self._header(order_id, lock=True)
            after = None if before is None else {**before, **{k: v for k, v in values.items() if k in HEADER}}
            if before != after and (counts(before) or counts(after)):
                lines = self._lines(order_id)
                self.sums.change(before, lines, after, lines)
        self.conn.execute(update(orders).where(orders.c.id == order_id)
                          .values(**values, version=orders.c.version + 1))

    def update_line(self, line_id: int, values: Mapping[str, Any]) -> None:
        if changed(values, LINE):  # not done by the services today; kept exact for whoever does it
            q = select(order_lines.c.id, *(order_lines.c[k] for k in LINE)).where(order_lines.c.id == line_id)
            old = self.conn.execute(q.with_for_update(key_share=True) if self._pg else q).mappings().first()
            if old is not None:
                new = {**old, **{k: v for k, v in values.items() if k in LINE}}
                for oid in sorted({old["order_id"], new["order_id"]}):
                    header, lines = self._header(oid), self._lines(oid)
                    kept = [ln for ln in lines if ln["id"] != line_id]
                    self.sums.change(header, lines, header, kept + ([new] if new["order_id"] == oid else []))
        self.conn.execute(update(order_lines).where(order_lines.c.id == line_id).values(**values))

    def line(self, line_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(order_lines).where(order_lines.c.id == line_id)).mappings().first()
        return None if row is None else dict(row)

    def add_done(self, line_id: int, qty: Decimal) -> int:
        """SQL increment of a line's delivered/received quantity; returns the order id.

        The line before is the line after less ``qty`` (the row is locked by the increment). The order
        header is read without a lock: an order with deliveries or receipts counts (confirmed … closed)
        and keeps counting, and a line's fill does not depend on which of those states it is in."""
        after = dict(self.conn.execute(
            update(order_lines).where(order_lines.c.id == line_id).values(qty_done=order_lines.c.qty_done + qty)
            .returning(*(order_lines.c[k] for k in LINE))).mappings().one())
        before = {**after, "qty_done": after["qty_done"] - qty}
        header = self._header(after["order_id"])
        self.sums.change(header, [before], header, [after])
        return after["order_id"]

    def _header(self, order_id: int, lock: bool = False) -> dict[str, Any] | None:
        q = select(*(orders.c[k] for k in HEADER)).where(orders.c.id == order_id)
        if lock and self._pg:
            q = q.with_for_update(key_share=True)  # FOR NO KEY UPDATE: the lock the UPDATE takes anyway
        row = self.conn.execute(q).mappings().first()
        return None if row is None else dict(row)

    def _lines(self, order_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            select(order_lines.c.id, *(order_lines.c[k] for k in LINE)).where(order_lines.c.order_id == order_id))
            .mappings()]

    def page(self, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
        """Order headers by id after ``after``; filters: kind, state, partner_id, warehouse_id, number,
        warehouse_ids (the caller's scope), since / until (created_at in [since, until)), and
        newest=True: newest first, ``after`` then meaning "ids below"."""
        c = orders.c
        newest = bool(filters.get("newest"))
        q = select(orders).order_by(c.id.desc() if newest else c.id).limit(limit)
        if after is not None:
            q = q.where(c.id < after if newest else c.id > after)
        if filters.get("since") is not None:
            q = q.where(c.created_at >= filters["since"])
        if filters.get("until") is not None:
            q = q.where(c.created_at < filters["until"])
        for name in ("kind", "state", "partner_id", "warehouse_id", "number"):
            if filters.get(name) is not None:
                q = q.where(getattr(c, name) == filters[name])
        if filters.get("warehouse_ids") is not None:
            q = q.where(c.warehouse_id.in_(list(filters["warehouse_ids"])))
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def price_history(self, product_id: int, partner_id: int | None, since: datetime) -> dict[str, Any]:
        """进价历史 — last, min and average purchase price (per base unit) of posted receipts since ``since``."""
        d, ln = documents.c, document_lines.c
        base = (select(ln.unit_price, d.effective_at).join_from(document_lines, documents, d.id == ln.document_id)
                .where(ln.product_id == product_id, d.kind == "purchase_receipt", d.state == "posted",
                       ln.unit_price.is_not(None)))
        if partner_id is not None:
            base = base.where(d.partner_id == partner_id)
        last = self.conn.execute(base.order_by(d.effective_at.desc(), ln.id.desc()).limit(1)).first()
        recent = base.where(d.effective_at >= since).subquery()
        mn, avg, n = self.conn.execute(select(func.min(recent.c.unit_price), func.avg(recent.c.unit_price),
                                              func.count())).one()
        return {"last": last[0] if last else None, "last_at": last[1] if last else None,
                "min": mn, "avg": None if avg is None else Decimal(avg), "receipts": n}

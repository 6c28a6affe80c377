"""订单仓储 — purchase and sales orders with their lines; price history from posted receipts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, update

from jxc.storage.tables import document_lines, documents
from jxc.storage.tables_trade import order_lines, orders


class SqlTradeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"

    def insert(self, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> int:
        oid = self.conn.execute(orders.insert().returning(orders.c.id), dict(header)).scalar_one()
        self.conn.execute(order_lines.insert(), [{**ln, "order_id": oid, "line_no": i} for i, ln in enumerate(lines, 1)])
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
        self.conn.execute(update(orders).where(orders.c.id == order_id)
                          .values(**values, version=orders.c.version + 1))

    def update_line(self, line_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(order_lines).where(order_lines.c.id == line_id).values(**values))

    def line(self, line_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(order_lines).where(order_lines.c.id == line_id)).mappings().first()
        return None if row is None else dict(row)

    def add_done(self, line_id: int, qty: Decimal) -> int:
        """SQL increment of a line's delivered/received quantity; returns the order id."""
        self.conn.execute(update(order_lines).where(order_lines.c.id == line_id)
                          .values(qty_done=order_lines.c.qty_done + qty))
        return self.conn.execute(select(order_lines.c.order_id).where(order_lines.c.id == line_id)).scalar_one()

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

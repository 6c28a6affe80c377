"""采购条件、价格表、以销定购建议 — supplier terms, price lists and purchase suggestions.

Guarantees:
- A price row is keyed by (product, tier, customer, channel, unit): saving it again
  replaces the price, never adds a second row that could disagree.
- At most one preferred supplier per product: marking one clears the others in the
  same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, select, update

from jxc.storage.tables import document_lines, documents, ledger_entries, partners
from jxc.storage.tables_trade import (
    order_lines,
    orders,
    prices,
    purchase_suggestions,
    supplier_products,
)


class SqlPurchasingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ── supplier terms (供货条件) ──
    def save_terms(self, values: Mapping[str, Any]) -> int:
        sp = supplier_products.c
        if values.get("preferred"):
            self.conn.execute(update(supplier_products).where(sp.product_id == values["product_id"])
                              .values(preferred=False))
        row = self.conn.execute(select(sp.id).where(sp.partner_id == values["partner_id"],
                                                    sp.product_id == values["product_id"])).first()
        if row:
            self.conn.execute(update(supplier_products).where(sp.id == row[0]).values(**values))
            return row[0]
        return self.conn.execute(supplier_products.insert().returning(sp.id), dict(values)).scalar_one()

    def terms(self, product_id: int, partner_id: int | None = None) -> list[dict[str, Any]]:
        """Supplier terms of a product (preferred first), with the partner's own lead time."""
        sp, p = supplier_products.c, partners.c
        q = (select(supplier_products, p.name.label("supplier_name"), p.lead_time_days.label("partner_lead_time_days"))
             .join_from(supplier_products, partners, p.id == sp.partner_id).where(sp.product_id == product_id)
             .order_by(sp.preferred.desc(), sp.id))
        if partner_id is not None:
            q = q.where(sp.partner_id == partner_id)
        return [dict(r) for r in self.conn.execute(q).mappings()]

    # ── price lists (价格表) ──
    def save_price(self, values: Mapping[str, Any]) -> int:
        c = prices.c
        key = [c.product_id == values["product_id"], c.tier == values["tier"], c.partner_id == values["partner_id"],
               c.channel == values["channel"], c.unit == values["unit"]]
        row = self.conn.execute(select(c.id).where(*key)).first()
        if row:
            self.conn.execute(update(prices).where(c.id == row[0]).values(**values))
            return row[0]
        return self.conn.execute(prices.insert().returning(c.id), dict(values)).scalar_one()

    def prices(self, product_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            select(prices).where(prices.c.product_id == product_id).order_by(prices.c.id)).mappings()]

    # ── purchase suggestions (以销定购) ──
    def add_suggestion(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(purchase_suggestions.insert().returning(purchase_suggestions.c.id),
                                 dict(values)).scalar_one()

    def suggestions(self, ids: Iterable[int] | None = None, state: str | None = None,
                    after: int | None = None, limit: int = 500, lock: bool = False) -> list[dict[str, Any]]:
        c = purchase_suggestions.c
        q = select(purchase_suggestions).order_by(c.id).limit(limit)
        if ids is not None:
            q = q.where(c.id.in_(list(ids)))
        if state is not None:
            q = q.where(c.state == state)
        if after is not None:
            q = q.where(c.id > after)
        if lock and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def set_suggestions(self, where: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        c = purchase_suggestions.c
        conds = [getattr(c, k).in_(v) if isinstance(v, list | tuple) else getattr(c, k) == v for k, v in where.items()]
        return self.conn.execute(update(purchase_suggestions).where(*conds).values(**values)).rowcount

    # ── returns against a document (退货) ──
    def returned(self, source_document_id: int) -> dict[int, Decimal]:
        """Per source line number: the base quantity already returned (drafts, pending and posted)."""
        d, ln = documents.c, document_lines.c
        rows = self.conn.execute(
            select(ln.source_line_no, func.sum(ln.qty_base))
            .join_from(document_lines, documents, d.id == ln.document_id)
            .where(d.source_document_id == source_document_id, d.state.in_(("draft", "pending_approval", "posted")),
                   d.kind.in_(("purchase_return", "sales_return")))
            .group_by(ln.source_line_no))
        return {r[0]: Decimal(r[1]) for r in rows if r[0] is not None}

    def posting_totals(self, posting_id: int, location_id: int) -> dict[tuple[int, int], tuple[Decimal, Decimal]]:
        """Per (product, lot): the (qty, value) a posting moved at the virtual ``location_id``, as magnitudes."""
        e = ledger_entries.c
        rows = self.conn.execute(
            select(e.product_id, e.lot_id, func.sum(e.qty), func.sum(e.value))
            .where(e.posting_id == posting_id, e.location_id == location_id).group_by(e.product_id, e.lot_id))
        return {(r[0], r[1]): (abs(Decimal(r[2])), abs(Decimal(r[3]))) for r in rows if r[2]}

    # ── supplier scorecard (供应商考核) ──
    def scorecard(self, supplier_id: int | None, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per supplier: receipts against orders on time / all, ordered vs received, received vs returned."""
        d, ln, o, ol = documents.c, document_lines.c, orders.c, order_lines.c
        cond = [o.kind == "purchase", o.state.in_(("confirmed", "partial", "done", "closed")),
                o.created_at >= since, o.created_at < until]
        if supplier_id is not None:
            cond.append(o.partner_id == supplier_id)
        fill = {r[0]: (Decimal(r[1] or 0), Decimal(r[2] or 0)) for r in self.conn.execute(
            select(o.partner_id, func.sum(ol.qty_base),
                   func.sum(case((ol.qty_done > ol.qty_base, ol.qty_base), else_=ol.qty_done)))
            .join_from(order_lines, orders, o.id == ol.order_id).where(*cond).group_by(o.partner_id))}
        rcv = select(d.id, d.partner_id, d.effective_at, func.max(o.needed_on).label("needed_on")).select_from(
            documents.join(document_lines, ln.document_id == d.id).join(order_lines, ol.id == ln.order_line_id)
            .join(orders, o.id == ol.order_id)).where(
            d.kind == "purchase_receipt", d.state == "posted", d.effective_at >= since, d.effective_at < until,
            *([d.partner_id == supplier_id] if supplier_id is not None else [])).group_by(d.id, d.partner_id,
                                                                                         d.effective_at)
        timely: dict[int, list[int]] = {}
        for r in self.conn.execute(rcv):
            ok = r.needed_on is None or r.effective_at.date() <= r.needed_on.date()
            t = timely.setdefault(r.partner_id, [0, 0])
            t[0] += 1 if ok else 0
            t[1] += 1
        moved = {}
        for pid, kind, qty in self.conn.execute(
                select(d.partner_id, d.kind, func.sum(ln.qty_base))
                .join_from(document_lines, documents, d.id == ln.document_id)
                .where(d.kind.in_(("purchase_receipt", "purchase_return")), d.state == "posted",
                       d.effective_at >= since, d.effective_at < until, d.partner_id.is_not(None),
                       *([d.partner_id == supplier_id] if supplier_id is not None else []))
                .group_by(d.partner_id, d.kind)):
            moved.setdefault(pid, {})[kind] = Decimal(qty)
        ids = sorted(set(fill) | set(timely) | set(moved))
        names = {r[0]: (r[1], r[2]) for r in self.conn.execute(
            select(partners.c.id, partners.c.code, partners.c.name).where(partners.c.id.in_(ids)))}
        out = []
        for pid in ids:
            ordered, received = fill.get(pid, (Decimal(0), Decimal(0)))
            on_time, receipts = timely.get(pid, [0, 0])
            m = moved.get(pid, {})
            out.append({"supplier_id": pid, "code": names[pid][0], "name": names[pid][1],
                        "receipts": receipts, "on_time_receipts": on_time, "qty_ordered": ordered,
                        "qty_received_against_orders": received,
                        "qty_received": m.get("purchase_receipt", Decimal(0)),
                        "qty_returned": m.get("purchase_return", Decimal(0))})
        return out

    def order_suggestion_ids(self, order_id: int, states: Sequence[str]) -> list[int]:
        c = purchase_suggestions.c
        return list(self.conn.execute(select(c.id).where(
            and_(c.source_order_id == order_id, c.state.in_(list(states))))).scalars())

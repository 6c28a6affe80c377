"""网页读模型 — the SQL behind the dashboard, product, ledger, partner, warehouse and audit pages.

Guarantees:
- Pure reads on their own connection; nothing here writes.
- Every list is one page (LIMIT/OFFSET) plus its total (COUNT) in SQL — never all rows
  into Python; filters are applied in SQL.
- `warehouse_ids` is the viewer's scope (None: every warehouse); stock outside it
  never appears, in lists or in totals.
- Stock is physical stock (locations of kind `physical`); virtual locations (supplier,
  customer, scrap, transit …) are the other side of postings, not stock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from jxc.services.web_reads import KeysetPage, Page
from jxc.storage.tables import (
    audit_records,
    balances,
    documents,
    ledger_entries,
    locations,
    lots,
    partners,
    postings,
    product_barcodes,
    products,
    reasons,
    roles,
    user_warehouses,
    users,
    warehouses,
)
from jxc.storage.tables_stock import channels, reservations
from jxc.storage.tables_trade import order_lines, orders

EXPORT_MAX = 50_000  # rows in one export: more is an archive, not a spreadsheet


def _scope(q: Any, col: Any, warehouse_ids: Sequence[int] | None) -> Any:
    return q if warehouse_ids is None else q.where(col.in_(list(warehouse_ids)))


class SqlWebReads:
    """Implements `services.web_reads.WebReads` on an engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _all(self, q: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def _page(self, q: Any, order: Sequence[Any], offset: int, limit: int) -> Page:
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one()
            rows = [dict(r) for r in conn.execute(q.order_by(*order).offset(offset).limit(limit)).mappings()]
        return Page(rows, int(total), offset, limit)

    # ── dashboard inputs ─────────────────────────────────────────────────────
    def stock_by_product(self, warehouse_ids: Sequence[int] | None) -> dict[int, tuple[Decimal, Decimal]]:
        """product → (qty, value) of physical stock in scope, every status and lot."""
        b, loc = balances.c, locations.c
        q = (select(b.product_id, func.sum(b.qty).label("qty"), func.sum(b.value).label("value"))
             .join_from(balances, locations, loc.id == b.location_id)
             .where(loc.kind == "physical").group_by(b.product_id))
        q = _scope(q, loc.warehouse_id, warehouse_ids)
        return {r["product_id"]: (Decimal(r["qty"] or 0), Decimal(r["value"] or 0)) for r in self._all(q)}

    def products_brief(self) -> list[dict[str, Any]]:
        p = products.c
        return self._all(select(p.id, p.code, p.name, p.base_unit, p.safety_stock, p.expiry_warn_days)
                         .where(p.active.is_(True)).order_by(p.code))

    def lot_stock(self, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]:
        """Lots with an expiry date and physical stock in scope: qty and value per lot and warehouse."""
        b, loc, lt, p = balances.c, locations.c, lots.c, products.c
        q = (select(lt.id.label("lot_id"), lt.lot_number, lt.expires_on, p.id.label("product_id"), p.code, p.name,
                    p.expiry_warn_days, p.expiry_block_days, p.shelf_life_days, loc.warehouse_id,
                    func.sum(b.qty).label("qty"),
                    func.sum(b.value).label("value"))
             .join_from(balances, locations, loc.id == b.location_id)
             .join(lots, lt.id == b.lot_id).join(products, p.id == b.product_id)
             .where(loc.kind == "physical", lt.expires_on.is_not(None))
             .group_by(lt.id, lt.lot_number, lt.expires_on, p.id, p.code, p.name, p.expiry_warn_days,
                       p.expiry_block_days, p.shelf_life_days, loc.warehouse_id)
             .having(func.sum(b.qty) > 0))
        return self._all(_scope(q, loc.warehouse_id, warehouse_ids).order_by(lt.expires_on))

    def open_order_lines(self, kind: str, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]:
        """Confirmed or partly done order lines with what is still open (base units)."""
        o, ln, p, pa = orders.c, order_lines.c, products.c, partners.c
        q = (select(o.id.label("order_id"), o.number, o.state, o.needed_on, o.warehouse_id, pa.name.label("partner"),
                    ln.id.label("line_id"), ln.product_id, p.code, p.name, ln.qty_base, ln.qty_done, ln.unit_price,
                    ln.reservation_id)
             .join_from(order_lines, orders, o.id == ln.order_id).join(products, p.id == ln.product_id)
             .join(partners, pa.id == o.partner_id)
             .where(o.kind == kind, o.state.in_(("confirmed", "partial")), ln.qty_done < ln.qty_base))
        return self._all(_scope(q, o.warehouse_id, warehouse_ids).order_by(o.needed_on, o.id, ln.line_no))

    def open_reservations(self, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]:
        """Pending reservations with what they still hold (channel orders, chat-group orders …)."""
        r, p = reservations.c, products.c
        q = (select(r.id, r.holder, r.product_id, p.code, p.name, r.warehouse_id, r.qty, r.qty_consumed,
                    r.expires_at, r.created_at)
             .join_from(reservations, products, p.id == r.product_id).where(r.state == "pending"))
        return self._all(_scope(q, r.warehouse_id, warehouse_ids).order_by(r.created_at))

    def posting_values(self, since: datetime, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]:
        """Per posting effective since ``since``: its kind, time, and the value it moved in or out of stock."""
        e, po, loc = ledger_entries.c, postings.c, locations.c
        q = (select(po.id, po.kind, po.effective_at, func.sum(e.value).label("value"))
             .join_from(ledger_entries, postings, po.id == e.posting_id)
             .join(locations, loc.id == e.location_id)
             .where(loc.kind == "physical", e.effective_at >= since)
             .group_by(po.id, po.kind, po.effective_at))
        return self._all(_scope(q, loc.warehouse_id, warehouse_ids).order_by(po.effective_at))

    # ── products ────────────────────────────────────────────────────────────
    def catalog_revision(self) -> tuple[Any, ...]:
        """A one-statement fingerprint that changes when a product is added or edited (edits bump
        `version` and `updated_at`): what `CatalogIndex` compares before reusing its initials."""
        p = products.c
        with self.engine.connect() as conn:
            return tuple(conn.execute(select(func.count(), func.max(p.id), func.coalesce(func.sum(p.version), 0),
                                             func.max(p.updated_at))).one())

    def catalog_keys(self) -> list[tuple[int, str, str, bool]]:
        """(id, code, name, active) of every product, in code order (the search index's rows)."""
        p = products.c
        with self.engine.connect() as conn:
            return [(r.id, r.code, r.name, bool(r.active))
                    for r in conn.execute(select(p.id, p.code, p.name, p.active).order_by(p.code))]

    def products_by_ids(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Product rows for ``ids``, in the order given (unknown ids are skipped)."""
        if not ids:
            return []
        by_id = {r["id"]: r for r in self._all(select(products).where(products.c.id.in_(list(ids))))}
        return [by_id[i] for i in ids if i in by_id]

    def categories(self) -> list[str]:
        with self.engine.connect() as conn:
            return [c for (c,) in conn.execute(select(products.c.category).where(products.c.category.is_not(None))
                                               .distinct().order_by(products.c.category))]

    def product_page(self, *, q: str = "", extra_ids: Sequence[int] = (), category: str | None = None,
                     tracking: str | None = None, active: bool | None = True, offset: int = 0,
                     limit: int = 50) -> Page:
        """商品列表 — code/name contain ``q`` (codes any case), a barcode equals it, or the id is in
        ``extra_ids`` (pinyin initials matched by the caller)."""
        p = products.c
        sel = select(products)
        if q:
            like = f"%{q}%"
            by_code = select(product_barcodes.c.product_id).where(product_barcodes.c.barcode == q)
            sel = sel.where(or_(func.upper(p.code).like(like.upper()), p.name.like(like), p.id.in_(by_code),
                                p.id.in_(list(extra_ids))))
        if category:
            sel = sel.where(p.category == category)
        if tracking:
            sel = sel.where(p.tracking == tracking)
        if active is not None:
            sel = sel.where(p.active.is_(active))
        return self._page(sel, (p.code,), offset, limit)

    def product(self, product_id: int) -> dict[str, Any] | None:
        rows = self._all(select(products).where(products.c.id == product_id))
        if not rows:
            return None
        out = rows[0]
        out["barcodes"] = [r["barcode"] for r in self._all(
            select(product_barcodes.c.barcode).where(product_barcodes.c.product_id == product_id))]
        return out

    def product_stock(self, product_id: int, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]:
        """现存量 by warehouse, location, lot and status for one product."""
        b, loc, w, lt = balances.c, locations.c, warehouses.c, lots.c
        q = (select(w.id.label("warehouse_id"), w.name.label("warehouse"), loc.code.label("location"),
                    b.lot_id, lt.lot_number, lt.expires_on, b.status, b.qty, b.value)
             .join_from(balances, locations, loc.id == b.location_id).join(warehouses, w.id == loc.warehouse_id)
             .outerjoin(lots, lt.id == b.lot_id)
             .where(b.product_id == product_id, loc.kind == "physical", b.qty != 0))
        return self._all(_scope(q, loc.warehouse_id, warehouse_ids).order_by(w.code, lt.expires_on, loc.code))

    def price_history(self, product_id: int, limit: int = 30) -> list[dict[str, Any]]:
        """进价历史 — unit costs of receipts from suppliers (the ledger's inbound entries), newest first."""
        e, po, loc = ledger_entries.c, postings.c, locations.c
        q = (select(e.effective_at, e.qty, e.unit_cost, po.kind, po.reference, po.actor)
             .join_from(ledger_entries, postings, po.id == e.posting_id).join(locations, loc.id == e.location_id)
             .where(e.product_id == product_id, loc.kind == "physical", e.qty > 0,
                    po.kind.in_(("purchase_receipt", "opening_balance")))
             .order_by(e.effective_at.desc(), e.id.desc()).limit(limit))
        return self._all(q)

    # ── ledger (库存流水) ─────────────────────────────────────────────────────
    def _ledger_select(self, *, product_id: int | None, warehouse_id: int | None, kind: str | None,
                       lot: str | None, since: datetime | None, until: datetime | None,
                       warehouse_ids: Sequence[int] | None) -> Any:
        e, po, loc, w, p, lt, d = (ledger_entries.c, postings.c, locations.c, warehouses.c, products.c, lots.c,
                                   documents.c)
        q = (select(e.id, e.posting_id, e.effective_at, po.posted_at, po.kind, po.actor, po.reference,
                    d.number.label("document"), d.id.label("document_id"), p.code, p.name, p.base_unit,
                    lt.lot_number, w.name.label("warehouse"), loc.code.label("location"), e.status, e.qty,
                    e.unit_cost, e.value, po.reverses_id)
             .join_from(ledger_entries, postings, po.id == e.posting_id)
             .join(locations, loc.id == e.location_id).join(warehouses, w.id == loc.warehouse_id)
             .join(products, p.id == e.product_id).outerjoin(lots, lt.id == e.lot_id)
             .outerjoin(documents, or_(d.posting_id == po.id, d.reversal_posting_id == po.id))
             .where(loc.kind == "physical"))
        for col, value in ((e.product_id, product_id), (loc.warehouse_id, warehouse_id), (po.kind, kind),
                           (lt.lot_number, lot or None)):
            if value is not None:
                q = q.where(col == value)
        if since is not None:
            q = q.where(e.effective_at >= since)
        if until is not None:
            q = q.where(e.effective_at < until)
        return _scope(q, loc.warehouse_id, warehouse_ids)

    def ledger_page(self, *, offset: int = 0, limit: int = 50, **filters: Any) -> Page:
        q = self._ledger_select(**filters)
        return self._page(q, (ledger_entries.c.effective_at.desc(), ledger_entries.c.id.desc()), offset, limit)

    def ledger_keyset(self, *, after_id: int | None = None, before_id: int | None = None, limit: int = 50,
                      **filters: Any) -> KeysetPage:
        """库存流水 by cursor, newest first ((effective_at, id) descending).

        ``after_id``: the rows that sort after (older than) that entry; ``before_id``: the page
        just before (newer than) it. Entries are immutable (I5), so an id pins its sort key and
        rows inserted between requests — however back-dated — are neither repeated nor skipped.
        An id that is not an entry reads as the first page."""
        e = ledger_entries.c
        q = self._ledger_select(**filters)
        newest_first = (e.effective_at.desc(), e.id.desc())
        anchor_id = after_id if after_id is not None else before_id
        with self.engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one())

            def fetch(sel: Any) -> list[dict[str, Any]]:
                return [dict(r) for r in conn.execute(sel.limit(limit + 1)).mappings()]

            anchor = None if anchor_id is None else conn.execute(
                select(e.effective_at).where(e.id == anchor_id)).scalar_one_or_none()
            if anchor is not None and after_id is not None:
                got = fetch(q.where(or_(e.effective_at < anchor, and_(e.effective_at == anchor, e.id < anchor_id)))
                            .order_by(*newest_first))
                return KeysetPage(got[:limit], total, True, len(got) > limit)
            if anchor is not None:
                got = fetch(q.where(or_(e.effective_at > anchor, and_(e.effective_at == anchor, e.id > anchor_id)))
                            .order_by(e.effective_at, e.id))
                if len(got) > limit:
                    return KeysetPage(list(reversed(got[:limit])), total, True, True)
            got = fetch(q.order_by(*newest_first))  # the first page (also: back at the top, or an unknown id)
            return KeysetPage(got[:limit], total, False, len(got) > limit)

    def ledger_rows(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every row of a filtered ledger, oldest first (for exports), at most EXPORT_MAX."""
        q = self._ledger_select(**filters).order_by(ledger_entries.c.effective_at, ledger_entries.c.id)
        with self.engine.connect() as conn:
            for r in conn.execute(q.limit(EXPORT_MAX)).mappings():
                yield dict(r)

    # ── partners, warehouses, locations ──────────────────────────────────────
    def partner_page(self, *, q: str = "", role: str | None = None, active: bool | None = True,
                     offset: int = 0, limit: int = 50) -> Page:
        c = partners.c
        sel = select(partners)
        if q:
            sel = sel.where(or_(func.upper(c.code).like(f"%{q.upper()}%"), c.name.like(f"%{q}%"),
                                c.phone.like(f"%{q}%")))
        if role:
            sel = sel.where(c.role == role)
        if active is not None:
            sel = sel.where(c.active.is_(active))
        return self._page(sel, (c.code,), offset, limit)

    def warehouse_list(self, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]:
        w, loc = warehouses.c, locations.c
        n = (select(func.count()).where(loc.warehouse_id == w.id, loc.kind == "physical")
             .correlate(warehouses).scalar_subquery())
        return self._all(_scope(select(warehouses, n.label("locations")), w.id, warehouse_ids).order_by(w.code))

    def location_page(self, *, warehouse_id: int | None, q: str = "", offset: int = 0, limit: int = 50,
                      warehouse_ids: Sequence[int] | None = None) -> Page:
        loc, w = locations.c, warehouses.c
        sel = (select(locations, w.name.label("warehouse"))
               .join_from(locations, warehouses, w.id == loc.warehouse_id).where(loc.kind == "physical"))
        if warehouse_id is not None:
            sel = sel.where(loc.warehouse_id == warehouse_id)
        if q:
            sel = sel.where(or_(func.upper(loc.code).like(f"%{q.upper()}%"), loc.name.like(f"%{q}%")))
        return self._page(_scope(sel, loc.warehouse_id, warehouse_ids), (loc.code,), offset, limit)

    def record(self, table: str, record_id: int) -> dict[str, Any] | None:
        t = {"partners": partners, "warehouses": warehouses, "locations": locations, "products": products}[table]
        rows = self._all(select(t).where(t.c.id == record_id))
        return rows[0] if rows else None

    # ── audit (操作日志) ──────────────────────────────────────────────────────
    def audit_page(self, *, actor: str | None = None, action: str | None = None, object_type: str | None = None,
                   object_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
                   offset: int = 0, limit: int = 50) -> Page:
        a = audit_records.c
        sel = select(audit_records)
        for col, value in ((a.actor, actor), (a.object_type, object_type), (a.object_id, object_id)):
            if value:
                sel = sel.where(col == value)
        if action:
            sel = sel.where(a.action.like(f"{action}%"))
        if since is not None:
            sel = sel.where(a.at >= since)
        if until is not None:
            sel = sel.where(a.at < until)
        return self._page(sel, (a.seq.desc(),), offset, limit)

    def document_ids(self, number: str) -> list[int]:
        with self.engine.connect() as conn:
            return [i for (i,) in conn.execute(select(documents.c.id).where(documents.c.number == number))]


    # ── settings (设置) ─────────────────────────────────────────────────────────
    def roles(self) -> list[dict[str, Any]]:
        rows = self._all(select(roles).order_by(roles.c.builtin.desc(), roles.c.code))
        for r in rows:
            r["permissions"] = json.loads(r["permissions"])
        return rows

    def users(self) -> list[dict[str, Any]]:
        u = users.c
        rows = self._all(select(u.id, u.username, u.display_name, u.role, u.active, u.lang).order_by(u.username))
        scope: dict[int, list[int]] = {}
        for r in self._all(select(user_warehouses)):
            scope.setdefault(r["user_id"], []).append(r["warehouse_id"])
        for r in rows:
            r["warehouses"] = sorted(scope.get(r["id"], []))
        return rows

    def reasons(self) -> list[dict[str, Any]]:
        return self._all(select(reasons).order_by(reasons.c.kind, reasons.c.code))

    def channels(self) -> list[dict[str, Any]]:
        rows = self._all(select(channels).order_by(channels.c.code))
        for r in rows:
            r["warehouse_ids"] = json.loads(r["warehouse_ids"])
        return rows


def as_date(value: Any) -> date | None:
    """SQLite may hand back a date as text; PostgreSQL as a date."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])

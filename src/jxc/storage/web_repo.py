"""网页读模型 — document lists (filtered, newest first, with a total for paging) and open orders.

Pure reads for the web pages; nothing here writes. Filters are applied in SQL so a
page of 50 out of 100 000 documents costs one indexed query plus a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select

from jxc.storage.tables import documents, partners, warehouses
from jxc.storage.tables_trade import orders


def search_documents(engine: Engine, offset: int, limit: int, *, kinds: Sequence[str] | None = None,
                     state: str | None = None, warehouse_id: int | None = None, partner_id: int | None = None,
                     warehouse_ids: Sequence[int] | None = None, created_by: str | None = None,
                     text: str | None = None, since: datetime | None = None,
                     until: datetime | None = None) -> tuple[list[dict[str, Any]], int]:
    """单据列表 — (rows newest first with warehouse and partner names, total matching)."""
    c = documents.c
    where = []
    if kinds:
        where.append(c.kind.in_(list(kinds)))
    for col, value in ((c.state, state), (c.warehouse_id, warehouse_id), (c.partner_id, partner_id),
                       (c.created_by, created_by)):
        if value is not None:
            where.append(col == value)
    if warehouse_ids is not None:
        ids = list(warehouse_ids)
        where.append(or_(c.warehouse_id.in_(ids), c.to_warehouse_id.in_(ids)))
    if text:
        like = f"%{text}%"
        where.append(or_(c.number.like(like), c.number.like(like.upper()), c.remark.like(like),
                         c.reason_text.like(like), c.created_by.like(like)))
    if since is not None:
        where.append(c.effective_at >= since)
    if until is not None:
        where.append(c.effective_at < until)
    q = (select(c.id, c.number, c.kind, c.state, c.warehouse_id, c.to_warehouse_id, c.partner_id, c.effective_at,
                c.remark, c.created_by, c.updated_at, c.approval_level,
                warehouses.c.name.label("warehouse"), partners.c.name.label("partner"))
         .join_from(documents, warehouses, warehouses.c.id == c.warehouse_id)
         .outerjoin(partners, partners.c.id == c.partner_id)
         .where(*where).order_by(c.id.desc()).offset(offset).limit(limit))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
        total = conn.execute(select(func.count()).select_from(documents).where(*where)).scalar_one()
    return rows, int(total)


def open_orders(engine: Engine, kind: str, warehouse_ids: Sequence[int] | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
    """待收货 / 待发货 — confirmed or partly done orders of a kind, oldest first, with partner names."""
    o = orders.c
    q = (select(o.id, o.number, o.kind, o.state, o.partner_id, o.warehouse_id, o.needed_on, o.remark,
                partners.c.name.label("partner"), warehouses.c.name.label("warehouse"))
         .join_from(orders, partners, partners.c.id == o.partner_id)
         .join(warehouses, warehouses.c.id == o.warehouse_id)
         .where(o.kind == kind, o.state.in_(("confirmed", "partial"))).order_by(o.id).limit(limit))
    if warehouse_ids is not None:
        q = q.where(o.warehouse_id.in_(list(warehouse_ids)))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]

"""查询 — read models: balances, stock as of a time, names, invariant checks.

Guarantees:
- I8: `stock_at(T)` = the last period snapshot closed at or before T plus the
  entries effective since that close and at or before T. It never replays
  all history: the period snapshot bounds the work, and the
  (product_id, effective_at) index serves a one-product question.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, union_all

from jxc.domain.balances import Amount
from jxc.domain.catalog import LocationKind
from jxc.domain.ledger import BucketKey
from jxc.services.ports import StockRow, Violation
from jxc.storage import api_repo, checks, reports_repo, web_repo
from jxc.storage.tables import (
    balances,
    ledger_entries,
    locations,
    lots,
    period_balances,
    periods,
    products,
    warehouses,
)


class SqlQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def report(self, name: str, by: str, filters: Mapping[str, Any], offset: int, limit: int
               ) -> list[dict[str, Any]]:
        """报表 — see storage/reports_repo.py."""
        return reports_repo.run(self.engine, name, by, filters, offset, limit)

    def _location_ids(self, conn: Any, warehouse_id: int | None, physical_only: bool) -> list[int] | None:
        if warehouse_id is None and not physical_only:
            return None
        q = select(locations.c.id)
        if warehouse_id is not None:
            q = q.where(locations.c.warehouse_id == warehouse_id)
        if physical_only:
            q = q.where(locations.c.kind == LocationKind.PHYSICAL)
        return list(conn.execute(q).scalars())

    def balances(self, product_id: int | None = None, warehouse_id: int | None = None,
                 lot_id: int | None = None, physical_only: bool = True) -> dict[BucketKey, Amount]:
        b = balances.c
        with self.engine.connect() as conn:
            q = select(b.location_id, b.product_id, b.lot_id, b.status, b.qty, b.value).where(
                (b.qty != 0) | (b.value != 0))
            q = _filters(q, b, product_id, lot_id, self._location_ids(conn, warehouse_id, physical_only))
            return {BucketKey(r[0], r[1], r[2], r[3]): Amount(r[4], r[5]) for r in conn.execute(q)}

    def stock_at(self, at: datetime, product_id: int | None = None,
                 warehouse_id: int | None = None, lot_id: int | None = None,
                 physical_only: bool = True) -> dict[BucketKey, Amount]:
        with self.engine.connect() as conn:
            return self.stock_at_on(conn, at, product_id, warehouse_id, lot_id, physical_only)

    def stock_at_on(self, conn: Any, at: datetime, product_id: int | None = None,
                    warehouse_id: int | None = None, lot_id: int | None = None,
                    physical_only: bool = True) -> dict[BucketKey, Amount]:
        period = conn.execute(
            select(periods.c.id, periods.c.closed_until).where(periods.c.closed_until <= at)
            .order_by(periods.c.closed_until.desc()).limit(1)).first()
        loc_ids = self._location_ids(conn, warehouse_id, physical_only)
        e, s = ledger_entries.c, period_balances.c
        since = select(e.location_id, e.product_id, e.lot_id, e.status, e.qty, e.value).where(
            e.effective_at <= at)
        if period is not None:
            since = since.where(e.effective_at >= period[1])
        parts = [_filters(since, e, product_id, lot_id, loc_ids)]
        if period is not None:
            snap = select(s.location_id, s.product_id, s.lot_id, s.status, s.qty, s.value).where(
                s.period_id == period[0])
            parts.append(_filters(snap, s, product_id, lot_id, loc_ids))
        u = union_all(*parts).subquery()
        q = (select(u.c.location_id, u.c.product_id, u.c.lot_id, u.c.status,
                    func.sum(u.c.qty), func.sum(u.c.value))
             .group_by(u.c.location_id, u.c.product_id, u.c.lot_id, u.c.status))
        out: dict[BucketKey, Amount] = {}
        for r in conn.execute(q):
            amount = Amount(r[4], r[5])
            if not amount.is_zero:
                out[BucketKey(r[0], r[1], r[2], r[3])] = amount
        return out

    def describe(self, buckets: Mapping[BucketKey, Amount]) -> list[StockRow]:
        if not buckets:
            return []
        with self.engine.connect() as conn:
            pids = {k.product_id for k in buckets}
            prod = {r[0]: (r[1], r[2]) for r in conn.execute(
                select(products.c.id, products.c.code, products.c.name).where(products.c.id.in_(pids)))}
            loc = {r[0]: (r[1], r[2]) for r in conn.execute(
                select(locations.c.id, locations.c.code, warehouses.c.code)
                .join_from(locations, warehouses, locations.c.warehouse_id == warehouses.c.id,
                           isouter=True))}
            lot_ids = {k.lot_id for k in buckets if k.lot_id}
            lot = {r[0]: r[1] for r in conn.execute(
                select(lots.c.id, lots.c.lot_number).where(lots.c.id.in_(lot_ids)))} if lot_ids else {}
        rows = [StockRow(k.location_id, loc[k.location_id][0], loc[k.location_id][1], k.product_id,
                         prod[k.product_id][0], prod[k.product_id][1], k.lot_id, lot.get(k.lot_id),
                         k.status, a.qty, a.value) for k, a in buckets.items()]
        return sorted(rows, key=lambda r: (r.product_code, r.warehouse_code or "", r.location_code,
                                           r.lot_number or "", r.status))

    def lookup_ids(self, product_code: str | None, warehouse_code: str | None
                   ) -> tuple[int | None, int | None]:
        with self.engine.connect() as conn:
            pid = conn.execute(select(products.c.id).where(products.c.code == product_code)
                               ).scalar() if product_code else None
            wid = conn.execute(select(warehouses.c.id).where(warehouses.c.code == warehouse_code)
                               ).scalar() if warehouse_code else None
        return pid, wid

    def open_documents(self, warehouse_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """未生效单据 — drafts and pending approvals, oldest first: staged work that is NOT stock yet."""
        from jxc.storage.tables import documents

        d = documents.c
        q = (select(d.id, d.number, d.kind, d.state, d.warehouse_id, warehouses.c.code.label("warehouse"),
                    d.created_by, d.created_at, d.updated_at, d.submitted_at, d.approval_level, d.reminder_level)
             .join_from(documents, warehouses, warehouses.c.id == d.warehouse_id)
             .where(d.state.in_(("draft", "pending_approval"))).order_by(d.updated_at).limit(limit))
        if warehouse_id is not None:
            q = q.where(d.warehouse_id == warehouse_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return audit_search(conn, **filters)

    def violations(self) -> list[Violation]:
        with self.engine.connect() as conn:
            return checks.all_violations(conn, self)

    # HTTP API read models: implemented in api_repo.py (issue 6)
    def page_records(self, table: str, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
        return api_repo.page_records(self.engine, table, after, limit, **filters)

    def page_documents(self, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
        return api_repo.page_documents(self.engine, after, limit, **filters)

    def search_documents(self, offset: int, limit: int, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        return web_repo.search_documents(self.engine, offset, limit, **filters)

    def open_orders(self, kind: str, warehouse_ids: Any = None, limit: int = 100) -> list[dict[str, Any]]:
        return web_repo.open_orders(self.engine, kind, warehouse_ids, limit)

    def page_ledger(self, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
        return api_repo.page_ledger(self.engine, after, limit, **filters)

    def events_since(self, after: int | None, limit: int, delivered_only: bool = True) -> list[dict[str, Any]]:
        return api_repo.events_since(self.engine, after, limit, delivered_only)

    def operations(self, now: datetime) -> dict[str, Any]:
        return api_repo.operations(self.engine, now)

    def page_deliveries(self, after: int | None, limit: int, state: str | None = None) -> list[dict[str, Any]]:
        return api_repo.page_deliveries(self.engine, after, limit, state)

    def event_listener(self) -> Any:
        return api_repo.event_listener(self.engine)

    def last_event_id(self) -> int:
        return api_repo.last_event_id(self.engine)

    def page_ingest(self, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
        from jxc.storage.ingest_repo import page_events

        return page_events(self.engine, after, limit, **filters)

    def page_scoped(self, table: str, after: int | None, limit: int, warehouse_ids: Sequence[int] | None = None,
                    **filters: Any) -> list[dict[str, Any]]:
        from jxc.storage.api_pages import page_scoped

        return page_scoped(self.engine, table, after, limit, warehouse_ids, **filters)


def _filters(q: Any, c: Any, product_id: int | None, lot_id: int | None,
             loc_ids: list[int] | None) -> Any:
    if product_id is not None:
        q = q.where(c.product_id == product_id)
    if lot_id is not None:
        q = q.where(c.lot_id == lot_id)
    if loc_ids is not None:
        q = q.where(c.location_id.in_(loc_ids))
    return q



def audit_search(conn: Any, *, product_id: int | None = None, document_id: int | None = None,
                 username: str | None = None, action: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, before_seq: int | None = None,
                 limit: int = 50) -> list[dict[str, Any]]:
    """操作日志查询 — newest first; a product finds its own records and those of every
    posting and document that moved it."""
    from sqlalchemy import String, cast, or_

    from jxc.storage.tables import audit_records, document_lines, documents

    a = audit_records.c
    q = select(audit_records)
    if product_id is not None:
        postings_of = select(cast(ledger_entries.c.posting_id, String)).where(
            ledger_entries.c.product_id == product_id)
        docs_of = select(cast(document_lines.c.document_id, String)).where(
            document_lines.c.product_id == product_id)
        q = q.where(or_((a.object_type == "product") & (a.object_id == str(product_id)),
                        (a.object_type == "posting") & a.object_id.in_(postings_of),
                        (a.object_type == "document") & a.object_id.in_(docs_of)))
    if document_id is not None:
        posting_ids = select(cast(documents.c.posting_id, String)).where(documents.c.id == document_id)
        q = q.where(or_((a.object_type == "document") & (a.object_id == str(document_id)),
                        (a.object_type == "posting") & a.object_id.in_(posting_ids)))
    if username:
        q = q.where(a.actor == username)
    if action:
        q = q.where(a.action.like(f"{action}%"))
    if since:
        q = q.where(a.at >= since)
    if until:
        q = q.where(a.at <= until)
    if before_seq:
        q = q.where(a.seq < before_seq)
    return [dict(r) for r in conn.execute(q.order_by(a.seq.desc()).limit(limit)).mappings()]

"""盘点与排查仓储 — count plans/tasks/entries/results, ABC classes, and the investigation's reads.

Guarantees:
- `book_moves` reads the book the way `Queries.stock_at` does (last period
  snapshot + entries since, effective ≤ T), inside the caller's transaction, so
  a variance and the adjustment it proposes see the same committed ledger.
- An entry's idempotency key is unique in the database: two retries of one
  phone line racing each other store it once (the loser gets the first row).
- Reads only: nothing here changes stock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.exc import IntegrityError

from jxc.domain.catalog import LocationKind
from jxc.domain.counting import BucketRef, Move
from jxc.domain.quantities import ZERO
from jxc.storage.queries import SqlQueries
from jxc.storage.tables import (
    approvals,
    audit_records,
    document_lines,
    documents,
    ledger_entries,
    locations,
    metadata,
    postings,
    products,
)
from jxc.storage.tables_counting import (
    count_entries,
    count_plans,
    count_results,
    count_task_assignees,
    count_task_items,
    count_tasks,
    product_abc,
)

_OUT_KINDS = ("customer", "production", "scrap")  # usage: stock that left to be sold, used or scrapped


class SqlCountingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"

    # ── plans and tasks ─────────────────────────────────────────────────────
    def add_plan(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(count_plans.insert().returning(count_plans.c.id), dict(values)).scalar_one()

    def plan(self, plan_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(count_plans).where(count_plans.c.id == plan_id)).mappings().first()
        return None if row is None else dict(row)

    def add_task(self, values: Mapping[str, Any], items: Iterable[BucketRef], assignees: Iterable[str]) -> int:
        task_id = self.conn.execute(count_tasks.insert().returning(count_tasks.c.id), dict(values)).scalar_one()
        rows = [{"task_id": task_id, "location_id": r[0], "product_id": r[1], "lot_id": r[2], "listed": True,
                 "round": 1} for r in sorted(set(items))]
        if rows:
            self.conn.execute(count_task_items.insert(), rows)
        self.set_assignees(task_id, assignees)
        return task_id

    def task(self, task_id: int, lock: bool = False) -> dict[str, Any] | None:
        q = select(count_tasks).where(count_tasks.c.id == task_id)
        if lock and self._pg:
            q = q.with_for_update()
        row = self.conn.execute(q).mappings().first()
        if row is None:
            return None
        out = dict(row)
        i = count_task_items.c
        out["items"] = [dict(r) for r in self.conn.execute(
            select(count_task_items).where(i.task_id == task_id)
            .order_by(i.location_id, i.product_id, i.lot_id)).mappings()]
        out["assignees"] = sorted(self.conn.execute(select(count_task_assignees.c.username).where(
            count_task_assignees.c.task_id == task_id)).scalars())
        return out

    def update_task(self, task_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(count_tasks).where(count_tasks.c.id == task_id)
                          .values(**values, version=count_tasks.c.version + 1))

    def set_assignees(self, task_id: int, usernames: Iterable[str]) -> None:
        self.conn.execute(count_task_assignees.delete().where(count_task_assignees.c.task_id == task_id))
        names = sorted(set(usernames))
        if names:
            self.conn.execute(count_task_assignees.insert(), [{"task_id": task_id, "username": n} for n in names])

    def add_item(self, task_id: int, ref: BucketRef, round_: int = 1) -> None:
        """Found on the shelf but not on the sheet (盘点表外): listed=False."""
        i = count_task_items.c
        exists = self.conn.execute(select(i.task_id).where(
            i.task_id == task_id, i.location_id == ref[0], i.product_id == ref[1], i.lot_id == ref[2])).first()
        if exists is None:
            self.conn.execute(count_task_items.insert().values(task_id=task_id, location_id=ref[0],
                                                               product_id=ref[1], lot_id=ref[2],
                                                               listed=False, round=round_))

    def bump_rounds(self, task_id: int, refs: Iterable[BucketRef]) -> None:
        i = count_task_items.c
        for loc, pid, lot in sorted(set(refs)):
            self.conn.execute(update(count_task_items).where(
                i.task_id == task_id, i.location_id == loc, i.product_id == pid, i.lot_id == lot)
                .values(round=i.round + 1))

    # ── entries and results ────────────────────────────────────────────────
    def add_entry(self, values: Mapping[str, Any]) -> int:
        """Insert a counted line; a racing duplicate idempotency key returns the first row's id."""
        key = values.get("idempotency_key")
        if not key:
            return self.conn.execute(count_entries.insert().returning(count_entries.c.id), dict(values)).scalar_one()
        try:
            with self.conn.begin_nested():
                return self.conn.execute(count_entries.insert().returning(count_entries.c.id),
                                         dict(values)).scalar_one()
        except IntegrityError:
            first = self.entry_by_key(key)
            if first is None:
                raise
            return int(first["id"])

    def entry_by_key(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(count_entries).where(count_entries.c.idempotency_key == key)).mappings().first()
        return None if row is None else dict(row)

    def entries(self, task_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            select(count_entries).where(count_entries.c.task_id == task_id).order_by(count_entries.c.id)).mappings()]

    def add_results(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.conn.execute(count_results.insert(), [dict(r) for r in rows])

    def results(self, since: datetime | None = None, until: datetime | None = None,
                warehouse_id: int | None = None) -> list[dict[str, Any]]:
        """Closed lines of the latest close of each task, with the task and its adjustment's state."""
        r, t, d = count_results.c, count_tasks.c, documents.c
        q = (select(count_results, t.number.label("task_number"), t.warehouse_id, d.state.label("document_state"),
                    d.number.label("document_number"))
             .join(count_tasks, and_(t.id == r.task_id, t.close_seq == r.close_seq))
             .join(documents, d.id == t.adjustment_document_id, isouter=True)
             .where(t.state == "closed"))
        if since is not None:
            q = q.where(r.closed_at >= since)
        if until is not None:
            q = q.where(r.closed_at <= until)
        if warehouse_id is not None:
            q = q.where(t.warehouse_id == warehouse_id)
        return [dict(x) for x in self.conn.execute(q.order_by(r.closed_at, r.id)).mappings()]

    # ── what there is to count, and the book at a moment ────────────────────
    def physical_locations(self, warehouse_id: int) -> list[int]:
        return list(self.conn.execute(select(locations.c.id).where(
            locations.c.warehouse_id == warehouse_id, locations.c.kind == LocationKind.PHYSICAL)
            .order_by(locations.c.id)).scalars())

    def products(self, product_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
        p = products.c
        q = select(p.id, p.code, p.name, p.category, p.base_unit, p.active)
        if product_ids is not None:
            q = q.where(p.id.in_(sorted(set(product_ids))))
        return {r["id"]: dict(r) for r in self.conn.execute(q).mappings()}

    def book_moves(self, warehouse_id: int, start: datetime, end: datetime,
                   product_id: int | None = None) -> tuple[dict[BucketRef, Decimal], list[Move]]:
        """Physical stock per (location, product, lot) as of ``start`` (all statuses), and the moves in (start, end]."""
        snap = SqlQueries(self.conn.engine).stock_at_on(self.conn, start, product_id, warehouse_id)
        opening: dict[BucketRef, Decimal] = {}
        for k, a in snap.items():
            ref = (k.location_id, k.product_id, k.lot_id)
            opening[ref] = opening.get(ref, ZERO) + a.qty
        e = ledger_entries.c
        q = (select(e.location_id, e.product_id, e.lot_id, e.effective_at, e.qty)
             .where(e.location_id.in_(self.physical_locations(warehouse_id)), e.effective_at > start,
                    e.effective_at <= end).order_by(e.effective_at, e.id))
        if product_id is not None:
            q = q.where(e.product_id == product_id)
        moves = [Move((r[0], r[1], r[2]), r[3], r[4]) for r in self.conn.execute(q)]
        return opening, moves

    def usage_values(self, since: datetime, until: datetime) -> dict[int, Decimal]:
        """Value of stock that left to customers, production or scrap, per product (ABC input)."""
        e, loc = ledger_entries.c, locations.c
        q = (select(e.product_id, func.sum(e.value)).join(locations, loc.id == e.location_id)
             .where(loc.kind.in_(_OUT_KINDS), e.effective_at >= since, e.effective_at < until)
             .group_by(e.product_id))
        return {r[0]: Decimal(r[1]) for r in self.conn.execute(q)}

    def save_abc(self, classes: Mapping[int, str], usage: Mapping[int, Decimal], now: datetime) -> None:
        self.conn.execute(product_abc.delete())
        rows = [{"product_id": pid, "abc_class": c, "usage_value": usage.get(pid, ZERO), "computed_at": now}
                for pid, c in sorted(classes.items())]
        if rows:
            self.conn.execute(product_abc.insert(), rows)

    def abc(self) -> dict[int, str]:
        return {r[0]: r[1] for r in self.conn.execute(select(product_abc.c.product_id, product_abc.c.abc_class))}

    # ── investigation reads ────────────────────────────────────────────────
    def timeline(self, product_id: int, location_ids: Sequence[int], lot_id: int | None,
                 since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Postings that moved the product in these locations, effective in (since, until], oldest first."""
        e, p = ledger_entries.c, postings.c
        q = (select(p.id.label("posting_id"), p.kind.label("posting_kind"), p.effective_at, p.posted_at,
                    p.actor, p.reverses_id, p.reference, p.remark, p.allow_negative, func.sum(e.qty).label("qty"))
             .join(postings, p.id == e.posting_id)
             .where(e.product_id == product_id, e.location_id.in_(list(location_ids)),
                    e.effective_at > since, e.effective_at <= until)
             .group_by(p.id, p.kind, p.effective_at, p.posted_at, p.actor, p.reverses_id, p.reference,
                       p.remark, p.allow_negative)
             .order_by(p.effective_at, p.id))
        if lot_id is not None:
            q = q.where(e.lot_id == lot_id)
        rows = [dict(r) for r in self.conn.execute(q).mappings()]
        by_posting = self._documents_of([r["posting_id"] for r in rows])
        for r in rows:
            r["document"] = by_posting.get(r["posting_id"])
        return rows

    def _documents_of(self, posting_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not posting_ids:
            return {}
        d = documents.c
        cols = (d.id, d.number, d.kind, d.state, d.created_by, d.created_at, d.updated_by, d.reason_code,
                d.reason_text, d.partner_id, d.posting_id, d.reversal_posting_id)
        out: dict[int, dict[str, Any]] = {}
        for r in self.conn.execute(select(*cols).where(
                d.posting_id.in_(posting_ids) | d.reversal_posting_id.in_(posting_ids))).mappings():
            row = dict(r)
            for pid in (row["posting_id"], row["reversal_posting_id"]):
                if pid in posting_ids:
                    out[pid] = row
        return out

    def open_documents(self, product_id: int, warehouse_id: int) -> list[dict[str, Any]]:
        """Drafts and pending approvals with lines of the product in (or into) the warehouse."""
        d, ln = documents.c, document_lines.c
        q = (select(d.id, d.number, d.kind, d.state, d.warehouse_id, d.to_warehouse_id, d.created_by,
                    d.created_at, d.updated_by, d.submitted_at, d.effective_at, d.approval_level,
                    ln.role, func.sum(ln.qty_base).label("qty"))
             .join(document_lines, ln.document_id == d.id)
             .where(ln.product_id == product_id, d.state.in_(("draft", "pending_approval")),
                    (d.warehouse_id == warehouse_id) | (d.to_warehouse_id == warehouse_id))
             .group_by(d.id, d.number, d.kind, d.state, d.warehouse_id, d.to_warehouse_id, d.created_by,
                       d.created_at, d.updated_by, d.submitted_at, d.effective_at, d.approval_level, ln.role)
             .order_by(d.created_at, d.id))
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def transfers_in_transit(self, product_id: int, warehouse_id: int) -> list[dict[str, Any]]:
        """Posted transfers from or to the warehouse with the product still in transit (sent − received)."""
        d, ln = documents.c, document_lines.c
        sent = (select(d.id, d.number, d.warehouse_id, d.to_warehouse_id, d.created_by, d.effective_at,
                       func.sum(ln.qty_base).label("sent"))
                .join(document_lines, ln.document_id == d.id)
                .where(d.kind == "transfer", d.state == "posted", ln.product_id == product_id,
                       (d.warehouse_id == warehouse_id) | (d.to_warehouse_id == warehouse_id))
                .group_by(d.id, d.number, d.warehouse_id, d.to_warehouse_id, d.created_by, d.effective_at))
        out = []
        for r in self.conn.execute(sent).mappings():
            got = self.conn.execute(select(func.coalesce(func.sum(ln.qty_base), 0)).join(
                documents, d.id == ln.document_id).where(
                d.source_document_id == r["id"], d.state == "posted", ln.product_id == product_id)).scalar()
            left = r["sent"] - Decimal(got or 0)
            if left > 0:
                out.append({**dict(r), "in_transit": left})
        return out

    def attributions(self, document_ids: Iterable[int], posting_ids: Iterable[int]) -> list[dict[str, Any]]:
        """Who did what from where: audit records of these documents and postings, oldest first."""
        a = audit_records.c
        docs, posts = [str(i) for i in set(document_ids)], [str(i) for i in set(posting_ids)]
        q = (select(a.object_type, a.object_id, a.action, a.actor, a.at, a.ip, a.device)
             .where(((a.object_type == "document") & a.object_id.in_(docs))
                    | ((a.object_type == "posting") & a.object_id.in_(posts))).order_by(a.seq))
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def approvals(self, document_ids: Iterable[int]) -> list[dict[str, Any]]:
        ap = approvals.c
        return [dict(r) for r in self.conn.execute(select(approvals).where(
            ap.document_id.in_(sorted(set(document_ids)))).order_by(ap.id)).mappings()]

    def last_good_count(self, product_id: int, location_ids: Sequence[int], before: datetime) -> datetime | None:
        """The latest closed count of the product here whose result the books took (posted, or no variance)."""
        r, t, d = count_results.c, count_tasks.c, documents.c
        q = (select(func.max(r.counted_at))
             .join(count_tasks, and_(t.id == r.task_id, t.close_seq == r.close_seq))
             .join(documents, d.id == t.adjustment_document_id, isouter=True)
             .where(r.product_id == product_id, r.location_id.in_(list(location_ids)), r.counted_at < before,
                    t.state == "closed", (d.state == "posted") | (r.variance == 0)))
        return self.conn.execute(q).scalar()

    def reserved_not_delivered(self, product_id: int, warehouse_id: int) -> list[dict[str, Any]] | None:
        """预占未出库 — pending reservations of the product in the warehouse; None while the book has none
        (the reservations table of issue 4 is not part of this schema yet)."""
        table = metadata.tables.get("reservations")
        if table is None:
            return None
        c = table.c
        q = (select(c.id, c.holder, c.qty, c.qty_consumed, c.created_by, c.created_at, c.expires_at)
             .where(c.product_id == product_id, c.warehouse_id == warehouse_id, c.state == "pending")
             .order_by(c.created_at))
        return [{**dict(r), "open_qty": r["qty"] - r["qty_consumed"]} for r in self.conn.execute(q).mappings()]

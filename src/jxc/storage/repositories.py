"""仓储 — the services' ports on SQLAlchemy Core, one connection per unit of work.

Guarantees:
- Balance rows change only by SQL increments (INSERT … ON CONFLICT DO UPDATE
  SET qty = qty + excluded.qty), applied in bucket-key order so concurrent
  postings lock rows in the same order and cannot deadlock.
- The book head is read with `SELECT … FOR UPDATE` on PostgreSQL; on SQLite the
  whole writing transaction holds the write lock from `BEGIN IMMEDIATE`.
- Unique-key races (idempotency key, second reversal) surface as `Conflict`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, literal, or_, select, tuple_, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from jxc.domain.catalog import LocationInfo, LocationKind, LotInfo, ProductInfo, Tracking
from jxc.domain.errors import Conflict
from jxc.domain.ledger import BucketKey, LedgerEntry, MasterData
from jxc.domain.quantities import ZERO, cost
from jxc.services.ports import AuditEntry, BookHead, NewPosting, OutboxMessage, PostingHeader
from jxc.storage import audit as audit_chain
from jxc.storage.tables import (
    audit_records,
    balances,
    books,
    ledger_entries,
    locations,
    lots,
    metadata,
    outbox_events,
    period_balances,
    periods,
    postings,
    products,
)

_HEADER_COLS = (postings.c.id, postings.c.kind, postings.c.effective_at, postings.c.posted_at,
                postings.c.actor, postings.c.reverses_id, postings.c.idempotency_key,
                postings.c.request_hash, postings.c.allow_negative, postings.c.reference,
                postings.c.remark)


def _header(row: Any) -> PostingHeader | None:
    return None if row is None else PostingHeader(*row)


class SqlPostingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find_by_key(self, idempotency_key: str) -> PostingHeader | None:
        return _header(self.conn.execute(
            select(*_HEADER_COLS).where(postings.c.idempotency_key == idempotency_key)).first())

    def get(self, posting_id: int) -> PostingHeader | None:
        return _header(self.conn.execute(
            select(*_HEADER_COLS).where(postings.c.id == posting_id)).first())

    def reversal_of(self, posting_id: int) -> PostingHeader | None:
        return _header(self.conn.execute(
            select(*_HEADER_COLS).where(postings.c.reverses_id == posting_id)).first())

    def entries(self, posting_id: int) -> tuple[LedgerEntry, ...]:
        c = ledger_entries.c
        rows = self.conn.execute(
            select(c.product_id, c.lot_id, c.location_id, c.status, c.qty, c.unit_cost, c.value,
                   c.effective_at, c.line_no)
            .where(c.posting_id == posting_id).order_by(c.id))
        return tuple(LedgerEntry(*r) for r in rows)

    def add(self, posting: NewPosting, entries: Sequence[LedgerEntry]) -> int:
        try:
            posting_id = self.conn.execute(
                postings.insert().returning(postings.c.id),
                {
                    "kind": posting.kind, "effective_at": posting.effective_at,
                    "posted_at": posting.posted_at, "actor": posting.actor,
                    "reverses_id": posting.reverses_id, "idempotency_key": posting.idempotency_key,
                    "request_hash": posting.request_hash, "allow_negative": posting.allow_negative,
                    "reference": posting.reference, "remark": posting.remark,
                },
            ).scalar_one()
        except IntegrityError as exc:
            raise Conflict("ALREADY_REVERSED" if posting.reverses_id else "IDEMPOTENCY_MISMATCH",
                           "该单据已被并发处理，请刷新后查看结果",
                           "this posting was processed concurrently; refresh to see the result",
                           field="idempotency_key" if posting.idempotency_key else "posting_id") from exc
        self.conn.execute(ledger_entries.insert(), [
            {"posting_id": posting_id, "line_no": e.line_no, "product_id": e.product_id,
             "lot_id": e.lot_id, "location_id": e.location_id, "status": e.status, "qty": e.qty,
             "unit_cost": e.unit_cost, "value": e.value, "effective_at": e.effective_at}
            for e in entries
        ])
        return posting_id


class SqlBalanceRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        dialect = conn.dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(balances)
        self._upsert = ins.on_conflict_do_update(
            index_elements=[balances.c.location_id, balances.c.product_id, balances.c.lot_id,
                            balances.c.status],
            set_={"qty": balances.c.qty + ins.excluded.qty,
                  "value": balances.c.value + ins.excluded.value},
        )

    def increment(self, entries: Sequence[LedgerEntry],
                  watch: Iterable[BucketKey]) -> dict[BucketKey, Decimal]:
        deltas: dict[BucketKey, list[Decimal]] = {}
        for e in entries:
            d = deltas.setdefault(e.bucket, [ZERO, ZERO])
            d[0] += e.qty
            d[1] += e.value
        self.conn.execute(self._upsert, [
            {"location_id": k.location_id, "product_id": k.product_id, "lot_id": k.lot_id,
             "status": k.status, "qty": q, "value": v}
            for k, (q, v) in sorted(deltas.items())
        ])
        keys = sorted(watch)
        if not keys:
            return {}
        b = balances.c
        rows = self.conn.execute(
            select(b.location_id, b.product_id, b.lot_id, b.status, b.qty)
            .where(tuple_(b.location_id, b.product_id, b.lot_id, b.status)
                   .in_([(k.location_id, k.product_id, k.lot_id, k.status) for k in keys]))
            .where(b.qty < 0))
        return {BucketKey(r[0], r[1], r[2], r[3]): r[4] for r in rows}

    def has_history(self, product_id: int) -> bool:
        c = ledger_entries.c
        return self.conn.execute(select(c.id).where(c.product_id == product_id).limit(1)).first() is not None

    def average_costs(self, pairs: Iterable[tuple[int, int | None]]
                      ) -> dict[tuple[int, int | None], Decimal]:
        b, loc = balances.c, locations.c
        pairs = list(pairs)
        rows = self.conn.execute(
            select(b.product_id, loc.warehouse_id, func.sum(b.qty), func.sum(b.value))
            .join_from(balances, locations, loc.id == b.location_id)
            .where(loc.kind == LocationKind.PHYSICAL)
            .where(tuple_(b.product_id, loc.warehouse_id).in_(pairs))
            .group_by(b.product_id, loc.warehouse_id))
        return {(r[0], r[1]): cost(r[3] / r[2]) for r in rows if r[2] and r[2] > 0 and r[3] > 0}


class SqlMasterDataRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def load(self, product_ids: Iterable[int], location_ids: Iterable[int],
             lot_ids: Iterable[int]) -> MasterData:
        pids, lids, tids = list(product_ids), list(location_ids), list(lot_ids)
        p, loc, lot = products.c, locations.c, lots.c
        prods = {r[0]: ProductInfo(r[0], r[1], r[2], Tracking(r[3]), r[4]) for r in self.conn.execute(
            select(p.id, p.code, p.base_unit, p.tracking, p.active).where(p.id.in_(pids)))} if pids else {}
        locs = {r[0]: LocationInfo(r[0], r[1], LocationKind(r[2]), r[3], r[4]) for r in self.conn.execute(
            select(loc.id, loc.code, loc.kind, loc.warehouse_id, loc.active).where(loc.id.in_(lids)))
        } if lids else {}
        lotmap = {r[0]: LotInfo(*r) for r in self.conn.execute(
            select(lot.id, lot.product_id, lot.lot_number, lot.expires_on).where(lot.id.in_(tids)))
        } if tids else {}
        return MasterData(prods, locs, lotmap)


class SqlBookRepository:
    """The one `books` row: closed period and audit chain head, locked per transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._head: BookHead | None = None

    def lock_head(self) -> BookHead:
        if self._head is None:
            q = select(books.c.closed_until, books.c.audit_seq, books.c.audit_hash).where(books.c.id == 1)
            if self.conn.dialect.name == "postgresql":
                q = q.with_for_update()
            row = self.conn.execute(q).one()
            self._head = BookHead(row[0], row[1], row[2])
        return self._head

    def set_closed_until(self, closed_until: Any) -> None:
        head = self.lock_head()
        self.conn.execute(update(books).where(books.c.id == 1).values(closed_until=closed_until))
        self._head = BookHead(closed_until, head.audit_seq, head.audit_hash)

    def advance_chain(self, seq: int, digest: str) -> None:
        head = self.lock_head()
        self.conn.execute(update(books).where(books.c.id == 1).values(audit_seq=seq, audit_hash=digest))
        self._head = BookHead(head.closed_until, seq, digest)


class SqlAuditLog:
    def __init__(self, conn: Connection, book: SqlBookRepository) -> None:
        self.conn = conn
        self.book = book

    def append(self, entry: AuditEntry) -> int:
        head = self.book.lock_head()
        row = audit_chain.row_for(entry, head.audit_seq + 1, head.audit_hash)
        self.conn.execute(audit_records.insert(), row)
        self.book.advance_chain(row["seq"], row["hash"])
        return row["seq"]


class SqlOutbox:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, message: OutboxMessage) -> int:
        import json

        return self.conn.execute(outbox_events.insert().returning(outbox_events.c.id), {
            "event_type": message.event_type, "aggregate": message.aggregate,
            "aggregate_id": message.aggregate_id, "created_at": message.created_at,
            "payload": json.dumps(message.payload, ensure_ascii=False, default=str),
        }).scalar_one()


class SqlPeriodRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def latest(self) -> tuple[int, Any] | None:
        row = self.conn.execute(select(periods.c.id, periods.c.closed_until)
                                .order_by(periods.c.closed_until.desc()).limit(1)).first()
        return None if row is None else (row[0], row[1])

    def close(self, until: Any, closed_at: Any, actor: str) -> tuple[int, int]:
        """One INSERT … SELECT: previous snapshot + entries in [previous close, until)."""
        prev = self.latest()
        new_id = self.conn.execute(periods.insert().returning(periods.c.id), {
            "closed_until": until, "closed_at": closed_at, "actor": actor}).scalar_one()
        e, s = ledger_entries.c, period_balances.c
        since = select(e.location_id, e.product_id, e.lot_id, e.status, e.qty, e.value).where(
            e.effective_at < until)
        parts = [since]
        if prev is not None:
            parts[0] = since.where(e.effective_at >= prev[1])
            parts.append(select(s.location_id, s.product_id, s.lot_id, s.status, s.qty, s.value)
                         .where(s.period_id == prev[0]))
        u = union_all(*parts).subquery()
        total_q, total_v = func.sum(u.c.qty), func.sum(u.c.value)
        body = (select(literal(new_id), u.c.location_id, u.c.product_id, u.c.lot_id, u.c.status,
                       total_q, total_v)
                .group_by(u.c.location_id, u.c.product_id, u.c.lot_id, u.c.status)
                .having(or_(total_q != 0, total_v != 0)))
        result = self.conn.execute(period_balances.insert().from_select(
            ["period_id", "location_id", "product_id", "lot_id", "status", "qty", "value"], body))
        return new_id, result.rowcount


_RECORD_TABLES = ("products", "product_barcodes", "unit_conversions", "partners", "warehouses",
                  "locations", "lots", "users")


class SqlRecordStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _t(self, table: str) -> Any:
        if table not in _RECORD_TABLES:
            raise ValueError(f"not a master-data table: {table}")
        return metadata.tables[table]

    def get(self, table: str, record_id: int) -> dict[str, Any] | None:
        t = self._t(table)
        row = self.conn.execute(select(t).where(t.c.id == record_id)).mappings().first()
        return None if row is None else dict(row)

    def find(self, table: str, **where: Any) -> dict[str, Any] | None:
        t = self._t(table)
        q = select(t)
        for k, v in where.items():
            q = q.where(t.c[k] == v)
        row = self.conn.execute(q.limit(1)).mappings().first()
        return None if row is None else dict(row)

    def insert(self, table: str, values: Any) -> int:
        t = self._t(table)
        return self.conn.execute(t.insert().returning(t.c.id), dict(values)).scalar_one()

    def update(self, table: str, record_id: int, values: Any, expected_version: int | None) -> dict[str, Any]:
        t = self._t(table)
        q = update(t).where(t.c.id == record_id)
        vals = dict(values)
        if "version" in t.c:
            vals["version"] = t.c.version + 1
            if expected_version is not None:
                q = q.where(t.c.version == expected_version)
        if self.conn.execute(q.values(**vals)).rowcount != 1:
            raise Conflict("VERSION_CONFLICT",
                           "该记录已被其他人修改，请刷新后重新编辑",
                           "the record was changed by someone else since you opened it; reload and edit again",
                           field="version", details={"table": table, "id": record_id})
        row = self.get(table, record_id)
        assert row is not None
        return row

    def delete_where(self, table: str, **where: Any) -> int:
        t = self._t(table)
        q = delete(t)
        for k, v in where.items():
            q = q.where(t.c[k] == v)
        return self.conn.execute(q).rowcount

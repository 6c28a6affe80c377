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

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, literal, or_, select, tuple_, union_all, update
from sqlalchemy.exc import IntegrityError

from jxc.domain.catalog import LocationInfo, LocationKind, LotInfo, ProductInfo, Tracking
from jxc.domain.errors import Conflict
from jxc.domain.ledger import BucketKey, LedgerEntry, MasterData
from jxc.domain.quantities import ZERO, cost
from jxc.services.ports import AuditEntry, BookHead, NewPosting, OutboxMessage, PostingHeader
from jxc.storage import audit as audit_chain
from jxc.storage.engine import Driver
from jxc.storage.tables import (
    balances,
    books,
    ledger_entries,
    metadata,
    period_balances,
    periods,
    postings,
)

_HEADER_COLS = (postings.c.id, postings.c.kind, postings.c.effective_at, postings.c.posted_at,
                postings.c.actor, postings.c.reverses_id, postings.c.idempotency_key,
                postings.c.request_hash, postings.c.allow_negative, postings.c.reference,
                postings.c.remark)


def _header(row: Any) -> PostingHeader | None:
    return None if row is None else PostingHeader(*row)


_POSTING_COLS = ("kind, effective_at, posted_at, actor, reverses_id, idempotency_key, request_hash, "
                 "allow_negative, reference, remark")
_ENTRY_COLS = "posting_id, line_no, product_id, lot_id, location_id, status, qty, unit_cost, value, effective_at"
_ON_CONFLICT = ("ON CONFLICT (location_id, product_id, lot_id, status) DO UPDATE SET "
                "qty = balances.qty + excluded.qty, value = balances.value + excluded.value")
# PostgreSQL: header and entries in one statement (one round trip); unnest … WITH ORDINALITY
# keeps the entries in line order, so ledger ids follow it as with row-by-row inserts.
_PG_ADD_POSTING = (
    f"WITH p AS (INSERT INTO postings ({_POSTING_COLS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    f"RETURNING id), e AS (INSERT INTO ledger_entries ({_ENTRY_COLS}) "
    "SELECT p.id, u.line_no, u.product_id, u.lot_id, u.location_id, u.status, u.qty, u.unit_cost, u.value, "
    "u.effective_at FROM p, unnest(%s::int[], %s::int[], %s::int[], %s::int[], %s::varchar[], %s::numeric[], "
    "%s::numeric[], %s::numeric[], %s::timestamptz[]) WITH ORDINALITY AS u(line_no, product_id, lot_id, "
    "location_id, status, qty, unit_cost, value, effective_at, n) ORDER BY u.n) SELECT id FROM p")
# PostgreSQL: all increments in one statement, in key order (ORDER BY the ordinality of the
# sorted arrays), returning the new quantities: the I3 guard needs no second SELECT.
_PG_UPSERT = (
    "INSERT INTO balances (location_id, product_id, lot_id, status, qty, value) "
    "SELECT u.location_id, u.product_id, u.lot_id, u.status, u.qty, u.value FROM unnest(%s::int[], "
    "%s::int[], %s::int[], %s::varchar[], %s::numeric[], %s::numeric[]) WITH ORDINALITY "
    f"AS u(location_id, product_id, lot_id, status, qty, value, n) ORDER BY u.n {_ON_CONFLICT} "
    "RETURNING location_id, product_id, lot_id, status, qty")
_AUDIT_COLS = 'seq, at, actor, action, object_type, object_id, "before", "after", ip, device, prev_hash, hash'


class SqlPostingRepository:
    def __init__(self, conn: Connection, drv: Driver) -> None:
        self.conn = conn
        self.drv = drv

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
        s, drv = self.drv.sql, self.drv
        header = (posting.kind, s.time(posting.effective_at), s.time(posting.posted_at), posting.actor,
                  posting.reverses_id, posting.idempotency_key, posting.request_hash,
                  s.boolean(posting.allow_negative), posting.reference, posting.remark)
        try:
            if s.pg:
                columns = list(zip(*[(e.line_no, e.product_id, e.lot_id, e.location_id, str(e.status), e.qty,
                                      e.unit_cost, e.value, e.effective_at) for e in entries], strict=True))
                return drv.run(_PG_ADD_POSTING, (*header, *map(list, columns))).fetchone()[0]
            posting_id = drv.run(f"INSERT INTO postings ({_POSTING_COLS}) VALUES ({s.marks(10)}) RETURNING id",
                                 header).fetchone()[0]
        except IntegrityError as exc:
            raise Conflict("ALREADY_REVERSED" if posting.reverses_id else "IDEMPOTENCY_MISMATCH",
                           "该单据已被并发处理，请刷新后查看结果",
                           "this posting was processed concurrently; refresh to see the result",
                           field="idempotency_key" if posting.idempotency_key else "posting_id") from exc
        qty, unit_cost, time = s.qty, s.cost, s.time
        drv.many(f"INSERT INTO ledger_entries ({_ENTRY_COLS}) VALUES ({s.marks(10)})", [
            (posting_id, e.line_no, e.product_id, e.lot_id, e.location_id, e.status, qty(e.qty),
             unit_cost(e.unit_cost), qty(e.value), time(e.effective_at)) for e in entries])
        return posting_id


class SqlBalanceRepository:
    def __init__(self, conn: Connection, drv: Driver) -> None:
        self.conn = conn
        self.drv = drv

    def increment(self, entries: Sequence[LedgerEntry],
                  watch: Iterable[BucketKey]) -> dict[BucketKey, Decimal]:
        deltas: dict[BucketKey, list[Decimal]] = {}
        for e in entries:
            d = deltas.setdefault(e.bucket, [ZERO, ZERO])
            d[0] += e.qty
            d[1] += e.value
        keys, watched = sorted(deltas), set(watch)
        s, drv = self.drv.sql, self.drv
        if s.pg and watched <= deltas.keys():
            columns = zip(*[(k.location_id, k.product_id, k.lot_id, str(k.status), *deltas[k]) for k in keys],
                          strict=True)
            rows = drv.run(_PG_UPSERT, list(map(list, columns))).fetchall()
            return {key: s.read_qty(r[4]) for r in rows
                    if r[4] < 0 and (key := BucketKey(r[0], r[1], r[2], r[3])) in watched}
        drv.many(f"INSERT INTO balances (location_id, product_id, lot_id, status, qty, value) "
                 f"VALUES ({s.marks(6)}) {_ON_CONFLICT}",
                 [(k.location_id, k.product_id, k.lot_id, k.status, s.qty(deltas[k][0]), s.qty(deltas[k][1]))
                  for k in keys])
        if not watched:
            return {}
        look = sorted(watched)
        rows = drv.run(f"SELECT location_id, product_id, lot_id, status, qty FROM balances WHERE (location_id, "
                       f"product_id, lot_id, status) IN (VALUES {s.marks(len(look), 4)}) AND qty < {s.p}",
                       [*(x for k in look for x in (k.location_id, k.product_id, k.lot_id, k.status)), 0])
        return {BucketKey(r[0], r[1], r[2], r[3]): s.read_qty(r[4]) for r in rows.fetchall()}

    def has_history(self, product_id: int) -> bool:
        c = ledger_entries.c
        return self.conn.execute(select(c.id).where(c.product_id == product_id).limit(1)).first() is not None

    def location_has_history(self, location_id: int) -> bool:
        """A balance row exists once anything moved there (the primary key starts with location)."""
        b = balances.c
        return self.conn.execute(select(b.qty).where(b.location_id == location_id).limit(1)).first() is not None

    def bucket_costs(self, keys: Iterable[BucketKey]) -> dict[BucketKey, Decimal]:
        """Average cost (value / qty) of single buckets — used for goods leaving transit."""
        b = balances.c
        keys = sorted(keys)
        rows = self.conn.execute(select(b.location_id, b.product_id, b.lot_id, b.status, b.qty, b.value).where(
            tuple_(b.location_id, b.product_id, b.lot_id, b.status).in_(
                [(k.location_id, k.product_id, k.lot_id, k.status) for k in keys])))
        return {BucketKey(r[0], r[1], r[2], r[3]): cost(r[5] / r[4]) for r in rows if r[4] > 0 and r[5] > 0}

    def average_costs(self, pairs: Iterable[tuple[int, int | None]]
                      ) -> dict[tuple[int, int | None], Decimal]:
        s, pairs = self.drv.sql, sorted(pairs)
        if s.pg:
            match, params = "IN (SELECT * FROM unnest(%s::int[], %s::int[]))", [list(x) for x in zip(*pairs, strict=True)]
        else:
            match, params = f"IN (VALUES {s.marks(len(pairs), 2)})", [x for pair in pairs for x in pair]
        rows = self.drv.run(
            "SELECT b.product_id, l.warehouse_id, sum(b.qty), sum(b.value) FROM balances b "
            f"JOIN locations l ON l.id = b.location_id WHERE l.kind = {s.p} "
            f"AND (b.product_id, l.warehouse_id) {match} GROUP BY b.product_id, l.warehouse_id",
            [LocationKind.PHYSICAL.value, *params]).fetchall()
        out = {}
        for pid, wh, q, v in rows:
            qty, value = s.read_qty(q), s.read_qty(v)
            if qty and qty > 0 and value > 0:
                out[(pid, wh)] = cost(value / qty)
        return out


class SqlMasterDataRepository:
    def __init__(self, conn: Connection, drv: Driver) -> None:
        self.conn = conn
        self.drv = drv

    def load(self, product_ids: Iterable[int], location_ids: Iterable[int],
             lot_ids: Iterable[int]) -> MasterData:
        """Products, locations and lots in one query (one round trip): rows tagged 1, 2, 3."""
        s = self.drv.sql
        (pw, pp), (lw, lp), (tw, tp) = (s.in_ids("id", sorted(ids)) for ids in (product_ids, location_ids, lot_ids))
        rows = self.drv.run(
            f"SELECT 1, id, code, base_unit, tracking, CAST(NULL AS INTEGER), active, CAST(NULL AS DATE) "
            f"FROM products WHERE {pw} UNION ALL "
            f"SELECT 2, id, code, kind, NULL, warehouse_id, active, NULL FROM locations WHERE {lw} UNION ALL "
            f"SELECT 3, id, lot_number, NULL, NULL, product_id, NULL, expires_on FROM lots WHERE {tw}",
            [*pp, *lp, *tp]).fetchall()
        prods, locs, lotmap = {}, {}, {}
        for tag, rid, code, text, tracking, ref, active, expires in rows:
            if tag == 1:
                prods[rid] = ProductInfo(rid, code, text, Tracking(tracking), bool(active))
            elif tag == 2:
                locs[rid] = LocationInfo(rid, code, LocationKind(text), ref, bool(active))
            else:
                lotmap[rid] = LotInfo(rid, ref, code, s.read_date(expires))
        return MasterData(prods, locs, lotmap)


class SqlBookRepository:
    """The one `books` row: closed period and audit chain head, locked per transaction."""

    def __init__(self, conn: Connection, drv: Driver) -> None:
        self.conn = conn
        self.drv = drv
        self._head: BookHead | None = None

    def lock_head(self) -> BookHead:
        if self._head is None:
            s = self.drv.sql
            row = self.drv.run(f"SELECT closed_until, audit_seq, audit_hash FROM books WHERE id = {s.p}{s.lock}",
                               (1,)).fetchone()
            self._head = BookHead(s.read_time(row[0]), row[1], row[2])
        return self._head

    def set_closed_until(self, closed_until: Any) -> None:
        head = self.lock_head()
        self.conn.execute(update(books).where(books.c.id == 1).values(closed_until=closed_until))
        self._head = BookHead(closed_until, head.audit_seq, head.audit_hash)

    def advance_chain(self, seq: int, digest: str, record: Sequence[Any] | None = None) -> None:
        """Move the chain head; with ``record`` (driver-encoded audit row) insert it in the same statement."""
        head, s = self.lock_head(), self.drv.sql
        set_head = f"UPDATE books SET audit_seq = {s.p}, audit_hash = {s.p} WHERE id = {s.p}"
        if record is not None and s.pg:  # one round trip while the head row is locked
            self.drv.run(f"WITH a AS (INSERT INTO audit_records ({_AUDIT_COLS}) VALUES ({s.marks(12)})) {set_head}",
                         (*record, seq, digest, 1))
        else:
            if record is not None:
                self.drv.run(f"INSERT INTO audit_records ({_AUDIT_COLS}) VALUES ({s.marks(12)})", record)
            self.drv.run(set_head, (seq, digest, 1))
        self._head = BookHead(head.closed_until, seq, digest)


class SqlAuditLog:
    def __init__(self, conn: Connection, book: SqlBookRepository) -> None:
        self.conn = conn
        self.book = book

    def append(self, entry: AuditEntry) -> int:
        head = self.book.lock_head()
        row = audit_chain.row_for(entry, head.audit_seq + 1, head.audit_hash)
        record = (row["seq"], self.book.drv.sql.time(row["at"]), *(row[k] for k in (
            "actor", "action", "object_type", "object_id", "before", "after", "ip", "device", "prev_hash",
            "hash")))
        self.book.advance_chain(row["seq"], row["hash"], record)
        return row["seq"]


class SqlOutbox:
    def __init__(self, conn: Connection, drv: Driver) -> None:
        self.conn = conn
        self.drv = drv

    def add(self, message: OutboxMessage) -> int:
        s = self.drv.sql
        return self.drv.run(
            "INSERT INTO outbox_events (event_type, aggregate, aggregate_id, payload, created_at, attempts) "
            f"VALUES ({s.marks(6)}) RETURNING id",
            (message.event_type, message.aggregate, message.aggregate_id,
             json.dumps(message.payload, ensure_ascii=False, default=str), s.time(message.created_at), 0),
        ).fetchone()[0]


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

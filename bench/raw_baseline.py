"""The raw baseline: the posting transaction written directly on the DB-API driver.

No SQLAlchemy, no repositories, no dataclasses: plain ``sqlite3`` / ``psycopg``
and the same statements, in the same order, as the posting service
(`jxc.services.posting.post` → `jxc.storage.repositories`) issues them:

  BEGIN (IMMEDIATE on SQLite)
  SELECT products … WHERE id IN (…)                 -- master data for validation
  SELECT locations … WHERE id IN (…)
  SELECT Σqty, Σvalue FROM balances ⋈ locations …   -- moving average (issues only)
  INSERT INTO postings … RETURNING id
  INSERT INTO ledger_entries … (executemany, 2 rows per line)
  INSERT INTO balances … ON CONFLICT DO UPDATE SET qty = qty + excluded.qty … (key order)
  SELECT … FROM balances WHERE key IN (…) AND qty < 0  -- I3 guard on watched buckets
  SELECT closed_until, audit_seq, audit_hash FROM books WHERE id = 1 [FOR UPDATE]
  INSERT INTO audit_records …  (sha256 chained, the same `record_hash`)
  UPDATE books SET audit_seq, audit_hash
  INSERT INTO outbox_events … RETURNING id
  COMMIT

The same column encodings: on SQLite quantities/money are integers scaled by
10^4 and unit costs by 10^6, times are naive UTC text; on PostgreSQL NUMERIC
and timestamptz. The rows it writes satisfy every invariant `jxc check` tests.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from benchlib import Doc

from jxc.storage.audit import record_hash

Q4 = Decimal("0.0001")
Q6 = Decimal("0.000001")


class Refused(Exception):
    """The raw poster refused a document (validation, insufficient stock, closed period)."""


def _sqlite_time(at: datetime) -> str:
    return at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


class _Dialect:
    """What differs between the two drivers: placeholders, encodings, locking."""

    p = "?"
    for_update = ""

    def qty(self, d: Decimal) -> Any:
        return int(d * 10_000)

    def cost(self, d: Decimal) -> Any:
        return int(d * 1_000_000)

    def time(self, at: datetime) -> Any:
        return _sqlite_time(at)

    def decode(self, scaled: Any) -> Decimal:
        return Decimal(scaled) / 10_000


class _PgDialect(_Dialect):
    p = "%s"
    for_update = " FOR UPDATE"

    def qty(self, d: Decimal) -> Any:
        return d

    def cost(self, d: Decimal) -> Any:
        return d

    def time(self, at: datetime) -> Any:
        return at

    def decode(self, v: Any) -> Decimal:
        return Decimal(v)


def _marks(d: _Dialect, n: int, width: int = 1) -> str:
    one = "(" + ", ".join([d.p] * width) + ")" if width > 1 else d.p
    return ", ".join([one] * n)


def post_raw(cur: Any, d: _Dialect, doc: Doc, now: datetime, actor: str = "bench") -> int:
    """One posting on an open transaction; the caller begins and commits."""
    p = d.p
    pids = sorted({ln[0] for ln in doc.lines})
    lids = sorted({ln[2] for ln in doc.lines} | {ln[3] for ln in doc.lines})
    prods = cur.execute(f"SELECT id, code, base_unit, tracking, active FROM products "
                        f"WHERE id IN ({_marks(d, len(pids))})", pids).fetchall()
    locs = {r[0]: r for r in cur.execute(
        f"SELECT id, code, kind, warehouse_id, active FROM locations WHERE id IN ({_marks(d, len(lids))})",
        lids).fetchall()}
    if len(prods) != len(pids) or not all(r[4] and r[3] == "none" for r in prods) \
            or len(locs) != len(lids) or not all(r[4] for r in locs.values()):
        raise Refused("master data")
    costs: dict[tuple[int, int], Decimal] = {}
    pairs = sorted({(ln[0], locs[ln[2]][3]) for ln in doc.lines
                    if ln[4] is None and locs[ln[2]][2] == "physical"})
    if pairs:
        for pid, wh, q, v in cur.execute(
                "SELECT balances.product_id, locations.warehouse_id, sum(balances.qty), sum(balances.value) "
                "FROM balances JOIN locations ON locations.id = balances.location_id "
                f"WHERE locations.kind = {p} AND (balances.product_id, locations.warehouse_id) "
                f"IN ({_marks(d, len(pairs), 2)}) GROUP BY balances.product_id, locations.warehouse_id",
                ["physical", *[x for pair in pairs for x in pair]]).fetchall():
            if q and q > 0 and v > 0:
                costs[(pid, wh)] = (Decimal(v) / Decimal(q)).quantize(Q6, ROUND_HALF_UP)
    t = d.time(now)
    posting_id = cur.execute(
        "INSERT INTO postings (kind, effective_at, posted_at, actor, reverses_id, idempotency_key, "
        f"request_hash, allow_negative, reference, remark) VALUES ({_marks(d, 10)}) RETURNING id",
        (doc.kind, t, t, actor, None, None, None, False, None, None)).fetchone()[0]
    entries, deltas = [], {}
    for line_no, (pid, qty, src, dst, unit_cost) in enumerate(doc.lines, start=1):
        uc = (unit_cost if unit_cost is not None else costs.get((pid, locs[src][3]), Decimal(0))).quantize(Q6)
        value = (qty * uc).quantize(Q4, ROUND_HALF_UP)
        for loc, sign in ((src, -1), (dst, 1)):
            q, v = d.qty(Decimal(sign * qty)), d.qty(sign * value)
            entries.append((posting_id, line_no, pid, 0, loc, "available", q, d.cost(uc), v, t))
            old = deltas.get((loc, pid, 0, "available"), (0, 0))
            deltas[(loc, pid, 0, "available")] = (old[0] + q, old[1] + v)
    cur.executemany(
        "INSERT INTO ledger_entries (posting_id, line_no, product_id, lot_id, location_id, status, qty, "
        f"unit_cost, value, effective_at) VALUES ({_marks(d, 10)})", entries)
    cur.executemany(
        f"INSERT INTO balances (location_id, product_id, lot_id, status, qty, value) VALUES ({_marks(d, 6)}) "
        "ON CONFLICT (location_id, product_id, lot_id, status) DO UPDATE SET "
        "qty = balances.qty + excluded.qty, value = balances.value + excluded.value",
        [(*k, q, v) for k, (q, v) in sorted(deltas.items())])
    watch = sorted({(ln[2], ln[0], 0, "available") for ln in doc.lines if locs[ln[2]][2] == "physical"})
    if watch and cur.execute(
            "SELECT location_id, product_id, lot_id, status, qty FROM balances "
            f"WHERE (location_id, product_id, lot_id, status) IN ({_marks(d, len(watch), 4)}) "
            f"AND qty < {p}", [*[x for k in watch for x in k], 0]).fetchall():
        raise Refused("STOCK_INSUFFICIENT")
    closed, seq, prev = cur.execute(
        f"SELECT closed_until, audit_seq, audit_hash FROM books WHERE id = {p}{d.for_update}", (1,)).fetchone()
    if closed is not None and t < closed:
        raise Refused("PERIOD_CLOSED")
    _audit_and_outbox(cur, d, doc, now, actor, posting_id, seq + 1, prev, sorted(deltas))
    return posting_id


def _audit_and_outbox(cur: Any, d: _Dialect, doc: Doc, now: datetime, actor: str, posting_id: int,
                      seq: int, prev: str, buckets: list[tuple[int, int, int, str]]) -> None:
    at = now.isoformat()
    after = json.dumps({"kind": doc.kind, "effective_at": at, "lines": len(doc.lines), "reverses_id": None,
                        "allow_negative": False, "reference": None},
                       ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    fields = {"actor": actor, "action": "posting.post", "object_type": "posting",
              "object_id": str(posting_id), "before": None, "after": after, "ip": None, "device": None}
    digest = record_hash(seq, now, fields, prev)
    cur.execute("INSERT INTO audit_records (seq, at, actor, action, object_type, object_id, \"before\", \"after\", "
                f"ip, device, prev_hash, hash) VALUES ({_marks(d, 12)})",
                (seq, d.time(now), actor, "posting.post", "posting", str(posting_id), None, after,
                 None, None, prev, digest))
    cur.execute(f"UPDATE books SET audit_seq = {d.p}, audit_hash = {d.p} WHERE id = {d.p}", (seq, digest, 1))
    payload = json.dumps({"posting_id": posting_id, "kind": doc.kind, "reverses_id": None,
                          "effective_at": at, "buckets": [list(b) for b in buckets]},
                         ensure_ascii=False, default=str)
    cur.execute("INSERT INTO outbox_events (event_type, aggregate, aggregate_id, payload, created_at, "
                f"attempts) VALUES ({_marks(d, 6)}) RETURNING id",
                ("stock.posted", "posting", str(posting_id), payload, d.time(now), 0)).fetchone()


class RawSqlite:
    """One connection per poster, configured like `jxc.storage.engine` (WAL, NORMAL, FKs)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.d = _Dialect()

    def post(self, doc: Doc, now: datetime) -> int:
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            pid = post_raw(cur, self.d, doc, now)
            cur.execute("COMMIT")
            return pid
        except BaseException:
            self.conn.rollback()
            raise

    def close(self) -> None:
        self.conn.close()


class RawPostgres:
    """One psycopg connection per poster; psycopg begins the transaction implicitly."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url)
        self.d = _PgDialect()

    def post(self, doc: Doc, now: datetime) -> int:
        try:
            with self.conn.cursor() as cur:
                pid = post_raw(cur, self.d, doc, now)
            self.conn.commit()
            return pid
        except BaseException:
            self.conn.rollback()
            raise

    def close(self) -> None:
        self.conn.close()


def factory(db: str, target: str) -> Callable[[], RawSqlite | RawPostgres]:
    return (lambda: RawSqlite(target)) if db == "sqlite" else (lambda: RawPostgres(target))

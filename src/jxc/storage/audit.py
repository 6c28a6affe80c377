"""操作日志 — the hash-chained, append-only audit log.

Guarantees:
- I6: records form one chain: record n stores the hash of record n-1, and its
  own hash covers every field. The chain head (seq, hash) lives in the locked
  `books` row, so concurrent appends serialise and never fork the chain.
- `verify` recomputes every hash and names the first record that breaks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from jxc.services.ports import AuditEntry, Violation
from jxc.storage.tables import audit_records, books

GENESIS = "0" * 64


def _dump(obj: Mapping[str, Any] | None) -> str | None:
    if obj is None:
        return None
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def record_hash(seq: int, at: datetime, entry_fields: Mapping[str, Any], prev_hash: str) -> str:
    """sha256 over every field; time in UTC, as it is stored and read back."""
    body = {"seq": seq, "at": at.astimezone(UTC).isoformat(), "prev": prev_hash, **entry_fields}
    blob = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def row_for(entry: AuditEntry, seq: int, prev_hash: str) -> dict[str, Any]:
    fields = {
        "actor": entry.actor, "action": entry.action, "object_type": entry.object_type,
        "object_id": entry.object_id, "before": _dump(entry.before), "after": _dump(entry.after),
        "ip": entry.ip, "device": entry.device,
    }
    return {**fields, "seq": seq, "at": entry.at, "prev_hash": prev_hash,
            "hash": record_hash(seq, entry.at, fields, prev_hash)}


def verify(conn: Connection, batch: int = 5000) -> list[Violation]:
    """Recompute the chain; report the first broken record (and stop there)."""
    prev, expected_seq = GENESIS, 1
    for r in _rows(conn, batch):
        fields = {k: r[k] for k in ("actor", "action", "object_type", "object_id", "before",
                                    "after", "ip", "device")}
        if r["seq"] != expected_seq:
            return [Violation("I6", f"audit record seq {r['seq']} (id {r['id']})",
                              f"expected seq {expected_seq}: a record is missing or inserted")]
        if r["prev_hash"] != prev:
            return [Violation("I6", f"audit record seq {r['seq']} (id {r['id']})",
                              "prev_hash does not match the previous record's hash")]
        if record_hash(r["seq"], r["at"], fields, r["prev_hash"]) != r["hash"]:
            return [Violation("I6", f"audit record seq {r['seq']} (id {r['id']})",
                              "content does not match its hash: the record was changed")]
        prev, expected_seq = r["hash"], expected_seq + 1
    head = conn.execute(select(books.c.audit_seq, books.c.audit_hash).where(books.c.id == 1)).first()
    if head is not None and (head[0] != expected_seq - 1 or head[1] != prev):
        return [Violation("I6", f"audit record seq {head[0]} (the chain head)",
                          f"the chain ends at seq {expected_seq - 1} but the book head says {head[0]}: "
                          "the newest records were deleted or the head was changed")]
    return []


def _rows(conn: Connection, batch: int) -> Iterator[Mapping[str, Any]]:
    last = 0
    while True:
        rows = conn.execute(select(audit_records).where(audit_records.c.seq > last)
                            .order_by(audit_records.c.seq).limit(batch)).mappings().all()
        if not rows:
            return
        yield from rows
        last = rows[-1]["seq"]

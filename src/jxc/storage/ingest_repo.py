"""导入仓储 — POS and channel events: claim a (source, source_id) once, record lines, list them.

Guarantees:
- `claim` inserts the event row with ON CONFLICT DO NOTHING on the unique
  (source, source_id): of two transactions claiming one event, exactly one owns
  it; on PostgreSQL the other waits for the owner to commit or roll back and then
  sees its row (or owns it itself), on SQLite BEGIN IMMEDIATE serialises them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from jxc.storage.tables import documents
from jxc.storage.tables_ingest import ingest_events, ingest_lines


class SqlIngestRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, values: Mapping[str, Any]) -> int | None:
        """Insert the event; its id, or None when (source, source_id) is already on record."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        q = (dialect.insert(ingest_events).values(**values)
             .on_conflict_do_nothing(index_elements=["source", "source_id"]).returning(ingest_events.c.id))
        return self.conn.execute(q).scalar()

    def find(self, source: str, source_id: str) -> dict[str, Any] | None:
        e = ingest_events.c
        row = self.conn.execute(select(ingest_events).where(e.source == source, e.source_id == source_id)
                                ).mappings().first()
        return None if row is None else dict(row)

    def get(self, event_id: int, lock: bool = False) -> dict[str, Any] | None:
        q = select(ingest_events).where(ingest_events.c.id == event_id)
        if lock and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = self.conn.execute(q).mappings().first()
        return None if row is None else dict(row)

    def add_lines(self, event_id: int, lines: Sequence[Mapping[str, Any]]) -> None:
        if lines:
            self.conn.execute(ingest_lines.insert(), [{**ln, "event_id": event_id} for ln in lines])

    def update(self, event_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(ingest_events).where(ingest_events.c.id == event_id).values(**values))

    def order_event(self, channel_code: str, order_ref: str) -> dict[str, Any] | None:
        """The applied `order` event of a channel order (its reservations), if any."""
        e = ingest_events.c
        row = self.conn.execute(select(ingest_events).where(
            e.channel_code == channel_code, e.order_ref == order_ref, e.event_type == "order",
            e.status == "applied").order_by(e.id).limit(1)).mappings().first()
        return None if row is None else dict(row)

    def by_document(self, document_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(ingest_events).where(ingest_events.c.document_id == document_id)
                                ).mappings().first()
        return None if row is None else dict(row)


def page_events(engine: Engine, after: int | None, limit: int, *, source: str | None = None,
                status: str | None = None, feed: str | None = None, event_type: str | None = None,
                warehouse_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """导入事件列表 — by id with their lines; `warehouse_ids` is the caller's scope (None: all)."""
    e = ingest_events.c
    q = select(ingest_events, documents.c.number.label("document_number"),
               documents.c.state.label("document_state")).join_from(
        ingest_events, documents, documents.c.id == e.document_id, isouter=True)
    if after is not None:
        q = q.where(e.id > after)
    for col, value in ((e.source, source), (e.status, status), (e.feed, feed), (e.event_type, event_type)):
        if value is not None:
            q = q.where(col == value)
    if warehouse_ids is not None:
        q = q.where(e.warehouse_id.in_(list(warehouse_ids)))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q.order_by(e.id).limit(limit)).mappings()]
        ids = [r["id"] for r in rows]
        lines: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for ln in conn.execute(select(ingest_lines).where(ingest_lines.c.event_id.in_(ids))
                                   .order_by(ingest_lines.c.event_id, ingest_lines.c.line_no)).mappings():
                lines[ln["event_id"]].append({k: v for k, v in ln.items() if k not in ("id", "event_id")})
    for r in rows:
        r["lines"] = lines[r["id"]]
        r["reservations"] = json.loads(r["reservations"]) if r["reservations"] else None
        r["payload"] = json.loads(r["payload"])
        r.pop("request_hash", None)
    return rows

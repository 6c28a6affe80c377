"""接口仓储 — sessions, throttles, tokens, idempotency, outbox claims, webhooks; and API read pages.

Guarantees:
- `claim_events` takes only the oldest undelivered event of each aggregate, so
  events of one aggregate are delivered in order even by several workers; on
  PostgreSQL it locks with FOR UPDATE SKIP LOCKED (workers never wait on each
  other), on SQLite the unit of work's BEGIN IMMEDIATE serialises workers.
- `mark_delivered` on PostgreSQL issues NOTIFY in the same transaction: the
  notification is sent only if the delivery commits (LISTEN/NOTIFY fan-out).
- `claim_key` settles a race between two requests with the same idempotency
  key with the unique (scope, key) index: exactly one of them owns the key.
- `due_deliveries` skips a delivery while an earlier one of the same endpoint
  and aggregate is still pending, so webhooks keep per-aggregate order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from jxc.storage.tables import (
    api_tokens,
    documents,
    ledger_entries,
    locations,
    lots,
    metadata,
    outbox_events,
    partners,
    postings,
    products,
    warehouses,
)
from jxc.storage.tables_api import (
    idempotency_records,
    login_throttles,
    web_sessions,
    webhook_deliveries,
    webhook_endpoints,
)

CHANNEL = "jxc_events"


def _one(conn: Connection, q: Any) -> dict[str, Any] | None:
    row = conn.execute(q).mappings().first()
    return None if row is None else dict(row)


def _event(row: Mapping[str, Any]) -> dict[str, Any]:
    e = dict(row)
    e["payload"] = json.loads(e["payload"])
    return e


class SqlApiRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    # ── sessions, throttles, tokens ──────────────────────────────────────────
    def add_session(self, values: Mapping[str, Any]) -> None:
        self.conn.execute(insert(web_sessions).values(**values))

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        return _one(self.conn, select(web_sessions).where(web_sessions.c.id == session_id))

    def delete_session(self, session_id: str) -> None:
        self.conn.execute(web_sessions.delete().where(web_sessions.c.id == session_id))

    def throttle(self, key: str) -> dict[str, Any] | None:
        q = select(login_throttles).where(login_throttles.c.key == key)
        return _one(self.conn, q.with_for_update() if self.pg else q)

    def put_throttle(self, key: str, failures: int, window_started_at: datetime,
                     locked_until: datetime | None) -> None:
        values = {"failures": failures, "window_started_at": window_started_at, "locked_until": locked_until}
        if self.conn.execute(update(login_throttles).where(login_throttles.c.key == key)
                             .values(**values)).rowcount == 0:
            self.conn.execute(insert(login_throttles).values(key=key, **values))

    def add_token(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(insert(api_tokens).returning(api_tokens.c.id), dict(values)).scalar_one()

    def find_token(self, token_hash: str) -> dict[str, Any] | None:
        return _one(self.conn, select(api_tokens).where(api_tokens.c.token_hash == token_hash))

    def tokens(self, username: str | None) -> list[dict[str, Any]]:
        q = select(api_tokens).order_by(api_tokens.c.id)
        if username is not None:
            q = q.where(api_tokens.c.username == username)
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def update_token(self, token_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(**values))

    # ── idempotency ──────────────────────────────────────────────────────────
    def claim_key(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        r = idempotency_records.c
        where = and_(r.scope == values["scope"], r.key == values["key"])
        existing = _one(self.conn, select(idempotency_records).where(where))
        if existing is not None:
            return existing
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(idempotency_records).values(**values, status=None, response=None))
        except IntegrityError:  # a concurrent first request took the key a moment ago
            return _one(self.conn, select(idempotency_records).where(where))
        return None

    def finish_key(self, scope: str, key: str, status: int, response: str) -> None:
        r = idempotency_records.c
        self.conn.execute(update(idempotency_records).where(r.scope == scope, r.key == key)
                          .values(status=status, response=response))

    def drop_key(self, scope: str, key: str) -> None:
        r = idempotency_records.c
        self.conn.execute(idempotency_records.delete().where(r.scope == scope, r.key == key))

    # ── outbox ───────────────────────────────────────────────────────────────
    def claim_events(self, limit: int) -> list[dict[str, Any]]:
        o, p = outbox_events, outbox_events.alias("earlier")
        earlier = exists().where(p.c.aggregate == o.c.aggregate, p.c.aggregate_id == o.c.aggregate_id,
                                 p.c.delivered_at.is_(None), p.c.id < o.c.id)
        q = select(o).where(o.c.delivered_at.is_(None), ~earlier).order_by(o.c.id).limit(limit)
        if self.pg:
            q = q.with_for_update(skip_locked=True)
        return [_event(r) for r in self.conn.execute(q).mappings()]

    def mark_delivered(self, event_ids: Sequence[int], now: datetime) -> None:
        if not event_ids:
            return
        o = outbox_events.c
        self.conn.execute(update(outbox_events).where(o.id.in_(list(event_ids)))
                          .values(delivered_at=now, attempts=o.attempts + 1))
        if self.pg:
            self.conn.exec_driver_sql(f"SELECT pg_notify('{CHANNEL}', %s)", (str(max(event_ids)),))

    # ── webhooks ─────────────────────────────────────────────────────────────
    def add_endpoint(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(insert(webhook_endpoints).returning(webhook_endpoints.c.id),
                                 dict(values)).scalar_one()

    def endpoint(self, endpoint_id: int) -> dict[str, Any] | None:
        return _one(self.conn, select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id))

    def endpoints(self, active_only: bool = False) -> list[dict[str, Any]]:
        q = select(webhook_endpoints).order_by(webhook_endpoints.c.id)
        if active_only:
            q = q.where(webhook_endpoints.c.active.is_(True))
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def update_endpoint(self, endpoint_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
                          .values(**values))

    def add_deliveries(self, event_id: int, endpoint_ids: Sequence[int], now: datetime) -> None:
        d = webhook_deliveries.c
        have = set(self.conn.execute(select(d.endpoint_id).where(d.event_id == event_id)).scalars())
        rows = [{"endpoint_id": e, "event_id": event_id, "state": "pending", "attempts": 0,
                 "next_attempt_at": now, "created_at": now} for e in endpoint_ids if e not in have]
        if rows:
            self.conn.execute(insert(webhook_deliveries), rows)

    def due_deliveries(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        d, o, e = webhook_deliveries, outbox_events, webhook_endpoints
        d2, o2 = webhook_deliveries.alias("d2"), outbox_events.alias("o2")
        earlier = (select(d2.c.id).join(o2, o2.c.id == d2.c.event_id)
                   .where(d2.c.endpoint_id == d.c.endpoint_id, d2.c.state == "pending",
                          d2.c.event_id < d.c.event_id, o2.c.aggregate == o.c.aggregate,
                          o2.c.aggregate_id == o.c.aggregate_id).exists())
        q = (select(d, o.c.event_type, o.c.aggregate, o.c.aggregate_id, o.c.payload,
                    o.c.created_at.label("event_created_at"), e.c.url, e.c.secret, e.c.format)
             .join(o, o.c.id == d.c.event_id).join(e, e.c.id == d.c.endpoint_id)
             .where(d.c.state == "pending", d.c.next_attempt_at <= now, ~earlier)
             .order_by(d.c.id).limit(limit))
        if self.pg:
            q = q.with_for_update(skip_locked=True, of=d)
        return [_event(r) for r in self.conn.execute(q).mappings()]

    def delivery(self, delivery_id: int) -> dict[str, Any] | None:
        return _one(self.conn, select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id))

    def update_delivery(self, delivery_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
                          .values(**values))


# ── read models for the HTTP API (SqlQueries delegates here) ────────────────

_PAGE_TABLES = {"products": products, "partners": partners, "warehouses": warehouses,
                "locations": locations, "lots": lots, "api_tokens": api_tokens}


def _after(q: Any, col: Any, after: int | None) -> Any:
    return q if after is None else q.where(col > after)


def page_records(engine: Engine, table: str, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """A page of master-data rows by id; filters are equality on columns, `q` searches code and name."""
    t = _PAGE_TABLES[table] if table in _PAGE_TABLES else metadata.tables[table]
    q = _after(select(t), t.c.id, after)
    for name, value in filters.items():
        if value is None:
            continue
        if name == "q":
            like = f"%{value}%"
            cols = [t.c[c] for c in ("code", "name", "lot_number") if c in t.c]
            q = q.where(or_(*(c.like(like) for c in cols)))
        elif name in t.c:
            q = q.where(t.c[name] == value)
    with engine.connect() as conn:
        return [{k: v for k, v in r.items() if k not in ("password_hash", "token_hash")}
                for r in conn.execute(q.order_by(t.c.id).limit(limit)).mappings()]


def page_documents(engine: Engine, after: int | None, limit: int, *, kind: str | None = None,
                   state: str | None = None, warehouse_id: int | None = None,
                   warehouse_ids: Sequence[int] | None = None, partner_id: int | None = None,
                   created_by: str | None = None, number: str | None = None,
                   since: datetime | None = None, until: datetime | None = None) -> list[dict[str, Any]]:
    """单据列表 — headers by id; `warehouse_ids` is the caller's warehouse scope (None: all)."""
    c = documents.c
    q = _after(select(documents), c.id, after)
    for col, value in ((c.kind, kind), (c.state, state), (c.warehouse_id, warehouse_id),
                       (c.partner_id, partner_id), (c.created_by, created_by), (c.number, number)):
        if value is not None:
            q = q.where(col == value)
    if warehouse_ids is not None:
        q = q.where(or_(c.warehouse_id.in_(list(warehouse_ids)), c.to_warehouse_id.in_(list(warehouse_ids))))
    if since is not None:
        q = q.where(c.effective_at >= since)
    if until is not None:
        q = q.where(c.effective_at <= until)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(c.id).limit(limit)).mappings()]


def page_ledger(engine: Engine, after: int | None, limit: int, *, product_id: int | None = None,
                lot_id: int | None = None, location_id: int | None = None, warehouse_id: int | None = None,
                warehouse_ids: Sequence[int] | None = None, posting_id: int | None = None,
                status: str | None = None, since: datetime | None = None,
                until: datetime | None = None) -> list[dict[str, Any]]:
    """库存流水 — ledger entries by id with their posting's kind, reference and actor."""
    e, p, loc = ledger_entries.c, postings.c, locations.c
    q = (select(ledger_entries, p.kind, p.reference, p.actor, p.posted_at, loc.code.label("location_code"),
                loc.warehouse_id)
         .join_from(ledger_entries, postings, p.id == e.posting_id)
         .join(locations, loc.id == e.location_id))
    q = _after(q, e.id, after)
    for col, value in ((e.product_id, product_id), (e.lot_id, lot_id), (e.location_id, location_id),
                       (loc.warehouse_id, warehouse_id), (e.posting_id, posting_id), (e.status, status)):
        if value is not None:
            q = q.where(col == value)
    if warehouse_ids is not None:
        q = q.where(loc.warehouse_id.in_(list(warehouse_ids)))
    if since is not None:
        q = q.where(e.effective_at >= since)
    if until is not None:
        q = q.where(e.effective_at <= until)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(e.id).limit(limit)).mappings()]


def events_since(engine: Engine, after: int | None, limit: int, delivered_only: bool = True) -> list[dict[str, Any]]:
    o = outbox_events.c
    q = _after(select(outbox_events), o.id, after)
    if delivered_only:
        q = q.where(o.delivered_at.is_not(None))
    with engine.connect() as conn:
        return [_event(r) for r in conn.execute(q.order_by(o.id).limit(limit)).mappings()]


def last_event_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.max(outbox_events.c.id))).scalar() or 0


def page_deliveries(engine: Engine, after: int | None, limit: int, state: str | None = None) -> list[dict[str, Any]]:
    d = webhook_deliveries.c
    q = _after(select(webhook_deliveries, outbox_events.c.event_type)
               .join(outbox_events, outbox_events.c.id == d.event_id), d.id, after)
    if state is not None:
        q = q.where(d.state == state)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(d.id).limit(limit)).mappings()]


def operations(engine: Engine, now: datetime) -> dict[str, Any]:
    """运行状况 — outbox depth and age, webhook failures, dead letters, per-endpoint latency."""
    o, d, e = outbox_events.c, webhook_deliveries.c, webhook_endpoints.c
    with engine.connect() as conn:
        depth, oldest = conn.execute(select(func.count(), func.min(o.created_at))
                                     .where(o.delivered_at.is_(None))).one()
        states = dict(conn.execute(select(d.state, func.count()).group_by(d.state)).all())
        failing = conn.execute(select(func.count()).where(d.state == "pending", d.attempts > 0)).scalar_one()
        per = conn.execute(
            select(e.id, e.url, e.active, e.consecutive_failures, func.count(d.id),
                   func.avg(d.last_latency_ms), func.max(d.last_latency_ms))
            .join_from(webhook_endpoints, webhook_deliveries, d.endpoint_id == e.id, isouter=True)
            .group_by(e.id, e.url, e.active, e.consecutive_failures).order_by(e.id)).all()
    if oldest is not None and oldest.tzinfo is None:
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return {
        "outbox": {"depth": depth, "oldest_undelivered_age_s":
                   round((now - oldest).total_seconds(), 3) if oldest else 0.0},
        "webhooks": {"pending": states.get("pending", 0), "delivered": states.get("delivered", 0),
                     "failing": failing, "dead": states.get("dead", 0),
                     "discarded": states.get("discarded", 0)},
        "endpoints": [{"id": r[0], "url": r[1], "active": bool(r[2]), "consecutive_failures": r[3],
                       "deliveries": r[4], "latency_ms_avg": None if r[5] is None else round(float(r[5]), 1),
                       "latency_ms_max": r[6]} for r in per],
    }


class PgEventListener:
    """LISTEN on the events channel with a connection of its own (autocommit, outside the pool)."""

    def __init__(self, engine: Engine) -> None:
        import psycopg

        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout_s: float) -> bool:
        """True when a notification arrived within ``timeout_s`` (all pending ones are consumed)."""
        return any(True for _ in self.conn.notifies(timeout=timeout_s, stop_after=1))

    def close(self) -> None:
        self.conn.close()


class PollingListener:
    """SQLite: one process, so the in-process bus wakes listeners; this only bounds the wait."""

    def wait(self, timeout_s: float) -> bool:
        import time

        time.sleep(timeout_s)
        return False

    def close(self) -> None:
        return None


def event_listener(engine: Engine) -> PgEventListener | PollingListener:
    return PgEventListener(engine) if engine.dialect.name == "postgresql" else PollingListener()

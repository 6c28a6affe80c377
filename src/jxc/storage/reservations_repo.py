"""预占仓储 — reservations, the per-product lock row, availability reads, channels.

Guarantees:
- `lock_totals` is the one way reservation totals change: an upsert
  (`qty = qty + delta`) per (product, warehouse) in key order, returning the
  new total. On PostgreSQL it row-locks until commit; on SQLite the unit of
  work already holds the write lock. Reservers and postings that take stock
  out both lock here first, so neither can act on a stale view of the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from jxc.domain.availability import Held, StockLine
from jxc.domain.catalog import LocationKind, StockStatus
from jxc.storage.engine import Driver
from jxc.storage.tables import balances, locations, lots, products
from jxc.storage.tables_stock import channel_published, channels, reservation_totals, reservations

Pair = tuple[int, int]


class SqlReservationRepository:
    def __init__(self, conn: Connection, drv: Driver | None = None) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"
        self.drv = drv or Driver(conn)

    def lock_totals(self, deltas: Mapping[Pair, Decimal]) -> dict[Pair, Decimal]:
        """One multi-row upsert in key order (rows are locked in VALUES order), new totals returned.

        On the posting path (every issue takes this lock), so it runs as plain SQL on the
        unit of work's driver cursor like the other posting statements (see engine.py).
        """
        if not deltas:
            return {}
        s, items = self.drv.sql, sorted(deltas.items())
        rows = self.drv.run(
            f"INSERT INTO reservation_totals (product_id, warehouse_id, qty) VALUES {s.marks(len(items), 3)} "
            "ON CONFLICT (product_id, warehouse_id) DO UPDATE SET qty = reservation_totals.qty + excluded.qty "
            "RETURNING product_id, warehouse_id, qty",
            [x for (p, w), d in items for x in (p, w, s.qty(d))]).fetchall()
        return {(r[0], r[1]): s.read_qty(r[2]) for r in rows}

    def available_on_hand(self, pairs: Iterable[Pair]) -> dict[Pair, Decimal]:
        """Σ physical on hand in status available per (product, warehouse) — the posting guard's view."""
        pairs = sorted(pairs)
        if not pairs:
            return {}
        b, loc = balances.c, locations.c
        rows = self.conn.execute(
            select(b.product_id, loc.warehouse_id, func.sum(b.qty))
            .join_from(balances, locations, loc.id == b.location_id)
            .where(loc.kind == LocationKind.PHYSICAL, b.status == StockStatus.AVAILABLE,
                   b.product_id.in_({p for p, _ in pairs}), loc.warehouse_id.in_({w for _, w in pairs}))
            .group_by(b.product_id, loc.warehouse_id))
        return {(r[0], r[1]): r[2] for r in rows}

    def stock_lines(self, product_id: int, warehouse_id: int) -> list[StockLine]:
        b, loc, lot = balances.c, locations.c, lots.c
        rows = self.conn.execute(
            select(b.location_id, loc.code, b.lot_id, lot.lot_number, lot.expires_on, b.status, b.qty)
            .join_from(balances, locations, loc.id == b.location_id)
            .join(lots, lot.id == b.lot_id, isouter=True)
            .where(b.product_id == product_id, loc.warehouse_id == warehouse_id,
                   loc.kind == LocationKind.PHYSICAL, b.qty != 0)
            .order_by(b.location_id, b.lot_id, b.status))
        return [StockLine(*r) for r in rows]

    def product_expiry(self, product_id: int) -> tuple[str, int | None, int | None, int | None]:
        """tracking, own block days, own warn days, shelf-life days."""
        row = self.conn.execute(select(products.c.tracking, products.c.expiry_block_days,
                                       products.c.expiry_warn_days, products.c.shelf_life_days)
                                .where(products.c.id == product_id)).one()
        return row[0], row[1], row[2], row[3]

    def pending(self, product_id: int, warehouse_id: int) -> list[Held]:
        r = reservations.c
        rows = self.conn.execute(select(r.id, r.holder, r.channel_code, r.lot_id, r.qty - r.qty_consumed)
                                 .where(r.product_id == product_id, r.warehouse_id == warehouse_id,
                                        r.state == "pending").order_by(r.id))
        return [Held(*row) for row in rows]

    def reserved(self, product_id: int, warehouse_id: int, lot_id: int | None = None) -> Decimal:
        """Σ pending (qty − consumed): the totals row, or summed for one lot."""
        if lot_id is None:
            t = reservation_totals.c
            v = self.conn.execute(select(t.qty).where(t.product_id == product_id, t.warehouse_id == warehouse_id)).scalar()
            return v if v is not None else Decimal(0)
        r = reservations.c
        v = self.conn.execute(select(func.sum(r.qty - r.qty_consumed)).where(
            r.product_id == product_id, r.warehouse_id == warehouse_id, r.lot_id == lot_id, r.state == "pending")).scalar()
        return v if v is not None else Decimal(0)

    def insert(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(reservations.insert().returning(reservations.c.id), dict(values)).scalar_one()

    def get(self, reservation_id: int, lock: bool = False) -> dict[str, Any] | None:
        q = select(reservations).where(reservations.c.id == reservation_id)
        if lock and self._pg:
            q = q.with_for_update()
        row = self.conn.execute(q).mappings().first()
        return None if row is None else dict(row)

    def find_by_key(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(reservations).where(reservations.c.idempotency_key == key)).mappings().first()
        return None if row is None else dict(row)

    def close(self, reservation_id: int, state: str, qty_consumed: Decimal, at: datetime | None) -> None:
        self.conn.execute(update(reservations).where(reservations.c.id == reservation_id)
                          .values(state=state, qty_consumed=qty_consumed, closed_at=at))

    def due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        r = reservations.c
        rows = self.conn.execute(select(reservations).where(and_(r.state == "pending", r.expires_at <= now))
                                 .order_by(r.expires_at, r.id).limit(limit)).mappings()
        return [dict(x) for x in rows]

    def channels(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(channels).order_by(channels.c.code)).mappings()
        return [{**dict(r), "warehouse_ids": json.loads(r["warehouse_ids"])} for r in rows]

    def save_channel(self, values: Mapping[str, Any]) -> None:
        v = {**values, "warehouse_ids": json.dumps(sorted(values["warehouse_ids"]))}
        if self.conn.execute(update(channels).where(channels.c.code == v["code"]).values(**v)).rowcount == 0:
            self.conn.execute(channels.insert().values(**v))

    def published(self, channel: str, product_ids: Iterable[int]) -> dict[int, Decimal]:
        c = channel_published.c
        return {r[0]: r[1] for r in self.conn.execute(
            select(c.product_id, c.qty).where(c.channel_code == channel, c.product_id.in_(list(product_ids))))}

    def publish(self, channel: str, product_id: int, qty: Decimal, now: datetime) -> None:
        c = channel_published.c
        if self.conn.execute(update(channel_published).where(c.channel_code == channel, c.product_id == product_id)
                             .values(qty=qty, updated_at=now)).rowcount == 0:
            self.conn.execute(channel_published.insert().values(channel_code=channel, product_id=product_id,
                                                                qty=qty, updated_at=now))

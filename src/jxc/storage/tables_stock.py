"""预占与渠道 — reservations, their per-product totals (the lock row), channels."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from jxc.storage.tables import metadata
from jxc.storage.types import Quantity, UtcDateTime

reservations = Table(
    "reservations", metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("lot_id", Integer, nullable=False, default=0),  # 0: any lot
    Column("qty", Quantity(), nullable=False),
    Column("qty_consumed", Quantity(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("holder", String(128), nullable=False),  # e.g. sales_order:XSDD-20261101-0003, meituan:889123
    Column("channel_code", String(32), nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("idempotency_key", String(128), nullable=True, unique=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    CheckConstraint("state in ('pending', 'consumed', 'released', 'expired')", name="state"),
    CheckConstraint("qty > 0", name="qty_positive"),
    Index("ix_reservations_open", "product_id", "warehouse_id", "state"),
    Index("ix_reservations_expiry", "state", "expires_at"),
    Index("ix_reservations_holder", "holder"),
)

# Σ pending (qty − qty_consumed) per product and warehouse. Every change to a
# reservation, and every posting that takes available stock out, locks this row
# first (upsert), so reservers and postings on one product serialise on it.
reservation_totals = Table(
    "reservation_totals", metadata,
    Column("product_id", Integer, primary_key=True),
    Column("warehouse_id", Integer, primary_key=True),
    Column("qty", Quantity(), nullable=False),
)

channels = Table(
    "channels", metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("warehouse_ids", Text, nullable=False),  # JSON list: the warehouses that feed it
    Column("buffer_qty", Quantity(), nullable=False),  # 安全缓冲: held back from this channel
    Column("quota_pct", Integer, nullable=False, default=100),  # share of the pool it may sell
    Column("ttl_s", Integer, nullable=False, default=1800),  # unpaid reservations expire after
    Column("active", Boolean, nullable=False, default=True),
    CheckConstraint("quota_pct between 0 and 100", name="quota"),
)

channel_published = Table(
    "channel_published", metadata,
    Column("channel_code", String(32), primary_key=True),
    Column("product_id", Integer, primary_key=True),
    Column("qty", Quantity(), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

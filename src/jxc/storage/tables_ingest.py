"""POS 与渠道导入 — sale / return / channel-order events as their source sent them, and every line.

`ingest_events` holds one row per (source, source_id): the unique key makes each event apply
exactly once across retries and overlapping batches. `ingest_lines` keeps every line of an
event — zero-quantity and discount lines included — so nothing a till sent is ever dropped.
"""

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
    UniqueConstraint,
)

from jxc.storage.tables import metadata
from jxc.storage.types import Money, Quantity, UtcDateTime

ingest_events = Table(
    "ingest_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),  # the sending system, e.g. pos:store-01, meituan
    Column("source_id", String(128), nullable=False),  # the event's id in that system
    Column("feed", String(16), nullable=False),  # pos / channel
    Column("event_type", String(16), nullable=False),  # sale / return / order / cancel / ship
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("channel_code", String(32), nullable=True),
    Column("order_ref", String(128), nullable=True),  # the channel's order id
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # applied / held (stock exception: its draft waits)
    Column("problem_code", String(64), nullable=True),
    Column("problem_zh", Text, nullable=True),
    Column("problem_en", Text, nullable=True),
    Column("document_id", ForeignKey("documents.id"), nullable=True),
    Column("reservations", Text, nullable=True),  # JSON {product_id: reservation_id} of an order
    Column("amount", Money(), nullable=True),  # Σ line amounts as sent (discount lines negative)
    Column("request_hash", String(64), nullable=False),
    Column("payload", Text, nullable=False),  # the event as received (JSON)
    Column("received_by", String(64), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("source", "source_id", name="uq_ingest_events_source_id"),
    CheckConstraint("status in ('applied', 'held')", name="status"),
    Index("ix_ingest_events_status", "status", "id"),
    Index("ix_ingest_events_order", "channel_code", "order_ref"),
)

ingest_lines = Table(
    "ingest_lines", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", ForeignKey("ingest_events.id"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # item / discount
    Column("product_ref", String(64), nullable=True),  # code or barcode as sent
    Column("product_id", ForeignKey("products.id"), nullable=True),
    Column("qty", Quantity(), nullable=False),
    Column("unit", String(16), nullable=True),
    Column("qty_base", Quantity(), nullable=False),
    Column("unit_price", Money(), nullable=True),
    Column("amount", Money(), nullable=True),
    Column("inventory_change", Boolean, nullable=True),  # the flag as sent (None: not sent)
    Column("moves_stock", Boolean, nullable=False),  # what we did: a product with a quantity always moves
    Column("note", Text, nullable=True),
)

"""社群订单 — learned product aliases and the customer memory of chat-group orders.

One database is one business (账套), so these tables are per business by construction.
Nothing here is deleted: an alias is deactivated (and every change is in the audit log);
a customer hint is tied to the order it came from and counts only once that order is confirmed.
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
)

from jxc.storage.tables import metadata
from jxc.storage.types import UtcDateTime

chat_aliases = Table(
    "chat_aliases", metadata,
    Column("id", Integer, primary_key=True),
    Column("alias", String(50), nullable=False),  # as the clerk (customer) wrote it
    Column("alias_key", String(50), nullable=False, unique=True),  # normalised: one product per phrasing
    Column("product_id", ForeignKey("products.id"), nullable=False, index=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("source_text", Text, nullable=True),  # the message the correction was made on
    Column("version", Integer, nullable=False, default=1),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

chat_intakes = Table(
    "chat_intakes", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, unique=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("lines_placed", Integer, nullable=False),
    Column("lines_left_out", Integer, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

chat_customer_hints = Table(
    "chat_customer_hints", metadata,
    Column("id", Integer, primary_key=True),
    Column("intake_id", ForeignKey("chat_intakes.id"), nullable=False),
    Column("order_id", ForeignKey("orders.id"), nullable=False),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value_key", String(100), nullable=False),
    Column("value", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("kind in ('phone', 'address', 'name')", name="kind"),
    Index("ix_chat_customer_hints_key", "kind", "value_key"),
)

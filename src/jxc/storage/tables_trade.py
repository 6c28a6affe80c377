"""采购与销售订单 — orders never move stock; they reserve (sales) or expect (purchase) it."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from jxc.storage.tables import metadata
from jxc.storage.types import Quantity, UnitCost, UtcDateTime

orders = Table(
    "orders", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # purchase / sales
    Column("number", String(40), nullable=False, unique=True),
    Column("state", String(20), nullable=False),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("needed_on", UtcDateTime, nullable=True),  # delivery / arrival wanted by
    Column("remark", Text, nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("kind in ('purchase', 'sales')", name="kind"),
    CheckConstraint("state in ('draft', 'confirmed', 'partial', 'done', 'closed', 'cancelled')", name="state"),
    Index("ix_orders_kind_state", "kind", "state"),
)

order_lines = Table(
    "order_lines", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("qty", Quantity(), nullable=False),
    Column("qty_base", Quantity(), nullable=False),
    Column("qty_done", Quantity(), nullable=False),  # delivered / received so far (base units)
    Column("unit_price", UnitCost(), nullable=True),  # per base unit
    Column("reservation_id", Integer, nullable=True),  # sales: the line's reservation
    Column("shortage", Quantity(), nullable=False),  # sales: not reservable at confirmation (缺货)
)

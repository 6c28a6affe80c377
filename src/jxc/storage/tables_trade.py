"""采购与销售订单 — orders never move stock; they reserve (sales) or expect (purchase) it."""

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

from jxc.storage.tables import document_lines, documents, metadata
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
    Column("price_source", String(16), nullable=True),  # entered / customer / channel / member / default /
    # supplier / last_purchase: where the price came from (pricing.resolve)
)

# ── supplier terms, price lists, purchase suggestions (issue 5) ───────────────

supplier_products = Table(
    "supplier_products", metadata,  # 供应商供货条件
    Column("id", Integer, primary_key=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("unit_price", UnitCost(), nullable=True),  # default purchase price per base unit
    Column("pack_unit", String(16), nullable=True),  # 箱规: order in whole packs of this unit (a unit conversion)
    Column("lead_time_days", Integer, nullable=True),  # None: the partner's lead time
    Column("preferred", Boolean, nullable=False, default=False),  # the product's preferred supplier
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("partner_id", "product_id", name="uq_supplier_products_partner_product"),
    Index("ix_supplier_products_product", "product_id"),
)

prices = Table(
    "prices", metadata,  # 价格表: default / customer / channel / member prices
    Column("id", Integer, primary_key=True),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("partner_id", Integer, nullable=False, default=0),  # customer tier: the customer; else 0
    Column("channel", String(32), nullable=False, default=""),  # channel tier: the channel; else ''
    Column("unit", String(16), nullable=False),
    Column("unit_price", UnitCost(), nullable=False),  # per `unit`
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("tier in ('default', 'customer', 'channel', 'member')", name="tier"),
    UniqueConstraint("product_id", "tier", "partner_id", "channel", "unit", name="uq_prices_key"),
)

purchase_suggestions = Table(
    "purchase_suggestions", metadata,  # 以销定购: a shortfall of a confirmed sales order line
    Column("id", Integer, primary_key=True),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("qty", Quantity(), nullable=False),  # shortfall, base units
    Column("supplier_id", ForeignKey("partners.id"), nullable=True),  # preferred supplier, if any
    Column("needed_on", UtcDateTime, nullable=False),  # when the sales order needs it
    Column("order_by", UtcDateTime, nullable=False),  # needed_on − lead time
    Column("source_order_id", ForeignKey("orders.id"), nullable=False),
    Column("source_line_id", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("purchase_order_id", ForeignKey("orders.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("close_reason", String(200), nullable=True),
    CheckConstraint("state in ('open', 'converted', 'fulfilled', 'obsolete')", name="state"),
    Index("ix_purchase_suggestions_state", "state", "order_by"),
)

# report queries (storage/reports_repo.py): covering indexes, so a summary reads index pages only —
# posted documents of a kind in a time range with their partner / warehouse / posting, and their lines'
# product, quantity and price (measured in docs/benchmarks.md §7: sales summary 0.7 s → 0.2 s on 90k orders).
Index("ix_documents_report", documents.c.kind, documents.c.state, documents.c.effective_at, documents.c.id,
      documents.c.partner_id, documents.c.warehouse_id, documents.c.posting_id)
Index("ix_document_lines_report", document_lines.c.document_id, document_lines.c.product_id,
      document_lines.c.qty_base, document_lines.c.unit_price)
Index("ix_orders_kind_created", orders.c.kind, orders.c.created_at)
Index("ix_documents_source", documents.c.source_document_id)

"""数据表 — SQLAlchemy Core tables. The ledger is append-only; balances project it.

Conventions: plural snake-case tables, `<thing>_id` foreign keys, quantities
and money as exact decimals (see `types.py`), business time `effective_at`
and system time `posted_at` in UTC. `lot_id` 0 means "no lot" in the ledger
and balances, so that a bucket has a NOT NULL composite key.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from jxc.storage.types import Money, Quantity, UnitCost, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

books = Table(
    "books", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("closed_until", UtcDateTime, nullable=True),
    Column("audit_seq", Integer, nullable=False, default=0),
    Column("audit_hash", String(64), nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("lang", String(8), nullable=True),  # 界面语言 preference: "zh-CN" / "en"; NULL: cookie or zh-CN
)

products = Table(
    "products", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("spec", String(200), nullable=True),
    Column("category", String(100), nullable=True),
    Column("base_unit", String(16), nullable=False),
    Column("tracking", String(16), nullable=False, default="none"),
    Column("shelf_life_days", Integer, nullable=True),
    Column("safety_stock", Quantity(), nullable=True),
    Column("expiry_warn_days", Integer, nullable=True),  # overrides the book's expiry.warn_days
    Column("expiry_block_days", Integer, nullable=True),  # overrides the book's expiry.block_days
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("tracking in ('none', 'lot', 'serial')", name="tracking"),
)

product_barcodes = Table(
    "product_barcodes", metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", ForeignKey("products.id"), nullable=False, index=True),
    Column("barcode", String(64), nullable=False, unique=True),
)

unit_conversions = Table(
    "unit_conversions", metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("factor", UnitCost(), nullable=False),
    UniqueConstraint("product_id", "unit", name="uq_unit_conversions_product_unit"),
)

partners = Table(
    "partners", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("lead_time_days", Integer, nullable=True),
    Column("credit_limit", Money(), nullable=True),
    Column("payment_terms_days", Integer, nullable=True),  # 账期: days from the business date to due
    Column("phone", String(32), nullable=True),
    Column("address", String(300), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("role in ('supplier', 'customer', 'both')", name="role"),
)

warehouses = Table(
    "warehouses", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False, default="warehouse"),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("kind in ('warehouse', 'store')", name="kind"),
)

locations = Table(
    "locations", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=True, index=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("kind <> 'physical' or warehouse_id is not null", name="physical_in_warehouse"),
)

lots = Table(
    "lots", metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("lot_number", String(64), nullable=False),
    Column("produced_on", Date, nullable=True),
    Column("expires_on", Date, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("product_id", "lot_number", name="uq_lots_product_lot_number"),
)

postings = Table(
    "postings", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("effective_at", UtcDateTime, nullable=False),
    Column("posted_at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("reverses_id", ForeignKey("postings.id"), nullable=True, unique=True),
    Column("idempotency_key", String(128), nullable=True, unique=True),
    Column("request_hash", String(64), nullable=True),
    Column("allow_negative", Boolean, nullable=False, default=False),
    Column("reference", String(128), nullable=True),
    Column("remark", Text, nullable=True),
)

ledger_entries = Table(
    "ledger_entries", metadata,
    Column("id", Integer, primary_key=True),
    Column("posting_id", ForeignKey("postings.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("product_id", Integer, nullable=False),
    Column("lot_id", Integer, nullable=False, default=0),
    Column("location_id", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("qty", Quantity(), nullable=False),
    Column("unit_cost", UnitCost(), nullable=False),
    Column("value", Money(), nullable=False),
    Column("effective_at", UtcDateTime, nullable=False),
    Index("ix_ledger_entries_posting", "posting_id"),
    Index("ix_ledger_entries_product_time", "product_id", "effective_at"),
    Index("ix_ledger_entries_time", "effective_at"),
)

BUCKET = ("location_id", "product_id", "lot_id", "status")

balances = Table(
    "balances", metadata,
    Column("location_id", Integer, primary_key=True),
    Column("product_id", Integer, primary_key=True),
    Column("lot_id", Integer, primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("qty", Quantity(), nullable=False),
    Column("value", Money(), nullable=False),
    Index("ix_balances_product", "product_id"),
)

periods = Table(
    "periods", metadata,
    Column("id", Integer, primary_key=True),
    Column("closed_until", UtcDateTime, nullable=False, unique=True),
    Column("closed_at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
)

period_balances = Table(
    "period_balances", metadata,
    Column("period_id", ForeignKey("periods.id"), primary_key=True),
    Column("location_id", Integer, primary_key=True),
    Column("product_id", Integer, primary_key=True),
    Column("lot_id", Integer, primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("qty", Quantity(), nullable=False),
    Column("value", Money(), nullable=False),
    Index("ix_period_balances_product", "period_id", "product_id"),
)

audit_records = Table(
    "audit_records", metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("ip", String(64), nullable=True),
    Column("device", String(200), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_records_object", "object_type", "object_id"),
)

outbox_events = Table(
    "outbox_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("aggregate", String(32), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Index("ix_outbox_events_undelivered", "delivered_at", "id"),
)

# ── documents (单据), approvals, roles ────────────────────────────────────────

documents = Table(
    "documents", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("number", String(40), nullable=False, unique=True),
    Column("state", String(20), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("to_warehouse_id", ForeignKey("warehouses.id"), nullable=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=True),
    Column("effective_at", UtcDateTime, nullable=False),
    Column("remark", Text, nullable=True),
    Column("reason_code", String(32), nullable=True),
    Column("reason_text", Text, nullable=True),
    Column("source_document_id", ForeignKey("documents.id"), nullable=True),
    Column("posting_id", ForeignKey("postings.id"), nullable=True, unique=True),
    Column("reversal_posting_id", ForeignKey("postings.id"), nullable=True, unique=True),
    Column("allow_negative", Boolean, nullable=False, default=False),
    Column("approval_level", Integer, nullable=False, default=0),
    Column("approval_plan", Text, nullable=True),  # JSON: [{"level", "role", "reasons"}]
    Column("idempotency_key", String(128), nullable=True, unique=True),
    Column("version", Integer, nullable=False, default=1),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=True),
    Column("reminder_level", Integer, nullable=False, default=0),  # overdue reminders sent (1 operator, 2 manager)
    # 运费 / 分摊方式: a purchase receipt's freight, split over its lines (domain/freight.py)
    Column("freight", Money(), nullable=False, default=0, server_default="0"),
    Column("freight_basis", String(8), nullable=False, default="amount", server_default="amount"),
    CheckConstraint("state in ('draft', 'pending_approval', 'posted', 'reversed', 'cancelled')",
                    name="state"),
    CheckConstraint("freight >= 0", name="freight_nonnegative"),
    CheckConstraint("freight_basis in ('amount', 'qty')", name="freight_basis"),
    Index("ix_documents_state_kind", "state", "kind"),
    Index("ix_documents_warehouse_time", "warehouse_id", "effective_at"),
)

document_lines = Table(
    "document_lines", metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", ForeignKey("documents.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("qty", Quantity(), nullable=False),
    Column("qty_base", Quantity(), nullable=False),
    Column("lot_id", Integer, nullable=False, default=0),
    Column("unit_price", UnitCost(), nullable=True),
    Column("location_id", ForeignKey("locations.id"), nullable=True),
    Column("to_location_id", ForeignKey("locations.id"), nullable=True),
    Column("role", String(16), nullable=False, default=""),
    Column("from_status", String(16), nullable=False, default="available"),
    Column("to_status", String(16), nullable=True),
    Column("source_line_no", Integer, nullable=True),
    Column("order_line_id", Integer, nullable=True),  # the order line this line fulfils
    Column("reservation_id", Integer, nullable=True),  # consumed when the document posts
    Column("remark", Text, nullable=True),
    Column("freight_share", Money(), nullable=True),  # 运费分摊: this line's part of the receipt's freight
    UniqueConstraint("document_id", "line_no", name="uq_document_lines_document_line"),
    Index("ix_document_lines_product", "product_id"),
)

number_sequences = Table(
    "number_sequences", metadata,
    Column("prefix", String(16), primary_key=True),
    Column("day", String(8), primary_key=True),
    Column("last", Integer, nullable=False),
)

approvals = Table(
    "approvals", metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", ForeignKey("documents.id"), nullable=False, index=True),
    Column("level", Integer, nullable=False),
    Column("role", String(32), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("username", String(64), nullable=False),
    Column("comment", Text, nullable=True),
    Column("at", UtcDateTime, nullable=False),
    CheckConstraint("decision in ('approved', 'rejected')", name="decision"),
)

approval_rules = Table(
    "approval_rules", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("definition", Text, nullable=False),  # JSON of domain.approvals.Rule
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UtcDateTime, nullable=False),
)

roles = Table(
    "roles", metadata,
    Column("code", String(32), primary_key=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("permissions", Text, nullable=False),  # JSON list of permission codes
    Column("builtin", Boolean, nullable=False, default=False),
)

user_warehouses = Table(
    "user_warehouses", metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("warehouse_id", ForeignKey("warehouses.id"), primary_key=True),
)

reasons = Table(
    "reasons", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("code", String(32), nullable=False),
    Column("label_zh", String(64), nullable=False),
    Column("label_en", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("kind", "code", name="uq_reasons_kind_code"),
)

# ── book settings (账套设置) and API tokens ──────────────────────────────────

book_settings = Table(
    "book_settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("version", Integer, nullable=False, default=1),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the secret
    Column("prefix", String(12), nullable=False),  # first characters, to recognise a token in lists
    Column("username", String(64), nullable=False),
    Column("scopes", Text, nullable=False),  # JSON list
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
)


# Tables of other areas live in their own modules on the same `metadata`; importing them
# here makes `metadata` complete wherever tables.py is imported.
from jxc.storage import (  # noqa: E402,F401
    tables_api,
    tables_chat,
    tables_counting,
    tables_ingest,
    tables_money,
    tables_report_orders,
    tables_reports,
    tables_stock,
    tables_trade,
)

"""盘点数据表 — count plans, tasks, what to count where, counters' entries, closed results, ABC classes.

None of these tables is stock: a count changes the books only through the
count-adjustment document (盘盈盘亏) its close proposes.
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
from jxc.storage.types import Money, Quantity, UnitCost, UtcDateTime

count_plans = Table(
    "count_plans", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # full / cycle
    Column("scope", Text, nullable=False),  # JSON: locations, categories, abc, rotation
    Column("blind", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("kind in ('full', 'cycle')", name="kind"),
)

count_tasks = Table(
    "count_tasks", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("plan_id", ForeignKey("count_plans.id"), nullable=True),
    Column("warehouse_id", ForeignKey("warehouses.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("blind", Boolean, nullable=False, default=False),
    Column("scope", Text, nullable=False),  # JSON: the plan's scope as resolved for this task
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_by", String(64), nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("close_seq", Integer, nullable=False, default=0),  # closes so far (recount reopens)
    Column("adjustment_document_id", ForeignKey("documents.id"), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    CheckConstraint("state in ('open', 'counting', 'closed', 'cancelled')", name="state"),
    Index("ix_count_tasks_warehouse_state", "warehouse_id", "state"),
)

count_task_items = Table(
    "count_task_items", metadata,
    Column("task_id", ForeignKey("count_tasks.id"), primary_key=True),
    Column("location_id", ForeignKey("locations.id"), primary_key=True),
    Column("product_id", ForeignKey("products.id"), primary_key=True),
    Column("lot_id", Integer, primary_key=True),
    Column("listed", Boolean, nullable=False, default=True),  # False: found on the shelf, not on the sheet
    Column("round", Integer, nullable=False, default=1),  # raised by each recount
)

count_task_assignees = Table(
    "count_task_assignees", metadata,
    Column("task_id", ForeignKey("count_tasks.id"), primary_key=True),
    Column("username", String(64), primary_key=True),
)

count_entries = Table(
    "count_entries", metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", ForeignKey("count_tasks.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("lot_id", Integer, nullable=False, default=0),
    Column("round", Integer, nullable=False, default=1),
    Column("unit", String(16), nullable=False),
    Column("qty", Quantity(), nullable=False),
    Column("qty_base", Quantity(), nullable=False),
    Column("condition", String(16), nullable=False, default="good"),
    Column("photo_ref", String(300), nullable=True),
    Column("counted_by", String(64), nullable=False),
    Column("counted_at", UtcDateTime, nullable=False),  # on the phone, when the line was counted
    Column("received_at", UtcDateTime, nullable=False),  # when the server got it
    Column("device", String(200), nullable=True),
    Column("idempotency_key", String(128), nullable=True, unique=True),
    Column("remark", Text, nullable=True),
    CheckConstraint("condition in ('good', 'damaged', 'near_expiry')", name="condition"),
    CheckConstraint("qty_base >= 0", name="qty_base_not_negative"),
    Index("ix_count_entries_task", "task_id", "product_id"),
)

count_results = Table(
    "count_results", metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", ForeignKey("count_tasks.id"), nullable=False),
    Column("close_seq", Integer, nullable=False),
    Column("location_id", Integer, nullable=False),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("lot_id", Integer, nullable=False, default=0),
    Column("counted_qty", Quantity(), nullable=False),
    Column("book_qty", Quantity(), nullable=False),
    Column("variance", Quantity(), nullable=False),
    Column("unit_cost", UnitCost(), nullable=False),
    Column("value", Money(), nullable=False),  # signed: gain > 0, loss < 0
    Column("counted_at", UtcDateTime, nullable=False),
    Column("counted_by", String(64), nullable=False),
    Column("category", String(100), nullable=True),
    Column("conditions", String(64), nullable=False, default=""),
    Column("within_tolerance", Boolean, nullable=False),
    Column("reason_code", String(32), nullable=True),
    Column("closed_at", UtcDateTime, nullable=False),
    Index("ix_count_results_product", "product_id", "counted_at"),
    Index("ix_count_results_task", "task_id", "close_seq"),
)

product_abc = Table(
    "product_abc", metadata,
    Column("product_id", ForeignKey("products.id"), primary_key=True),
    Column("abc_class", String(1), nullable=False),
    Column("usage_value", Money(), nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
    CheckConstraint("abc_class in ('A', 'B', 'C')", name="abc_class"),
)

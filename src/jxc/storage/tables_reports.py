"""汇总表 — the report projection: posted trading documents summed per day / month, warehouse and key.

One row per (dim, side, grain, period, warehouse_id, key_id) — the primary key, in the order the
reports read it (on SQLite a WITHOUT ROWID table: the rows are stored in that order); every measure is additive, written
in the posting transaction as increments (storage/report_sums.py) and rebuilt from the documents
on demand (`jxc reports rebuild`). `jxc check` R1 compares it with a recomputation.

- dim 'product': key_id is the product; `documents` counts the documents that contain it.
- dim 'partner': key_id is the partner (0: no partner); each document counts once — these rows
  also serve the warehouse / day / month groupings.
- grain 'day': period is the local day; grain 'month': the 1st of the local month (zone: the book
  setting `reports.timezone`).
- Returns count negative in qty / amount and positive in qty_returned / amount_returned;
  cogs (sales only) is the ledger value at the customer location for the posting.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from jxc.storage.tables import documents, metadata
from jxc.storage.types import Money, Quantity

report_sums = Table(
    "report_sums", metadata,
    Column("dim", String(8), nullable=False),
    Column("grain", String(8), nullable=False),
    Column("period", Date, nullable=False),
    Column("side", String(8), nullable=False),
    Column("warehouse_id", Integer, nullable=False),
    Column("key_id", Integer, nullable=False),
    Column("documents", Integer, nullable=False),
    Column("qty", Quantity(), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("qty_returned", Quantity(), nullable=False),
    Column("amount_returned", Money(), nullable=False),
    Column("cogs", Money(), nullable=False),
    PrimaryKeyConstraint("dim", "side", "grain", "period", "warehouse_id", "key_id"),
    CheckConstraint("dim in ('product', 'partner')", name="dim"),
    CheckConstraint("grain in ('day', 'month')", name="grain"),
    CheckConstraint("side in ('purchase', 'sales')", name="side"),
    sqlite_with_rowid=False,
)

# A report filtered to one partner but grouped by product (or by document) crosses the projection's
# dims and reads documents: this index finds that partner's documents without scanning the history
# (docs/benchmarks.md §7a: 33 → 4 ms on a year's book, linear in the history without it).
Index("ix_documents_partner", documents.c.partner_id, documents.c.effective_at)

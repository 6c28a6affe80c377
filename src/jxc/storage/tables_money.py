"""应收应付 — money accounts, open items (往来明细), allocations (核销) and payments (收付款单).

Open items are append-only: a reversal is a new item of the opposite sign that
references the one it reverses. `allocated` on an item is a projection of its
allocation rows, kept in the same transaction (`jxc check` verifies it, M1).
Allocation rows are append-only too: an un-allocation is a negative row.
Opening balances (期初) are open items with a header row that holds the partner's
reference (unique while not reversed) and the reversal's reason. Transfers between
accounts (资金调拨) write account entries (two legs, and two more when reversed);
an account's balance is its items' money plus its entries.
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
    String,
    Table,
    Text,
    UniqueConstraint,
)

from jxc.storage.tables import metadata
from jxc.storage.types import Money, UtcDateTime

money_accounts = Table(
    "money_accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("kind in ('cash', 'bank', 'wechat', 'alipay')", name="kind"),
)

money_items = Table(
    "money_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("side", String(16), nullable=False),
    Column("kind", String(32), nullable=False),  # document kind, receipt / payment, or reversal
    Column("document_id", ForeignKey("documents.id"), nullable=True),
    Column("payment_id", Integer, nullable=True),
    Column("account_id", ForeignKey("money_accounts.id"), nullable=True),  # money moved (payments)
    Column("reference", String(64), nullable=False),  # document / payment number
    Column("effective_at", UtcDateTime, nullable=False),
    Column("due_on", Date, nullable=True),
    Column("amount", Money(), nullable=False),  # signed: > 0 raises what is owed, < 0 is a credit
    Column("allocated", Money(), nullable=False, default=0),  # ≥ 0, ≤ |amount|
    Column("reverses_id", ForeignKey("money_items.id"), nullable=True, unique=True),
    Column("unpriced_lines", Integer, nullable=False, default=0),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("side in ('receivable', 'payable')", name="side"),
    CheckConstraint("amount <> 0", name="amount_nonzero"),
    CheckConstraint("allocated >= 0", name="allocated_nonneg"),
    Index("ix_money_items_partner_time", "partner_id", "side", "effective_at"),
    Index("ix_money_items_document", "document_id"),
)

money_allocations = Table(
    "money_allocations", metadata,
    Column("id", Integer, primary_key=True),
    Column("debit_item_id", ForeignKey("money_items.id"), nullable=False, index=True),
    Column("credit_item_id", ForeignKey("money_items.id"), nullable=False, index=True),
    Column("amount", Money(), nullable=False),  # > 0 allocates, < 0 releases (un-allocates)
    Column("effective_at", UtcDateTime, nullable=False),  # business time it counts from (ageing as of)
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

payments = Table(
    "payments", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("account_id", ForeignKey("money_accounts.id"), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("effective_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("item_id", Integer, nullable=True),
    Column("reversal_item_id", Integer, nullable=True),
    Column("idempotency_key", String(128), nullable=True, unique=True),
    Column("request_hash", String(64), nullable=True),
    Column("remark", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("reversed_by", String(64), nullable=True),
    Column("reversed_at", UtcDateTime, nullable=True),
    CheckConstraint("kind in ('receipt', 'payment', 'customer_refund', 'supplier_refund')", name="kind"),
    CheckConstraint("state in ('posted', 'reversed')", name="state"),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index("ix_payments_partner", "partner_id", "effective_at"),
)

credit_overrides = Table(
    "credit_overrides", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, index=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("exposure", Money(), nullable=False),  # open receivables + order value that was approved
    Column("credit_limit", Money(), nullable=True),
    Column("reason", Text, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

money_openings = Table(
    "money_openings", metadata,
    Column("id", Integer, primary_key=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("side", String(16), nullable=False),
    Column("reference", String(64), nullable=False),  # the invoice number, or 期初 for a whole balance
    Column("live_reference", String(64), nullable=True),  # = reference while posted, NULL once reversed
    Column("amount", Money(), nullable=False),  # signed like its item: > 0 owed, < 0 a credit
    Column("effective_at", UtcDateTime, nullable=False),
    Column("due_on", Date, nullable=True),
    Column("state", String(16), nullable=False),
    Column("item_id", Integer, nullable=True),
    Column("reversal_item_id", Integer, nullable=True),
    Column("remark", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("reversed_by", String(64), nullable=True),
    Column("reversed_at", UtcDateTime, nullable=True),
    CheckConstraint("side in ('receivable', 'payable')", name="side"),
    CheckConstraint("state in ('posted', 'reversed')", name="state"),
    CheckConstraint("amount <> 0", name="amount_nonzero"),
    UniqueConstraint("partner_id", "side", "live_reference", name="uq_money_openings_live_reference"),
)

money_transfers = Table(
    "money_transfers", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("from_account_id", ForeignKey("money_accounts.id"), nullable=False),
    Column("to_account_id", ForeignKey("money_accounts.id"), nullable=False),
    Column("amount", Money(), nullable=False),  # leaves the from account
    Column("fee", Money(), nullable=False, default=0),  # does not arrive: the to account gets amount − fee
    Column("effective_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("idempotency_key", String(128), nullable=True, unique=True),
    Column("request_hash", String(64), nullable=True),
    Column("remark", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("reversed_by", String(64), nullable=True),
    Column("reversed_at", UtcDateTime, nullable=True),
    CheckConstraint("state in ('posted', 'reversed')", name="state"),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("fee >= 0 and fee < amount", name="fee_range"),
    CheckConstraint("from_account_id <> to_account_id", name="accounts_differ"),
)

money_account_entries = Table(
    "money_account_entries", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("money_accounts.id"), nullable=False),
    Column("transfer_id", ForeignKey("money_transfers.id"), nullable=False, index=True),
    Column("amount", Money(), nullable=False),  # signed: + into the account, − out of it
    Column("effective_at", UtcDateTime, nullable=False),
    Column("reversal", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("amount <> 0", name="amount_nonzero"),
    Index("ix_money_account_entries_account_time", "account_id", "effective_at"),
)

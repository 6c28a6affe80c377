"""端口 — what the services need from storage, declared as Protocols.

Services depend on these; `jxc.storage` implements them with SQLAlchemy and
tests may implement them with fakes. A unit of work is one database
transaction: it rolls back unless `commit()` is called.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, Self

from jxc.domain.balances import Amount
from jxc.domain.ledger import BucketKey, LedgerEntry, MasterData


@dataclass(frozen=True)
class PostingHeader:
    """过账头 — who posted what, when, and what it reverses."""

    id: int
    kind: str
    effective_at: datetime
    posted_at: datetime
    actor: str
    reverses_id: int | None
    idempotency_key: str | None
    request_hash: str | None
    allow_negative: bool
    reference: str | None
    remark: str | None


@dataclass(frozen=True)
class NewPosting:
    kind: str
    effective_at: datetime
    posted_at: datetime
    actor: str
    reverses_id: int | None
    idempotency_key: str | None
    request_hash: str | None
    allow_negative: bool
    reference: str | None
    remark: str | None


@dataclass(frozen=True)
class BookHead:
    """账套头 — the locked head row: closed period and the audit chain tip."""

    closed_until: datetime | None
    audit_seq: int
    audit_hash: str


@dataclass(frozen=True)
class AuditEntry:
    """操作日志 — one attributable action (before/after as JSON-able dicts)."""

    action: str
    object_type: str
    object_id: str
    actor: str
    at: datetime
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    ip: str | None = None
    device: str | None = None


@dataclass(frozen=True)
class OutboxMessage:
    """事件 — written with the change, delivered later (I10)."""

    event_type: str
    aggregate: str
    aggregate_id: str
    payload: Mapping[str, Any]
    created_at: datetime


class PostingRepository(Protocol):
    def find_by_key(self, idempotency_key: str) -> PostingHeader | None: ...
    def get(self, posting_id: int) -> PostingHeader | None: ...
    def entries(self, posting_id: int) -> tuple[LedgerEntry, ...]: ...
    def reversal_of(self, posting_id: int) -> PostingHeader | None: ...
    def add(self, posting: NewPosting, entries: Sequence[LedgerEntry]) -> int: ...


class BalanceRepository(Protocol):
    def increment(self, entries: Sequence[LedgerEntry],
                  watch: Iterable[BucketKey]) -> dict[BucketKey, Decimal]:
        """Add entries to balance rows in key order; return the watched buckets now < 0."""
        ...

    def has_history(self, product_id: int) -> bool: ...
    def bucket_costs(self, keys: Iterable[BucketKey]) -> dict[BucketKey, Decimal]: ...
    def location_has_history(self, location_id: int) -> bool: ...

    def average_costs(self, pairs: Iterable[tuple[int, int | None]]
                      ) -> dict[tuple[int, int | None], Decimal]: ...


class MasterDataRepository(Protocol):
    def load(self, product_ids: Iterable[int], location_ids: Iterable[int],
             lot_ids: Iterable[int]) -> MasterData: ...


class BookRepository(Protocol):
    def lock_head(self) -> BookHead:
        """Lock the book's head row until the transaction ends, and read it."""
        ...

    def set_closed_until(self, closed_until: datetime) -> None: ...


class PeriodRepository(Protocol):
    def latest(self) -> tuple[int, datetime] | None: ...

    def close(self, until: datetime, closed_at: datetime, actor: str) -> tuple[int, int]:
        """Snapshot stock of entries effective before ``until``; return (period id, rows)."""
        ...


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> int: ...


class Outbox(Protocol):
    def add(self, message: OutboxMessage) -> int: ...


class RecordStore(Protocol):
    """Master-data rows as plain dicts, by table name (products, partners, …)."""

    def get(self, table: str, record_id: int) -> dict[str, Any] | None: ...
    def find(self, table: str, **where: Any) -> dict[str, Any] | None: ...
    def insert(self, table: str, values: Mapping[str, Any]) -> int: ...
    def update(self, table: str, record_id: int, values: Mapping[str, Any],
               expected_version: int | None) -> dict[str, Any]:
        """Update and bump the version; Conflict VERSION_CONFLICT when it moved on."""
        ...

    def delete_where(self, table: str, **where: Any) -> int: ...


class DocumentRepository(Protocol):
    """单据 — documents and what posting them needs (see storage/documents.py)."""

    def next_number(self, prefix: str, day: str) -> int: ...
    def insert(self, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> int: ...
    def get(self, doc_id: int, lock: bool = False) -> dict[str, Any] | None: ...
    def find_by_key(self, idempotency_key: str) -> int | None: ...
    def receipts_of(self, doc_id: int) -> list[dict[str, Any]]: ...
    def update(self, doc_id: int, values: Mapping[str, Any], expected_version: int | None) -> None: ...
    def open_documents(self, before: datetime) -> list[dict[str, Any]]: ...
    def set_reminder_level(self, doc_id: int, level: int) -> None: ...
    def replace_lines(self, doc_id: int, lines: Sequence[Mapping[str, Any]]) -> None: ...
    def add_approval(self, values: Mapping[str, Any]) -> None: ...
    def approvals(self, doc_id: int) -> list[dict[str, Any]]: ...
    def rules(self) -> list[Any]: ...
    def add_rule(self, rule: Any, now: datetime) -> int: ...
    def set_rule_active(self, rule_id: int, active: bool) -> bool | None: ...
    def save_role(self, code: str, name_zh: str, name_en: str, permissions: Sequence[str]) -> None: ...
    def set_user_warehouses(self, user_id: int, warehouse_ids: Sequence[int]) -> None: ...
    def add_reason(self, kind: str, code: str, label_zh: str, label_en: str) -> None: ...
    def reasons(self, kind: str) -> list[dict[str, Any]]: ...
    def default_locations(self, warehouse_ids: Iterable[int]) -> dict[int, int]: ...
    def location_warehouses(self, location_ids: Iterable[int]) -> dict[int, int | None]: ...
    def places(self) -> Any: ...
    def units(self, product_ids: Iterable[int]) -> dict[int, tuple[str, tuple[Any, ...]]]: ...
    def on_hand(self, keys: Iterable[BucketKey]) -> dict[BucketKey, Decimal]: ...
    def role_permissions(self, role: str) -> frozenset[str] | None: ...
    def user_warehouses(self, user_id: int) -> frozenset[int]: ...


class SettingsRepository(Protocol):
    def all(self) -> dict[str, Any]: ...
    def put(self, key: str, value: Any, actor: str, now: datetime) -> None: ...


class ReservationRepository(Protocol):
    """预占 — see storage/reservations_repo.py; `lock_totals` is the lock every change takes first."""

    def lock_totals(self, deltas: Mapping[tuple[int, int], Decimal]) -> dict[tuple[int, int], Decimal]: ...
    def available_on_hand(self, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Decimal]: ...
    def stock_lines(self, product_id: int, warehouse_id: int) -> list[Any]: ...
    def product_expiry(self, product_id: int) -> tuple[str, int | None, int | None]: ...
    def pending(self, product_id: int, warehouse_id: int) -> list[Any]: ...
    def reserved(self, product_id: int, warehouse_id: int, lot_id: int | None = None) -> Decimal: ...
    def insert(self, values: Mapping[str, Any]) -> int: ...
    def get(self, reservation_id: int, lock: bool = False) -> dict[str, Any] | None: ...
    def find_by_key(self, key: str) -> dict[str, Any] | None: ...
    def close(self, reservation_id: int, state: str, qty_consumed: Decimal, at: datetime | None) -> None: ...
    def due(self, now: datetime, limit: int) -> list[dict[str, Any]]: ...
    def channels(self) -> list[dict[str, Any]]: ...
    def save_channel(self, values: Mapping[str, Any]) -> None: ...
    def published(self, channel: str, product_ids: Iterable[int]) -> dict[int, Decimal]: ...
    def publish(self, channel: str, product_id: int, qty: Decimal, now: datetime) -> None: ...


class TradeRepository(Protocol):
    """订单 — see storage/trade_repo.py."""

    def insert(self, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> int: ...
    def get(self, order_id: int, lock: bool = False) -> dict[str, Any] | None: ...
    def update(self, order_id: int, values: Mapping[str, Any]) -> None: ...
    def update_line(self, line_id: int, values: Mapping[str, Any]) -> None: ...
    def line(self, line_id: int) -> dict[str, Any] | None: ...
    def add_done(self, line_id: int, qty: Decimal) -> int: ...
    def price_history(self, product_id: int, partner_id: int | None, since: datetime) -> dict[str, Any]: ...


class UnitOfWork(Protocol):
    postings: PostingRepository
    balances: BalanceRepository
    masterdata: MasterDataRepository
    book: BookRepository
    periods: PeriodRepository
    audit: AuditLog
    outbox: Outbox
    records: RecordStore
    documents: DocumentRepository
    settings: SettingsRepository
    reservations: ReservationRepository
    trade: TradeRepository

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class StockRow:
    """库存行 — a balance or an as-of quantity, with names for people."""

    location_id: int
    location_code: str
    warehouse_code: str | None
    product_id: int
    product_code: str
    product_name: str
    lot_id: int
    lot_number: str | None
    status: str
    qty: Decimal
    value: Decimal


@dataclass(frozen=True)
class Violation:
    """违规 — one failed invariant, with the bucket / posting / record involved."""

    invariant: str
    subject: str
    detail: str


class Queries(Protocol):
    """Read models: stock, time travel, invariant checks. Never writes."""

    def balances(self, product_id: int | None = None, warehouse_id: int | None = None,
                 lot_id: int | None = None, physical_only: bool = True) -> dict[BucketKey, Amount]: ...
    def stock_at(self, at: datetime, product_id: int | None = None,
                 warehouse_id: int | None = None, lot_id: int | None = None,
                 physical_only: bool = True) -> dict[BucketKey, Amount]: ...
    def describe(self, buckets: Mapping[BucketKey, Amount]) -> list[StockRow]: ...
    def violations(self) -> list[Violation]: ...
    def open_documents(self, warehouse_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]: ...
    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        """操作日志 — by product_id, document_id, username, action (prefix), since, until;
        newest first, `before_seq` pages back, `limit` (≤ 500)."""
        ...
    def lookup_ids(self, product_code: str | None, warehouse_code: str | None
                   ) -> tuple[int | None, int | None]: ...


"""网页读端口 — the read models the web pages need, as a port (storage implements it).

Every list comes back as a `Page`: its rows, the total that matched and where it
starts, so pages paginate in SQL and show "rows 51–100 of 230".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class Page:
    """一页 — rows of one page, the total count, and the page's window."""

    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    @property
    def number(self) -> int:
        return self.offset // self.limit + 1 if self.limit else 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit)) if self.limit else 1

    @property
    def first(self) -> int:
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)


@dataclass(frozen=True)
class KeysetPage:
    """一页（游标） — rows of one keyset page, newest first, the total that matched, and whether
    there are newer / older rows. Cursors are row ids: the next page starts after the last row,
    the previous one before the first, so rows inserted meanwhile never shift a page."""

    rows: list[dict[str, Any]]
    total: int
    has_newer: bool
    has_older: bool

    @property
    def first_id(self) -> int | None:
        return self.rows[0]["id"] if self.rows else None

    @property
    def last_id(self) -> int | None:
        return self.rows[-1]["id"] if self.rows else None


class WebReads(Protocol):
    """What the pages read (implemented by `storage.web_queries.SqlWebReads`)."""

    def stock_by_product(self, warehouse_ids: Sequence[int] | None) -> dict[int, tuple[Decimal, Decimal]]: ...
    def products_brief(self) -> list[dict[str, Any]]: ...
    def lot_stock(self, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]: ...
    def open_order_lines(self, kind: str, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]: ...
    def open_reservations(self, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]: ...
    def posting_values(self, since: datetime, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]: ...
    def catalog_revision(self) -> tuple[Any, ...]: ...
    def catalog_keys(self) -> list[tuple[int, str, str, bool]]: ...
    def products_by_ids(self, ids: Sequence[int]) -> list[dict[str, Any]]: ...
    def categories(self) -> list[str]: ...
    def product_page(self, **filters: Any) -> Page: ...
    def product(self, product_id: int) -> dict[str, Any] | None: ...
    def product_stock(self, product_id: int, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]: ...
    def price_history(self, product_id: int, limit: int = 30) -> list[dict[str, Any]]: ...
    def ledger_page(self, **filters: Any) -> Page: ...
    def ledger_rows(self, **filters: Any) -> Iterator[dict[str, Any]]: ...
    def ledger_keyset(self, *, after_id: int | None = None, before_id: int | None = None, limit: int = 50,
                      **filters: Any) -> KeysetPage: ...
    def partner_page(self, **filters: Any) -> Page: ...
    def warehouse_list(self, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]: ...
    def location_page(self, **filters: Any) -> Page: ...
    def record(self, table: str, record_id: int) -> dict[str, Any] | None: ...
    def audit_page(self, **filters: Any) -> Page: ...
    def document_ids(self, number: str) -> list[int]: ...
    def roles(self) -> list[dict[str, Any]]: ...
    def users(self) -> list[dict[str, Any]]: ...
    def reasons(self) -> list[dict[str, Any]]: ...
    def channels(self) -> list[dict[str, Any]]: ...

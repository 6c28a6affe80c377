"""社群订单目录 — the chat parser's catalog built from the book's products and learned aliases, cached.

Guarantees:
- Built from active products (code → sku, name, spec, base unit, unit conversions, first
  barcode) and the active learned aliases; never from module-level state.
- `ChatCatalog.current(uow)` reads a one-statement fingerprint of products, conversions,
  barcodes and aliases on every call and rebuilds only when it changed, so a change made
  by any process (or before a restart) is seen by the next parse. Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jxc.chat_orders import REVIEW_THRESHOLD, Catalog, ChatOrderParser, OrderLine, Product
from jxc.services.ports import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class BookCatalog:
    """一个账套的解析目录 — the parser for one fingerprint, and how SKUs map to product rows."""

    revision: tuple[Any, ...]
    parser: ChatOrderParser
    product_ids: dict[str, int]
    base_units: dict[str, str]
    factors: dict[str, dict[str, Decimal]]  # sku -> {unit: base units per unit}

    def qty_base(self, line: OrderLine) -> Decimal | None:
        """The line's quantity in base units, or None when its unit has no conversion."""
        if line.unit == self.base_units.get(line.sku):
            return line.qty
        factor = self.factors.get(line.sku, {}).get(line.unit)
        return None if factor is None else line.qty * factor


def build_catalog(rows: Iterable[dict[str, Any]], revision: tuple[Any, ...] = (),
                  review_threshold: float = REVIEW_THRESHOLD) -> BookCatalog:
    """目录 — the parser's Catalog from product rows (see `ChatRepository.catalog_rows`)."""
    products, learned, ids, units, factors = [], [], {}, {}, {}
    for r in rows:
        conversions = tuple((u, Decimal(f)) for u, f in r["units"])
        products.append(Product(sku=r["code"], name=r["name"], unit=r["base_unit"], spec=r["spec"] or "",
                                barcode=r["barcodes"][0] if r["barcodes"] else "", units=conversions))
        learned += [(r["code"], alias) for alias in r["aliases"]]
        ids[r["code"]], units[r["code"]], factors[r["code"]] = r["id"], r["base_unit"], dict(conversions)
    catalog = Catalog(products=tuple(products), learned_aliases=tuple(learned))
    return BookCatalog(revision, ChatOrderParser(catalog, review_threshold), ids, units, factors)


class ChatCatalog:
    """目录缓存 — the book's parser, rebuilt only when its fingerprint changes (thread-safe).

    One instance per book lives on the `App` (bootstrap); `builds` counts rebuilds."""

    def __init__(self, review_threshold: float = REVIEW_THRESHOLD) -> None:
        self.review_threshold = review_threshold
        self.builds = 0
        self._lock = threading.Lock()
        self._state: BookCatalog | None = None

    def current(self, uow: UnitOfWork) -> BookCatalog:
        revision = uow.chat.catalog_revision()
        state = self._state
        if state is not None and state.revision == revision:
            return state
        with self._lock:
            state = self._state
            if state is None or state.revision != revision:
                state = build_catalog(uow.chat.catalog_rows(), revision, self.review_threshold)
                self._state = state
                self.builds += 1
            return state

    def parser(self, f: UowFactory) -> ChatOrderParser:
        """The book's parser as of now (CLI, bench)."""
        with f() as uow:
            return self.current(uow).parser

    def invalidate(self) -> None:
        self._state = None

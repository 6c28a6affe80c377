"""库存余额 — balances as a projection of the ledger, and replay.

Guarantees:
- I1/I8: `replay(entries, as_of)` is the one definition of stock at a time:
  the sum of entries effective at or before ``as_of`` per bucket; applied to
  all entries it equals the balance rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from jxc.domain.ledger import BucketKey, LedgerEntry
from jxc.domain.quantities import ZERO


@dataclass(frozen=True)
class Amount:
    """数量与金额 — quantity and value of one bucket."""

    qty: Decimal = ZERO
    value: Decimal = ZERO

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.qty + other.qty, self.value + other.value)

    @property
    def is_zero(self) -> bool:
        return self.qty == 0 and self.value == 0


def apply(balances: Mapping[BucketKey, Amount], entries: Iterable[LedgerEntry]) -> dict[BucketKey, Amount]:
    """New balances after ``entries``; buckets that end at zero are kept out."""
    out = dict(balances)
    for e in entries:
        out[e.bucket] = out.get(e.bucket, Amount()) + Amount(e.qty, e.value)
    return {k: v for k, v in out.items() if not v.is_zero}


def replay(entries: Iterable[LedgerEntry], as_of: datetime | None = None,
           start: Mapping[BucketKey, Amount] | None = None) -> dict[BucketKey, Amount]:
    """Stock per bucket from ``start`` plus entries effective at or before ``as_of``."""
    chosen = entries if as_of is None else (e for e in entries if e.effective_at <= as_of)
    return apply(start or {}, chosen)


def nonzero(balances: Mapping[BucketKey, Amount]) -> dict[BucketKey, Amount]:
    return {k: v for k, v in balances.items() if not v.is_zero}

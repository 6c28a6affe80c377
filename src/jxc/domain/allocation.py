"""批次分配 — which lots a need is taken from: FEFO, FIFO or STRICT, as a strategy table.

Guarantees:
- Each strategy is a small pure function over candidate lots; it returns the
  picks (lot, qty) and the shortage — it never invents stock, never picks an
  unsellable lot, and Σ picks + shortage = need.
- FEFO takes the nearest expiry first (lots without expiry last), FIFO the
  oldest receipt first, STRICT only the lot the user named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from jxc.domain.quantities import ZERO


class PickStrategy(StrEnum):
    FEFO = "fefo"  # 近效期先出
    FIFO = "fifo"  # 先进先出
    STRICT = "strict"  # 指定批次


@dataclass(frozen=True)
class LotStock:
    """一个批次的可用量 — candidate for picking."""

    lot_id: int
    qty: Decimal
    expires_on: date | None = None
    received_seq: int = 0  # order of first receipt (FIFO)
    lot_number: str = ""


@dataclass(frozen=True)
class Pick:
    lot_id: int
    qty: Decimal


@dataclass(frozen=True)
class Allocation:
    picks: tuple[Pick, ...]
    shortage: Decimal

    @property
    def picked(self) -> Decimal:
        return sum((p.qty for p in self.picks), ZERO)


def _take(need: Decimal, ordered: Iterable[LotStock]) -> Allocation:
    picks: list[Pick] = []
    for lot in ordered:
        if need <= 0:
            break
        if lot.qty <= 0:
            continue
        q = min(lot.qty, need)
        picks.append(Pick(lot.lot_id, q))
        need -= q
    return Allocation(tuple(picks), max(need, ZERO))


def _fefo(need: Decimal, lots: list[LotStock], lot_id: int | None) -> Allocation:
    return _take(need, sorted(lots, key=lambda x: (x.expires_on is None, x.expires_on or date.max,
                                                   x.received_seq, x.lot_id)))


def _fifo(need: Decimal, lots: list[LotStock], lot_id: int | None) -> Allocation:
    return _take(need, sorted(lots, key=lambda x: (x.received_seq, x.lot_id)))


def _strict(need: Decimal, lots: list[LotStock], lot_id: int | None) -> Allocation:
    return _take(need, [x for x in lots if x.lot_id == lot_id])


STRATEGIES: Mapping[PickStrategy, Callable[[Decimal, list[LotStock], int | None], Allocation]] = {
    PickStrategy.FEFO: _fefo,
    PickStrategy.FIFO: _fifo,
    PickStrategy.STRICT: _strict,
}


def pick_lots(strategy: PickStrategy, need: Decimal, lots: Iterable[LotStock],
              lot_id: int | None = None) -> Allocation:
    """Allocate ``need`` over sellable ``lots`` by ``strategy`` (STRICT needs ``lot_id``)."""
    if need <= 0:
        return Allocation((), ZERO)
    return STRATEGIES[strategy](need, list(lots), lot_id)


def default_strategy(lot_tracked: bool, named_lot: int | None) -> PickStrategy:
    if named_lot:
        return PickStrategy.STRICT
    return PickStrategy.FEFO if lot_tracked else PickStrategy.FIFO

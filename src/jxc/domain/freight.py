"""采购运费分摊 — split a purchase receipt's freight over its lines (landed cost, 入库成本含运费).

Guarantees:
- `split` returns one share per weight; the shares sum exactly to the freight,
  each is ≥ 0 and a whole number of 分 (0.01), and each lies within one 分 of its
  exact proportional part (largest-remainder method).
- Deterministic: every line first gets its proportional part rounded down to the
  分; the 分 left over go one each to the lines with the largest cut-off
  remainders, ties to the earlier line. The same lines always get the same shares.
- A zero weight gets a zero share; when every weight is zero the freight cannot
  be split and `split` raises FREIGHT_BASIS_EMPTY naming ``freight_basis``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from jxc.domain.errors import DomainError
from jxc.domain.quantities import ZERO

FREIGHT_QUANTUM = Decimal("0.01")  # 分: freight is entered and split in whole 分
FREIGHT_MAX = Decimal(10) ** 12


class FreightBasis(StrEnum):
    """分摊方式 — what a line's share of the freight is proportional to."""

    AMOUNT = "amount"  # 按金额: qty × price
    QTY = "qty"  # 按数量: base units


BASIS_LABELS = {FreightBasis.AMOUNT: ("按金额", "by amount"), FreightBasis.QTY: ("按数量", "by quantity")}


def split(freight: Decimal, weights: Sequence[Decimal]) -> tuple[Decimal, ...]:
    """Shares of ``freight`` proportional to ``weights`` (largest remainder, in 分; see the module doc)."""
    if freight == ZERO:
        return tuple(ZERO for _ in weights)
    total = sum(weights, ZERO)
    if total <= ZERO:
        raise DomainError("FREIGHT_BASIS_EMPTY",
                          "运费无法分摊：所有明细的分摊依据都为 0（按金额分摊需要单价，或改按数量分摊）",
                          "the freight cannot be split: every line's basis is 0 (splitting by amount needs prices; "
                          "or split by quantity)", field="freight_basis")
    units = int(freight / FREIGHT_QUANTUM)  # freight is a whole number of 分 (checked by `check`)
    exact = [units * w / total for w in weights]
    floors = [int(x.to_integral_value(rounding=ROUND_FLOOR)) for x in exact]
    left = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return tuple(Decimal(n) * FREIGHT_QUANTUM for n in floors)


def check(freight: Decimal) -> list[tuple[str, str, str]]:
    """Problems (code, zh, en) with a freight amount: it is ≥ 0, below 10^12, in whole 分."""
    if freight < ZERO:
        return [("VALUE_INVALID", "运费不能为负数", "freight cannot be negative")]
    if freight >= FREIGHT_MAX:
        return [("VALUE_INVALID", "运费过大（应小于 1 万亿）", "freight is too large (it must be below 10^12)")]
    if freight != freight.quantize(FREIGHT_QUANTUM):
        return [("VALUE_INVALID", f"运费 {freight} 最多两位小数（到分）",
                 f"freight {freight} has more than 2 decimal places (whole 分 only)")]
    return []

"""数量与单位 — quantities, units and unit conversions (单位换算).

Guarantees:
- Quantities and money are `Decimal`, never float.
- The ledger stores base units with at most `QTY_PLACES` decimal places; a
  document quantity that does not convert exactly is refused, never rounded.
- Money (value) is kept with `MONEY_PLACES` places, rounded half-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from jxc.domain.errors import DomainError

QTY_PLACES = 4
MONEY_PLACES = 4
COST_PLACES = 6
QTY_QUANTUM = Decimal(1).scaleb(-QTY_PLACES)
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
COST_QUANTUM = Decimal(1).scaleb(-COST_PLACES)
ZERO = Decimal(0)


def to_decimal(value: object, field: str) -> Decimal:
    """Parse ``value`` as a finite Decimal, or raise VALUE_INVALID naming ``field``."""
    if isinstance(value, float):
        value = repr(value)
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        d = None
    if d is None or not d.is_finite():
        raise DomainError(
            "VALUE_INVALID",
            f"{field} 不是有效数字：{value!r}，请输入如 12 或 2.5 的数字",
            f"{field} is not a valid number: {value!r}; enter a number such as 12 or 2.5",
            field=field,
        )
    return d


def exact_qty(qty: Decimal, field: str) -> Decimal:
    """A base quantity with at most QTY_PLACES places, or QTY_TOO_PRECISE."""
    q = qty.quantize(QTY_QUANTUM)
    if q != qty:
        raise DomainError(
            "QTY_TOO_PRECISE",
            f"{field} 数量 {qty} 超过 {QTY_PLACES} 位小数，请调整数量或单位",
            f"{field} quantity {qty} has more than {QTY_PLACES} decimal places; "
            "adjust the quantity or the unit",
            field=field,
        )
    return q


def money(amount: Decimal) -> Decimal:
    return amount.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)


def cost(amount: Decimal) -> Decimal:
    return amount.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def price_per_base(price: Decimal, qty: Decimal, qty_base: Decimal) -> Decimal:
    """A price per entered unit (60 元/箱) → per base unit (5 元/瓶 when 1 箱 = 12 瓶), as lines store it."""
    return price if qty == qty_base or not qty_base else cost(price * qty / qty_base)


def price_per_unit(price_base: Decimal, qty: Decimal, qty_base: Decimal) -> Decimal:
    """The stored per-base price shown again per the line's own unit, to the money quantum (4 places)."""
    if qty == qty_base or not qty:
        return price_base
    return (price_base * qty_base / qty).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class UnitConversion:
    """单位换算 — 1 ``unit`` = ``factor`` base units (1 箱 = 12 瓶 → factor 12)."""

    unit: str
    factor: Decimal


def to_base(qty: Decimal, unit: str, base_unit: str, conversions: tuple[UnitConversion, ...],
            field: str = "qty") -> Decimal:
    """Convert ``qty`` in ``unit`` to base units exactly (UNIT_UNKNOWN / QTY_TOO_PRECISE)."""
    if unit == base_unit:
        return exact_qty(qty, field)
    for conv in conversions:
        if conv.unit == unit:
            return exact_qty(qty * conv.factor, field)
    known = "、".join([base_unit, *(c.unit for c in conversions)])
    raise DomainError(
        "UNIT_UNKNOWN",
        f"单位“{unit}”没有换算到基本单位“{base_unit}”，可用单位：{known}",
        f"unit '{unit}' has no conversion to base unit '{base_unit}'; known units: {known}",
        field=field,
    )

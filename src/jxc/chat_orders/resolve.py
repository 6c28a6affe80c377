"""单位落实 — choose the SKU and express the quantity in its unit.

Guarantees:
- The unit the customer used is honoured: a family member sold in that unit is
  chosen (箱 → ``蓝莓(整箱)``), weights convert exactly (1 公斤 = 2 斤,
  二两 = 0.2 斤... of the SKU's weight unit), and a weight converts into packs only
  through an exact spec (500g/盒); approximate specs and fractions are flagged.
- A fraction of a counted unit (半个西瓜) and a portion (一份) are flagged.
- A unit the product has a conversion for (1 箱 = 12 瓶, from the database) is kept as
  the customer said it; the order converts it to base units.
- When no conversion is known the customer's quantity and unit are kept and
  the line is flagged ``unit_mismatch`` — never silently changed.
- Decimal arithmetic only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from jxc.chat_orders.catalog import Product, core_name
from jxc.chat_orders.matcher import Candidate, Matcher, MatchKind
from jxc.chat_orders.messages import Review
from jxc.chat_orders.quantities import QtyMention
from jxc.chat_orders.units import (
    CASE_UNITS,
    canonical_unit,
    is_weight,
    normalize_decimal,
    piece_equivalent,
    same_unit,
    weight_to_jin,
)

_PLACES = Decimal("0.001")
_RANK = {kind: rank for rank, kind in enumerate(MatchKind)}


@dataclass
class Resolution:
    """落实结果 — the chosen product, quantity in its unit, and what it took."""

    product: Product
    qty: Decimal
    unit: str
    matched: Candidate | None = None
    factor: float = 1.0
    review: list[Review] = field(default_factory=list)
    conversion: str | None = None
    alternatives: list[Candidate] = field(default_factory=list)


def _top_candidates(candidates: tuple[Candidate, ...]) -> list[Candidate]:
    best_rank = _RANK[candidates[0].kind]
    return [c for c in candidates if _RANK[c.kind] == best_rank]


def _choose(candidates: tuple[Candidate, ...], unit: str | None) -> tuple[Candidate, bool]:
    """Pick among equally good candidates, preferring the customer's unit."""
    top = _top_candidates(candidates)
    families = {core_name(c.product.name) for c in top}
    if unit is not None:
        for candidate in top:
            if same_unit(unit, candidate.product.unit):
                return candidate, len(families) > 1
    if unit is None or canonical_unit(unit) not in CASE_UNITS:
        plain = [c for c in top if canonical_unit(c.product.unit) not in CASE_UNITS]
        if plain:
            return plain[0], len(families) > 1
    return top[0], len(families) > 1


def resolve(candidates: tuple[Candidate, ...], qty: QtyMention | None, matcher: Matcher):
    """落实 — the SKU, quantity and unit for one paired mention."""
    unit = qty.unit if qty is not None else None
    chosen, ambiguous = _choose(candidates, unit)
    product = chosen.product
    result = Resolution(product=product, qty=Decimal(1), unit=product.unit, matched=chosen)
    result.alternatives = [c for c in candidates if c.product.sku != product.sku]
    if ambiguous:
        result.review.append(Review.AMBIGUOUS_PRODUCT)
        result.factor *= 0.7
    if qty is None:
        result.review.append(Review.QTY_MISSING)
        result.factor *= 0.85
        return result
    result.qty = qty.qty
    if qty.money:
        result.unit = "元"
        result.review.append(Review.MONEY_AMOUNT)
        result.factor *= 0.5
        return result
    if qty.ambiguous:
        result.review.append(Review.AMBIGUOUS_QTY)
        result.factor *= 0.5
    if unit is None or same_unit(unit, product.unit):
        _flag_fraction(result)
        return result
    for member in matcher.family(product):
        if same_unit(unit, member.unit):
            result.product = member
            result.unit = member.unit
            result.alternatives = [c for c in (chosen, *candidates) if c.product.sku != member.sku]
            result.alternatives = list({c.product.sku: c for c in result.alternatives}.values())
            result.conversion = f"按单位{unit}选择 {member.name}"
            result.factor *= 0.98
            return result
    for other, factor in product.units:
        if same_unit(unit, other):  # 2箱 of a product with 1 箱 = 12 瓶: the order keeps 箱
            result.unit = other
            result.conversion = f"1{other} = {normalize_decimal(factor)}{product.unit}"
            result.factor *= 0.98
            _flag_fraction(result)
            return result
    _convert(result, qty.qty, unit)
    return result


def _convert(result: Resolution, amount: Decimal, unit: str) -> None:
    product = result.product
    spec = product.parsed_spec
    if is_weight(unit) and is_weight(product.unit):
        result.qty = weight_to_jin(amount, unit) / weight_to_jin(Decimal(1), product.unit)
        result.conversion = (
            f"{normalize_decimal(amount)}{unit} = {normalize_decimal(result.qty)}{product.unit}"
        )
        result.factor *= 0.97
        return
    if piece_equivalent(unit, product.unit):
        result.factor *= 0.95
        _flag_fraction(result)
        return
    if unit == "份" and not is_weight(product.unit):
        result.review.append(Review.PORTION_UNIT)
        result.factor *= 0.9
        return
    if spec is not None:
        per_unit: Decimal | None = None
        if is_weight(unit) and spec.weight_in_jin() is not None:
            per_unit = spec.weight_in_jin() / weight_to_jin(Decimal(1), unit)  # type: ignore[operator]
        elif same_unit(unit, spec.inner_unit) or piece_equivalent(unit, spec.inner_unit):
            per_unit = spec.amount
        converted = (amount / per_unit).quantize(_PLACES, rounding=ROUND_HALF_UP) if per_unit else 0
        if converted > 0:  # 1克 of a 5斤 durian rounds to nothing: keep the customer's words
            result.qty = converted
            result.conversion = f"{normalize_decimal(amount)}{unit} ÷ {product.spec} = {normalize_decimal(result.qty)}{product.unit}"
            result.factor *= 0.95
            if spec.approximate:
                result.review.append(Review.APPROX_CONVERSION)
                result.factor *= 0.7
            if result.qty != result.qty.to_integral_value():
                result.review.append(Review.FRACTIONAL_UNITS)
                result.factor *= 0.8
            return
    result.qty = amount
    result.unit = unit
    result.review.append(Review.UNIT_MISMATCH)
    result.factor *= 0.6


def _flag_fraction(result: Resolution) -> None:
    """半个西瓜: a fraction of a counted unit is possible but worth a look."""
    if not is_weight(result.unit) and result.qty != result.qty.to_integral_value():
        result.review.append(Review.FRACTIONAL_UNITS)
        result.factor *= 0.8

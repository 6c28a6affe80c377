"""计量单位与换算 — units the customers use and how they convert.

Guarantees:
- Weights convert exactly through 斤 (公斤/千克/kg = 2 斤, 两 = 0.1 斤, 克/g = 0.002 斤).
- A product's spec (``500g/盒``, ``12瓶/箱``, ``约8斤/个``) is parsed into how much
  of an inner unit one sale unit holds; an approximate spec (约) never yields a
  silent conversion.
- All arithmetic is ``Decimal``; nothing here reads a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

WEIGHT_IN_JIN: dict[str, Decimal] = {
    "斤": Decimal(1),
    "市斤": Decimal(1),
    "公斤": Decimal(2),
    "千克": Decimal(2),
    "kg": Decimal(2),
    "两": Decimal("0.1"),
    "克": Decimal("0.002"),
    "g": Decimal("0.002"),
}
VOLUME_IN_ML: dict[str, Decimal] = {
    "ml": Decimal(1),
    "毫升": Decimal(1),
    "l": Decimal(1000),
    "升": Decimal(1000),
}
# Classifiers for single countable things; a customer may say 个 for a product
# the shop counts in 颗 or 棵 and mean the same thing.
PIECE_UNITS = frozenset("个只颗枚根棵条头粒支")
# Spoken synonyms mapped to the word a catalog is likely to use.
SYNONYMS: dict[str, str] = {"听": "罐", "件": "箱", "整箱": "箱", "包": "袋", "公斤": "公斤"}
CASE_UNITS = frozenset({"箱", "件", "整箱"})
# A dozen is twelve pieces.
DOZEN = Decimal(12)

# Every unit word the quantity scanner recognises, longest first.
UNIT_WORDS: tuple[str, ...] = tuple(
    sorted(
        set(WEIGHT_IN_JIN)
        | set(VOLUME_IN_ML)
        | set(PIECE_UNITS)
        | set(SYNONYMS)
        | set("盒袋瓶罐桶把扎捆板箱提盘份串杯打块卷碗斤节片瓣束")
        | {"整箱", "小盒", "大盒"},
        key=len,
        reverse=True,
    )
)


def canonical_unit(unit: str) -> str:
    """规范单位 — the catalog-facing spelling of a unit word."""
    unit = unit.strip().lower()
    if unit in ("小盒", "大盒"):
        return "盒"
    if unit in ("市斤",):
        return "斤"
    return SYNONYMS.get(unit, unit)


def is_weight(unit: str | None) -> bool:
    """重量单位 — whether ``unit`` is a weight."""
    return unit is not None and unit.lower() in WEIGHT_IN_JIN


def same_unit(a: str | None, b: str | None) -> bool:
    """同一单位 — equal after synonyms (包 = 袋, 听 = 罐, 件 = 箱)."""
    if a is None or b is None:
        return False
    return canonical_unit(a) == canonical_unit(b)


def piece_equivalent(a: str | None, b: str | None) -> bool:
    """同为个数单位 — both are classifiers for one countable thing (个/只/颗…)."""
    return a is not None and b is not None and a in PIECE_UNITS and b in PIECE_UNITS


@dataclass(frozen=True)
class Spec:
    """规格 — ``amount`` of ``inner_unit`` in one ``outer_unit`` (e.g. 125 g per 盒)."""

    amount: Decimal
    inner_unit: str
    outer_unit: str
    approximate: bool

    def weight_in_jin(self) -> Decimal | None:
        """每单位重量(斤) — weight of one outer unit in 斤, when the spec is a weight."""
        if is_weight(self.inner_unit):
            return self.amount * WEIGHT_IN_JIN[self.inner_unit.lower()]
        return None


_SPEC = re.compile(
    r"(?P<approx>约|~)?\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<inner>[a-zA-Z]+|[\u4e00-\u9fff]{1,2}?)"
    r"\s*(?:/|\*|×|x|每)\s*(?:1\s*)?(?P<outer>[\u4e00-\u9fff]{1,2})"
)


def parse_spec(spec: str, sale_unit: str) -> Spec | None:
    """解析规格 — read ``500g/盒`` style specs; ``None`` when there is nothing usable."""
    if not spec:
        return None
    match = _SPEC.search(spec.replace("（", "(").replace("）", ")"))
    if match is None:
        return None
    inner = match.group("inner").lower()
    outer = match.group("outer")
    if canonical_unit(outer) != canonical_unit(sale_unit) and not piece_equivalent(
        outer, sale_unit
    ):
        outer = sale_unit
    if inner == "枚":
        inner = "个"
    return Spec(
        amount=Decimal(match.group("amount")),
        inner_unit=inner,
        outer_unit=outer,
        approximate=match.group("approx") is not None,
    )


def weight_to_jin(qty: Decimal, unit: str) -> Decimal:
    """折算成斤 — ``qty`` of a weight unit expressed in 斤."""
    return qty * WEIGHT_IN_JIN[unit.lower()]


def normalize_decimal(value: Decimal) -> str:
    """数量文本 — a Decimal as the plain string used in JSON (``2.5``, ``2``, ``0.5``)."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"

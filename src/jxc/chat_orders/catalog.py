"""商品目录 — the business's own catalog as the parser sees it.

Guarantees:
- ``Catalog`` and ``Product`` are immutable; ``Catalog.with_alias`` returns a new
  catalog with a learned alias (the clerk's correction), never mutating the old one.
- ``Catalog.from_csv`` reads ``sku,name,spec,unit,aliases,barcode,price`` with
  ``;``-separated aliases; prices are ``Decimal``; bad rows raise ``CatalogError``
  naming the line.
- ``core_name`` strips what customers do not say: parenthesised notes
  (``蓝莓(整箱)`` → ``蓝莓``), sizes (``550ml``) and packaging words (盒装, 散装).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from jxc.chat_orders.text import normalize_key
from jxc.chat_orders.units import Spec, parse_spec

CATALOG_COLUMNS = ("sku", "name", "spec", "unit", "aliases", "barcode", "price")

_PARENS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_SIZE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:kg|g|ml|l|斤|克|千克|公斤|升|毫升|枚|个|只|盒|袋|瓶|罐|片|包)"
)
_PACKAGING = re.compile(r"(?:盒装|袋装|瓶装|罐装|散装|散称|整箱|箱装|精品|特价|新鲜|优选|精选|装)$")
_PACKAGING_PREFIX = re.compile(r"^(?:散装|散称|精品|特价|新鲜|优选|精选|盒装|袋装)")


class CatalogError(ValueError):
    """目录错误 — a catalog row that cannot be used."""

    def __init__(self, line: int, message_zh: str, message_en: str) -> None:
        super().__init__(f"line {line}: {message_en}")
        self.line = line
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class Product:
    """商品 — one SKU: what the shop sells and in which unit."""

    sku: str
    name: str
    unit: str
    spec: str = ""
    aliases: tuple[str, ...] = ()
    barcode: str = ""
    price: Decimal | None = None
    # other units the shop sells it in: (unit, how many sale units one holds), e.g. (("箱", 12),)
    units: tuple[tuple[str, Decimal], ...] = ()

    @property
    def parsed_spec(self) -> Spec | None:
        """规格解析 — the spec as amount per sale unit, when it says one."""
        return parse_spec(self.spec, self.unit)


@lru_cache(maxsize=8192)
def core_name(name: str) -> str:
    """核心品名 — the part of a product name a customer would actually say."""
    core = normalize_key(name)
    core = _PARENS.sub("", core)
    core = _SIZE.sub("", core)
    core = re.sub(r"[\s/*×x+\-·.,，、]+", "", core)
    previous = None
    while previous != core:
        previous = core
        stripped = _PACKAGING_PREFIX.sub("", _PACKAGING.sub("", core))
        core = stripped if len(stripped) >= 1 else core
    return core


@dataclass(frozen=True)
class Catalog:
    """目录 — products plus the aliases the business has learned from corrections."""

    products: tuple[Product, ...]
    learned_aliases: tuple[tuple[str, str], ...] = field(default=())  # (sku, alias)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for product in self.products:
            if product.sku in seen:
                raise ValueError(f"duplicate sku {product.sku!r}")
            seen.add(product.sku)

    def by_sku(self) -> Mapping[str, Product]:
        """按编码 — products keyed by SKU."""
        return {product.sku: product for product in self.products}

    def with_alias(self, sku: str, alias: str) -> Catalog:
        """学习别名 — a new catalog in which ``alias`` names ``sku`` (a clerk's correction).

        A learned alias outranks names and aliases of other products, so the
        same phrasing resolves to the corrected SKU next time.
        """
        if sku not in self.by_sku():
            raise KeyError(sku)
        alias = alias.strip()
        if not alias:
            raise ValueError("empty alias")
        kept = tuple(pair for pair in self.learned_aliases if pair[1] != alias)
        return replace(self, learned_aliases=(*kept, (sku, alias)))

    def with_aliases(self, pairs: Iterable[tuple[str, str]]) -> Catalog:
        """批量学习别名 — ``with_alias`` for each (sku, alias) pair, in order."""
        catalog = self
        for sku, alias in pairs:
            catalog = catalog.with_alias(sku, alias)
        return catalog

    @classmethod
    def from_csv(cls, path: str | Path) -> Catalog:
        """读取目录CSV — load ``sku,name,spec,unit,aliases,barcode,price``."""
        return cls.from_csv_text(Path(path).read_text(encoding="utf-8-sig"))

    @classmethod
    def from_csv_text(cls, content: str) -> Catalog:
        """解析目录CSV文本 — as ``from_csv`` but from a string."""
        reader = csv.DictReader(io.StringIO(content))
        missing = {"sku", "name", "unit"} - set(reader.fieldnames or ())
        if missing:
            raise CatalogError(
                1, f"缺少列: {sorted(missing)}", f"missing columns: {sorted(missing)}"
            )
        products = []
        for line, row in enumerate(reader, start=2):
            products.append(_product_from_row(row, line))
        return cls(products=tuple(products))


def _product_from_row(row: Mapping[str, str | None], line: int) -> Product:
    sku = (row.get("sku") or "").strip()
    name = (row.get("name") or "").strip()
    unit = (row.get("unit") or "").strip()
    if not sku or not name or not unit:
        raise CatalogError(line, "编码、品名、单位不能为空", "sku, name and unit are required")
    price_text = (row.get("price") or "").strip()
    try:
        price = Decimal(price_text) if price_text else None
    except InvalidOperation as error:
        raise CatalogError(line, f"价格无效: {price_text}", f"bad price: {price_text}") from error
    aliases = tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip())
    return Product(
        sku=sku,
        name=name,
        unit=unit,
        spec=(row.get("spec") or "").strip(),
        aliases=aliases,
        barcode=(row.get("barcode") or "").strip(),
        price=price,
    )

"""主数据 — master data values: products, partners, warehouses, locations, lots.

Guarantees:
- Virtual locations (supplier, customer, production, scrap, count difference,
  opening, transit) may go negative: they are the other side of every entry.
  Physical locations never go negative unless a posting is allowed to (I3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Tracking(StrEnum):
    """批次/序列号管理 — how a product is tracked."""

    NONE = "none"
    LOT = "lot"
    SERIAL = "serial"


class StockStatus(StrEnum):
    """库存状态 — stock status of a bucket."""

    AVAILABLE = "available"  # 可用
    FROZEN = "frozen"  # 冻结
    QUALITY_HOLD = "quality_hold"  # 质检中
    PUTAWAY = "putaway"  # 待上架


class LocationKind(StrEnum):
    """库位类型 — physical, or one of the virtual locations of DESIGN.md."""

    PHYSICAL = "physical"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    PRODUCTION = "production"
    SCRAP = "scrap"
    COUNT_DIFF = "count_diff"
    OPENING = "opening"
    TRANSIT = "transit"

    @property
    def is_physical(self) -> bool:
        return self is LocationKind.PHYSICAL


VIRTUAL_KINDS: tuple[LocationKind, ...] = tuple(k for k in LocationKind if not k.is_physical)


class WarehouseKind(StrEnum):
    """仓库类型 — a warehouse, or a store (门店)."""

    WAREHOUSE = "warehouse"
    STORE = "store"


class PartnerRole(StrEnum):
    """往来单位角色 — supplier, customer, or both."""

    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    BOTH = "both"


@dataclass(frozen=True)
class ProductInfo:
    """商品 — what posting needs to know of a product."""

    id: int
    code: str
    base_unit: str
    tracking: Tracking
    active: bool


@dataclass(frozen=True)
class LocationInfo:
    """库位 — what posting needs to know of a location."""

    id: int
    code: str
    kind: LocationKind
    warehouse_id: int | None
    active: bool


@dataclass(frozen=True)
class LotInfo:
    """批次 — a lot of one product."""

    id: int
    product_id: int
    lot_number: str
    expires_on: date | None


def expiry_from_shelf_life(produced_on: date, shelf_life_days: int | None) -> date | None:
    """效期 — expiry computed from production date and shelf life, if known."""
    if shelf_life_days is None:
        return None
    from datetime import timedelta

    return produced_on + timedelta(days=shelf_life_days)


def safety_stock_ok(value: Decimal | None) -> bool:
    return value is None or value >= 0

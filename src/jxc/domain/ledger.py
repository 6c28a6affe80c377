"""库存流水 — the double-entry stock ledger: movements, postings, reversals.

Guarantees:
- I2: every posting built here is balanced: for each product and lot the
  signed quantities of its entries sum to zero (each movement yields one
  negative entry at its source and one positive entry at its destination).
- I5: `reverse_entries` yields the exact negative of a posting's entries,
  with the same costs; the original entries are never touched.
- I9: `check_period_open` refuses a business time before the close.
- Validation collects every problem of every line, then raises once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from jxc.domain.catalog import (
    LocationInfo,
    LocationKind,
    LotInfo,
    ProductInfo,
    StockStatus,
    Tracking,
)
from jxc.domain.errors import DomainError, Problems
from jxc.domain.quantities import QTY_QUANTUM, ZERO, cost, money

NO_LOT = 0  # lot_id of stock that is not lot-tracked


@dataclass(frozen=True)
class Movement:
    """库存移动 — move ``qty`` base units of a product from one bucket to another."""

    product_id: int
    qty: Decimal
    from_location_id: int
    to_location_id: int
    lot_id: int = NO_LOT
    from_status: StockStatus = StockStatus.AVAILABLE
    to_status: StockStatus | None = None  # None: same as from_status
    unit_cost: Decimal | None = None  # None: the source's moving average cost
    value: Decimal | None = None  # the exact value moved (入库金额含运费, 按原单退货); needs unit_cost

    @property
    def dest_status(self) -> StockStatus:
        return self.to_status or self.from_status


@dataclass(frozen=True, order=True)
class BucketKey:
    """库存桶 — one balance row: location × product × lot × status."""

    location_id: int
    product_id: int
    lot_id: int
    status: str


@dataclass(frozen=True)
class LedgerEntry:
    """库存流水 — one signed line of a posting. Frozen: entries are never changed."""

    product_id: int
    lot_id: int
    location_id: int
    status: str
    qty: Decimal
    unit_cost: Decimal
    value: Decimal
    effective_at: datetime
    line_no: int

    @property
    def bucket(self) -> BucketKey:
        return BucketKey(self.location_id, self.product_id, self.lot_id, self.status)


@dataclass(frozen=True)
class MasterData:
    """What validation needs of the products, locations and lots a posting names."""

    products: Mapping[int, ProductInfo]
    locations: Mapping[int, LocationInfo]
    lots: Mapping[int, LotInfo]


def validate_movements(movements: tuple[Movement, ...], md: MasterData) -> None:
    """Check every movement against master data; raise one ValidationFailed listing all."""
    problems = Problems()
    if not movements:
        problems.add("POSTING_EMPTY", "movements", "单据没有明细行，请至少添加一行",
                     "the posting has no lines; add at least one")
    for i, m in enumerate(movements):
        f = f"movements[{i}]"
        if m.qty <= ZERO:
            problems.add("QTY_NOT_POSITIVE", f"{f}.qty", f"第{i + 1}行数量必须大于 0（现为 {m.qty}）",
                         f"line {i + 1}: quantity must be greater than 0 (got {m.qty})")
        elif m.qty != m.qty.quantize(QTY_QUANTUM):
            problems.add("QTY_TOO_PRECISE", f"{f}.qty", f"第{i + 1}行数量小数位过多：{m.qty}",
                         f"line {i + 1}: quantity {m.qty} has too many decimal places")
        if m.unit_cost is not None and m.unit_cost < ZERO:
            problems.add("VALUE_INVALID", f"{f}.unit_cost", f"第{i + 1}行单价不能为负数",
                         f"line {i + 1}: unit cost cannot be negative")
        if m.value is not None and (m.value < ZERO or m.unit_cost is None):
            problems.add("VALUE_INVALID", f"{f}.value", f"第{i + 1}行金额不能为负数，且须同时给出单位成本",
                         f"line {i + 1}: a value cannot be negative and needs a unit cost")
        product = md.products.get(m.product_id)
        if product is None:
            problems.add("NOT_FOUND", f"{f}.product_id", f"第{i + 1}行商品不存在（ID {m.product_id}）",
                         f"line {i + 1}: product {m.product_id} does not exist")
        elif not product.active:
            problems.add("INACTIVE", f"{f}.product_id", f"第{i + 1}行商品 {product.code} 已停用，请先启用",
                         f"line {i + 1}: product {product.code} is deactivated; reactivate it first")
        for side, loc_id in (("from_location_id", m.from_location_id),
                             ("to_location_id", m.to_location_id)):
            loc = md.locations.get(loc_id)
            if loc is None:
                problems.add("NOT_FOUND", f"{f}.{side}", f"第{i + 1}行库位不存在（ID {loc_id}）",
                             f"line {i + 1}: location {loc_id} does not exist")
            elif not loc.active:
                problems.add("INACTIVE", f"{f}.{side}", f"第{i + 1}行库位 {loc.code} 已停用",
                             f"line {i + 1}: location {loc.code} is deactivated")
        if (m.from_location_id, m.from_status) == (m.to_location_id, m.dest_status):
            problems.add("SAME_BUCKET", f"{f}.to_location_id",
                         f"第{i + 1}行来源与目标相同，请选择不同的库位或状态",
                         f"line {i + 1}: source and destination are the same; "
                         "choose another location or status")
        if product is not None:
            _check_lot(problems, f, i, m, product, md.lots)
    problems.raise_if_any()


def _check_lot(problems: Problems, f: str, i: int, m: Movement, product: ProductInfo,
               lots: Mapping[int, LotInfo]) -> None:
    if product.tracking is Tracking.NONE:
        if m.lot_id != NO_LOT:
            problems.add("LOT_NOT_ALLOWED", f"{f}.lot_id",
                         f"第{i + 1}行商品 {product.code} 不做批次管理，请不要填写批次",
                         f"line {i + 1}: product {product.code} is not lot-tracked; leave the lot empty")
        return
    if m.lot_id == NO_LOT:
        problems.add("LOT_REQUIRED", f"{f}.lot_id",
                     f"第{i + 1}行商品 {product.code} 需要批次，请填写或扫描批次号",
                     f"line {i + 1}: product {product.code} is lot-tracked; enter or scan a lot")
        return
    lot = lots.get(m.lot_id)
    if lot is None:
        problems.add("NOT_FOUND", f"{f}.lot_id", f"第{i + 1}行批次不存在（ID {m.lot_id}）",
                     f"line {i + 1}: lot {m.lot_id} does not exist")
    elif lot.product_id != product.id:
        problems.add("LOT_PRODUCT_MISMATCH", f"{f}.lot_id",
                     f"第{i + 1}行批次 {lot.lot_number} 不属于商品 {product.code}",
                     f"line {i + 1}: lot {lot.lot_number} belongs to another product, not {product.code}")


CostKey = tuple[int, int | None] | BucketKey


def cost_source(m: Movement, locations: Mapping[int, LocationInfo]) -> CostKey | None:
    """Where a movement without a given cost takes its cost from (移动加权平均).

    - out of a physical location: the product's average in that warehouse;
    - out of transit (调拨签收): the average of what is in that transit bucket, so the
      value that left the source warehouse arrives with the goods;
    - in from another virtual location (a return, a count gain, a production receipt
      without a price): the product's average in the receiving warehouse;
    - otherwise (virtual to virtual): none, cost 0.
    """
    if m.unit_cost is not None:
        return None
    src, dst = locations.get(m.from_location_id), locations.get(m.to_location_id)
    if src is None or dst is None:
        return None
    if src.kind.is_physical:
        return (m.product_id, src.warehouse_id)
    if src.kind is LocationKind.TRANSIT:
        return BucketKey(m.from_location_id, m.product_id, m.lot_id, m.from_status)
    if dst.kind.is_physical:
        return (m.product_id, dst.warehouse_id)
    return None


def needs_average_cost(m: Movement, locations: Mapping[int, LocationInfo]) -> bool:
    """A movement out of a physical location without a given cost takes the average."""
    loc = locations.get(m.from_location_id)
    return m.unit_cost is None and loc is not None and loc.kind.is_physical


def build_entries(
    movements: tuple[Movement, ...],
    effective_at: datetime,
    average_costs: Mapping[CostKey, Decimal],
    locations: Mapping[int, LocationInfo],
) -> tuple[LedgerEntry, ...]:
    """Two entries per movement, balanced by construction (I2).

    A movement's value is its own ``value`` when given (a receipt line with its freight
    share, a return of part of an original), else qty × unit cost rounded to the money quantum.

    ``average_costs`` maps each movement's `cost_source` key — (product_id, warehouse_id)
    or a transit BucketKey — to its moving average cost; a missing average costs zero.
    """
    entries: list[LedgerEntry] = []
    for line_no, m in enumerate(movements, start=1):
        if m.unit_cost is not None:
            unit_cost = cost(m.unit_cost)
        else:
            key = cost_source(m, locations)
            unit_cost = cost(average_costs.get(key, ZERO)) if key is not None else ZERO
        value = money(m.value) if m.value is not None else money(m.qty * unit_cost)
        entries.append(LedgerEntry(m.product_id, m.lot_id, m.from_location_id, m.from_status,
                                   -m.qty, unit_cost, -value, effective_at, line_no))
        entries.append(LedgerEntry(m.product_id, m.lot_id, m.to_location_id, m.dest_status,
                                   m.qty, unit_cost, value, effective_at, line_no))
    return tuple(entries)


def reverse_entries(entries: Iterable[LedgerEntry], effective_at: datetime) -> tuple[LedgerEntry, ...]:
    """红冲 — the exact negative of ``entries`` at ``effective_at`` (I5)."""
    return tuple(
        LedgerEntry(e.product_id, e.lot_id, e.location_id, e.status, -e.qty, e.unit_cost,
                    -e.value, effective_at, e.line_no)
        for e in entries
    )


def imbalances(entries: Iterable[LedgerEntry]) -> dict[tuple[int, int], Decimal]:
    """I2 — (product, lot) pairs whose quantities do not sum to zero, with the sum."""
    sums: dict[tuple[int, int], Decimal] = {}
    for e in entries:
        key = (e.product_id, e.lot_id)
        sums[key] = sums.get(key, ZERO) + e.qty
    return {k: v for k, v in sums.items() if v != 0}


def check_period_open(effective_at: datetime, closed_until: datetime | None) -> None:
    """I9 — refuse a business time before the end of the last closed period."""
    if closed_until is not None and effective_at < closed_until:
        raise DomainError(
            "PERIOD_CLOSED",
            f"业务日期 {effective_at:%Y-%m-%d %H:%M} 早于已结账期间（截至 {closed_until:%Y-%m-%d %H:%M}），"
            "请改用结账后的日期，或请老板反结账",
            f"business time {effective_at:%Y-%m-%d %H:%M} is in a closed period (closed until "
            f"{closed_until:%Y-%m-%d %H:%M}); use a later date",
            field="effective_at",
            details={"closed_until": closed_until.isoformat()},
        )

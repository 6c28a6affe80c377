"""可用量 — the one definition of "available", and why stock is not.

    qty_available = on hand in status available (in sellable lots)
                    − active reservations          (per product × warehouse [× lot])

Guarantees:
- Frozen, quality-hold and pending-put-away stock is on hand but not available
  (quality hold counts only when the policy says so).
- Expired lots are never available; near-expiry lots are not when the policy
  blocks them (`block_days` before expiry).
- `explain` returns every part of the gap between on hand and available with
  its reason — by lot, status, location and reservation holder — so
  "the system shows 287 but this lot has 0" is answered in one call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from jxc.domain.catalog import StockStatus
from jxc.domain.quantities import ZERO


@dataclass(frozen=True)
class AvailabilityPolicy:
    """可用量规则 — the business's switches (book settings `availability.*`, `expiry.*`)."""

    count_quality_hold: bool = False
    cross_lot: bool = True
    block_near_expiry: bool = True
    allow_negative: bool = False
    block_days: int = 7
    warn_days: int = 30

    @classmethod
    def from_settings(cls, s: Mapping[str, object]) -> AvailabilityPolicy:
        return cls(bool(s["availability.count_quality_hold"]), bool(s["availability.cross_lot"]),
                   bool(s["availability.block_near_expiry"]), bool(s["availability.allow_negative"]),
                   int(s["expiry.block_days"]), int(s["expiry.warn_days"]))  # type: ignore[arg-type]


EXPIRED, NEAR_EXPIRY_BLOCKED, NEAR_EXPIRY_WARN, OK = "expired", "near_expiry_blocked", "near_expiry_warn", "ok"


def lot_health(expires_on: date | None, today: date, policy: AvailabilityPolicy,
               block_days: int | None = None, warn_days: int | None = None,
               shelf_life_days: int | None = None) -> str:
    """效期状态 — expired / near_expiry_blocked / near_expiry_warn / ok.

    A product's own thresholds override the book's. Without them, a short shelf life scales
    the book's thresholds down (block at a third, warn at half of the shelf life), so that
    spinach with a 3-day life is not "near expiry" the day it arrives under a 7-day rule.
    """
    if expires_on is None:
        return OK
    if expires_on < today:
        return EXPIRED
    block, warn = policy.block_days, policy.warn_days
    if shelf_life_days is not None:
        block, warn = min(block, shelf_life_days // 3), min(warn, shelf_life_days // 2)
    block = block if block_days is None else block_days
    warn = warn if warn_days is None else warn_days
    if expires_on < today + timedelta(days=block):
        return NEAR_EXPIRY_BLOCKED if policy.block_near_expiry else NEAR_EXPIRY_WARN
    if expires_on < today + timedelta(days=warn):
        return NEAR_EXPIRY_WARN
    return OK


def sellable(health: str) -> bool:
    return health in (OK, NEAR_EXPIRY_WARN)


def near_expiry(health: str) -> bool:
    """临期 — warned or blocked, not yet expired: what the dashboard and alerts count as near expiry."""
    return health in (NEAR_EXPIRY_BLOCKED, NEAR_EXPIRY_WARN)


def status_counts(status: str, policy: AvailabilityPolicy) -> bool:
    return status == StockStatus.AVAILABLE or (status == StockStatus.QUALITY_HOLD and policy.count_quality_hold)


@dataclass(frozen=True)
class StockLine:
    """One on-hand bucket of a product in a warehouse, with its lot's expiry."""

    location_id: int
    location_code: str
    lot_id: int
    lot_number: str | None
    expires_on: date | None
    status: str
    qty: Decimal


@dataclass(frozen=True)
class Held:
    """一笔预占 — who holds how much (of which lot, 0 = any)."""

    reservation_id: int
    holder: str
    channel: str | None
    lot_id: int
    qty: Decimal


@dataclass(frozen=True)
class Part:
    """可用量构成 — one signed part of on hand → available, with the reason."""

    reason: str  # available / status:<s> / lot:<health> / reserved
    qty: Decimal
    location: str | None = None
    lot: str | None = None
    holder: str | None = None
    zh: str = ""
    en: str = ""


@dataclass(frozen=True)
class Explanation:
    on_hand: Decimal
    available: Decimal
    reserved: Decimal
    parts: tuple[Part, ...]
    by_lot: Mapping[int, Decimal]  # available per lot before reservations (sellable lots only)


STATUS_ZH = {"frozen": "冻结", "quality_hold": "质检中", "putaway": "待上架", "available": "可用"}
HEALTH_ZH = {EXPIRED: "已过期", NEAR_EXPIRY_BLOCKED: "临期禁售", NEAR_EXPIRY_WARN: "临期预警", OK: "正常"}


def explain(lines: Iterable[StockLine], held: Iterable[Held], today: date, policy: AvailabilityPolicy,
            block_days: int | None = None, warn_days: int | None = None,
            shelf_life_days: int | None = None) -> Explanation:
    """Why is this not available? Every on-hand bucket either counts or is a part with its reason."""
    parts: list[Part] = []
    on_hand = ZERO
    by_lot: dict[int, Decimal] = {}
    for ln in lines:
        on_hand += ln.qty
        health = lot_health(ln.expires_on, today, policy, block_days, warn_days, shelf_life_days)
        if not status_counts(ln.status, policy):
            parts.append(Part(f"status:{ln.status}", ln.qty, ln.location_code, ln.lot_number, None,
                              f"{STATUS_ZH.get(ln.status, ln.status)}库存不可用", f"{ln.status} stock is not available"))
        elif not sellable(health):
            parts.append(Part(f"lot:{health}", ln.qty, ln.location_code, ln.lot_number, None,
                              f"批次{HEALTH_ZH[health]}（到期 {ln.expires_on}）", f"lot {health} (expires {ln.expires_on})"))
        else:
            by_lot[ln.lot_id] = by_lot.get(ln.lot_id, ZERO) + ln.qty
    free = sum(by_lot.values(), ZERO)
    reserved = ZERO
    for h in held:
        reserved += h.qty
        parts.append(Part("reserved", h.qty, None, None, h.holder,
                          f"已被 {h.holder} 预占", f"reserved by {h.holder}"))
    if free:
        parts.insert(0, Part("available", free - reserved, zh="可用（已扣预占）", en="available after reservations"))
    return Explanation(on_hand, free - reserved, reserved, tuple(parts), by_lot)

"""价格 — supplier terms (供货条件) and customer price lists (价格表), and which price applies.

Guarantees:
- `resolve_in` is deterministic and explainable: it returns the price and its
  source (tier, customer / channel, the unit the price was entered in), so a
  clerk sees *why* this price, never a bare number.
- Precedence, first hit wins: customer price (客户价) > channel price (渠道价) >
  member / community price (会员价, only for members) > default sale price (零售价).
  Within a tier a price entered in the asked unit wins over one converted from
  another unit (1 箱 = 12 瓶: 60 per 箱 is 5 per 瓶).
- Purchase prices: the supplier's default price for the product, else the last
  purchase price from that supplier (进价历史).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from jxc.domain.errors import DomainError, NotFound, Problems
from jxc.domain.quantities import UnitConversion, cost, to_base, to_decimal
from jxc.services.access import require
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
TIERS = ("customer", "channel", "member", "default")
TIER_LABELS = {"customer": ("客户价", "customer price"), "channel": ("渠道价", "channel price"),
               "member": ("会员价", "member price"), "default": ("零售价", "default price"),
               "supplier": ("供应商报价", "supplier price"), "last_purchase": ("最近进价", "last purchase price")}


@dataclass(frozen=True)
class PriceQuery:
    """问价 — which product, in which unit, for whom and through which channel."""

    product_id: int
    unit: str | None = None  # None: the base unit
    partner_id: int | None = None  # the customer (sales) or supplier (purchase)
    channel: str | None = None  # e.g. "store", "wechat", "meituan"
    member: bool = False  # a member / community customer (会员 / 社区团购)
    side: str = "sales"  # "sales" or "purchase"


def _units(uow: UnitOfWork, product_id: int) -> tuple[str, tuple[UnitConversion, ...]]:
    units = uow.documents.units({product_id})
    if product_id not in units:
        raise NotFound("NOT_FOUND", f"商品 {product_id} 不存在", f"product {product_id} does not exist",
                       field="product_id")
    return units[product_id]


def set_price(f: UowFactory, product_id: int, tier: str, unit_price: Any, actor: Actor, now: datetime,
              unit: str | None = None, partner_id: int | None = None, channel: str | None = None) -> int:
    """定价 — save one price-list row (replaces the same tier/customer/channel/unit)."""
    require(actor, "price.edit")
    p = Problems()
    if tier not in TIERS:
        p.add("VALUE_INVALID", "tier", f"价格类型应为 {'/'.join(TIERS)}", f"tier must be one of {', '.join(TIERS)}")
    if tier == "customer" and not partner_id:
        p.add("VALUE_REQUIRED", "partner_id", "客户价需选择客户", "a customer price needs the customer")
    if tier == "channel" and not (channel or "").strip():
        p.add("VALUE_REQUIRED", "channel", "渠道价需填写渠道", "a channel price needs the channel")
    price = to_decimal(unit_price, "unit_price")
    if price < 0:
        p.add("VALUE_INVALID", "unit_price", "价格不能为负", "a price cannot be negative")
    p.raise_if_any()
    with f() as uow:
        base, convs = _units(uow, product_id)
        to_base(Decimal(1), unit or base, base, convs, "unit")  # the unit must convert
        if tier == "customer" and uow.records.get("partners", partner_id) is None:
            raise NotFound("NOT_FOUND", "客户不存在", "the customer does not exist", field="partner_id")
        values = {"product_id": product_id, "tier": tier, "partner_id": partner_id if tier == "customer" else 0,
                  "channel": (channel or "").strip() if tier == "channel" else "", "unit": unit or base,
                  "unit_price": price, "updated_by": actor.name, "updated_at": now}
        pid = uow.purchasing.save_price(values)
        uow.audit.append(AuditEntry("price.set", "product", str(product_id), actor.name, now, None,
                                    {**values, "unit_price": str(price), "updated_at": None}, actor.ip, actor.device))
        uow.commit()
        return pid


def set_supplier_terms(f: UowFactory, partner_id: int, product_id: int, actor: Actor, now: datetime,
                       unit_price: Any = None, pack_unit: str | None = None, lead_time_days: int | None = None,
                       preferred: bool = False) -> int:
    """供货条件 — default purchase price (per base unit), pack size (箱规) and lead time; preferred supplier."""
    require(actor, "masterdata.edit")
    with f() as uow:
        partner = uow.records.get("partners", partner_id)
        if partner is None or partner["role"] not in ("supplier", "both"):
            raise DomainError("VALUE_INVALID", "请选择供应商", "choose a supplier", field="partner_id")
        base, convs = _units(uow, product_id)
        if pack_unit is not None and pack_unit != base and pack_unit not in {c.unit for c in convs}:
            raise DomainError("UNIT_UNKNOWN", f"箱规单位“{pack_unit}”没有换算，请先添加单位换算（如 1 箱 = 12 {base}）",
                              f"pack unit '{pack_unit}' has no conversion; add one first (e.g. 1 box = 12 {base})",
                              field="pack_unit")
        if lead_time_days is not None and not 0 <= lead_time_days <= 365:
            raise DomainError("VALUE_INVALID", "交货期应为 0–365 天", "lead time must be 0–365 days",
                              field="lead_time_days")
        price = None if unit_price in (None, "") else to_decimal(unit_price, "unit_price")
        values = {"partner_id": partner_id, "product_id": product_id, "unit_price": price, "pack_unit": pack_unit,
                  "lead_time_days": lead_time_days, "preferred": preferred, "updated_at": now}
        tid = uow.purchasing.save_terms(values)
        uow.audit.append(AuditEntry("supplier_terms.set", "product", str(product_id), actor.name, now, None,
                                    {**values, "unit_price": None if price is None else str(price),
                                     "updated_at": None}, actor.ip, actor.device))
        uow.commit()
        return tid


def pack_factor(terms: Mapping[str, Any], convs: tuple[UnitConversion, ...]) -> Decimal:
    """Base units in one pack (1 when the supplier sells loose)."""
    return next((c.factor for c in convs if c.unit == terms.get("pack_unit")), Decimal(1))


def resolve_in(uow: UnitOfWork, q: PriceQuery, now: datetime) -> dict[str, Any] | None:
    """The price that applies (per ``q.unit``) with its source, or None when no price is known."""
    base, convs = _units(uow, q.product_id)
    unit = q.unit or base
    per_unit = to_base(Decimal(1), unit, base, convs, "unit")  # base units in one `unit`
    if q.side == "purchase":
        terms = uow.purchasing.terms(q.product_id, q.partner_id) if q.partner_id else []
        if terms and terms[0]["unit_price"] is not None:
            return _answer(terms[0]["unit_price"] * per_unit, terms[0]["unit_price"], unit, "supplier",
                           {"partner_id": q.partner_id, "unit": base})
        hist = uow.trade.price_history(q.product_id, q.partner_id, now - timedelta(days=90))
        if hist["last"] is not None:
            return _answer(hist["last"] * per_unit, hist["last"], unit, "last_purchase",
                           {"partner_id": q.partner_id, "at": hist["last_at"]})
        return None
    rows = uow.purchasing.prices(q.product_id)
    for tier in TIERS:
        if tier == "member" and not q.member:
            continue
        hits = [r for r in rows if r["tier"] == tier
                and (tier != "customer" or r["partner_id"] == q.partner_id)
                and (tier != "channel" or (q.channel and r["channel"] == q.channel))]
        if not hits:
            continue
        exact = [r for r in hits if r["unit"] == unit]
        row = exact[0] if exact else hits[0]
        row_base = to_base(Decimal(1), row["unit"], base, convs, "unit")
        price_base = row["unit_price"] / row_base
        price = row["unit_price"] if exact else price_base * per_unit
        return _answer(price, price_base, unit, tier, {"price_id": row["id"], "unit": row["unit"],
                                                       "partner_id": row["partner_id"] or None,
                                                       "channel": row["channel"] or None,
                                                       "converted": not exact})
    return None


def _answer(price: Decimal, price_base: Decimal, unit: str, tier: str, source: dict[str, Any]) -> dict[str, Any]:
    zh, en = TIER_LABELS[tier]
    return {"unit_price": cost(price), "unit": unit, "unit_price_base": cost(price_base),
            "source": {"tier": tier, "label_zh": zh, "label_en": en, **source}}


def resolve(f: UowFactory, q: PriceQuery, now: datetime) -> dict[str, Any]:
    """取价 — the applicable price and its source; NOT_FOUND when the product has none."""
    with f() as uow:
        found = resolve_in(uow, q, now)
    if found is None:
        raise NotFound("NOT_FOUND", "该商品没有适用的价格，请在价格表中设置零售价或直接输入单价",
                       "no price applies to this product; set a default price or enter one", field="unit_price")
    return found


def price_list(f: UowFactory, product_id: int) -> dict[str, Any]:
    """价格表 — every price row and every supplier's terms of a product."""
    with f() as uow:
        _units(uow, product_id)
        return {"prices": uow.purchasing.prices(product_id), "suppliers": uow.purchasing.terms(product_id)}

"""预占 — reserve, consume, release and expire stock; availability with its why; channels.

Guarantees (I4: Σ active reservations ≤ available on hand, per product and warehouse):
- Every change first locks the product's totals row (see storage), then reads
  stock: concurrent reservers of the last units serialise, and each loser is
  told STOCK_INSUFFICIENT with the available figure. Partial reservations
  (back-orders) happen only when asked for, and say the shortage.
- A reservation is pending until consumed by the posting that fulfils it,
  released, or expired (TTL, per channel); `expire_due` frees it.
- Every change writes an audit record and an outbox event; a changed channel
  sellable quantity is published as an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from jxc.domain import availability as av
from jxc.domain.allocation import LotStock, PickStrategy, default_strategy, pick_lots
from jxc.domain.errors import Conflict, DomainError, NotFound
from jxc.domain.quantities import ZERO, to_decimal
from jxc.domain.settings import with_defaults
from jxc.services.access import require
from jxc.services.ports import AuditEntry, OutboxMessage, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class ReserveRequest:
    """预占请求 — hold ``qty`` base units for a holder (order line, channel order)."""

    product_id: int
    warehouse_id: int
    qty: Any
    holder: str
    channel: str | None = None
    lot_id: int = 0  # 0: any sellable lot
    ttl_s: int | None = None  # None: the channel's TTL (or no expiry without a channel)
    allow_partial: bool = False  # 部分预占 + 缺货: reserve what there is, report the rest
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Reserved:
    reservation_id: int
    qty: Decimal
    shortage: Decimal
    available_before: Decimal
    expires_at: datetime | None
    created: bool = True


def _policy(uow: UnitOfWork) -> av.AvailabilityPolicy:
    return av.AvailabilityPolicy.from_settings(with_defaults(uow.settings.all()))


def _explain(uow: UnitOfWork, product_id: int, warehouse_id: int, today: date) -> av.Explanation:
    _tracking, block, warn, life = uow.reservations.product_expiry(product_id)
    return av.explain(uow.reservations.stock_lines(product_id, warehouse_id),
                      uow.reservations.pending(product_id, warehouse_id), today, _policy(uow), block, warn, life)


def _sellable_by_lot(uow: UnitOfWork, product_id: int, warehouse_id: int, today: date) -> dict[int, Decimal]:
    """On hand that counts as available, per lot (status and expiry rules applied)."""
    _tracking, block, warn, life = uow.reservations.product_expiry(product_id)
    policy = _policy(uow)
    out: dict[int, Decimal] = {}
    for ln in uow.reservations.stock_lines(product_id, warehouse_id):
        health = av.lot_health(ln.expires_on, today, policy, block, warn, life)
        if av.status_counts(ln.status, policy) and av.sellable(health):
            out[ln.lot_id] = out.get(ln.lot_id, ZERO) + ln.qty
    return out


def available_qty(uow: UnitOfWork, product_id: int, warehouse_id: int, today: date) -> Decimal:
    """可用量 — the same number `availability().available` explains, without listing holders."""
    return sum(_sellable_by_lot(uow, product_id, warehouse_id, today).values(), ZERO) - uow.reservations.reserved(
        product_id, warehouse_id)


def reserve(f: UowFactory, req: ReserveRequest, actor: Actor, now: datetime) -> Reserved:
    """预占 — all of it, or (when allowed) what there is plus an explicit shortage; never more."""
    with f() as uow:
        result = reserve_in(uow, req, actor, now)
        if result.created:
            uow.commit()
        return result


def reserve_in(uow: UnitOfWork, req: ReserveRequest, actor: Actor, now: datetime) -> Reserved:
    """Reserve inside an open unit of work (orders reserve their lines together); no commit."""
    require(actor, "document.create.sales_delivery", req.warehouse_id)
    qty = to_decimal(req.qty, "qty")
    if qty <= 0:
        raise DomainError("QTY_NOT_POSITIVE", "预占数量必须大于 0", "the quantity to reserve must be > 0", field="qty")
    if req.idempotency_key and (seen := uow.reservations.find_by_key(req.idempotency_key)):
        return Reserved(seen["id"], seen["qty"], ZERO, ZERO, seen["expires_at"], created=False)
    _known(uow, req.product_id, req.warehouse_id)
    channel = _channel(uow, req.channel, req.warehouse_id) if req.channel else None
    pair = (req.product_id, req.warehouse_id)
    reserved = uow.reservations.lock_totals({pair: ZERO})[pair]
    by_lot = _sellable_by_lot(uow, req.product_id, req.warehouse_id, now.date())
    free = sum(by_lot.values(), ZERO) - reserved
    if req.lot_id:
        lot_free = by_lot.get(req.lot_id, ZERO) - uow.reservations.reserved(*pair, lot_id=req.lot_id)
        free = min(free, lot_free)
    take = qty if free >= qty else (max(free, ZERO) if req.allow_partial else ZERO)
    if take <= 0:
        raise Conflict("STOCK_INSUFFICIENT", f"库存不足：可用 {max(free, ZERO).normalize()}，需要 {qty.normalize()}",
                       f"insufficient stock: {max(free, ZERO).normalize()} available, {qty.normalize()} requested",
                       field="qty", details={"available": str(max(free, ZERO)), "requested": str(qty)})
    ttl = req.ttl_s if req.ttl_s is not None else (channel["ttl_s"] if channel else None)
    expires = now + timedelta(seconds=ttl) if ttl else None
    rid = uow.reservations.insert({
        "product_id": req.product_id, "warehouse_id": req.warehouse_id, "lot_id": req.lot_id, "qty": take,
        "qty_consumed": ZERO, "state": "pending", "holder": req.holder, "channel_code": req.channel,
        "expires_at": expires, "idempotency_key": req.idempotency_key, "created_by": actor.name,
        "created_at": now})
    uow.reservations.lock_totals({pair: take})
    _record(uow, "reservation.created", rid, actor, now, {
        "product_id": req.product_id, "warehouse_id": req.warehouse_id, "qty": str(take),
        "shortage": str(qty - take), "holder": req.holder, "channel": req.channel,
        "expires_at": expires.isoformat() if expires else None})
    publish_in(uow, {req.product_id}, now)
    return Reserved(rid, take, qty - take, free, expires)


def _channel(uow: UnitOfWork, code: str, warehouse_id: int) -> dict[str, Any]:
    ch = next((c for c in uow.reservations.channels() if c["code"] == code and c["active"]), None)
    if ch is None:
        raise NotFound("NOT_FOUND", f"渠道 {code} 不存在或已停用", f"channel {code} does not exist or is inactive",
                       field="channel")
    if warehouse_id not in ch["warehouse_ids"]:
        raise DomainError("VALUE_INVALID", f"渠道 {code} 不从该仓库发货", f"channel {code} is not fed by this warehouse",
                          field="warehouse_id")
    return ch


def _record(uow: UnitOfWork, event: str, rid: int, actor: Actor, now: datetime, payload: dict[str, Any]) -> None:
    uow.audit.append(AuditEntry(event, "reservation", str(rid), actor.name, now, None, payload, actor.ip, actor.device))
    uow.outbox.add(OutboxMessage(event, "reservation", str(rid), {"reservation_id": rid, **payload}, now))


def _close(uow: UnitOfWork, rid: int, state: str, actor: Actor, now: datetime, reason: str | None) -> Decimal:
    row = uow.reservations.get(rid)
    if row is None:
        raise NotFound("NOT_FOUND", f"预占 {rid} 不存在", f"reservation {rid} does not exist", field="reservation_id")
    uow.reservations.lock_totals({(row["product_id"], row["warehouse_id"]): ZERO})
    row = uow.reservations.get(rid, lock=True)
    assert row is not None
    if row["state"] != "pending":
        raise Conflict("RESERVATION_NOT_OPEN", f"预占 {rid} 已{row['state']}，不能再{state}",
                       f"reservation {rid} is {row['state']}; it cannot be {state}", field="reservation_id")
    left = row["qty"] - row["qty_consumed"]
    uow.reservations.close(rid, state, row["qty_consumed"], now)
    uow.reservations.lock_totals({(row["product_id"], row["warehouse_id"]): -left})
    _record(uow, f"reservation.{state}", rid, actor, now, {
        "product_id": row["product_id"], "warehouse_id": row["warehouse_id"], "qty": str(left),
        "holder": row["holder"], "reason": reason})
    return left


def release_in(uow: UnitOfWork, rid: int, actor: Actor, now: datetime, reason: str | None = None) -> Decimal:
    """Release inside an open unit of work (closing an order); no commit."""
    row = uow.reservations.get(rid)
    left = _close(uow, rid, "released", actor, now, reason)
    publish_in(uow, {row["product_id"]} if row else set(), now)
    return left


def release(f: UowFactory, rid: int, actor: Actor, now: datetime, reason: str | None = None) -> Decimal:
    """释放 — the order was cancelled or changed: the rest of the reservation is free again."""
    with f() as uow:
        row = uow.reservations.get(rid)
        require(actor, "document.create.sales_delivery", row["warehouse_id"] if row else None)
        left = release_in(uow, rid, actor, now, reason)
        uow.commit()
        return left


def expire_due(f: UowFactory, now: datetime, actor: Actor, limit: int = 500) -> list[int]:
    """过期 — pending reservations past their deadline become expired (run by the worker)."""
    with f() as uow:
        done = []
        products = set()
        for row in uow.reservations.due(now, limit):
            _close(uow, row["id"], "expired", actor, now, "ttl")
            done.append(row["id"])
            products.add(row["product_id"])
        publish_in(uow, products, now)
        uow.commit()
        return done


def _known(uow: UnitOfWork, product_id: int, warehouse_id: int) -> None:
    if uow.records.get("products", product_id) is None:
        raise NotFound("NOT_FOUND", f"商品 {product_id} 不存在", f"product {product_id} does not exist", field="product_id")
    if uow.records.get("warehouses", warehouse_id) is None:
        raise NotFound("NOT_FOUND", f"仓库 {warehouse_id} 不存在", f"warehouse {warehouse_id} does not exist",
                       field="warehouse_id")


def availability(f: UowFactory, product_id: int, warehouse_id: int, today: date) -> av.Explanation:
    """可用量及原因 — available, and every reason the rest of on hand is not."""
    with f() as uow:
        _known(uow, product_id, warehouse_id)
        return _explain(uow, product_id, warehouse_id, today)


def shippable_lots(f: UowFactory, product_id: int, warehouse_id: int, today: date,
                   strategy: PickStrategy | None = None) -> list[LotStock]:
    """可发批次 — sellable lots in the order they would go out (FEFO for lot-tracked)."""
    with f() as uow:
        _known(uow, product_id, warehouse_id)
        tracking, block, warn, life = uow.reservations.product_expiry(product_id)
        policy = _policy(uow)
        lots: dict[int, LotStock] = {}
        for ln in uow.reservations.stock_lines(product_id, warehouse_id):
            health = av.lot_health(ln.expires_on, today, policy, block, warn, life)
            if av.status_counts(ln.status, policy) and av.sellable(health) and ln.qty > 0:
                prev = lots.get(ln.lot_id)
                lots[ln.lot_id] = LotStock(ln.lot_id, (prev.qty if prev else ZERO) + ln.qty, ln.expires_on,
                                           ln.lot_id, ln.lot_number or "")
    order = strategy or default_strategy(tracking != "none", None)
    total = sum((x.qty for x in lots.values()), ZERO)
    alloc = pick_lots(order, total, lots.values())
    return [lots[p.lot_id] for p in alloc.picks]


def save_channel(f: UowFactory, code: str, name: str, warehouse_ids: list[int], actor: Actor, now: datetime,
                 buffer_qty: Any = 0, quota_pct: int = 100, ttl_s: int = 1800, active: bool = True) -> None:
    """渠道 — which warehouses feed it, its safety buffer and quota, and its reservation TTL."""
    require(actor, "settings.edit")
    buffer = to_decimal(buffer_qty, "buffer_qty")
    if buffer < 0 or not 0 <= quota_pct <= 100 or ttl_s < 0 or not warehouse_ids:
        raise DomainError("VALUE_INVALID", "渠道设置无效：缓冲≥0、配额 0–100%、TTL≥0，且至少一个仓库",
                          "invalid channel: buffer ≥ 0, quota 0–100 %, TTL ≥ 0, at least one warehouse",
                          field="channel")
    with f() as uow:
        uow.reservations.save_channel({"code": code, "name": name, "warehouse_ids": warehouse_ids,
                                       "buffer_qty": buffer, "quota_pct": quota_pct, "ttl_s": ttl_s,
                                       "active": active})
        uow.audit.append(AuditEntry("channel.save", "channel", code, actor.name, now, None,
                                    {"warehouses": warehouse_ids, "buffer": str(buffer), "quota_pct": quota_pct,
                                     "ttl_s": ttl_s, "active": active}, actor.ip, actor.device))
        uow.commit()


def sellable_for(uow: UnitOfWork, channel: dict[str, Any], product_id: int, today: date) -> Decimal:
    """渠道可售量 — (Σ available over its warehouses) × quota − buffer, never below zero."""
    total = sum((available_qty(uow, product_id, w, today) for w in channel["warehouse_ids"]), ZERO)
    share = (total * channel["quota_pct"] / 100).to_integral_value(rounding="ROUND_FLOOR")
    return max(share - channel["buffer_qty"], ZERO)


def publish_in(uow: UnitOfWork, product_ids: set[int], now: datetime) -> None:
    """Recompute each channel's sellable quantity for these products; emit an event where it changed."""
    if not product_ids:
        return
    for ch in uow.reservations.channels():
        if not ch["active"]:
            continue
        before = uow.reservations.published(ch["code"], product_ids)
        for pid in sorted(product_ids):
            qty = sellable_for(uow, ch, pid, now.date())
            if before.get(pid) != qty:
                uow.reservations.publish(ch["code"], pid, qty, now)
                uow.outbox.add(OutboxMessage("channel.sellable_changed", "channel", ch["code"],
                                             {"channel": ch["code"], "product_id": pid, "qty": str(qty),
                                              "before": str(before[pid]) if pid in before else None}, now))

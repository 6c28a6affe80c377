"""看板 — the dashboard's numbers (供需协同看板), each with the rows behind it.

Guarantees:
- Pure reads through the `WebReads` port; the same numbers for the same data
  whatever the page (tile, detail page, alert list).
- Everything is narrowed to the viewer's warehouses (`warehouse_ids`, None = all).
- Values are at moving-average cost (DESIGN §4) unless a line carries a price
  (order lines): open purchase orders and sales orders are valued at their price.
- The health score is explained: 100 minus named penalties, each with its inputs,
  so the owner can see which rule took which points (DESIGN P7).

Definitions (docs/user-guide: 看板):
- stock value: Σ balance value of physical stock.
- below safety stock: active SKUs with a safety stock whose on hand (all statuses)
  is under it, of all active SKUs.
- open purchase value: Σ (ordered − received) × price of confirmed/partial purchase orders.
- expected outbound, next 7 days: open sales-order lines wanted within 7 days (or
  undated) at their price (at cost when unpriced), plus pending reservations that
  belong to no order line (channel and chat-group orders) at average cost.
- near-expiry value: stock value of lots that `availability.lot_health` calls near expiry
  (warned or blocked from sale): the product's own `expiry_warn_days` / `expiry_block_days`,
  else the book's `expiry.*` days scaled down by a short shelf life (warn at half of it, block
  at a third) — the same rule that decides what may be sold; expired lots separately.
- overdue: drafts and pending approvals untouched longer than `overdue.first_minutes`.
- turnover days: average daily stock value over the window ÷ average daily cost of
  sales (sales deliveries minus sales returns) over the same window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from jxc.domain import availability as av
from jxc.domain.settings import with_defaults
from jxc.services.web_reads import WebReads

ZERO = Decimal(0)
CENT = Decimal("0.01")
SALES_KINDS = ("sales_delivery", "sales_return")


@dataclass(frozen=True)
class Penalty:
    """扣分项 — one rule of the health score: its key, points taken, and the inputs."""

    key: str
    points: int
    inputs: Mapping[str, Any]


@dataclass(frozen=True)
class Board:
    """看板 — the KPIs of one viewer's scope, at one moment."""

    stock_value: Decimal
    skus_total: int
    skus_below_safety: int
    open_purchase_value: Decimal
    outbound_7d_value: Decimal
    near_expiry_value: Decimal
    expired_value: Decimal
    overdue_drafts: int
    overdue_approvals: int
    turnover_days: Decimal | None  # None: no cost of sales in the window
    health: int
    penalties: tuple[Penalty, ...]
    days: tuple[date, ...] = ()
    stock_series: tuple[Decimal, ...] = ()  # value at the end of each day
    sales_series: tuple[Decimal, ...] = ()  # cost of sales per day
    below: tuple[dict[str, Any], ...] = field(default=(), repr=False)


def below_safety(reads: WebReads, warehouse_ids: Sequence[int] | None) -> tuple[int, list[dict[str, Any]]]:
    """(active SKUs, those under their safety stock with on hand and the gap), biggest gap first."""
    stock = reads.stock_by_product(warehouse_ids)
    products = reads.products_brief()
    rows = []
    for p in products:
        safety = p["safety_stock"]
        if safety is None or Decimal(safety) <= 0:
            continue
        qty = stock.get(p["id"], (ZERO, ZERO))[0]
        if qty < Decimal(safety):
            rows.append(dict(p, qty=qty, gap=Decimal(safety) - qty))
    rows.sort(key=lambda r: (-(r["gap"] / Decimal(r["safety_stock"])), r["code"]))
    return len(products), rows


def expiry_policy(settings: Mapping[str, Any]) -> av.AvailabilityPolicy:
    """The book's availability/expiry switches (missing keys take their defaults)."""
    return av.AvailabilityPolicy.from_settings(with_defaults(settings))


def expiry_rows(reads: WebReads, warehouse_ids: Sequence[int] | None, today: date,
                policy: av.AvailabilityPolicy) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(near-expiry lots, expired lots) with stock, soonest first; each row has `days_left` and `health`.

    A lot's state is `availability.lot_health` — the rule that decides whether it may be sold —
    with the product's own thresholds and shelf life, so a 3-day lettuce is not near expiry the
    day it arrives just because the book warns 30 days ahead."""
    near, expired = [], []
    for r in reads.lot_stock(warehouse_ids):
        expires = r["expires_on"] if isinstance(r["expires_on"], date) else date.fromisoformat(str(r["expires_on"]))
        state = av.lot_health(expires, today, policy, r["expiry_block_days"], r["expiry_warn_days"],
                              r["shelf_life_days"])
        row = dict(r, expires_on=expires, days_left=(expires - today).days, health=state, qty=Decimal(r["qty"]),
                   value=Decimal(r["value"]))
        if state == av.EXPIRED:
            expired.append(row)
        elif av.near_expiry(state):
            near.append(row)
    return near, expired


def open_purchase(reads: WebReads, warehouse_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    """Open purchase-order lines with what is still to come and its value at the order price."""
    out = []
    for ln in reads.open_order_lines("purchase", warehouse_ids):
        left = Decimal(ln["qty_base"]) - Decimal(ln["qty_done"])
        out.append(dict(ln, qty_left=left, value=(left * Decimal(ln["unit_price"] or 0)).quantize(CENT)))
    return out


def expected_outbound(reads: WebReads, warehouse_ids: Sequence[int] | None, now: datetime,
                      horizon: timedelta = timedelta(days=7)) -> list[dict[str, Any]]:
    """Sales-order lines due within ``horizon`` (or undated) and reservations of no order line, valued."""
    stock = reads.stock_by_product(warehouse_ids)

    def avg_cost(pid: int) -> Decimal:
        qty, value = stock.get(pid, (ZERO, ZERO))
        return value / qty if qty > 0 else ZERO

    until = now + horizon
    out: list[dict[str, Any]] = []
    linked: set[int] = set()
    for ln in reads.open_order_lines("sales", warehouse_ids):
        if ln["reservation_id"]:
            linked.add(ln["reservation_id"])
        needed = ln["needed_on"]
        if needed is not None and _aware(needed) > until:
            continue
        left = Decimal(ln["qty_base"]) - Decimal(ln["qty_done"])
        price = Decimal(ln["unit_price"]) if ln["unit_price"] is not None else avg_cost(ln["product_id"])
        out.append({"source": "sales_order", "ref": ln["number"], "code": ln["code"], "name": ln["name"],
                    "qty": left, "due": needed, "value": (left * price).quantize(CENT)})
    for r in reads.open_reservations(warehouse_ids):
        if r["id"] in linked:
            continue
        left = Decimal(r["qty"]) - Decimal(r["qty_consumed"])
        out.append({"source": "reservation", "ref": r["holder"], "code": r["code"], "name": r["name"],
                    "qty": left, "due": r["expires_at"], "value": (left * avg_cost(r["product_id"])).quantize(CENT)})
    return out


def _aware(at: datetime) -> datetime:
    from datetime import UTC

    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def series(reads: WebReads, warehouse_ids: Sequence[int] | None, now: datetime, zone: tzinfo,
           days: int, stock_value: Decimal) -> tuple[tuple[date, ...], tuple[Decimal, ...], tuple[Decimal, ...]]:
    """(local days, stock value at each day's end, cost of sales per day) for the last ``days`` days.

    The value at a day's end is today's value minus what postings effective after it moved
    (I8: stock as of T is the replay up to T)."""
    today = now.astimezone(zone).date()
    day_list = tuple(today - timedelta(days=i) for i in range(days - 1, -1, -1))
    since = datetime.combine(day_list[0], time(0), tzinfo=zone)
    moved: dict[date, Decimal] = {d: ZERO for d in day_list}
    sales: dict[date, Decimal] = {d: ZERO for d in day_list}
    for p in reads.posting_values(since, warehouse_ids):
        d = _aware(p["effective_at"]).astimezone(zone).date()
        if d not in moved:  # effective in the future: counts in today's value already
            d = today
        value = Decimal(p["value"] or 0)
        moved[d] += value
        if p["kind"] in SALES_KINDS:
            sales[d] -= value
    values, running = [], stock_value
    for d in reversed(day_list):  # end of today = now; end of yesterday = now − today's movements …
        values.append(running.quantize(CENT))
        running -= moved[d]
    return day_list, tuple(reversed(values)), tuple(sales[d].quantize(CENT) for d in day_list)


def turnover_days(stock_series: Sequence[Decimal], sales_series: Sequence[Decimal]) -> Decimal | None:
    """库存周转天数 — average stock value ÷ average daily cost of sales; None without sales."""
    if not stock_series or sum(sales_series, ZERO) <= 0:
        return None
    avg_stock = sum(stock_series, ZERO) / len(stock_series)
    daily_cost = sum(sales_series, ZERO) / len(sales_series)
    return (avg_stock / daily_cost).quantize(Decimal("0.1"))


def health(skus_total: int, skus_below: int, stock_value: Decimal, near_value: Decimal, expired_value: Decimal,
           overdue: int, turnover: Decimal | None) -> tuple[int, tuple[Penalty, ...]]:
    """库存健康评分 — 100 minus: shortage (≤30), expiry risk (≤30), overdue documents (≤20), slow turnover (≤20)."""
    penalties = []
    if skus_total and skus_below:
        share = Decimal(skus_below) / skus_total
        penalties.append(Penalty("below_safety", min(30, round(share * 100)),
                                 {"below": skus_below, "total": skus_total, "pct": round(share * 100)}))
    if stock_value > 0 and (near_value or expired_value):
        share = (near_value + 2 * expired_value) / stock_value  # expired counts double: it is already lost
        penalties.append(Penalty("expiry", min(30, round(share * 100)),
                                 {"near": near_value.quantize(CENT), "expired": expired_value.quantize(CENT),
                                  "pct": round(share * 100)}))
    if overdue:
        penalties.append(Penalty("overdue", min(20, 4 * overdue), {"count": overdue}))
    if turnover is not None and turnover > 45:
        penalties.append(Penalty("slow_turnover", min(20, int((turnover - 45) // 3) + 1), {"days": turnover}))
    penalties = [p for p in penalties if p.points > 0]
    return max(0, 100 - sum(p.points for p in penalties)), tuple(penalties)


def overdue_documents(open_docs: Sequence[Mapping[str, Any]], now: datetime,
                      first_minutes: int) -> list[Mapping[str, Any]]:
    limit = now - timedelta(minutes=first_minutes)
    return [d for d in open_docs if _aware(d["updated_at"]) <= limit]


def board(reads: WebReads, open_docs: Sequence[Mapping[str, Any]], settings: Mapping[str, Any], now: datetime,
          zone: tzinfo, warehouse_ids: Sequence[int] | None, window_days: int = 30) -> Board:
    """The whole dashboard for one scope (``open_docs``: the scope's drafts and pending approvals)."""
    stock = reads.stock_by_product(warehouse_ids)
    value = sum((v for _q, v in stock.values()), ZERO)
    total, below = below_safety(reads, warehouse_ids)
    today = now.astimezone(zone).date()
    near, expired = expiry_rows(reads, warehouse_ids, today, expiry_policy(settings))
    near_value = sum((r["value"] for r in near), ZERO)
    expired_value = sum((r["value"] for r in expired), ZERO)
    late = overdue_documents(open_docs, now, int(settings.get("overdue.first_minutes", 60)))
    drafts = sum(1 for d in late if d["state"] == "draft")
    days, stock_series, sales_series = series(reads, warehouse_ids, now, zone, window_days, value)
    turnover = turnover_days(stock_series, sales_series)
    score, penalties = health(total, len(below), value, near_value, expired_value, len(late), turnover)
    return Board(
        stock_value=value.quantize(CENT), skus_total=total, skus_below_safety=len(below),
        open_purchase_value=sum((r["value"] for r in open_purchase(reads, warehouse_ids)), ZERO),
        outbound_7d_value=sum((r["value"] for r in expected_outbound(reads, warehouse_ids, now)), ZERO),
        near_expiry_value=near_value.quantize(CENT), expired_value=expired_value.quantize(CENT),
        overdue_drafts=drafts, overdue_approvals=len(late) - drafts, turnover_days=turnover,
        health=score, penalties=penalties, days=days, stock_series=stock_series, sales_series=sales_series,
        below=tuple(below))

"""采购与销售订单 — orders reserve (sales) or expect (purchase) stock; deliveries and receipts fulfil them.

Guarantees:
- An order never moves stock. Confirming a sales order reserves every line
  (I4); what cannot be reserved is an explicit shortage with a purchase
  suggestion (以销定购), never silently dropped.
- A delivery against an order consumes the line's reservation in the same
  transaction as the stock leaves; a receipt against a purchase order may not
  exceed the ordered quantity by more than the tolerance.
- The order's delivered / received quantities and state follow the posted
  (and reversed) documents; closing an order releases what is still reserved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError, NotFound, Problems
from jxc.domain.quantities import ZERO, cost, to_base, to_decimal
from jxc.services import documents as docs
from jxc.services import reserving
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.ports import AuditEntry, OutboxMessage, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
PREFIX = {"sales": "XSDD", "purchase": "CGDD"}
ROLE = {"sales": "customer", "purchase": "supplier"}
PERMISSION = {"sales": "document.create.sales_delivery", "purchase": "document.create.purchase_receipt"}


@dataclass(frozen=True)
class OrderLineInput:
    product_id: int
    qty: Any
    unit: str | None = None
    unit_price: Any = None  # per unit as entered


def _load(uow: UnitOfWork, order_id: int) -> dict[str, Any]:
    order = uow.trade.get(order_id, lock=True)
    if order is None:
        raise NotFound("NOT_FOUND", f"订单 {order_id} 不存在", f"order {order_id} does not exist", field="order_id")
    return order


def create_order(f: UowFactory, kind: str, partner_id: int, warehouse_id: int, lines: list[OrderLineInput],
                 actor: Actor, now: datetime, needed_on: datetime | None = None, remark: str | None = None) -> int:
    """新建订单 — purchase (采购订单) or sales (销售订单); draft, moves and reserves nothing yet."""
    docs.require(actor, PERMISSION[kind], warehouse_id)
    p = Problems()
    with f() as uow:
        partner = uow.records.get("partners", partner_id)
        if partner is None or partner["role"] not in (ROLE[kind], "both"):
            p.add("VALUE_INVALID", "partner_id", f"请选择{'客户' if kind == 'sales' else '供应商'}",
                  f"choose a {ROLE[kind]}")
        units = uow.documents.units({ln.product_id for ln in lines})
        rows = []
        for i, ln in enumerate(lines):
            if ln.product_id not in units:
                p.add("NOT_FOUND", f"lines[{i}].product_id", f"第{i + 1}行商品不存在", f"line {i + 1}: no such product")
                continue
            base, convs = units[ln.product_id]
            qty = to_decimal(ln.qty, f"lines[{i}].qty")
            if qty <= 0:
                p.add("QTY_NOT_POSITIVE", f"lines[{i}].qty", f"第{i + 1}行数量必须大于 0", f"line {i + 1}: qty must be > 0")
                continue
            qty_base = to_base(qty, ln.unit or base, base, convs, f"lines[{i}].unit")
            price = None if ln.unit_price in (None, "") else cost(to_decimal(ln.unit_price, "unit_price") * qty / qty_base)
            rows.append({"product_id": ln.product_id, "unit": ln.unit or base, "qty": qty, "qty_base": qty_base,
                         "qty_done": ZERO, "unit_price": price, "reservation_id": None, "shortage": ZERO})
        if not lines:
            p.add("POSTING_EMPTY", "lines", "订单没有明细行", "the order has no lines")
        p.raise_if_any()
        number = f"{PREFIX[kind]}-{now:%Y%m%d}-{uow.documents.next_number(PREFIX[kind], f'{now:%Y%m%d}'):04d}"
        oid = uow.trade.insert({"kind": kind, "number": number, "state": "draft", "partner_id": partner_id,
                                "warehouse_id": warehouse_id, "needed_on": needed_on, "remark": remark,
                                "version": 1, "created_by": actor.name, "created_at": now, "updated_at": now}, rows)
        uow.audit.append(AuditEntry("order.create", "order", str(oid), actor.name, now, None,
                                    {"number": number, "kind": kind, "lines": len(rows)}, actor.ip, actor.device))
        uow.commit()
        return oid


def confirm_order(f: UowFactory, order_id: int, actor: Actor, now: datetime) -> list[dict[str, Any]]:
    """确认 — a sales order reserves each line; shortages become purchase suggestions (以销定购)."""
    with f() as uow:
        order = _load(uow, order_id)
        docs.require(actor, PERMISSION[order["kind"]], order["warehouse_id"])
        if order["state"] != "draft":
            raise DomainError("INVALID_TRANSITION", "只有草稿订单可以确认", "only a draft order can be confirmed",
                              field="state")
        suggestions = []
        for ln in order["lines"] if order["kind"] == "sales" else []:
            held = reserving.reserve_in(uow, reserving.ReserveRequest(
                ln["product_id"], order["warehouse_id"], ln["qty_base"], f"sales_order:{order['number']}:{ln['line_no']}",
                allow_partial=True), actor, now) if _free(uow, ln, order, now) > 0 else None
            shortage = ln["qty_base"] - (held.qty if held else ZERO)
            uow.trade.update_line(ln["id"], {"reservation_id": held.reservation_id if held else None,
                                             "shortage": shortage})
            if shortage > 0:
                suggestions.append({"product_id": ln["product_id"], "warehouse_id": order["warehouse_id"],
                                    "qty": str(shortage), "needed_on": (order["needed_on"] or now).isoformat(),
                                    "for_order": order["number"], "line_no": ln["line_no"]})
        uow.trade.update(order_id, {"state": "confirmed", "updated_at": now})
        for s in suggestions:
            uow.outbox.add(OutboxMessage("purchase.suggested", "order", str(order_id), s, now))
        uow.audit.append(AuditEntry("order.confirm", "order", str(order_id), actor.name, now, {"state": "draft"},
                                    {"state": "confirmed", "shortages": suggestions}, actor.ip, actor.device))
        uow.commit()
        return suggestions


def _free(uow: UnitOfWork, ln: Mapping[str, Any], order: Mapping[str, Any], now: datetime) -> Decimal:
    return reserving.available_qty(uow, ln["product_id"], order["warehouse_id"], now.date())


def deliver(f: UowFactory, order_id: int, quantities: Mapping[int, Any] | None, actor: Actor, now: datetime) -> int:
    """按订单出库 — a sales delivery draft for {line_no: qty (base units)} (None: all outstanding), submitted."""
    return _fulfil(f, order_id, quantities, actor, now, "sales")


def receive(f: UowFactory, order_id: int, quantities: Mapping[int, Any] | None, actor: Actor, now: datetime,
            tolerance_pct: Decimal = Decimal(10), lots: Mapping[int, int] | None = None) -> int:
    """按订单入库 — a purchase receipt for {line_no: qty}; over the ordered quantity only within tolerance.
    ``lots`` names the lot received on a line ({line_no: lot id}); lot-tracked products need one."""
    return _fulfil(f, order_id, quantities, actor, now, "purchase", tolerance_pct, lots or {})


def _fulfil(f: UowFactory, order_id: int, quantities: Mapping[int, Any] | None, actor: Actor, now: datetime,
            kind: str, tolerance_pct: Decimal = ZERO, lots: Mapping[int, int] | None = None) -> int:
    with f() as uow:
        order = _load(uow, order_id)
        if order["kind"] != kind or order["state"] not in ("confirmed", "partial"):
            raise DomainError("INVALID_TRANSITION", "订单未确认或已完成/关闭", "the order is not confirmed, or is done/closed",
                              field="order_id")
        by_no = {ln["line_no"]: ln for ln in order["lines"]}
        wanted = quantities if quantities is not None else {
            n: ln["qty_base"] - ln["qty_done"] for n, ln in by_no.items() if ln["qty_base"] > ln["qty_done"]}
        lines, p = [], Problems()
        for no, raw in sorted(wanted.items()):
            ln = by_no.get(no)
            qty = to_decimal(raw, f"quantities[{no}]")
            if ln is None or qty <= 0:
                p.add("VALUE_INVALID", f"quantities[{no}]", f"订单没有第{no}行或数量无效", f"no line {no}, or bad qty")
                continue
            left = ln["qty_base"] - ln["qty_done"]
            limit = left + ln["qty_base"] * tolerance_pct / 100
            if qty > limit:
                p.add("OVER_RECEIPT" if kind == "purchase" else "QTY_EXCEEDS_OUTSTANDING", f"quantities[{no}]",
                      f"第{no}行 {qty.normalize()} 超过未完成数量 {left.normalize()}"
                      f"{f'（允许超收 {tolerance_pct}%）' if tolerance_pct else ''}",
                      f"line {no}: {qty.normalize()} exceeds the {left.normalize()} outstanding", limit=str(limit))
                continue
            rid = ln["reservation_id"] if kind == "sales" else None
            held = _reservation_left(uow, rid)
            reserved_part = min(qty, held)
            if reserved_part > 0:
                lines.append(LineInput(ln["product_id"], reserved_part, unit_price=_price(ln), order_line_id=ln["id"],
                                       reservation_id=rid))
            if qty - reserved_part > 0:
                lines.append(LineInput(ln["product_id"], qty - reserved_part, unit_price=_price(ln),
                                       order_line_id=ln["id"], lot_id=(lots or {}).get(no, 0)))
        p.raise_if_any()
    doc_kind = K.SALES_DELIVERY if kind == "sales" else K.PURCHASE_RECEIPT
    doc = docs.create_draft(f, DraftInput(doc_kind, order["warehouse_id"], tuple(lines), partner_id=order["partner_id"],
                                          remark=f"按订单 {order['number']}"), actor, now)
    docs.submit(f, doc, actor, now)
    return doc


def _price(ln: Mapping[str, Any]) -> str | None:
    return None if ln["unit_price"] is None else str(ln["unit_price"])


def _reservation_left(uow: UnitOfWork, rid: int | None) -> Decimal:
    row = uow.reservations.get(rid) if rid else None
    return row["qty"] - row["qty_consumed"] if row and row["state"] == "pending" else ZERO


def close_order(f: UowFactory, order_id: int, actor: Actor, now: datetime, reason: str | None = None) -> None:
    """关闭 / 取消 — nothing more will be delivered or received; reservations still held are released."""
    with f() as uow:
        order = _load(uow, order_id)
        docs.require(actor, PERMISSION[order["kind"]], order["warehouse_id"])
        if order["state"] in ("closed", "cancelled"):
            raise DomainError("INVALID_TRANSITION", "订单已关闭", "the order is already closed", field="state")
        for ln in order["lines"]:
            if _reservation_left(uow, ln["reservation_id"]) > 0:
                reserving.release_in(uow, ln["reservation_id"], actor, now, reason or "order closed")
        state = "cancelled" if order["state"] == "draft" else "closed"
        uow.trade.update(order_id, {"state": state, "updated_at": now})
        uow.audit.append(AuditEntry("order.close", "order", str(order_id), actor.name, now, {"state": order["state"]},
                                    {"state": state, "reason": reason}, actor.ip, actor.device))
        uow.commit()


def get_order(f: UowFactory, order_id: int) -> dict[str, Any]:
    with f() as uow:
        order = uow.trade.get(order_id)
        if order is None:
            raise NotFound("NOT_FOUND", f"订单 {order_id} 不存在", f"order {order_id} does not exist", field="order_id")
        return order


def price_history(f: UowFactory, product_id: int, partner_id: int | None, now: datetime) -> dict[str, Any]:
    """进价参考 — last purchase price, and min / average over the last 90 days (per base unit)."""
    with f() as uow:
        return uow.trade.price_history(product_id, partner_id, now - timedelta(days=90))

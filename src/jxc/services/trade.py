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
- A delivery / receipt against an order, a quick sale (开单) and a return are each made, submitted and
  (unless an approval rule holds them) posted with their money owed in one transaction: refused, they
  leave nothing behind; a quick sale's idempotency key returns the first sale (I7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import Conflict, DomainError, NotFound, Problems, ValidationFailed
from jxc.domain.quantities import ZERO, cost, to_base, to_decimal
from jxc.services import documents as docs
from jxc.services import money, pricing, purchasing, reserving
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.ports import AuditEntry, OutboxMessage, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
PREFIX = {"sales": "XSDD", "purchase": "CGDD"}
ROLE = {"sales": "customer", "purchase": "supplier"}
PERMISSION = {"sales": "document.create.sales_delivery", "purchase": "document.create.purchase_receipt"}
SHORT = frozenset({"STOCK_INSUFFICIENT", "STOCK_RESERVED"})  # refusals about one product's stock


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
    with f() as uow:
        oid = create_order_in(uow, kind, partner_id, warehouse_id, lines, actor, now, needed_on, remark)
        uow.commit()
        return oid


def create_order_in(uow: UnitOfWork, kind: str, partner_id: int, warehouse_id: int, lines: list[OrderLineInput],
                    actor: Actor, now: datetime, needed_on: datetime | None = None, remark: str | None = None) -> int:
    """新建订单 inside an open unit of work; a line without a price takes the resolved one (价格表 / 供货条件)."""
    docs.require(actor, PERMISSION[kind], warehouse_id)
    p = Problems()
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
        entered, source = ln.unit_price, "entered"
        if entered in (None, "") and partner is not None:
            found = pricing.resolve_in(uow, pricing.PriceQuery(ln.product_id, ln.unit, partner_id, side=kind), now)
            entered, source = (None, None) if found is None else (found["unit_price"], found["source"]["tier"])
        price = None if entered in (None, "") else cost(to_decimal(entered, "unit_price") * qty / qty_base)
        rows.append({"product_id": ln.product_id, "unit": ln.unit or base, "qty": qty, "qty_base": qty_base,
                     "qty_done": ZERO, "unit_price": price, "reservation_id": None, "shortage": ZERO,
                     "price_source": source})
    if not lines:
        p.add("POSTING_EMPTY", "lines", "订单没有明细行", "the order has no lines")
    p.raise_if_any()
    number = f"{PREFIX[kind]}-{now:%Y%m%d}-{uow.documents.next_number(PREFIX[kind], f'{now:%Y%m%d}'):04d}"
    oid = uow.trade.insert({"kind": kind, "number": number, "state": "draft", "partner_id": partner_id,
                            "warehouse_id": warehouse_id, "needed_on": needed_on, "remark": remark,
                            "version": 1, "created_by": actor.name, "created_at": now, "updated_at": now}, rows)
    uow.audit.append(AuditEntry("order.create", "order", str(oid), actor.name, now, None,
                                {"number": number, "kind": kind, "lines": len(rows)}, actor.ip, actor.device))
    return oid


def confirm_order(f: UowFactory, order_id: int, actor: Actor, now: datetime) -> list[dict[str, Any]]:
    """确认 — a sales order reserves each line; shortages become purchase suggestions (以销定购)."""
    with f() as uow:
        order = _load(uow, order_id)
        docs.require(actor, PERMISSION[order["kind"]], order["warehouse_id"])
        if order["state"] != "draft":
            raise Conflict("INVALID_TRANSITION", "只有草稿订单可以确认", "only a draft order can be confirmed",
                              field="state")
        money.check_credit(uow, order, actor, now)  # 信用额度: value + open receivables ≤ limit, or an override
        suggestions = []
        for ln in order["lines"] if order["kind"] == "sales" else []:
            held = reserving.reserve_in(uow, reserving.ReserveRequest(
                ln["product_id"], order["warehouse_id"], ln["qty_base"], f"sales_order:{order['number']}:{ln['line_no']}",
                allow_partial=True), actor, now) if _free(uow, ln, order, now) > 0 else None
            shortage = ln["qty_base"] - (held.qty if held else ZERO)
            uow.trade.update_line(ln["id"], {"reservation_id": held.reservation_id if held else None,
                                             "shortage": shortage})
            if shortage > 0:
                suggestions.append(purchasing.suggest_in(uow, order, ln, shortage, now))
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
            lots: Mapping[int, int] | None = None, freight: Any = None, freight_basis: str | None = None) -> int:
    """按订单入库 — a purchase receipt for {line_no: qty}, submitted.

    Within the over-receipt tolerance (setting `purchase.over_receipt_pct`) it posts; beyond it the
    receipt waits for approval (rule "超收需主管审批", `Facts.over_receipt`) instead of being refused.
    ``lots`` names the lot received on a line ({line_no: lot id}); lot-tracked products need one.
    ``freight`` (运费) is split over the receipt's lines by ``freight_basis`` (amount / qty) and owed
    to the order's supplier with the goods (domain/freight.py).
    """
    return _fulfil(f, order_id, quantities, actor, now, "purchase", lots or {}, (freight, freight_basis))


def _fulfil(f: UowFactory, order_id: int, quantities: Mapping[int, Any] | None, actor: Actor, now: datetime,
            kind: str, lots: Mapping[int, int] | None = None, freight: tuple[Any, str | None] = (None, None)) -> int:
    """The delivery / receipt made, submitted and (unless a rule asks for approval) posted in one
    transaction: a refusal (stock short, a bad quantity) leaves no draft behind."""
    with f() as uow:
        order = _load(uow, order_id)
        if order["kind"] != kind or order["state"] not in ("confirmed", "partial"):
            raise Conflict("INVALID_TRANSITION", "订单未确认或已完成/关闭", "the order is not confirmed, or is done/closed",
                              field="order_id")
        by_no = {ln["line_no"]: ln for ln in order["lines"]}
        wanted = quantities if quantities is not None else {
            n: ln["qty_base"] - ln["qty_done"] for n, ln in by_no.items() if ln["qty_base"] > ln["qty_done"]}
        lines, fields, p = [], {}, Problems()
        for no, raw in sorted(wanted.items()):
            ln = by_no.get(no)
            qty = to_decimal(raw, f"quantities[{no}]")
            if ln is None or qty <= 0:
                p.add("VALUE_INVALID", f"quantities[{no}]", f"订单没有第{no}行或数量无效", f"no line {no}, or bad qty")
                continue
            left = ln["qty_base"] - ln["qty_done"]
            if qty > left and kind == "sales":  # purchase: over-receipt goes to approval (doc_rules.facts)
                p.add("QTY_EXCEEDS_OUTSTANDING", f"quantities[{no}]",
                      f"第{no}行 {qty.normalize()} 超过未完成数量 {left.normalize()}",
                      f"line {no}: {qty.normalize()} exceeds the {left.normalize()} outstanding", limit=str(left))
                continue
            fields.setdefault(ln["product_id"], (no, f"quantities[{no}]"))
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
        with _at_line(fields):
            doc = docs.create_draft_in(uow, DraftInput(doc_kind, order["warehouse_id"], tuple(lines),
                                                       partner_id=order["partner_id"],
                                                       remark=f"按订单 {order['number']}",
                                                       freight=freight[0], freight_basis=freight[1]), actor, now)
            docs.submit_in(uow, doc, actor, now)
        uow.commit()
        return doc


@contextmanager
def _at_line(fields: Mapping[int, tuple[int, str]]) -> Iterator[None]:
    """A stock refusal names the line it is about: {product_id: (line number, field)}."""
    try:
        yield
    except DomainError as exc:
        d = exc.details or {}
        pid = d.get("product_id", (d.get("buckets") or [{}])[0].get("product_id"))
        if exc.code not in SHORT or pid not in fields or isinstance(exc, ValidationFailed):
            raise
        n, name = fields[pid]
        raise type(exc)(exc.code, f"第{n}行：{exc.message_zh}", f"line {n}: {exc.message_en}", field=name,
                        details=d) from exc


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
            raise Conflict("INVALID_TRANSITION", "订单已关闭", "the order is already closed", field="state")
        for ln in order["lines"]:
            if _reservation_left(uow, ln["reservation_id"]) > 0:
                reserving.release_in(uow, ln["reservation_id"], actor, now, reason or "order closed")
        state = "cancelled" if order["state"] == "draft" else "closed"
        uow.trade.update(order_id, {"state": state, "updated_at": now})
        purchasing.settle_in(uow, order, state, now)
        uow.audit.append(AuditEntry("order.close", "order", str(order_id), actor.name, now, {"state": order["state"]},
                                    {"state": state, "reason": reason}, actor.ip, actor.device))
        uow.commit()


def get_order(f: UowFactory, order_id: int) -> dict[str, Any]:
    with f() as uow:
        order = uow.trade.get(order_id)
        if order is None:
            raise NotFound("NOT_FOUND", f"订单 {order_id} 不存在", f"order {order_id} does not exist", field="order_id")
        return order


def list_orders(f: UowFactory, actor: Actor, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """订单列表 — headers by id (kind, state, partner, warehouse, number), the caller's warehouses only."""
    if actor.warehouses is not None:
        filters["warehouse_ids"] = sorted(actor.warehouses)
    with f() as uow:
        return uow.trade.page(after, limit, **filters)


def price_history(f: UowFactory, product_id: int, partner_id: int | None, now: datetime) -> dict[str, Any]:
    """进价参考 — last purchase price, and min / average over the last 90 days (per base unit)."""
    with f() as uow:
        return uow.trade.price_history(product_id, partner_id, now - timedelta(days=90))


@dataclass(frozen=True)
class QuickSaleInput:
    """开单 — a counter sale: order and delivery in one step."""

    warehouse_id: int
    lines: tuple[OrderLineInput, ...]
    partner_id: int | None = None  # None: a walk-in customer (散客)
    channel: str | None = "store"
    member: bool = False
    idempotency_key: str | None = None
    remark: str | None = None


def quick_sale(f: UowFactory, inp: QuickSaleInput, actor: Actor, now: datetime) -> dict[str, Any]:
    """开单 — price each line (价格表 when none is entered), create the sales delivery and submit it,
    in one transaction.

    Stock is checked and lots are picked FEFO by the posting, exactly as for any delivery; reserved stock
    stays with its orders (I4); a customer with a credit limit is checked like a confirmed order. The sale
    either posts (with its receivable), or — when an approval rule catches it — is pending approval; a
    refusal (stock short, credit limit) leaves nothing behind. Returns the delivery with each line's
    price source. The same ``idempotency_key`` returns the first sale (``replayed``) and writes nothing (I7).
    """
    key, fields = inp.idempotency_key, {ln.product_id: (i + 1, f"lines[{i}].qty") for i, ln in enumerate(inp.lines)}
    first = None
    try:
        with f() as uow:
            first = uow.documents.find_by_key(key) if key else None
            if first is None:
                priced, sources = _priced(uow, inp, now)
                with _at_line(fields):
                    doc = docs.create_draft_in(uow, DraftInput(
                        K.SALES_DELIVERY, inp.warehouse_id, tuple(priced), partner_id=inp.partner_id,
                        remark=inp.remark or "开单", idempotency_key=key), actor, now)
                    _check_credit(uow, doc, actor, now)
                    docs.submit_in(uow, doc, actor, now)
                uow.commit()
    except Conflict as exc:
        if exc.code != "IDEMPOTENCY_IN_PROGRESS" or not key:
            raise
        first = exc.details["document_id"]  # a concurrent retry committed the sale first
    if first is not None:
        return _replay(f, first, inp, now)
    out = docs.get(f, doc)
    out["price_sources"] = sources
    return out


def _priced(uow: UnitOfWork, inp: QuickSaleInput, now: datetime) -> tuple[list[LineInput], list[dict[str, Any]]]:
    """Each line with its price (entered, else the price list's) and where that price came from."""
    priced, sources = [], []
    units = uow.documents.units({ln.product_id for ln in inp.lines})
    for i, ln in enumerate(inp.lines):
        src = None
        if ln.unit_price in (None, "") and ln.product_id in units:
            src = pricing.resolve_in(uow, pricing.PriceQuery(ln.product_id, ln.unit, inp.partner_id,
                                                             inp.channel, inp.member), now)
        sources.append({"line_no": i + 1, "entered": ln.unit_price not in (None, ""),
                        "source": None if src is None else src["source"],
                        "unit_price_base": None if src is None else src["unit_price_base"]})
        priced.append(LineInput(ln.product_id, ln.qty, ln.unit,
                                unit_price=ln.unit_price if src is None else src["unit_price"]))
    return priced, sources


def _check_credit(uow: UnitOfWork, doc_id: int, actor: Actor, now: datetime) -> None:
    """信用额度 — a counter sale on account is held to the customer's limit like a confirmed order."""
    doc = uow.documents.get(doc_id)
    assert doc is not None
    if doc["partner_id"] is None:
        return
    try:
        money.check_credit(uow, {"id": 0, "kind": "sales", "partner_id": doc["partner_id"], "lines": doc["lines"]},
                           actor, now)
    except Conflict as exc:
        if exc.code != "CREDIT_LIMIT_EXCEEDED":
            raise
        d = exc.details
        raise Conflict(exc.code,
                       f"超出信用额度：未收款 {d['owed']} + 本次开单 {d['order_value']} = {d['exposure']}，"
                       f"额度 {d['credit_limit']}；请先收款，或改开销售订单由有“信用超额审批”权限的人批准",
                       f"credit limit exceeded: owed {d['owed']} + this sale {d['order_value']} = {d['exposure']}, "
                       f"limit {d['credit_limit']}; collect payment first, or make a sales order and have someone "
                       "with sales.credit_override approve it", field="partner_id", details=d) from None


def _replay(f: UowFactory, doc_id: int, inp: QuickSaleInput, now: datetime) -> dict[str, Any]:
    """The first sale under this key; a different sale under the same key is refused (IDEMPOTENCY_MISMATCH).

    Price sources are worked out again and kept only where they still give the price the sale was made at."""
    out = docs.get(f, doc_id)
    try:
        asked = [(ln.product_id, to_decimal(ln.qty, "qty")) for ln in inp.lines]
    except DomainError:
        asked = []
    if (out["kind"], out["warehouse_id"], out["partner_id"]) != (K.SALES_DELIVERY.value, inp.warehouse_id,
                                                                  inp.partner_id) \
            or asked != [(ln["product_id"], ln["qty"]) for ln in out["lines"]]:
        raise DomainError("IDEMPOTENCY_MISMATCH",
                          f"幂等键 {inp.idempotency_key} 已用于另一笔开单（{out['number']}），请换一个新的键",
                          f"idempotency key {inp.idempotency_key} was used for another sale ({out['number']}); "
                          "use a new key", field="idempotency_key", details={"document_id": doc_id})
    with f() as uow:
        _, sources = _priced(uow, inp, now)
    for src, ln in zip(sources, out["lines"], strict=True):
        if src["source"] is not None and src["unit_price_base"] != ln["unit_price"]:
            src["source"] = None  # the price list changed since the sale
    out["price_sources"], out["replayed"] = sources, True
    return out


def return_goods(f: UowFactory, source_document_id: int, quantities: Mapping[int, Any], actor: Actor,
                 now: datetime, reason_code: str | None = None, reason_text: str | None = None) -> int:
    """退货 — a purchase return against a receipt, or a sales return against a delivery; submitted.

    {source line_no: qty in base units}. A line may return at most what it moved less earlier returns
    (drafts and pending ones count, checked under the original's lock inside the draft's own transaction —
    `doc_rules.validate_draft` — so two clerks cannot return the same goods twice); the goods move
    at the cost the original document posted with; the reason is required (sales and purchase returns).
    """
    with f() as uow:
        source = uow.documents.get(source_document_id, lock=True)  # serialises returns of one document
        if source is None:
            raise NotFound("NOT_FOUND", f"单据 {source_document_id} 不存在", f"document {source_document_id} does not exist",
                           field="source_document_id")
        kinds = {K.PURCHASE_RECEIPT.value: K.PURCHASE_RETURN, K.SALES_DELIVERY.value: K.SALES_RETURN}
        if source["kind"] not in kinds or source["state"] != "posted":
            raise Conflict("INVALID_TRANSITION", "只能对已生效的采购入库单或销售出库单退货",
                              "only a posted purchase receipt or sales delivery can be returned against",
                              field="source_document_id")
        by_no = {ln["line_no"]: ln for ln in source["lines"]}
        p, lines = Problems(), []
        for no, raw in sorted(quantities.items()):
            ln = by_no.get(no)
            qty = to_decimal(raw, f"quantities[{no}]")
            if ln is None or qty <= 0 or ln["qty_base"] <= 0:
                p.add("VALUE_INVALID", f"quantities[{no}]", f"原单没有第{no}行或数量无效", f"no line {no}, or bad qty")
                continue
            lines.append(LineInput(ln["product_id"], qty, lot_id=ln["lot_id"], unit_price=ln["unit_price"],
                                   location_id=ln["location_id"] if kinds[source["kind"]] is K.SALES_RETURN else None,
                                   source_line_no=no))
        if not quantities:
            p.add("POSTING_EMPTY", "quantities", "请填写退货数量", "enter what is returned")
        p.raise_if_any()
        doc = docs.create_draft_in(uow, DraftInput(kinds[source["kind"]], source["warehouse_id"], tuple(lines),
                                                   partner_id=source["partner_id"], reason_code=reason_code,
                                                   reason_text=reason_text, remark=f"退货 原单 {source['number']}",
                                                   source_document_id=source_document_id), actor, now)
        with _at_line({ln.product_id: (ln.source_line_no or 0, f"quantities[{ln.source_line_no}]") for ln in lines}):
            docs.submit_in(uow, doc, actor, now)
        uow.commit()
        return doc

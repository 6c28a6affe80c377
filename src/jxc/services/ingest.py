"""POS 与渠道导入 — batches of sale / return / channel-order events, each applied exactly once.

Guarantees:
- Exactly once (I7): an event is identified by (source, source_id). The first
  transaction to claim it applies it; a retry, or the same event in an
  overlapping batch, is answered `duplicate` with the first result and has no
  second effect. The same id with a different body is refused
  (IDEMPOTENCY_MISMATCH), never applied over the first.
- One event, one transaction: the event row, its lines, the document and its
  posting (ledger, balances, audit, outbox) commit together or not at all. One
  bad event is refused with its problem; the others of the batch still apply.
- Nothing is dropped: every line is recorded with the event — zero-quantity
  lines and discount (抹零/优惠) lines included. Whether a line moves stock is
  decided by its product and quantity, never by the sender's
  `inventory_change` flag: a product with a quantity always moves (the seed's
  POS marked real sales `inventory_change=false` and the books drifted).
- Stock moves only through documents: a sale posts a sales delivery, a return
  a sales return, through the normal posting path (I1–I5 hold). A channel order
  reserves (I4), a cancel releases, a shipment posts a delivery that consumes
  the order's reservations.
- A sale the books cannot cover (STOCK_INSUFFICIENT) is not skipped and not
  posted negative: the event is recorded as `held`, its sales delivery is kept
  as a draft (an open document, visible in every discrepancy view), and an
  `ingest.held` alert event is raised. Someone receives or counts the stock and
  submits the draft (or an approver with stock.allow_negative approves it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from jxc.domain import documents as d
from jxc.domain.errors import DomainError, NotFound, Problems
from jxc.domain.ledger import NO_LOT
from jxc.domain.quantities import ZERO, to_base, to_decimal
from jxc.services import documents as docs
from jxc.services import reserving
from jxc.services.access import require
from jxc.services.api_idempotency import Unprocessable
from jxc.services.doc_rules import DraftInput, LineInput, validate_draft
from jxc.services.ports import AuditEntry, OutboxMessage, UnitOfWork
from jxc.services.posting import Actor, utc

UowFactory = Callable[[], UnitOfWork]
FEEDS: Mapping[str, frozenset[str]] = {
    "pos": frozenset({"sale", "return"}),
    "channel": frozenset({"order", "cancel", "ship", "sale", "return"}),
}
OUT = frozenset({"sale", "ship"})  # event types that take stock out
SHORT = frozenset({"STOCK_INSUFFICIENT", "STOCK_RESERVED"})  # the books cannot cover it: hold, never skip
MAX_BATCH = 500


@dataclass(frozen=True)
class IngestLine:
    """导入明细 — as the till or channel sent it."""

    product: str | None = None  # product code or barcode; None for a money-only line
    qty: Any = "0"
    unit: str | None = None
    unit_price: Any = None
    amount: Any = None
    kind: str = "item"  # item / discount
    inventory_change: bool | None = None  # recorded, never trusted to decide a stock move
    lot: str | None = None


@dataclass(frozen=True)
class IngestEvent:
    """导入事件 — one sale, return or channel-order step with the source's own id."""

    source_id: str
    type: str
    warehouse: str | int  # warehouse / store code or id
    occurred_at: datetime
    lines: tuple[IngestLine, ...] = ()
    order_id: str | None = None  # channel order id (order / cancel / ship)
    reason: str | None = None  # returns
    remark: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)  # the event as sent: its fingerprint


@dataclass(frozen=True)
class Outcome:
    """导入结果 — applied / held / duplicate / refused, per event."""

    source_id: str
    result: str
    event_id: int | None = None
    status: str | None = None
    document_id: int | None = None
    document_number: str | None = None
    reservations: Mapping[str, int] | None = None
    problem: Mapping[str, Any] | None = None
    notes: tuple[str, ...] = ()


def fingerprint(raw: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def ingest(f: UowFactory, feed: str, source: str, events: Sequence[IngestEvent], actor: Actor, now: datetime,
           channel: str | None = None) -> list[Outcome]:
    """导入一批 — apply every event on its own; return one outcome per event, in order."""
    require(actor, "document.create.sales_delivery")
    if feed not in FEEDS or not (source or "").strip() or len(events) > MAX_BATCH or (feed == "channel") != bool(channel):
        raise DomainError("VALUE_INVALID", f"导入批次无效：需要来源{'和渠道' if feed == 'channel' else ''}，每批最多 {MAX_BATCH} 个事件",
                          f"invalid batch: a source{' and a channel' if feed == 'channel' else ''} and at most "
                          f"{MAX_BATCH} events are needed", field="source")
    out = []
    for ev in events:
        try:
            out.append(_one(f, feed, source, channel, ev, actor, now))
        except DomainError as exc:
            out.append(Outcome(ev.source_id, "refused", problem={**exc.as_dict(), "status": exc.status}))
    return out


def _one(f: UowFactory, feed: str, source: str, channel: str | None, ev: IngestEvent, actor: Actor,
         now: datetime) -> Outcome:
    try:
        return _apply(f, feed, source, channel, ev, actor, now, None)
    except DomainError as exc:
        if exc.code in SHORT and ev.type in OUT | {"order"}:
            return _apply(f, feed, source, channel, ev, actor, now, exc)
        raise


@dataclass
class _Line:
    row: dict[str, Any]  # the ingest_lines row
    lot_id: int = NO_LOT


def _apply(f: UowFactory, feed: str, source: str, channel: str | None, ev: IngestEvent, actor: Actor,
           now: datetime, short: DomainError | None) -> Outcome:
    digest = fingerprint(ev.raw)
    with f() as uow:
        first = uow.ingest.find(source, ev.source_id)
        if first is not None:
            return _duplicate(uow, first, digest, ev)
        wid = _check(uow, feed, channel, ev, actor)
        lines = _lines(uow, ev)
        amounts = [ln.row["amount"] for ln in lines if ln.row["amount"] is not None]
        event_id = uow.ingest.claim({
            "source": source, "source_id": ev.source_id, "feed": feed, "event_type": ev.type, "warehouse_id": wid,
            "channel_code": channel, "order_ref": ev.order_id, "occurred_at": utc(ev.occurred_at),
            "status": "held" if short else "applied", "amount": sum(amounts, ZERO) if amounts else None,
            "request_hash": digest, "payload": json.dumps(ev.raw, ensure_ascii=False, default=str),
            "received_by": actor.name, "received_at": now})
        if event_id is None:  # claimed by a concurrent batch since we looked
            again = uow.ingest.find(source, ev.source_id)
            assert again is not None
            return _duplicate(uow, again, digest, ev)
        uow.ingest.add_lines(event_id, [ln.row for ln in lines])
        moving = [ln for ln in lines if ln.row["moves_stock"]]
        values: dict[str, Any] = {}
        if ev.type == "order" and not short:
            values["reservations"] = json.dumps(_reserve(uow, ev, channel or "", wid, moving, event_id, actor, now))
        elif ev.type == "cancel":
            _release(uow, channel or "", ev, actor, now)
        elif moving and ev.type != "order":
            values["document_id"] = _document(uow, source, channel, ev, wid, moving, actor, now, post=short is None)
        if short is not None:
            values.update(problem_code=short.code, problem_zh=short.message_zh, problem_en=short.message_en)
            _alert(uow, event_id, source, ev, wid, short, values.get("document_id"), now)
        if values:
            uow.ingest.update(event_id, values)
        uow.audit.append(AuditEntry(f"ingest.{'held' if short else 'apply'}", "ingest_event", str(event_id), actor.name,
                                    now, None, {"source": source, "source_id": ev.source_id, "type": ev.type,
                                                "document_id": values.get("document_id"),
                                                "lines": len(lines), "moving_lines": len(moving)},
                                    actor.ip, actor.device))
        number = _number(uow, values.get("document_id"))
        uow.commit()
    status = "held" if short else "applied"
    return Outcome(ev.source_id, status, event_id, status, values.get("document_id"), number,
                   json.loads(values["reservations"]) if values.get("reservations") else None,
                   None if short is None else {"code": short.code, "message_zh": short.message_zh,
                                               "message_en": short.message_en, "details": short.details},
                   tuple(ln.row["note"] for ln in lines if ln.row["note"]))


def _duplicate(uow: UnitOfWork, first: Mapping[str, Any], digest: str, ev: IngestEvent) -> Outcome:
    if first["request_hash"] != digest:
        raise Unprocessable("IDEMPOTENCY_MISMATCH",
                            f"事件 {ev.source_id} 已以不同内容导入过（{first['received_at']:%Y-%m-%d %H:%M}），"
                            "同一个编号不能代表两笔交易；请核对来源系统",
                            f"event {ev.source_id} was already received with different content; one id cannot "
                            "stand for two transactions — check the source system", field="source_id",
                            details={"event_id": first["id"]})
    return Outcome(ev.source_id, "duplicate", first["id"], first["status"], first["document_id"],
                   _number(uow, first["document_id"]),
                   json.loads(first["reservations"]) if first["reservations"] else None)


def _number(uow: UnitOfWork, document_id: int | None) -> str | None:
    doc = uow.documents.get(document_id) if document_id else None
    return doc["number"] if doc else None


def _check(uow: UnitOfWork, feed: str, channel: str | None, ev: IngestEvent, actor: Actor) -> int:
    p = Problems()
    if not (ev.source_id or "").strip():
        p.add("VALUE_REQUIRED", "source_id", "事件缺少来源编号", "the event has no source_id")
    if ev.type not in FEEDS[feed]:
        p.add("VALUE_INVALID", "type", f"事件类型“{ev.type}”无效，可选：{', '.join(sorted(FEEDS[feed]))}",
              f"unknown event type '{ev.type}'; one of {', '.join(sorted(FEEDS[feed]))}")
    if ev.occurred_at.tzinfo is None:
        p.add("VALUE_INVALID", "occurred_at", "发生时间必须带时区，例如 2026-11-01T09:00:00+08:00",
              "occurred_at must carry a time zone, e.g. 2026-11-01T09:00:00+08:00")
    if ev.type in ("order", "cancel", "ship") and not ev.order_id:
        p.add("VALUE_REQUIRED", "order_id", "渠道订单事件需要订单号 order_id", "a channel order event needs its order_id")
    wh = (uow.records.get("warehouses", ev.warehouse) if isinstance(ev.warehouse, int)
          else uow.records.find("warehouses", code=ev.warehouse))
    if wh is None:
        p.add("NOT_FOUND", "warehouse", f"仓库/门店 {ev.warehouse} 不存在", f"no warehouse or store {ev.warehouse}")
    p.raise_if_any()
    assert wh is not None
    kind = "sales_return" if ev.type == "return" else "sales_delivery"
    require(actor, f"document.create.{kind}", wh["id"])
    if ev.type != "order" and ev.type != "cancel":
        require(actor, f"document.post.{kind}", wh["id"])
    if channel is not None:
        reserving._channel(uow, channel, wh["id"])  # the one check that the channel ships from there
    return int(wh["id"])


def _product(uow: UnitOfWork, ref: str) -> dict[str, Any] | None:
    row = uow.records.find("products", code=ref)
    if row is None and (bc := uow.records.find("product_barcodes", barcode=ref)) is not None:
        row = uow.records.get("products", bc["product_id"])
    return row


def _lines(uow: UnitOfWork, ev: IngestEvent) -> list[_Line]:
    """Every line resolved and recorded: product, base quantity, whether it moves stock, and why not."""
    p, out = Problems(), []
    for i, ln in enumerate(ev.lines):
        fld, n = f"lines[{i}]", i + 1
        product = None
        if ln.kind not in ("item", "discount"):
            p.add("VALUE_INVALID", f"{fld}.kind", f"第{n}行类型应为 item 或 discount", f"line {n}: kind is item or discount")
        if ln.product:
            product = _product(uow, ln.product)
            if product is None:
                p.add("NOT_FOUND", f"{fld}.product", f"第{n}行商品 {ln.product} 不存在（编码或条码）",
                      f"line {n}: no product with code or barcode {ln.product}")
        elif ln.kind == "item":
            p.add("VALUE_REQUIRED", f"{fld}.product", f"第{n}行缺少商品（优惠行请标 kind=discount）",
                  f"line {n}: no product (mark money-only lines kind=discount)")
        try:
            qty = to_decimal(ln.qty if ln.qty not in (None, "") else "0", f"{fld}.qty")
            price = None if ln.unit_price in (None, "") else to_decimal(ln.unit_price, f"{fld}.unit_price")
            amount = None if ln.amount in (None, "") else to_decimal(ln.amount, f"{fld}.amount")
        except DomainError as exc:
            p.add(exc.code, exc.field, exc.message_zh, exc.message_en)
            continue
        if qty < 0:
            p.add("VALUE_INVALID", f"{fld}.qty", f"第{n}行数量为负：退货请作为 return 事件发送",
                  f"line {n}: negative quantity; send returns as a return event")
        qty_base, unit, lot_id = ZERO, ln.unit, NO_LOT
        if product is not None and qty > 0:
            base, convs = uow.documents.units([product["id"]])[product["id"]]
            unit = ln.unit or base
            try:
                qty_base = to_base(qty, unit, base, convs, f"{fld}.unit")
            except DomainError as exc:
                p.add(exc.code, exc.field, f"第{n}行：{exc.message_zh}", f"line {n}: {exc.message_en}")
            if ln.lot:
                lot = uow.records.find("lots", product_id=product["id"], lot_number=ln.lot)
                if lot is None:
                    p.add("NOT_FOUND", f"{fld}.lot", f"第{n}行批次 {ln.lot} 不存在", f"line {n}: no lot {ln.lot}")
                else:
                    lot_id = int(lot["id"])
        if amount is None and price is not None:
            amount = price * qty
        moves = product is not None and qty > 0
        out.append(_Line({"line_no": n, "kind": ln.kind, "product_ref": ln.product,
                          "product_id": product["id"] if product else None, "qty": qty, "unit": unit,
                          "qty_base": qty_base, "unit_price": price, "amount": amount,
                          "inventory_change": ln.inventory_change, "moves_stock": moves,
                          "note": _note(n, ln, moves, qty)}, lot_id))
    p.raise_if_any()
    return out


def _note(n: int, ln: IngestLine, moves: bool, qty: Decimal) -> str | None:
    if moves and ln.inventory_change is False:
        return (f"第{n}行 inventory_change=false 已忽略：有商品和数量的行总是扣减库存 / line {n}: inventory_change=false "
                "ignored — a line with a product and a quantity always moves stock")
    if not moves and ln.product and qty == 0:
        return f"第{n}行数量为 0：已记录，不动库存 / line {n}: zero quantity — recorded, no stock moves"
    if not moves:
        return f"第{n}行为优惠/金额行：只记金额 / line {n}: discount line — amount recorded, no stock moves"
    return None


def _document(uow: UnitOfWork, source: str, channel: str | None, ev: IngestEvent, wid: int, moving: list[_Line],
              actor: Actor, now: datetime, post: bool) -> int:
    """The sales delivery (sale, ship) or sales return (return) of the event's stock lines."""
    kind = d.DocumentKind.SALES_RETURN if ev.type == "return" else d.DocumentKind.SALES_DELIVERY
    held = _order_reservations(uow, channel, ev) if ev.type == "ship" else {}
    inputs: list[LineInput] = []
    for ln in moving:
        r = ln.row
        rid, qty = held.get(r["product_id"]), r["qty_base"]
        left = _left(uow, rid)
        if rid and left > 0:  # the part the order reserved consumes its reservation, the rest is plain
            take = min(left, qty)
            inputs.append(LineInput(r["product_id"], take, None, ln.lot_id, r["unit_price"], remark=r["product_ref"],
                                    reservation_id=rid))
            qty -= take
        if qty > 0:
            inputs.append(LineInput(r["product_id"], qty, None, ln.lot_id, r["unit_price"], remark=r["product_ref"]))
    remark = f"{source} #{ev.source_id}" + (f" · {channel} {ev.order_id}" if channel and ev.order_id else "")
    reason = (ev.reason or f"{source} 退货 / return") if kind is d.DocumentKind.SALES_RETURN else None
    inp = DraftInput(kind, wid, tuple(inputs), ev.occurred_at, remark=(ev.remark or remark)[:2000], reason_text=reason)
    rows = validate_draft(uow, inp, actor.permissions)
    header = {"kind": kind.value, "number": docs.next_number(uow, kind, now), "state": d.DocumentState.DRAFT.value,
              "warehouse_id": wid, "to_warehouse_id": None, "partner_id": None,
              "effective_at": utc(ev.occurred_at), "remark": inp.remark, "reason_code": None, "reason_text": reason,
              "created_by": actor.name, "created_at": now, "updated_by": actor.name, "updated_at": now, "version": 1,
              "approval_level": 0, "allow_negative": False, "idempotency_key": None}
    doc_id = uow.documents.insert(header, rows)
    uow.audit.append(AuditEntry("document.create", "document", str(doc_id), actor.name, now, None,
                                {"kind": kind.value, "number": header["number"], "source": source,
                                 "source_id": ev.source_id, "lines": len(rows)}, actor.ip, actor.device))
    if post:
        doc = uow.documents.get(doc_id, lock=True)
        assert doc is not None
        docs.post_document_in(uow, doc, actor, now)
    return doc_id


def _order_reservations(uow: UnitOfWork, channel: str | None, ev: IngestEvent) -> dict[int, int]:
    order = uow.ingest.order_event(channel or "", ev.order_id or "")
    if order is None or not order["reservations"]:
        return {}
    return {int(k): int(v) for k, v in json.loads(order["reservations"]).items()}


def _left(uow: UnitOfWork, rid: int | None) -> Decimal:
    row = uow.reservations.get(rid) if rid else None
    return row["qty"] - row["qty_consumed"] if row and row["state"] == "pending" else ZERO


def _reserve(uow: UnitOfWork, ev: IngestEvent, channel: str, wid: int, moving: list[_Line], event_id: int,
             actor: Actor, now: datetime) -> dict[str, int]:
    """渠道订单 — reserve every stock line for the order (all or nothing: a shortfall holds the event)."""
    need: dict[int, Decimal] = {}
    for ln in moving:
        need[ln.row["product_id"]] = need.get(ln.row["product_id"], ZERO) + ln.row["qty_base"]
    out = {}
    for pid, qty in sorted(need.items()):
        r = reserving.reserve_in(uow, reserving.ReserveRequest(pid, wid, qty, f"{channel}:{ev.order_id}"[:128],
                                                               channel, idempotency_key=f"ingest:{event_id}:{pid}"),
                                 actor, now)
        out[str(pid)] = r.reservation_id
    return out


def _release(uow: UnitOfWork, channel: str, ev: IngestEvent, actor: Actor, now: datetime) -> None:
    for rid in _order_reservations(uow, channel, ev).values():
        if _left(uow, rid) > 0:
            reserving.release_in(uow, rid, actor, now, f"{channel} 订单取消 / order {ev.order_id} cancelled")


def _alert(uow: UnitOfWork, event_id: int, source: str, ev: IngestEvent, wid: int, short: DomainError,
           document_id: int | None, now: datetime) -> None:
    """缺货异常 — raised, never silent: the sale happened, the books cannot cover it yet."""
    what = "渠道订单无法预占（超卖）" if ev.type == "order" else "销售无法出库，已生成出库草稿待处理"
    what_en = "channel order could not be reserved (oversold)" if ev.type == "order" else \
        "sale could not be posted; its delivery is kept as a draft to resolve"
    uow.outbox.add(OutboxMessage("ingest.held", "ingest_event", str(event_id), {
        "event_id": event_id, "source": source, "source_id": ev.source_id, "type": ev.type, "warehouse_id": wid,
        "document_id": document_id, "code": short.code, "details": short.details,
        "message_zh": f"库存异常：{source} 事件 {ev.source_id} {what}：{short.message_zh}",
        "message_en": f"stock exception: {source} event {ev.source_id} {what_en}: {short.message_en}"}, now))


def get_event(f: UowFactory, event_id: int) -> dict[str, Any]:
    """导入事件 — one recorded event row (404 when there is none)."""
    with f() as uow:
        row = uow.ingest.get(event_id)
    if row is None:
        raise NotFound("NOT_FOUND", f"导入事件 {event_id} 不存在", f"ingest event {event_id} does not exist",
                       field="event_id")
    return row


def channels(f: UowFactory) -> list[dict[str, Any]]:
    """销售渠道 — the channels a channel feed may name (code, warehouses, buffer, quota, TTL)."""
    with f() as uow:
        return uow.reservations.channels()

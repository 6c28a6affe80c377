"""社群订单接单 — a pasted chat message becomes a draft sales order; the clerk's corrections are remembered.

Guarantees:
- The parser's catalog is built from the book's own products (codes, names, specs, base
  units and unit conversions, barcodes) plus the aliases clerks taught it, once, and kept
  in a `ChatCatalog`; every use first reads a one-statement fingerprint of products,
  conversions, barcodes and aliases, so a change made by any process (another web worker,
  the CLI) is seen by the next parse. Nothing is cached at module level.
- A learned alias is stored per business (one database = one book) with who and when, and
  every create, override and removal writes an audit record; removing deactivates it.
- Only lines the parser is sure of go on the draft order. A line with any review flag or a
  confidence below the threshold is left out and returned as ``needs_decision`` with its
  evidence and alternatives; the clerk adds it by accepting its index (or corrects it by
  teaching an alias and parsing again). Nothing uncertain is put on an order silently.
- A message that is not an order creates nothing and says why.
- The customer is guessed from phone numbers, addresses and names in the message, matched
  against customers' master data and against what earlier *confirmed* chat orders of each
  customer carried (a draft may still be for someone else). Without a clear winner nothing is
  guessed: the draft is refused with CHAT_CUSTOMER_UNKNOWN and the candidates.
- Creating the draft calls `trade.create_order` (its own transaction); the message and its
  customer hints are then stored in a second one. Confirming the order (`trade.confirm_order`)
  reserves its lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jxc.chat_orders import OrderLine, ParseResult
from jxc.chat_orders.contacts import ContactHint, address_key, contact_hints, phone_key
from jxc.chat_orders.units import normalize_decimal
from jxc.domain.errors import NotFound, Problems
from jxc.services import reserving, trade
from jxc.services.access import require
from jxc.services.chat_aliases import (
    MAX_ALIAS,
    MAX_TEXT,
    PERMISSION,
    delete_alias,
    list_aliases,
    record_alias,
)
from jxc.services.chat_catalog import BookCatalog, ChatCatalog, build_catalog
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

__all__ = ["MAX_ALIAS", "MAX_TEXT", "BookCatalog", "ChatCatalog", "ChatDraft", "ChatOrderInput", "ChatParse",
           "CustomerGuess", "LineView", "build_catalog", "delete_alias", "draft_order", "guess_customer",
           "list_aliases", "parse_message", "record_alias"]

UowFactory = Callable[[], UnitOfWork]
# How much one piece of evidence says about who is ordering.
HINT_WEIGHT = {"phone": 0.9, "room": 0.7, "estate": 0.25, "name": 0.5}
GUESS_MIN = 0.6  # a customer is guessed only at or above this score ...
GUESS_MARGIN = 0.2  # ... and this far ahead of the next candidate


# ── parse ──────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class LineView:
    """解析行 — a parsed line with its product row, base quantity, availability and decision."""

    index: int
    line: OrderLine
    product_id: int
    qty_base: Decimal | None
    available: Decimal | None
    placed: bool  # goes on the draft by itself; otherwise it needs the clerk's decision
    alternatives: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        data = self.line.to_json()
        data.update(index=self.index, product_id=self.product_id, alternatives=list(self.alternatives),
                    qty_base=None if self.qty_base is None else normalize_decimal(self.qty_base),
                    available=None if self.available is None else normalize_decimal(self.available),
                    enough=None if self.available is None or self.qty_base is None
                    else self.available >= self.qty_base,
                    decision="place" if self.placed else "needs_decision")
        return data


@dataclass(frozen=True)
class CustomerGuess:
    """客户识别 — the guessed customer (or None) and every candidate with its evidence."""

    partner_id: int | None
    confidence: float
    candidates: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        best = self.candidates[0] if self.partner_id is not None else None
        return {"partner_id": self.partner_id, "code": best and best["code"], "name": best and best["name"],
                "confidence": round(self.confidence, 3), "candidates": list(self.candidates)}


@dataclass(frozen=True)
class ChatParse:
    """解析结果 — the parse, lines with availability, contacts seen and the customer guess."""

    result: ParseResult
    lines: tuple[LineView, ...]
    contacts: tuple[ContactHint, ...]
    customer: CustomerGuess
    warehouse_id: int | None

    def to_json(self) -> dict[str, Any]:
        data = self.result.to_json()
        data.pop("id", None)
        data["lines"] = [v.to_json() for v in self.lines]
        data["contacts"] = [{"kind": c.kind, "key": c.key, "text": c.text} for c in self.contacts]
        data["customer"] = self.customer.to_json()
        data["warehouse_id"] = self.warehouse_id
        return data


def _text(text: str) -> str:
    problems = Problems()
    if not text or not text.strip():
        problems.add("VALUE_REQUIRED", "text", "请粘贴顾客的消息", "paste the customer's message")
    elif len(text) > MAX_TEXT:
        problems.add("VALUE_INVALID", "text", f"消息太长（最多 {MAX_TEXT} 字）", f"the message is longer than {MAX_TEXT}")
    problems.raise_if_any()
    return text


def parse_in(uow: UnitOfWork, catalog: ChatCatalog, text: str, warehouse_id: int | None,
             today: date) -> ChatParse:
    """Parse inside an open unit of work (reads only)."""
    book = catalog.current(uow)
    result = book.parser.parse(text)
    views = []
    for i, line in enumerate(result.lines, start=1):
        pid = book.product_ids[line.sku]
        qty_base = book.qty_base(line)
        available = reserving.available_qty(uow, pid, warehouse_id, today) if warehouse_id else None
        alternatives = tuple({**alt, "product_id": book.product_ids.get(alt["sku"])} for alt in line.alternatives)
        placed = not line.needs_review and line.confidence >= book.parser.review_threshold and qty_base is not None
        views.append(LineView(i, line, pid, qty_base, available, placed, alternatives))
    contacts = tuple(contact_hints(text))
    return ChatParse(result, tuple(views), contacts, guess_customer(uow, contacts), warehouse_id)


def parse_message(f: UowFactory, catalog: ChatCatalog, text: str, actor: Actor, now: datetime,
                  warehouse_id: int | None = None, today: date | None = None) -> ChatParse:
    """解析 — parse a message against the book's catalog; availability per line when a warehouse is given.
    Writes nothing."""
    require(actor, PERMISSION, warehouse_id)
    _text(text)
    with f() as uow:
        if warehouse_id is not None and uow.records.get("warehouses", warehouse_id) is None:
            raise NotFound("NOT_FOUND", f"仓库 {warehouse_id} 不存在", f"warehouse {warehouse_id} does not exist",
                           field="warehouse_id")
        return parse_in(uow, catalog, text, warehouse_id, today or now.date())


# ── customer memory ───────────────────────────────────────────────────────────


def _weight(hint_kind: str, key: str) -> float:
    if hint_kind == "address":
        return HINT_WEIGHT["room"] if re.search(r"\d", key) else HINT_WEIGHT["estate"]
    return HINT_WEIGHT[hint_kind]


def guess_customer(uow: UnitOfWork, contacts: Iterable[ContactHint]) -> CustomerGuess:
    """客户识别 — score customers by the phones, addresses and names in the message."""
    contacts = list(contacts)
    evidence: dict[int, dict[tuple[str, str], dict[str, Any]]] = {}

    def note(pid: int, hint: ContactHint, source: str, seen: int = 0) -> None:
        weight = _weight(hint.kind, hint.key)
        if source == "memory":
            weight *= min(1.0, 0.7 + 0.1 * seen)  # seen once: a bit less sure than the master data
        ev = evidence.setdefault(pid, {})
        old = ev.get((hint.kind, hint.key))
        if old is None or old["weight"] < weight:
            ev[(hint.kind, hint.key)] = {"kind": hint.kind, "text": hint.text, "source": source, "seen": seen,
                                         "weight": round(weight, 3)}

    by_key = {(c.kind, c.key): c for c in contacts}
    for row in uow.chat.hints(by_key):
        note(row["partner_id"], by_key[(row["kind"], row["value_key"])], "memory", row["seen"])
    tails = [c.key[-4:] for c in contacts if c.kind == "phone"]
    names = [c.key for c in contacts if c.kind == "name"]
    # a room number (502 of 3栋502) or an estate narrows the stored addresses to read
    terms = [re.findall(r"\d+", c.key)[-1] if re.search(r"\d", c.key) else c.key
             for c in contacts if c.kind == "address"]
    for p in uow.chat.customers(tails, names, terms):
        for c in contacts:
            hit = ((c.kind == "phone" and p["phone"] and phone_key(p["phone"]) == c.key)
                   or (c.kind == "address" and p["address"] and c.key in address_key(p["address"]))
                   or (c.kind == "name" and c.key in p["name"]))
            if hit:
                note(p["id"], c, "partner")
    scored = []
    for pid, ev in evidence.items():
        miss = 1.0
        for item in ev.values():
            miss *= 1 - item["weight"]
        row = uow.records.get("partners", pid)
        if row is None or not row["active"] or row["role"] not in ("customer", "both"):
            continue
        scored.append({"partner_id": pid, "code": row["code"], "name": row["name"], "score": round(1 - miss, 3),
                       "evidence": sorted(ev.values(), key=lambda e: -e["weight"])})
    scored.sort(key=lambda c: (-c["score"], c["partner_id"]))
    best = scored[0] if scored else None
    clear = best is not None and best["score"] >= GUESS_MIN and (
        len(scored) == 1 or best["score"] - scored[1]["score"] >= GUESS_MARGIN)
    return CustomerGuess(best["partner_id"] if clear and best else None, best["score"] if clear and best else 0.0,
                         tuple(scored[:5]))


# ── draft order ───────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ChatOrderInput:
    """社群订单 — the pasted message, the warehouse, and the clerk's decisions."""

    text: str
    warehouse_id: int
    customer_id: int | None = None  # None: the guess (refused when there is no clear one)
    accept: tuple[int, ...] = ()  # indexes of needs_decision lines to put on the order as parsed
    remark: str | None = None
    # (line index, product_id): "this line is that product" — remembered as an alias of the
    # line's product words, so the line (and the same phrasing next time) matches it
    corrections: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ChatDraft:
    """草稿订单 — the order created (or None, with the reason) and the parse behind it."""

    order_id: int | None
    number: str | None
    partner_id: int | None
    parse: ChatParse
    placed: tuple[int, ...] = ()
    reason: str | None = None
    reason_zh: str | None = None
    reason_en: str | None = None
    needs_decision: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data = self.parse.to_json()
        data.update(created=self.order_id is not None, order_id=self.order_id, number=self.number,
                    partner_id=self.partner_id, placed=list(self.placed), needs_decision=list(self.needs_decision))
        if self.reason is not None:
            data.update(reason=self.reason, reason_zh=self.reason_zh, reason_en=self.reason_en)
        return data


def draft_order(f: UowFactory, catalog: ChatCatalog, req: ChatOrderInput, actor: Actor, now: datetime,
                today: date | None = None) -> ChatDraft:
    """社群订单下单 — parse the message and create a DRAFT sales order with the sure lines (and accepted ones).

    Returns the draft with every line's evidence, alternatives and availability. Creates
    nothing for a message that is not an order, or when every line still needs a decision."""
    require(actor, PERMISSION, req.warehouse_id)
    parse = parse_message(f, catalog, req.text, actor, now, req.warehouse_id, today)
    if req.corrections:
        parse = _apply_corrections(f, catalog, parse, req, actor, now, today)
    if parse.result.unparseable:
        r = parse.result.to_json()
        return ChatDraft(None, None, None, parse, reason=r["reason"], reason_zh=r["reason_zh"],
                         reason_en=r["reason_en"])
    problems = Problems()
    known = {v.index for v in parse.lines}
    for i, index in enumerate(req.accept):
        if index not in known:
            problems.add("VALUE_INVALID", f"accept[{i}]", f"没有第 {index} 行", f"there is no line {index}")
    partner_id = req.customer_id if req.customer_id is not None else parse.customer.partner_id
    if partner_id is None:
        problems.add("CHAT_CUSTOMER_UNKNOWN", "customer_id", "认不出是哪位客户，请选择客户",
                     "the customer cannot be told from the message; choose one",
                     candidates=[{k: c[k] for k in ("partner_id", "code", "name", "score")}
                                 for c in parse.customer.candidates])
    problems.raise_if_any()
    placed = tuple(v.index for v in parse.lines if v.placed or v.index in req.accept)
    left = tuple(v.index for v in parse.lines if v.index not in placed)
    if not placed:
        return ChatDraft(None, None, partner_id, parse, reason="needs_decision",
                         reason_zh="每一行都需要确认，请逐行确认或更正后再下单",
                         reason_en="every line needs a decision; accept or correct them first", needs_decision=left)
    by_index = {v.index: v for v in parse.lines}
    lines = [trade.OrderLineInput(by_index[i].product_id, by_index[i].line.qty, unit=by_index[i].line.unit)
             for i in placed]
    remark = req.remark or f"社群订单 chat order: {req.text.strip()[:180]}"
    order_id = trade.create_order(f, "sales", partner_id, req.warehouse_id, lines, actor, now, remark=remark)
    number = trade.get_order(f, order_id)["number"]
    with f() as uow:
        hints = [{"kind": c.kind, "value_key": c.key[:100], "value": c.text[:200]} for c in parse.contacts]
        intake = uow.chat.add_intake({"order_id": order_id, "partner_id": partner_id, "text": req.text,
                                      "lines_placed": len(placed), "lines_left_out": len(left),
                                      "created_by": actor.name, "created_at": now}, hints)
        uow.audit.append(AuditEntry("chat_order.create", "order", str(order_id), actor.name, now, None,
                                    {"intake_id": intake, "number": number, "partner_id": partner_id,
                                     "guessed": req.customer_id is None, "placed": list(placed),
                                     "needs_decision": list(left), "accepted": list(req.accept)},
                                    actor.ip, actor.device))
        uow.commit()
    return ChatDraft(order_id, number, partner_id, parse, placed, needs_decision=left)


def _apply_corrections(f: UowFactory, catalog: ChatCatalog, parse: ChatParse, req: ChatOrderInput, actor: Actor,
                       now: datetime, today: date | None) -> ChatParse:
    """Teach each corrected line's product words as an alias, then parse again; a corrected
    line is then a learned-alias match and goes on the order like any sure line."""
    by_index = {v.index: v for v in parse.lines}
    problems = Problems()
    for i, (index, _pid) in enumerate(req.corrections):
        if index not in by_index:
            problems.add("VALUE_INVALID", f"corrections[{i}].line", f"没有第 {index} 行", f"there is no line {index}")
    problems.raise_if_any()
    for index, product_id in req.corrections:
        record_alias(f, catalog, by_index[index].line.evidence["product_text"], product_id, actor, now, req.text)
    return parse_message(f, catalog, req.text, actor, now, req.warehouse_id, today)

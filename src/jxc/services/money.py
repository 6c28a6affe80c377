"""应收应付 — receivables and payables raised by posting, receipts and payments, allocation (核销),
statements (对账单), ageing (账龄), the credit check and no-stock trading (无库存版).

Guarantees:
- A posted sales delivery / return or purchase receipt / return with a partner
  raises its open item in the SAME unit of work as the posting (`raise_for_document`
  is called by the documents service); a reversal of the document reverses the item
  in the reversal's unit of work. Nothing is raised for a zero amount (no partner,
  or no priced line): a counter sale without a customer is paid at the till.
- Every item is append-only; its `allocated` is the sum of its allocation rows
  and never exceeds its amount; a payment never allocates more than it has open
  (over-allocation is refused with OVER_ALLOCATION, nothing is written).
- Reversing a payment or document releases its allocations (negative rows) and
  nets it against its reversal item: what it paid becomes a credit again.
- A refund (退款) is a payment whose item is positive: it consumes the partner's
  credits (open credit items dated by the refund) in the same transaction, and is
  refused (REFUND_EXCEEDS_CREDIT) when larger than the credit net of what the
  partner still owes; two refunds racing for one credit are serialised by the
  partner lock, so they never take more than it had.
- Receipts, payments and refunds write their audit record and `payment.*` outbox
  event in the same transaction; an idempotency key returns the first payment.
- Partner balance = Σ item amounts = Σ open remainders (debits − credits);
  a statement's opening + movements = closing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jxc.domain import ledger
from jxc.domain import money as m
from jxc.domain.documents import number as doc_number
from jxc.domain.errors import Conflict, DomainError, NotFound, Problems
from jxc.domain.quantities import ZERO, money, to_decimal
from jxc.domain.settings import with_defaults
from jxc.services.access import require
from jxc.services.ports import AuditEntry, OutboxMessage, UnitOfWork
from jxc.services.posting import Actor, utc

UowFactory = Callable[[], UnitOfWork]
PERM_RECEIVE, PERM_PAY, PERM_VIEW, PERM_CREDIT = "money.receive", "money.pay", "money.view", "sales.credit_override"
# money in needs money.receive, money out money.pay: a customer refund pays out, a supplier refund comes in
PERMISSION = {m.PaymentKind.RECEIPT: PERM_RECEIVE, m.PaymentKind.PAYMENT: PERM_PAY,
              m.PaymentKind.CUSTOMER_REFUND: PERM_PAY, m.PaymentKind.SUPPLIER_REFUND: PERM_RECEIVE}
PREFIX = {m.PaymentKind.RECEIPT: "SK", m.PaymentKind.PAYMENT: "FK", m.PaymentKind.CUSTOMER_REFUND: "TK",
          m.PaymentKind.SUPPLIER_REFUND: "TK"}
NO_STOCK_KINDS = frozenset(m.DOCUMENT_SIDES)


def audit(uow: UnitOfWork, action: str, kind: str, oid: int, actor: Actor, now: datetime,
           before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
    uow.audit.append(AuditEntry(action, kind, str(oid), actor.name, now, plain_values(before), plain_values(after),
                                actor.ip, actor.device))


def plain_values(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: (str(v) if isinstance(v, Decimal | date | datetime) else v) for k, v in row.items()}


# ── raised by posting ───────────────────────────────────────────────────────


def no_stock(uow: UnitOfWork, kind: str) -> bool:
    """无库存版 — trading documents post money but no stock when the book says so."""
    return kind in NO_STOCK_KINDS and bool(with_defaults(uow.settings.all())["trading.no_stock"])


def raise_for_document(uow: UnitOfWork, doc: Mapping[str, Any], actor: Actor, now: datetime) -> int | None:
    """应收/应付 — the open item of a posting document (inside its unit of work); None when nothing is owed."""
    if doc["kind"] not in m.DOCUMENT_SIDES or doc.get("partner_id") is None:
        return None
    side, _ = m.DOCUMENT_SIDES[doc["kind"]]
    amount, unpriced = m.document_amount(doc["kind"], doc["lines"])
    if doc["kind"] == "purchase_receipt":
        amount += doc.get("freight") or ZERO  # 运费: the supplier bills it on the same 应付 (docs/money.md)
    if amount == 0:
        return None
    uow.money.lock_partner(doc["partner_id"])
    partner = uow.records.get("partners", doc["partner_id"])
    assert partner is not None
    at = doc["effective_at"]
    item = {"partner_id": doc["partner_id"], "side": side.value, "kind": doc["kind"], "document_id": doc["id"],
            "reference": doc["number"], "effective_at": at, "amount": amount, "unpriced_lines": unpriced,
            "due_on": m.due_on(at.date(), partner.get("payment_terms_days")) if amount > 0 else None,
            "created_by": actor.name, "created_at": now}
    item_id = uow.money.add_item(item)
    first = None
    if amount < 0 and doc.get("source_document_id"):
        src = uow.money.item_of_document(doc["source_document_id"])
        first = src["id"] if src else None
    settle(uow, {**item, "id": item_id, "allocated": ZERO}, actor, now, prefer=first)
    uow.outbox.add(OutboxMessage(f"{side.value}.raised", "money_item", str(item_id),
                                 {"item_id": item_id, "partner_id": doc["partner_id"], "document_id": doc["id"],
                                  "reference": doc["number"], "amount": str(amount), "unpriced_lines": unpriced},
                                 now))
    return item_id


def reverse_for_document(uow: UnitOfWork, doc: Mapping[str, Any], actor: Actor, now: datetime,
                         effective_at: datetime | None) -> int | None:
    """红冲 — the document's open item is reversed with it (its allocations become credits again)."""
    item = uow.money.item_of_document(doc["id"])
    if item is None:
        return None
    uow.money.lock_partner(item["partner_id"])
    return reverse_item(uow, item, actor, now, utc(effective_at) if effective_at else now, "reversal")


def reverse_item(uow: UnitOfWork, item: Mapping[str, Any], actor: Actor, now: datetime, at: datetime,
                  kind: str) -> int:
    _release(uow, item["id"], at, actor, now)
    rid = uow.money.add_item({"partner_id": item["partner_id"], "side": item["side"], "kind": kind,
                              "document_id": item["document_id"], "payment_id": item["payment_id"],
                              "account_id": item["account_id"], "reference": item["reference"],
                              "effective_at": at, "amount": -item["amount"], "reverses_id": item["id"],
                              "due_on": None, "created_by": actor.name, "created_at": now})
    debit, credit = (item["id"], rid) if item["amount"] > 0 else (rid, item["id"])
    uow.money.allocate(debit, credit, abs(item["amount"]), max(at, item["effective_at"]), actor.name, now)
    return rid


def _release(uow: UnitOfWork, item_id: int, at: datetime, actor: Actor, now: datetime) -> None:
    for pair in uow.money.allocations_of(item_id):
        uow.money.allocate(pair["debit_item_id"], pair["credit_item_id"], -pair["amount"],
                           max(at, pair["effective_at"]), actor.name, now)


def remaining(item: Mapping[str, Any]) -> Decimal:
    return abs(item["amount"]) - item["allocated"]


def settle(uow: UnitOfWork, item: Mapping[str, Any], actor: Actor, now: datetime, prefer: int | None = None,
           limit: Decimal | None = None) -> Decimal:
    """Allocate an item against the opposite-signed open items of its partner, oldest first."""
    left = remaining(item) if limit is None else limit
    sign = 1 if item["amount"] > 0 else -1
    others = [o for o in uow.money.open_items(item["partner_id"], item["side"], lock=True, sign=-sign)
              if o["id"] != item["id"]]
    others.sort(key=lambda o: (o["id"] != prefer, o["effective_at"], o["id"]))
    plan = m.oldest_first(left, [m.Open(o["id"], remaining(o), (i,)) for i, o in enumerate(others)])
    by_id = {o["id"]: o for o in others}
    for oid, amt in plan:
        debit, credit = (item["id"], oid) if sign > 0 else (oid, item["id"])
        uow.money.allocate(debit, credit, amt, max(item["effective_at"], by_id[oid]["effective_at"]), actor.name, now)
    return sum((a for _, a in plan), ZERO)


# ── accounts (资金账户) ───────────────────────────────────────────────────────


def create_account(f: UowFactory, code: str, name: str, kind: str, actor: Actor, now: datetime) -> int:
    """新建资金账户 — cash 现金, bank 银行, wechat 微信, alipay 支付宝 (master data)."""
    require(actor, "masterdata.edit")
    p = Problems()
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        p.add("VALUE_REQUIRED", "code", "账户编码不能为空", "code is required")
    if not name:
        p.add("VALUE_REQUIRED", "name", "账户名称不能为空", "name is required")
    if kind not in m.AccountKind._value2member_map_:
        p.add("VALUE_INVALID", "kind", "账户类型应为 cash/bank/wechat/alipay（现金/银行/微信/支付宝）",
              "kind must be cash, bank, wechat or alipay")
    with f() as uow:
        if code and uow.money.account(code=code) is not None:
            p.add("CODE_TAKEN", "code", f"账户编码“{code}”已被占用", f"account code '{code}' is already used")
        p.raise_if_any()
        values = {"code": code, "name": name, "kind": kind, "active": True, "version": 1, "updated_at": now}
        aid = uow.money.add_account(values)
        audit(uow, "account.create", "money_account", aid, actor, now, None, values)
        uow.commit()
        return aid


def accounts(f: UowFactory, actor: Actor, at: datetime | None = None) -> list[dict[str, Any]]:
    """资金账户余额 — money in each account from receipts and payments (as of ``at``)."""
    require(actor, PERM_VIEW)
    with f() as uow:
        bal = uow.money.account_balances(at)
        rows = uow.money.accounts()
        return [{**r, "balance": bal.get(r["id"], ZERO)} for r in rows]


# ── receipts and payments (收款单 / 付款单) ─────────────────────────────────────


@dataclass(frozen=True)
class PaymentInput:
    """收付款输入 — allocations: None = oldest first; () = none (all a prepayment); else [(item id, amount)]."""

    kind: m.PaymentKind
    partner_id: int
    account_id: int
    amount: Any
    effective_at: datetime | None = None
    allocations: Sequence[tuple[int, Any]] | None = None
    remark: str | None = None
    idempotency_key: str | None = None


def _hash(inp: PaymentInput, amount: Decimal) -> str:
    """A retry without a business time gets "now" again: the key compares what the caller sent."""
    at = utc(inp.effective_at).isoformat() if inp.effective_at else None
    body = [inp.kind.value, inp.partner_id, inp.account_id, str(amount.normalize()), at,
            None if inp.allocations is None else [[i, str(a)] for i, a in inp.allocations], inp.remark]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()


AMOUNT_LIMIT = Decimal(10) ** 12  # a money column holds 16 digits before the point; SQLite stores ×10⁴ in 64 bits


def parse_amount(raw: Any, field: str, p: Problems, allow: str = "positive") -> Decimal:
    """A money amount from what a person typed (``allow``: positive / nonzero / nonnegative), or a problem."""
    try:
        value = to_decimal(raw, field)
    except DomainError as exc:
        p.add(exc.code, field, exc.message_zh, exc.message_en)
        return ZERO
    if abs(value) >= AMOUNT_LIMIT:
        p.add("VALUE_INVALID", field, "金额过大（应小于 1 万亿）", "the amount is too large (it must be below 10^12)")
    elif allow == "positive" and value <= 0:
        p.add("VALUE_INVALID", field, "金额必须大于 0", "the amount must be greater than 0")
    elif allow == "nonzero" and value == 0:
        p.add("VALUE_INVALID", field, "金额不能为 0", "the amount cannot be 0")
    elif allow == "nonnegative" and value < 0:
        p.add("VALUE_INVALID", field, "金额不能为负", "the amount cannot be negative")
    elif money(value) != value:
        p.add("VALUE_INVALID", field, "金额最多 4 位小数", "an amount has at most 4 decimal places")
    else:
        return value
    return ZERO


def record_payment(f: UowFactory, inp: PaymentInput, actor: Actor, now: datetime) -> int:
    """收款 / 付款 / 退款 — money into or out of an account, allocated to open items; the rest of a receipt or
    payment is a prepayment, a refund is allocated in full to the partner's credits."""
    require(actor, PERMISSION[inp.kind])
    side, sign = m.PAYMENT_SIDE[inp.kind], m.PAYMENT_SIGN[inp.kind]
    p = Problems()
    amount = parse_amount(inp.amount, "amount", p)
    at = utc(inp.effective_at or now)
    wanted = [(int(i), parse_amount(a, f"allocations[{n}].amount", p)) for n, (i, a) in enumerate(inp.allocations or ())]
    digest = _hash(inp, amount)
    with f() as uow:
        if inp.idempotency_key:
            done = uow.money.payment(key=inp.idempotency_key)
            if done is not None:
                if done["request_hash"] != digest:
                    raise DomainError("IDEMPOTENCY_MISMATCH", f"幂等键 {inp.idempotency_key} 已用于另一笔收付款",
                                      f"idempotency key {inp.idempotency_key} was used for a different payment",
                                      field="idempotency_key", details={"payment_id": done["id"]})
                return done["id"]
        check_partner(uow, inp.partner_id, side, p)
        account = uow.money.account(inp.account_id)
        if account is None:
            p.add("NOT_FOUND", "account_id", f"资金账户 {inp.account_id} 不存在", f"account {inp.account_id} does not exist")
        elif not account["active"]:
            p.add("INACTIVE", "account_id", f"资金账户 {account['name']} 已停用", f"account {account['name']} is deactivated")
        p.raise_if_any()
        ledger.check_period_open(at, uow.book.lock_head().closed_until)
        uow.money.lock_partner(inp.partner_id)
        plan = _refund_plan(uow, inp.partner_id, side, at, amount, inp.allocations is None, wanted) if sign > 0 else ()
        number = doc_number(PREFIX[inp.kind], now.date(), uow.documents.next_number(PREFIX[inp.kind], f"{now:%Y%m%d}"))
        pid = uow.money.add_payment({"number": number, "kind": inp.kind.value, "partner_id": inp.partner_id,
                                     "account_id": inp.account_id, "amount": amount, "effective_at": at,
                                     "state": "posted", "idempotency_key": inp.idempotency_key,
                                     "request_hash": digest, "remark": inp.remark, "created_by": actor.name,
                                     "created_at": now})
        item = {"partner_id": inp.partner_id, "side": side.value, "kind": inp.kind.value, "payment_id": pid,
                "account_id": inp.account_id, "reference": number, "effective_at": at, "amount": sign * amount,
                "due_on": None, "created_by": actor.name, "created_at": now}
        item_id = uow.money.add_item(item)
        uow.money.update_payment(pid, {"item_id": item_id})
        if sign > 0:
            for credit_id, amt in plan:
                uow.money.allocate(item_id, credit_id, amt, at, actor.name, now)
            allocated = sum((a for _, a in plan), ZERO)
        else:
            allocated = _allocate(uow, {**item, "id": item_id, "allocated": ZERO}, inp.allocations is None, wanted,
                                  actor, now)
        after = {"number": number, "kind": inp.kind.value, "partner_id": inp.partner_id,
                 "account_id": inp.account_id, "amount": amount, "effective_at": at, "allocated": allocated}
        audit(uow, "payment.record", "payment", pid, actor, now, None, after)
        uow.outbox.add(OutboxMessage("payment.recorded", "payment", str(pid),
                                     plain_values({**after, "payment_id": pid, "unallocated": amount - allocated}) or {},
                                     now))
        uow.commit()
        return pid


def check_partner(uow: UnitOfWork, partner_id: int, side: m.Side, p: Problems, field: str = "partner_id") -> None:
    """The partner exists and is a customer (receivable side) or supplier (payable side)."""
    partner = uow.records.get("partners", partner_id)
    role = "customer" if side is m.Side.RECEIVABLE else "supplier"
    if partner is None:
        p.add("NOT_FOUND", field, f"往来单位 {partner_id} 不存在", f"partner {partner_id} does not exist")
    elif partner["role"] not in (role, "both"):
        p.add("VALUE_INVALID", field, f"{partner['name']} 不是{'客户' if role == 'customer' else '供应商'}",
              f"{partner['name']} is not a {role}")


def _refund_plan(uow: UnitOfWork, partner_id: int, side: m.Side, at: datetime, amount: Decimal, oldest: bool,
                 wanted: Sequence[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    """退款 — which credits the refund consumes (under the partner lock): oldest first, or exactly those named.

    Only credits dated by the refund count; the refund may not exceed them, nor the partner's net credit."""
    credits = {o["id"]: remaining(o) for o in uow.money.open_items(partner_id, side.value, lock=True, sign=-1)
               if o["effective_at"] <= at}
    m.check_refund(amount, m.refundable(credits.values(), uow.money.balance(partner_id, side.value)))
    if oldest:
        return m.oldest_first(amount, [m.Open(i, left, (n,)) for n, (i, left) in enumerate(credits.items())])
    m.check_allocation(amount, wanted, credits)
    if sum((a for _, a in wanted), ZERO) != amount:
        raise DomainError("VALUE_INVALID", f"退款必须全部核销到贷方明细：核销合计 {sum((a for _, a in wanted), ZERO)}，退款 {amount}",
                          f"a refund is allocated in full to credits: the allocations sum to "
                          f"{sum((a for _, a in wanted), ZERO)}, the refund is {amount}", field="allocations")
    return list(wanted)


def _allocate(uow: UnitOfWork, item: Mapping[str, Any], oldest: bool, wanted: Sequence[tuple[int, Decimal]],
              actor: Actor, now: datetime) -> Decimal:
    if oldest:
        return settle(uow, item, actor, now)
    sign = 1 if item["amount"] > 0 else -1  # a payment (credit) settles debits; a re-opened refund, credits
    opens = {o["id"]: o for o in uow.money.open_items(item["partner_id"], item["side"], lock=True, sign=-sign)}
    m.check_allocation(remaining(item), wanted, {i: remaining(o) for i, o in opens.items()})
    for item_id, amt in wanted:
        debit, credit = (item["id"], item_id) if sign > 0 else (item_id, item["id"])
        uow.money.allocate(debit, credit, amt, max(item["effective_at"], opens[item_id]["effective_at"]),
                           actor.name, now)
    return sum((a for _, a in wanted), ZERO)


def allocate(f: UowFactory, payment_id: int, allocations: Sequence[tuple[int, Any]] | None, actor: Actor,
             now: datetime) -> Decimal:
    """核销 — allocate what is still unallocated of a payment (explicitly, or oldest first when None)."""
    p = Problems()
    wanted = [(int(i), parse_amount(a, f"allocations[{n}].amount", p)) for n, (i, a) in enumerate(allocations or ())]
    p.raise_if_any()
    with f() as uow:
        pay = _payment(uow, payment_id)
        require(actor, PERMISSION[m.PaymentKind(pay["kind"])])
        if pay["state"] != "posted":
            raise DomainError("INVALID_TRANSITION", "已红冲的收付款不能核销", "a reversed payment cannot be allocated",
                              field="payment_id")
        uow.money.lock_partner(pay["partner_id"])
        item = uow.money.item(pay["item_id"])
        assert item is not None
        done = _allocate(uow, item, allocations is None, wanted, actor, now)
        audit(uow, "payment.allocate", "payment", payment_id, actor, now, {"allocated": item["allocated"]},
               {"allocated": item["allocated"] + done, "allocations": [[i, str(a)] for i, a in wanted] or "oldest"})
        uow.outbox.add(OutboxMessage("payment.allocated", "payment", str(payment_id),
                                     {"payment_id": payment_id, "allocated": str(done)}, now))
        uow.commit()
        return done


def reverse_payment(f: UowFactory, payment_id: int, reason: str, actor: Actor, now: datetime,
                    effective_at: datetime | None = None) -> int:
    """红冲收付款 — money back out of (into) the account; its allocations are released."""
    if not (reason or "").strip():
        raise DomainError("REASON_REQUIRED", "红冲必须填写原因", "a reversal needs a reason", field="reason")
    with f() as uow:
        pay = _payment(uow, payment_id, lock=True)
        require(actor, PERMISSION[m.PaymentKind(pay["kind"])])
        if pay["state"] != "posted":
            raise Conflict("ALREADY_REVERSED", f"收付款 {pay['number']} 已红冲", f"payment {pay['number']} was already reversed",
                           field="payment_id")
        at = utc(effective_at) if effective_at else now
        ledger.check_period_open(at, uow.book.lock_head().closed_until)
        uow.money.lock_partner(pay["partner_id"])
        item = uow.money.item(pay["item_id"])
        assert item is not None
        rid = reverse_item(uow, item, actor, now, max(at, item["effective_at"]), "reversal")
        uow.money.update_payment(payment_id, {"state": "reversed", "reversal_item_id": rid, "reason": reason,
                                              "reversed_by": actor.name, "reversed_at": now})
        audit(uow, "payment.reverse", "payment", payment_id, actor, now, {"state": "posted"},
               {"state": "reversed", "reason": reason, "reversal_item_id": rid})
        uow.outbox.add(OutboxMessage("payment.reversed", "payment", str(payment_id),
                                     {"payment_id": payment_id, "number": pay["number"], "reason": reason}, now))
        uow.commit()
        return rid


def partner_of(uow: UnitOfWork, partner_id: int) -> dict[str, Any]:
    partner = uow.records.get("partners", partner_id)
    if partner is None:
        raise NotFound("NOT_FOUND", f"往来单位 {partner_id} 不存在", f"partner {partner_id} does not exist",
                       field="partner_id")
    return partner


def _payment(uow: UnitOfWork, payment_id: int, lock: bool = False) -> dict[str, Any]:
    pay = uow.money.payment(payment_id, lock=lock)
    if pay is None:
        raise NotFound("NOT_FOUND", f"收付款单 {payment_id} 不存在", f"payment {payment_id} does not exist",
                       field="payment_id")
    return pay


def get_payment(f: UowFactory, payment_id: int, actor: Actor) -> dict[str, Any]:
    require(actor, PERM_VIEW)
    with f() as uow:
        pay = _payment(uow, payment_id)
        pay["allocations"] = uow.money.allocations_of(pay["item_id"]) if pay["item_id"] else []
        item = uow.money.item(pay["item_id"]) if pay["item_id"] else None
        pay["unallocated"] = remaining(item) if item else ZERO
        return pay


# ── credit check (信用额度) ───────────────────────────────────────────────────


def order_value(order: Mapping[str, Any]) -> Decimal:
    return sum((money(ln["qty_base"] * ln["unit_price"]) for ln in order["lines"] if ln["unit_price"] is not None), ZERO)


def check_credit(uow: UnitOfWork, order: Mapping[str, Any], actor: Actor, now: datetime) -> None:
    """Confirming a sales order: its value + open receivables must stay within the customer's credit limit,
    unless someone with `sales.credit_override` approved this order's exposure (`override_credit`)."""
    if order["kind"] != "sales":
        return
    partner = uow.records.get("partners", order["partner_id"])
    if partner is None or partner.get("credit_limit") is None:
        return
    owed = uow.money.balance(order["partner_id"], m.Side.RECEIVABLE.value)
    value = order_value(order)
    exposure = owed + value
    if exposure <= partner["credit_limit"]:
        return
    approved = uow.money.credit_override(order["id"])
    if approved is not None and approved["exposure"] >= exposure:
        return
    raise Conflict("CREDIT_LIMIT_EXCEEDED",
                   f"超出信用额度：{partner['name']} 未收款 {owed} + 本单 {value} = {exposure}，额度 {partner['credit_limit']}；"
                   "请先收款，或由有“信用超额审批”权限（sales.credit_override）的人批准后再确认",
                   f"credit limit exceeded: {partner['name']} owes {owed} + this order {value} = {exposure}, "
                   f"limit {partner['credit_limit']}; collect payment first, or have someone with "
                   "sales.credit_override approve the order, then confirm again",
                   field="partner_id", details={"owed": str(owed), "order_value": str(value),
                                                "exposure": str(exposure), "credit_limit": str(partner["credit_limit"]),
                                                "permission": PERM_CREDIT})


def override_credit(f: UowFactory, order_id: int, reason: str, actor: Actor, now: datetime) -> dict[str, Any]:
    """信用超额审批 — allow this order's current exposure over the limit; audited with the reason."""
    require(actor, PERM_CREDIT)
    if not (reason or "").strip():
        raise DomainError("REASON_REQUIRED", "信用超额审批必须填写原因", "a credit override needs a reason", field="reason")
    with f() as uow:
        order = uow.trade.get(order_id)
        if order is None or order["kind"] != "sales":
            raise NotFound("NOT_FOUND", f"销售订单 {order_id} 不存在", f"sales order {order_id} does not exist",
                           field="order_id")
        partner = partner_of(uow, order["partner_id"])
        exposure = uow.money.balance(order["partner_id"], m.Side.RECEIVABLE.value) + order_value(order)
        values = {"order_id": order_id, "partner_id": order["partner_id"], "exposure": exposure,
                  "credit_limit": partner.get("credit_limit"), "reason": reason, "actor": actor.name, "at": now}
        oid = uow.money.add_credit_override(values)
        audit(uow, "order.credit_override", "order", order_id, actor, now, None, values)
        uow.outbox.add(OutboxMessage("order.credit_overridden", "order", str(order_id), plain_values(values) or {}, now))
        uow.commit()
        return {**values, "id": oid}


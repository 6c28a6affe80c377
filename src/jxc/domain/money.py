"""应收应付 — money owed: open items, allocation (核销), ageing (账龄), statements (对账单).

Pure rules over values; the services store them.

Guarantees:
- Money is `Decimal` with `MONEY_PLACES` places; a document's amount is the sum of
  its priced lines, each rounded half-up once (qty in base units × price per base unit).
- An open item's amount is signed per side: positive raises what is owed
  (delivery on the receivable side, purchase receipt on the payable side),
  negative is a credit (return, receipt of money, payment of money).
- `allocate` never allocates more than either side has open, and never a
  negative amount: over-allocation is refused, not clipped.
- Ageing buckets partition the open debit items exactly: the buckets sum to
  the open debits, and open credits (prepayments) are reported beside them.
- A refund (退款) never pays back more than the partner's credit: its open credit
  items, and never more than the net credit (what the partner is owed after what
  it still owes). A transfer's legs take `amount` out of one account and put
  `amount − fee` into another; the fee is what the two legs leave behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from jxc.domain.errors import Conflict, DomainError
from jxc.domain.quantities import ZERO, money


class Side(StrEnum):
    """往来方向 — receivable (应收, customers) or payable (应付, suppliers)."""

    RECEIVABLE = "receivable"
    PAYABLE = "payable"


class AccountKind(StrEnum):
    """资金账户类型."""

    CASH = "cash"  # 现金
    BANK = "bank"  # 银行
    WECHAT = "wechat"  # 微信
    ALIPAY = "alipay"  # 支付宝


class PaymentKind(StrEnum):
    """收款 (money in from a customer) / 付款 (money out to a supplier), and the refunds of a credit."""

    RECEIPT = "receipt"  # 收款单
    PAYMENT = "payment"  # 付款单
    CUSTOMER_REFUND = "customer_refund"  # 退款给客户: money back out to a customer, from its credit
    SUPPLIER_REFUND = "supplier_refund"  # 供应商退款: money back in from a supplier, from our credit there


PAYMENT_SIDE = {PaymentKind.RECEIPT: Side.RECEIVABLE, PaymentKind.PAYMENT: Side.PAYABLE,
                PaymentKind.CUSTOMER_REFUND: Side.RECEIVABLE, PaymentKind.SUPPLIER_REFUND: Side.PAYABLE}
# sign of the payment's open item: money received / paid is a credit (−); a refund consumes a credit (+)
PAYMENT_SIGN = {PaymentKind.RECEIPT: -1, PaymentKind.PAYMENT: -1, PaymentKind.CUSTOMER_REFUND: 1,
                PaymentKind.SUPPLIER_REFUND: 1}
REFUND_KIND = {Side.RECEIVABLE: PaymentKind.CUSTOMER_REFUND, Side.PAYABLE: PaymentKind.SUPPLIER_REFUND}

# document kind -> (side, sign of Σ qty × price on the open item)
DOCUMENT_SIDES: Mapping[str, tuple[Side, int]] = {
    "sales_delivery": (Side.RECEIVABLE, 1),
    "sales_return": (Side.RECEIVABLE, -1),
    "purchase_receipt": (Side.PAYABLE, 1),
    "purchase_return": (Side.PAYABLE, -1),
}

ITEM_LABELS = {"sales_delivery": ("销售出库", "sales delivery"), "sales_return": ("销售退货", "sales return"),
               "purchase_receipt": ("采购入库", "purchase receipt"), "purchase_return": ("采购退货", "purchase return"),
               "receipt": ("收款", "receipt"), "payment": ("付款", "payment"), "reversal": ("红冲", "reversal"),
               "opening": ("期初", "opening balance"), "customer_refund": ("退款", "refund to customer"),
               "supplier_refund": ("供应商退款", "refund from supplier")}

BUCKETS = ("not_due", "d1_30", "d31_60", "d61_90", "over_90")
BUCKET_LABELS = {"not_due": ("未到期", "not due"), "d1_30": ("逾期1-30天", "1–30 days"),
                 "d31_60": ("逾期31-60天", "31–60 days"), "d61_90": ("逾期61-90天", "61–90 days"),
                 "over_90": ("逾期90天以上", "over 90 days")}


def document_amount(kind: str, lines: Iterable[Mapping[str, object]]) -> tuple[Decimal, int]:
    """The signed open-item amount of a posted document, and how many lines had no price.

    Lines without a price add nothing (they are not billed); the caller decides
    what an all-unpriced document means (no open item is raised for zero).
    """
    _, sign = DOCUMENT_SIDES[kind]
    total, unpriced = ZERO, 0
    for ln in lines:
        price = ln.get("unit_price")
        if price is None:
            unpriced += 1
            continue
        total += money(Decimal(str(ln["qty_base"])) * Decimal(str(price)))
    return sign * total, unpriced


def due_on(effective: date, terms_days: int | None) -> date:
    """到期日 — business date + payment terms (账期); no terms means due at once."""
    return effective + timedelta(days=terms_days or 0)


def bucket(due: date | None, as_of: date) -> str:
    """账龄段 of an open debit, by days overdue on ``as_of``."""
    overdue = 0 if due is None else (as_of - due).days
    if overdue <= 0:
        return "not_due"
    if overdue <= 30:
        return "d1_30"
    if overdue <= 60:
        return "d31_60"
    if overdue <= 90:
        return "d61_90"
    return "over_90"


@dataclass(frozen=True)
class Open:
    """一条未核销 — an item's id, what is still open (> 0, in the item's own direction), and its order key."""

    item_id: int
    open: Decimal
    order: tuple[object, ...] = ()


def oldest_first(amount: Decimal, items: Sequence[Open]) -> list[tuple[int, Decimal]]:
    """先进先出核销 — spread ``amount`` over open items in their order; what is left stays unallocated."""
    out: list[tuple[int, Decimal]] = []
    left = amount
    for it in sorted(items, key=lambda i: (i.order, i.item_id)):
        if left <= 0:
            break
        take = min(left, it.open)
        if take > 0:
            out.append((it.item_id, take))
            left -= take
    return out


def check_allocation(source_open: Decimal, wanted: Sequence[tuple[int, Decimal]],
                     targets: Mapping[int, Decimal]) -> None:
    """Refuse a negative or zero line, an unknown target, or more than either side has open."""
    total = ZERO
    for item_id, amt in wanted:
        if amt <= 0:
            raise DomainError("VALUE_INVALID", f"核销金额必须大于 0（明细 {item_id}：{amt}）",
                              f"an allocation must be greater than 0 (item {item_id}: {amt})", field="allocations")
        if item_id not in targets:
            raise DomainError("ALLOCATION_TARGET_INVALID",
                              f"往来明细 {item_id} 不属于该单位的同一方向，或已红冲，不能核销",
                              f"open item {item_id} is not an open item of this partner and side; it cannot be allocated",
                              field="allocations", details={"item_id": item_id})
        if amt > targets[item_id]:
            raise Conflict("OVER_ALLOCATION",
                           f"核销超额：明细 {item_id} 只剩 {targets[item_id]} 未核销，不能核销 {amt}；请减少核销金额",
                           f"over-allocation: item {item_id} has only {targets[item_id]} open, cannot allocate {amt}; "
                           "allocate less", field="allocations",
                           details={"item_id": item_id, "open": str(targets[item_id]), "asked": str(amt)})
        total += amt
    if total > source_open:
        raise Conflict("OVER_ALLOCATION",
                       f"核销超额：本笔只剩 {source_open} 未核销，核销合计 {total}；请减少核销金额",
                       f"over-allocation: only {source_open} of this payment is unallocated but {total} was asked; "
                       "allocate less", field="allocations",
                       details={"open": str(source_open), "asked": str(total)})


@dataclass(frozen=True)
class AgedItem:
    """账龄明细 — one open item as of a date: signed amount still open, due date."""

    partner_id: int
    open: Decimal
    due_on: date | None


def age(items: Iterable[AgedItem], as_of: date) -> dict[int, dict[str, Decimal]]:
    """账龄表 — per partner: the five buckets of open debits, open credits (≤ 0), and the balance."""
    out: dict[int, dict[str, Decimal]] = {}
    for it in items:
        row = out.setdefault(it.partner_id, {**{b: ZERO for b in BUCKETS}, "credit": ZERO, "balance": ZERO})
        if it.open > 0:
            row[bucket(it.due_on, as_of)] += it.open
        else:
            row["credit"] += it.open
        row["balance"] += it.open
    return out


def refundable(open_credits: Iterable[Decimal], balance: Decimal) -> Decimal:
    """可退金额 — the open credits, but never more than the net credit (−balance); never below 0."""
    return max(ZERO, min(sum(open_credits, ZERO), -balance))


def check_refund(amount: Decimal, available: Decimal) -> None:
    """Refuse a refund larger than the partner's available credit (REFUND_EXCEEDS_CREDIT, field ``amount``)."""
    if amount > available:
        raise Conflict("REFUND_EXCEEDS_CREDIT",
                       f"退款超额：该单位可退的余额（预收/预付、退货等未用的贷方）只有 {available}，不能退 {amount}",
                       f"refund too large: the partner has only {available} of credit (unused prepayments, returns) "
                       f"to refund, not {amount}", field="amount",
                       details={"available": str(available), "asked": str(amount)})


def transfer_legs(from_account: int, to_account: int, amount: Decimal, fee: Decimal) -> list[tuple[int, Decimal]]:
    """资金调拨 — ``amount`` leaves one account, ``amount − fee`` arrives in the other (the fee stays behind)."""
    if from_account == to_account:
        raise DomainError("VALUE_INVALID", "调出和调入账户不能相同", "the two accounts of a transfer must differ",
                          field="to_account_id")
    if fee < 0 or fee >= amount:
        raise DomainError("VALUE_INVALID", f"手续费应在 0 与调拨金额 {amount} 之间（不含）",
                          f"the fee must be at least 0 and less than the amount {amount}", field="fee")
    return [(from_account, -amount), (to_account, amount - fee)]

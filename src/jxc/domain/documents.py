"""单据 — document kinds, states, the lifecycle table, and how each kind moves stock.

Guarantees:
- A document's state changes only along `TRANSITIONS`; anything else raises
  INVALID_TRANSITION naming the state and the action.
- Orders never move stock; every stock document maps its lines to movements
  through exactly one flow in `FLOWS` (a strategy table of small functions).
- Posted is final: a posted document changes only to `reversed`, by a
  reversal document that references it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from jxc.domain.catalog import StockStatus
from jxc.domain.errors import DomainError
from jxc.domain.ledger import NO_LOT, Movement


class DocumentKind(StrEnum):
    """单据类型 — the stock documents of DESIGN.md §2."""

    OPENING_BALANCE = "opening_balance"  # 期初
    PURCHASE_RECEIPT = "purchase_receipt"  # 采购入库
    PURCHASE_RETURN = "purchase_return"  # 采购退货
    SALES_DELIVERY = "sales_delivery"  # 销售出库
    SALES_RETURN = "sales_return"  # 销售退货
    TRANSFER = "transfer"  # 调拨(出库至在途)
    TRANSFER_RECEIPT = "transfer_receipt"  # 调拨签收
    SCRAP = "scrap"  # 报损
    COUNT_ADJUSTMENT = "count_adjustment"  # 盘盈盘亏
    STATUS_CHANGE = "status_change"  # 冻结/解冻/质检/放行/上架
    PRODUCTION_ISSUE = "production_issue"  # 生产领料
    PRODUCTION_RECEIPT = "production_receipt"  # 完工入库
    ASSEMBLY = "assembly"  # 组装
    DISASSEMBLY = "disassembly"  # 拆卸


class DocumentState(StrEnum):
    """单据状态."""

    DRAFT = "draft"  # 草稿
    PENDING_APPROVAL = "pending_approval"  # 审核中
    POSTED = "posted"  # 已生效
    REVERSED = "reversed"  # 已红冲
    CANCELLED = "cancelled"  # 已作废


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    POST = "post"
    REVERSE = "reverse"
    CANCEL = "cancel"


S, A = DocumentState, Action
# (state, action) -> state after. SUBMIT goes to PENDING_APPROVAL when a rule
# asks, else straight through POST; APPROVE of the last level posts.
TRANSITIONS: Mapping[tuple[DocumentState, Action], DocumentState] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.PENDING_APPROVAL,
    (S.DRAFT, A.POST): S.POSTED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.PENDING_APPROVAL, A.APPROVE): S.PENDING_APPROVAL,
    (S.PENDING_APPROVAL, A.POST): S.POSTED,
    (S.PENDING_APPROVAL, A.REJECT): S.DRAFT,
    (S.POSTED, A.REVERSE): S.REVERSED,
}

STATE_LABELS = {S.DRAFT: ("草稿", "draft"), S.PENDING_APPROVAL: ("审核中", "pending approval"),
                S.POSTED: ("已生效", "posted"), S.REVERSED: ("已红冲", "reversed"),
                S.CANCELLED: ("已作废", "cancelled")}
ACTION_LABELS = {A.EDIT: ("修改", "edit"), A.SUBMIT: ("提交", "submit"), A.APPROVE: ("审批", "approve"),
                 A.REJECT: ("驳回", "reject"), A.POST: ("过账", "post"), A.REVERSE: ("红冲", "reverse"),
                 A.CANCEL: ("作废", "cancel")}


def transition(state: DocumentState, action: Action) -> DocumentState:
    """The state after ``action``, or INVALID_TRANSITION."""
    after = TRANSITIONS.get((state, action))
    if after is None:
        zs, es = STATE_LABELS[state]
        za, ea = ACTION_LABELS[action]
        raise DomainError("INVALID_TRANSITION", f"{zs}状态的单据不能{za}",
                          f"a document in state '{es}' does not allow '{ea}'",
                          field="state", details={"state": state.value, "action": action.value})
    return after


@dataclass(frozen=True)
class KindInfo:
    """单据类型信息 — number prefix, names, what the header needs."""

    prefix: str
    zh: str
    en: str
    partner: str | None = None  # "supplier" / "customer" when the document names one
    reason_required: bool = False
    to_warehouse: bool = False


KINDS: Mapping[DocumentKind, KindInfo] = {
    DocumentKind.OPENING_BALANCE: KindInfo("QC", "期初入库", "opening balance"),
    DocumentKind.PURCHASE_RECEIPT: KindInfo("CGRK", "采购入库", "purchase receipt", partner="supplier"),
    DocumentKind.PURCHASE_RETURN: KindInfo("CGTH", "采购退货", "purchase return", partner="supplier",
                                           reason_required=True),
    DocumentKind.SALES_DELIVERY: KindInfo("XSCK", "销售出库", "sales delivery", partner="customer"),
    DocumentKind.SALES_RETURN: KindInfo("XSTH", "销售退货", "sales return", partner="customer",
                                        reason_required=True),
    DocumentKind.TRANSFER: KindInfo("DBCK", "调拨出库", "transfer", to_warehouse=True),
    DocumentKind.TRANSFER_RECEIPT: KindInfo("DBQS", "调拨签收", "transfer receipt"),
    DocumentKind.SCRAP: KindInfo("BS", "报损", "scrap", reason_required=True),
    DocumentKind.COUNT_ADJUSTMENT: KindInfo("PDTZ", "盘盈盘亏", "count adjustment", reason_required=True),
    DocumentKind.STATUS_CHANGE: KindInfo("ZTBG", "库存状态变更", "status change"),
    DocumentKind.PRODUCTION_ISSUE: KindInfo("SCLL", "生产领料", "production issue"),
    DocumentKind.PRODUCTION_RECEIPT: KindInfo("WGRK", "完工入库", "production receipt"),
    DocumentKind.ASSEMBLY: KindInfo("ZZ", "组装", "assembly"),
    DocumentKind.DISASSEMBLY: KindInfo("CX", "拆卸", "disassembly"),
}


class LineRole(StrEnum):
    """明细角色 — direction of a line where a kind has two (count, assembly)."""

    NONE = ""
    GAIN = "gain"  # 盘盈
    LOSS = "loss"  # 盘亏
    COMPONENT = "component"  # 组件/原料
    OUTPUT = "output"  # 成品


@dataclass(frozen=True)
class Line:
    """单据明细 — one line in base units, with where it moves."""

    product_id: int
    qty_base: Decimal
    location_id: int
    lot_id: int = NO_LOT
    unit_price: Decimal | None = None
    role: LineRole = LineRole.NONE
    from_status: StockStatus = StockStatus.AVAILABLE
    to_status: StockStatus | None = None
    to_location_id: int | None = None  # transfer receipt: where it arrives


@dataclass(frozen=True)
class Places:
    """虚拟库位 — ids of the virtual locations flows move against."""

    supplier: int
    customer: int
    production: int
    scrap: int
    count_diff: int
    opening: int
    transit: int


Flow = Callable[[Line, Places], tuple[Movement, ...]]


def _in(src: Callable[[Places], int]) -> Flow:
    def flow(ln: Line, p: Places) -> tuple[Movement, ...]:
        return (Movement(ln.product_id, ln.qty_base, src(p), ln.location_id, ln.lot_id,
                         to_status=ln.to_status, unit_cost=ln.unit_price),)
    return flow


def _out(dst: Callable[[Places], int], priced: bool = False) -> Flow:
    def flow(ln: Line, p: Places) -> tuple[Movement, ...]:
        return (Movement(ln.product_id, ln.qty_base, ln.location_id, dst(p), ln.lot_id,
                         from_status=ln.from_status, unit_cost=ln.unit_price if priced else None),)
    return flow


def _status(ln: Line, p: Places) -> tuple[Movement, ...]:
    return (Movement(ln.product_id, ln.qty_base, ln.location_id, ln.location_id, ln.lot_id,
                     from_status=ln.from_status, to_status=ln.to_status),)


def _count(ln: Line, p: Places) -> tuple[Movement, ...]:
    flow = _in(lambda q: q.count_diff) if ln.role is LineRole.GAIN else _out(lambda q: q.count_diff)
    return flow(ln, p)


def _transfer_receipt(ln: Line, p: Places) -> tuple[Movement, ...]:
    dest = ln.to_location_id if ln.to_location_id is not None else p.count_diff  # shortage: written off
    return (Movement(ln.product_id, ln.qty_base, p.transit, dest, ln.lot_id),)


def _assembly(components_out: bool) -> Flow:
    def flow(ln: Line, p: Places) -> tuple[Movement, ...]:
        consumed = (ln.role is LineRole.COMPONENT) == components_out
        return (_out(lambda q: q.production) if consumed else _in(lambda q: q.production))(ln, p)
    return flow


FLOWS: Mapping[DocumentKind, Flow] = {
    DocumentKind.OPENING_BALANCE: _in(lambda p: p.opening),
    DocumentKind.PURCHASE_RECEIPT: _in(lambda p: p.supplier),
    DocumentKind.PURCHASE_RETURN: _out(lambda p: p.supplier),
    DocumentKind.SALES_DELIVERY: _out(lambda p: p.customer),
    DocumentKind.SALES_RETURN: _in(lambda p: p.customer),
    DocumentKind.TRANSFER: _out(lambda p: p.transit),
    DocumentKind.TRANSFER_RECEIPT: _transfer_receipt,
    DocumentKind.SCRAP: _out(lambda p: p.scrap),
    DocumentKind.COUNT_ADJUSTMENT: _count,
    DocumentKind.STATUS_CHANGE: _status,
    DocumentKind.PRODUCTION_ISSUE: _out(lambda p: p.production),
    DocumentKind.PRODUCTION_RECEIPT: _in(lambda p: p.production),
    DocumentKind.ASSEMBLY: _assembly(components_out=True),
    DocumentKind.DISASSEMBLY: _assembly(components_out=False),
}


def movements_for(kind: DocumentKind, lines: tuple[Line, ...], places: Places) -> tuple[Movement, ...]:
    """The movement set a posted document writes to the ledger."""
    flow = FLOWS[kind]
    return tuple(m for ln in lines for m in flow(ln, places))


def number(prefix: str, on: date, seq: int) -> str:
    """单号 — e.g. CGRK-20260122-0001 (per prefix and day)."""
    return f"{prefix}-{on:%Y%m%d}-{seq:04d}"

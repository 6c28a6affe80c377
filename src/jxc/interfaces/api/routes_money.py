"""应收应付 — money accounts, receipts, payments and refunds with allocation (核销), open items, partner
balances, statements (对账单), ageing (账龄), credit overrides, opening balances (期初) and transfers between
accounts (资金调拨); all under /api/v1/money."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field

from jxc.domain.errors import DomainError
from jxc.domain.money import PaymentKind, Side
from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp, caller_key
from jxc.interfaces.api.render import plain
from jxc.services import money, money_reads
from jxc.services import money_openings as op
from jxc.services import money_transfers as mt

router = APIRouter(prefix="/api/v1/money", tags=["money"])
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
QId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
Amount = Annotated[str, Field(min_length=1, max_length=30, description="decimal as text 金额, e.g. '120.50'")]


class AccountIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["cash", "bank", "wechat", "alipay"] = Field(description="现金/银行/微信/支付宝")


class AllocationIn(BaseModel):
    item_id: DbId
    amount: Amount


class PaymentIn(BaseModel):
    kind: PaymentKind = Field(description="receipt 收款 (from a customer) / payment 付款 (to a supplier) / "
                                          "customer_refund 退款 (to a customer, from its credit) / "
                                          "supplier_refund 供应商退款 (from a supplier, from our credit)")
    partner_id: DbId
    account_id: DbId
    amount: Amount
    effective_at: datetime | None = None
    allocate: Literal["oldest", "none", "explicit"] = Field(
        "oldest", description="oldest: oldest open items first 先进先出; none: all a prepayment 预收/预付 "
                              "(not for refunds); explicit: exactly `allocations` (a refund's sum to its amount)")
    allocations: list[AllocationIn] = Field(default_factory=list, max_length=500)
    remark: Annotated[str | None, Field(max_length=2000)] = None


class AllocateIn(BaseModel):
    allocations: list[AllocationIn] | None = Field(None, max_length=500, description="null: oldest first")


class ReverseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    effective_at: datetime | None = None


class OpeningIn(BaseModel):
    partner_id: DbId
    amount: Annotated[str, Field(min_length=1, max_length=30, description="signed 金额: > 0 owed, < 0 a credit 预收/预付")]
    on: date = Field(description="the invoice's date (or the opening date) 日期, in the book's time zone")
    reference: Annotated[str | None, Field(max_length=64, description="invoice number 单号 (default 期初)")] = None
    due_on: date | None = Field(None, description="due date 到期日 (default: date + the partner's terms)")
    side: Side | None = Field(None, description="receivable / payable (default: from the partner's role)")
    remark: Annotated[str | None, Field(max_length=2000)] = None


class OpeningsIn(BaseModel):
    entries: list[OpeningIn] = Field(min_length=1, max_length=op.MAX_ENTRIES)


class TransferIn(BaseModel):
    from_account_id: DbId
    to_account_id: DbId
    amount: Amount
    fee: Annotated[str, Field(max_length=30, description="手续费: the to account receives amount − fee")] = "0"
    effective_at: datetime | None = None
    remark: Annotated[str | None, Field(max_length=2000)] = None


class OverrideIn(BaseModel):
    order_id: DbId
    reason: str = Field(min_length=1, max_length=2000)


def _aware(at: datetime | None, field: str) -> datetime | None:
    if at is not None and at.tzinfo is None:
        raise DomainError("VALUE_INVALID", f"{field} 必须带时区，例如 2026-11-01T09:00:00+08:00",
                          f"{field} must carry a time zone, e.g. 2026-11-01T09:00:00+08:00", field=field)
    return at


def _day_start(app: Any, day: date) -> datetime:
    if not date(1970, 1, 2) <= day <= date(2999, 12, 31):
        raise DomainError("VALUE_INVALID", f"日期 {day} 超出范围（1970-01-02 至 2999-12-31）",
                          f"date {day} is out of range (1970-01-02 … 2999-12-31)", field="date")
    return datetime.combine(day, time(0), tzinfo=app.settings.zone)


@router.get("/accounts")
def list_accounts(actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """资金账户 — cash, bank, WeChat Pay, Alipay, each with its balance (receipts in, payments out)."""
    return {"items": plain(money.accounts(app.uow_factory, actor)), "next_cursor": None}


@router.post("/accounts", status_code=201)
def create_account(body: AccountIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """新建资金账户 — master data (masterdata.edit)."""
    aid = money.create_account(app.uow_factory, body.code, body.name, body.kind, actor, app.clock.now())
    return plain(next(a for a in money.accounts(app.uow_factory, actor) if a["id"] == aid)) \
        if actor.can(money.PERM_VIEW) else {"id": aid, "code": body.code, "name": body.name, "kind": body.kind}


@router.get("/payments")
def list_payments(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
                  partner_id: QId = None, kind: PaymentKind | None = None,
                  state: Literal["posted", "reversed"] | None = None) -> dict[str, Any]:
    """收付款单列表 — by id, filtered by partner, kind and state."""
    rows = money_reads.page_payments(app.uow_factory, actor, pg.decode(cursor, "id"), limit + 1, partner_id=partner_id,
                               kind=kind and kind.value, state=state)
    return pg.by_id(rows, limit, plain)


@router.post("/payments", status_code=201)
def record_payment(body: PaymentIn, request: Request, actor: CurrentActor, app: JxcApp,
                   idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> dict[str, Any]:
    """收款 / 付款 — into or out of an account, allocated to open items; the rest stays as a prepayment."""
    key = caller_key(request, actor, idempotency_key)
    allocations = (None if body.allocate == "oldest" else
                   [] if body.allocate == "none" else [(a.item_id, a.amount) for a in body.allocations])
    pid = money.record_payment(app.uow_factory, money.PaymentInput(
        body.kind, body.partner_id, body.account_id, body.amount, _aware(body.effective_at, "effective_at"),
        allocations, body.remark, key), actor, app.clock.now())
    return plain(money.get_payment(app.uow_factory, pid, actor)) if actor.can(money.PERM_VIEW) else {"id": pid}


@router.get("/payments/{payment_id}")
def get_payment(payment_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """收付款单 — with its allocations and what is still unallocated."""
    return plain(money.get_payment(app.uow_factory, payment_id, actor))


@router.post("/payments/{payment_id}/allocate")
def allocate(payment_id: pg.Id, body: AllocateIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """核销 — allocate what is left of a payment: explicitly, or oldest first (409 OVER_ALLOCATION when too much)."""
    wanted = None if body.allocations is None else [(a.item_id, a.amount) for a in body.allocations]
    money.allocate(app.uow_factory, payment_id, wanted, actor, app.clock.now())
    return plain(money.get_payment(app.uow_factory, payment_id, actor))


@router.post("/payments/{payment_id}/reverse")
def reverse_payment(payment_id: pg.Id, body: ReverseIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """红冲收付款 — its allocations are released; the money goes back out of (into) the account."""
    money.reverse_payment(app.uow_factory, payment_id, body.reason, actor, app.clock.now(),
                          _aware(body.effective_at, "effective_at"))
    return plain(money.get_payment(app.uow_factory, payment_id, actor))


@router.get("/items")
def list_items(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
               partner_id: QId = None, side: Side | None = None, open_only: bool = True) -> dict[str, Any]:
    """往来明细 — open items (deliveries, returns, receipts, payments, reversals) with what is still open."""
    rows = money_reads.open_items(app.uow_factory, actor, pg.decode(cursor, "id"), limit + 1, partner_id,
                            side and side.value, open_only)
    return pg.by_id(rows, limit, plain)


@router.get("/balances")
def partner_balances(actor: CurrentActor, app: JxcApp, side: Side = Side.RECEIVABLE, cursor: pg.Cursor = None,
                     limit: pg.Limit = pg.DEFAULT_LIMIT) -> dict[str, Any]:
    """往来余额 — each partner's balance, credit limit and payment terms."""
    rows = money_reads.balances(app.uow_factory, side.value, actor)
    return {**pg.by_offset(plain(rows), cursor, limit)}


@router.get("/statements/{partner_id}")
def statement(partner_id: pg.Id, actor: CurrentActor, app: JxcApp,
              since: Annotated[date, Query(alias="from", description="first day 起始日")],
              until: Annotated[date, Query(alias="to", description="last day (inclusive) 截止日")],
              side: Side | None = None) -> dict[str, Any]:
    """对账单 — opening balance, every movement with its reference, closing balance (days in the book's zone)."""
    if until < since:
        raise DomainError("VALUE_INVALID", "截止日不能早于起始日", "'to' cannot be before 'from'", field="to")
    return plain(money_reads.statement(app.uow_factory, partner_id, _day_start(app, since),
                                 _day_start(app, until) + timedelta(days=1), actor, side and side.value))


@router.get("/ageing")
def ageing(actor: CurrentActor, app: JxcApp, side: Side = Side.RECEIVABLE, as_of: date | None = None,
           partner_id: QId = None) -> dict[str, Any]:
    """账龄 — open items as of the end of ``as_of`` (default today) in buckets: not due, 1–30, 31–60, 61–90, >90."""
    day = as_of or app.clock.now().astimezone(app.settings.zone).date()
    end = _day_start(app, day) + timedelta(days=1) - timedelta(microseconds=1)
    return plain(money_reads.ageing(app.uow_factory, side.value, end, day, actor, partner_id))


@router.get("/trading-profit")
def trading_profit(actor: CurrentActor, app: JxcApp,
                   since: Annotated[date, Query(alias="from", description="first day 起始日")],
                   until: Annotated[date, Query(alias="to", description="last day (inclusive) 截止日")]) -> dict[str, Any]:
    """贸易毛利 — billed sales − billed purchases in the period (the no-stock trader's profit, 无库存版)."""
    return plain(money_reads.trading_profit(app.uow_factory, _day_start(app, since),
                                      _day_start(app, until) + timedelta(days=1), actor))


@router.post("/credit-overrides", status_code=201)
def credit_override(body: OverrideIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """信用超额审批 — let this sales order's current exposure exceed the limit (sales.credit_override), audited."""
    return plain(money.override_credit(app.uow_factory, body.order_id, body.reason, actor, app.clock.now()))


# ── opening balances (期初) ───────────────────────────────────────────────────


@router.post("/openings", status_code=201)
def record_openings(body: OpeningsIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """期初应收/应付 — all entries or none (422 lists each problem as ``entries[i].field``); an entry identical
    to a posted opening returns it (``created: false``), a different one with its reference is OPENING_EXISTS."""
    entries = [op.OpeningInput(e.partner_id, e.amount, _day_start(app, e.on), e.reference, e.due_on,
                               e.side and e.side.value, e.remark) for e in body.entries]
    done = op.record_openings(app.uow_factory, entries, actor, app.clock.now())
    return {"items": [{"id": r.id, "created": r.created} for r in done]}


@router.get("/openings")
def list_openings(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
                  partner_id: QId = None, side: Side | None = None,
                  state: Literal["posted", "reversed"] | None = None) -> dict[str, Any]:
    """期初列表 — with what is still open of each."""
    rows = op.page_openings(app.uow_factory, actor, pg.decode(cursor, "id"), limit + 1, partner_id=partner_id,
                            side=side and side.value, state=state)
    return pg.by_id(rows, limit, plain)


@router.post("/openings/{opening_id}/reverse")
def reverse_opening(opening_id: pg.Id, body: ReverseIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """红冲期初 — dated like the opening unless ``effective_at`` says otherwise; frees its reference."""
    op.reverse_opening(app.uow_factory, opening_id, body.reason, actor, app.clock.now(),
                       _aware(body.effective_at, "effective_at"))
    if not actor.can(money.PERM_VIEW):
        return {"id": opening_id, "state": "reversed"}
    return plain(op.page_openings(app.uow_factory, actor, None, 1, id=opening_id)[0])


# ── transfers between accounts (资金调拨) ─────────────────────────────────────


@router.get("/transfers")
def list_transfers(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
                   state: Literal["posted", "reversed"] | None = None) -> dict[str, Any]:
    """资金调拨列表."""
    rows = mt.page_transfers(app.uow_factory, actor, pg.decode(cursor, "id"), limit + 1, state=state)
    return pg.by_id(rows, limit, plain)


@router.post("/transfers", status_code=201)
def record_transfer(body: TransferIn, request: Request, actor: CurrentActor, app: JxcApp,
                    idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> dict[str, Any]:
    """资金调拨 — ``amount`` leaves one account, ``amount − fee`` reaches the other (money.pay)."""
    tid = mt.record_transfer(app.uow_factory, mt.TransferInput(
        body.from_account_id, body.to_account_id, body.amount, body.fee, _aware(body.effective_at, "effective_at"),
        body.remark, caller_key(request, actor, idempotency_key)), actor, app.clock.now())
    return plain(mt.get_transfer(app.uow_factory, tid, actor)) if actor.can(money.PERM_VIEW) else {"id": tid}


@router.get("/transfers/{transfer_id}")
def get_transfer(transfer_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    return plain(mt.get_transfer(app.uow_factory, transfer_id, actor))


@router.post("/transfers/{transfer_id}/reverse")
def reverse_transfer(transfer_id: pg.Id, body: ReverseIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """红冲调拨 — the money and the fee go back; earlier balances are unchanged."""
    mt.reverse_transfer(app.uow_factory, transfer_id, body.reason, actor, app.clock.now(),
                        _aware(body.effective_at, "effective_at"))
    if not actor.can(money.PERM_VIEW):
        return {"id": transfer_id, "state": "reversed"}
    return plain(mt.get_transfer(app.uow_factory, transfer_id, actor))


@router.get("/accounts/{account_id}/statement")
def account_statement(account_id: pg.Id, actor: CurrentActor, app: JxcApp,
                      since: Annotated[date, Query(alias="from", description="first day 起始日")],
                      until: Annotated[date, Query(alias="to", description="last day (inclusive) 截止日")]) -> dict[str, Any]:
    """资金账户流水 — opening balance, receipts, payments, refunds and transfer legs, closing balance."""
    if until < since:
        raise DomainError("VALUE_INVALID", "截止日不能早于起始日", "'to' cannot be before 'from'", field="to")
    return plain(mt.account_statement(app.uow_factory, account_id, _day_start(app, since),
                                      _day_start(app, until) + timedelta(days=1), actor))

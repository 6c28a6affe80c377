"""应收应付 — receivables and payables raised by posting, receipts / payments and allocation (核销),
statements that tie out, ageing, the credit check, and no-stock trading (无库存版)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select, update

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError, Forbidden
from jxc.domain.money import PaymentKind
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import book, masterdata, money, money_reads, trade
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW

BOSS = Actor("boss", frozenset({"*"}), role="owner", reauthenticated=True)
FINANCE = Actor("qian", BUILTIN_ROLES["finance"][2], role="finance")
SALES = Actor("liu", BUILTIN_ROLES["sales"][2], role="sales")
BUYER = Actor("zhao", BUILTIN_ROLES["purchaser"][2], role="purchaser")
DAY = timedelta(days=1)
NOV = NOW.replace(hour=0)  # 2026-11-01 00:00 UTC


@pytest.fixture
def shop(app, world):
    f = app.uow_factory
    cus = masterdata.create(f, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer",
                                            "credit_limit": "5000", "payment_terms_days": 30}, SYSTEM, NOW)
    sup = masterdata.create(f, "partners", {"code": "S1", "name": "城南粮油", "role": "supplier",
                                            "payment_terms_days": 15}, SYSTEM, NOW)
    wechat = money.create_account(f, "WX", "微信收款", "wechat", BOSS, NOW)
    bank = money.create_account(f, "BANK", "工商银行", "bank", BOSS, NOW)
    doc(app, world, K.PURCHASE_RECEIPT, sup, [(world.rice, "200", "30")], NOW - DAY)  # stock to sell
    return {"cus": cus, "sup": sup, "wechat": wechat, "bank": bank}


def doc(app, world, kind, partner, lines, at, actor=BOSS, reason=None):
    inp = DraftInput(kind, world.wh, tuple(LineInput(p, q, unit_price=pr) for p, q, pr in lines), effective_at=at,
                     partner_id=partner, reason_code=None, reason_text=reason or ("退货" if "return" in kind else None))
    now = max(NOW, at + timedelta(hours=1))
    did = docs.create_draft(app.uow_factory, inp, actor, now)
    docs.submit(app.uow_factory, did, actor, now)
    return did


def pay(app, shop, amount, at, allocations=None, kind=PaymentKind.RECEIPT, key=None, partner=None):
    return money.record_payment(app.uow_factory, money.PaymentInput(
        kind, partner or shop["cus"], shop["wechat"], amount, at, allocations, idempotency_key=key), FINANCE,
        max(NOW, at))


def items(app, partner):
    return money_reads.open_items(app.uow_factory, BOSS, None, 500, partner_id=partner, open_only=False)


def test_worked_example_of_docs_money_md_ties_out(app, world, shop):
    """The example in docs/money.md: two deliveries, a return, a WeChat receipt; statement and ageing."""
    f = app.uow_factory
    d1 = doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "10", "50")], NOV + DAY * 0)
    doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "20", "50")], NOV + DAY * 4)
    doc(app, world, K.SALES_RETURN, shop["cus"], [(world.rice, "2", "50")], NOV + DAY * 7)
    pay(app, shop, "600", NOV + DAY * 9)
    st = money_reads.statement(f, shop["cus"], NOV, NOV + DAY * 30, BOSS)
    assert [(r["kind"], r["debit"], r["credit"], r["balance"]) for r in st["movements"]] == [
        ("sales_delivery", D(500), 0, D(500)), ("sales_delivery", D(1000), 0, D(1500)),
        ("sales_return", 0, D(100), D(1400)), ("receipt", 0, D(600), D(800))]
    assert (st["opening"], st["closing"]) == (D(0), D(800))
    first = next(i for i in items(app, shop["cus"]) if i["document_id"] == d1)
    assert first["due_on"] == date(2026, 12, 1) and first["open"] == 0  # return 100 + receipt 400 closed it
    aged = money_reads.ageing(f, "receivable", datetime(2026, 12, 20, tzinfo=UTC), date(2026, 12, 20), BOSS)
    row = aged["partners"][0]
    assert (row["d1_30"], row["not_due"], row["balance"]) == (D(800), D(0), D(800))  # due 12-05, 15 days late
    assert money.accounts(f, BOSS)[0]["balance"] == D(600)
    assert app.queries.violations() == []


def test_the_open_item_comes_with_the_posting_not_before(app, world, shop):
    """A delivery waiting for approval (it would go negative) owes nothing yet; a refused posting
    (closed period) writes no item either; the approval that posts it raises the receivable."""
    from jxc.services.posting import close_period

    f = app.uow_factory
    did = docs.create_draft(f, DraftInput(K.SALES_DELIVERY, world.wh, (LineInput(world.rice, "999", unit_price="2"),),
                                          partner_id=shop["cus"]), SALES, NOW)
    assert docs.submit(f, did, SALES, NOW) == "pending_approval"
    assert items(app, shop["cus"]) == []
    close_period(f, NOW - timedelta(hours=1), BOSS, NOW)
    with pytest.raises(DomainError) as err:
        doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "1", "50")], NOW - DAY)
    assert err.value.code == "PERIOD_CLOSED" and items(app, shop["cus"]) == []
    docs.approve(f, did, Actor("boss", frozenset({"*"}), role="owner", reauthenticated=True), NOW)
    assert [i["amount"] for i in items(app, shop["cus"])] == [D(1998)]


def test_counter_sale_without_customer_or_price_raises_nothing_but_unpriced_lines_are_counted(app, world, shop):
    doc(app, world, K.SALES_DELIVERY, None, [(world.rice, "1", "50")], NOW)  # walk-in, paid at the till
    doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "1", None)], NOW)  # nothing billed: zero
    assert items(app, shop["cus"]) == []
    doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "1", None), (world.rice, "3", "10")], NOW)
    (it,) = items(app, shop["cus"])
    assert (it["amount"], it["unpriced_lines"]) == (D(30), 1)


def test_reversing_a_paid_delivery_turns_the_payment_into_a_prepayment(app, world, shop):
    d1 = doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "10", "50")], NOW)
    pay(app, shop, "500", NOW)
    docs.reverse(app.uow_factory, d1, BOSS, NOW, reason="开错客户")
    bal = money_reads.balances(app.uow_factory, "receivable", BOSS)[0]["balance"]
    opens = [(i["kind"], i["open"]) for i in items(app, shop["cus"]) if i["open"]]
    assert bal == D(-500) and opens == [("receipt", D(-500))]  # the customer has 500 on account
    d2 = doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "4", "50")], NOW + DAY)
    new = next(i for i in items(app, shop["cus"]) if i["document_id"] == d2 and i["kind"] == "sales_delivery")
    assert new["open"] == 0  # the prepayment paid the next delivery
    assert app.queries.violations() == []


def test_over_allocation_is_refused_and_writes_nothing(app, world, shop):
    d1 = doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "10", "50")], NOW)
    it = next(i for i in items(app, shop["cus"]) if i["document_id"] == d1)
    with pytest.raises(DomainError) as err:
        pay(app, shop, "600", NOW, allocations=[(it["id"], "600")])
    assert err.value.code == "OVER_ALLOCATION" and err.value.status == 409
    with pytest.raises(DomainError) as err:
        pay(app, shop, "100", NOW, allocations=[(it["id"], "60"), (it["id"], "50")])  # 110 > the payment's 100
    assert err.value.code == "OVER_ALLOCATION"
    assert money_reads.page_payments(app.uow_factory, BOSS, None, 10) == []
    with pytest.raises(DomainError) as err:  # another partner's item, or a credit, is not a target
        pay(app, shop, "100", NOW, allocations=[(it["id"] + 999, "10")])
    assert err.value.code == "ALLOCATION_TARGET_INVALID"


def test_explicit_allocation_leaves_the_rest_unallocated_until_allocated_oldest_first(app, world, shop):
    f = app.uow_factory
    d1 = doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "10", "50")], NOW)
    d2 = doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "10", "30")], NOW + DAY)
    second = next(i for i in items(app, shop["cus"]) if i["document_id"] == d2)
    pid = pay(app, shop, "700", NOW + DAY, allocations=[(second["id"], "300")])
    assert money.get_payment(f, pid, BOSS)["unallocated"] == D(400)
    assert money.allocate(f, pid, None, FINANCE, NOW) == D(400)  # oldest first: the first delivery
    first = next(i for i in items(app, shop["cus"]) if i["document_id"] == d1)
    assert first["open"] == D(100)
    with pytest.raises(DomainError) as err:
        money.allocate(f, pid, [(first["id"], "1")], FINANCE, NOW)
    assert err.value.code == "OVER_ALLOCATION"  # nothing of the payment is left


def test_reversing_a_payment_unallocates_it_and_takes_the_money_back_out(app, world, shop):
    f = app.uow_factory
    doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "10", "50")], NOW)
    pid = pay(app, shop, "500", NOW)
    money.reverse_payment(f, pid, "退款", FINANCE, NOW)
    assert [i["open"] for i in items(app, shop["cus"]) if i["kind"] == "sales_delivery"] == [D(500)]
    assert money.accounts(f, BOSS)[0]["balance"] == 0
    with pytest.raises(DomainError) as err:
        money.reverse_payment(f, pid, "again", FINANCE, NOW)
    assert err.value.code == "ALREADY_REVERSED"
    with app.engine.connect() as conn:
        from jxc.storage.tables import audit_records, outbox_events
        actions = {r[0] for r in conn.execute(select(audit_records.c.action))}
        events = {r[0] for r in conn.execute(select(outbox_events.c.event_type))}
    assert {"payment.record", "payment.reverse"} <= actions
    assert {"payment.recorded", "payment.reversed", "receivable.raised"} <= events


def test_same_idempotency_key_records_one_payment(app, world, shop):
    a = pay(app, shop, "100", NOW, key="pos-1")
    assert pay(app, shop, "100", NOW, key="pos-1") == a
    with pytest.raises(DomainError) as err:
        pay(app, shop, "101", NOW, key="pos-1")
    assert err.value.code == "IDEMPOTENCY_MISMATCH"
    assert len(money_reads.page_payments(app.uow_factory, BOSS, None, 10)) == 1


def test_purchase_receipt_raises_a_payable_due_after_the_supplier_terms(app, world, shop):
    f = app.uow_factory
    (it,) = [i for i in items(app, shop["sup"])]
    assert (it["side"], it["amount"], it["due_on"]) == ("payable", D(6000), (NOW - DAY).date() + timedelta(days=15))
    doc(app, world, K.PURCHASE_RETURN, shop["sup"], [(world.rice, "10", "30")], NOW)
    money.record_payment(f, money.PaymentInput(PaymentKind.PAYMENT, shop["sup"], shop["bank"], "5000", NOW),
                         FINANCE, NOW)
    assert money_reads.balances(f, "payable", BOSS)[0]["balance"] == D(700)
    assert money.accounts(f, BOSS)[1]["balance"] == D(-5000)  # the bank paid out
    with pytest.raises(DomainError) as err:  # a supplier is paid, not received from
        pay(app, shop, "1", NOW, partner=shop["sup"])
    assert err.value.code == "VALUE_INVALID"


def test_only_holders_of_the_money_permissions_record_or_read(app, world, shop):
    with pytest.raises(Forbidden):
        money.record_payment(app.uow_factory, money.PaymentInput(PaymentKind.RECEIPT, shop["cus"], shop["wechat"],
                                                                 "1", NOW), SALES, NOW)
    with pytest.raises(Forbidden):
        money_reads.statement(app.uow_factory, shop["cus"], NOV, NOV + DAY, SALES)


def test_credit_limit_refuses_confirmation_until_an_override_is_given(app, world, shop):
    f = app.uow_factory
    doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "80", "50")], NOW)  # owes 4000 of 5000
    so = trade.create_order(f, "sales", shop["cus"], world.wh, [trade.OrderLineInput(world.rice, "30", unit_price="50")],
                            SALES, NOW)
    with pytest.raises(DomainError) as err:
        trade.confirm_order(f, so, SALES, NOW)
    assert err.value.code == "CREDIT_LIMIT_EXCEEDED" and err.value.details["exposure"] == "5500.0000"
    with pytest.raises(Forbidden):
        money.override_credit(f, so, "老客户", SALES, NOW)
    with pytest.raises(DomainError) as err:
        money.override_credit(f, so, " ", FINANCE, NOW)
    assert err.value.code == "REASON_REQUIRED"
    money.override_credit(f, so, "老客户，月底结清", FINANCE, NOW)
    trade.confirm_order(f, so, SALES, NOW)
    assert trade.get_order(f, so)["state"] == "confirmed"
    with app.engine.connect() as conn:
        from jxc.storage.tables import audit_records
        assert conn.execute(select(audit_records.c.actor).where(
            audit_records.c.action == "order.credit_override")).scalar() == "qian"


def test_credit_within_limit_after_payment_confirms(app, world, shop):
    f = app.uow_factory
    doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "80", "50")], NOW)
    pay(app, shop, "1000", NOW)
    so = trade.create_order(f, "sales", shop["cus"], world.wh, [trade.OrderLineInput(world.rice, "30", unit_price="50")],
                            SALES, NOW)
    trade.confirm_order(f, so, SALES, NOW)  # 3000 owed + 1500 ≤ 5000


def test_no_stock_trading_moves_money_and_no_stock(app, world, shop):
    f = app.uow_factory
    book.set_setting(f, "trading.no_stock", True, BOSS, NOW)
    before = app.queries.balances(product_id=world.eggs)
    d1 = doc(app, world, K.PURCHASE_RECEIPT, shop["sup"], [(world.eggs, "1000", "0.5")], NOW)
    d2 = doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.eggs, "1000", "0.8")], NOW)  # none on hand: fine
    assert app.queries.balances(product_id=world.eggs) == before == {}
    assert docs.get(f, d2)["state"] == "posted" and docs.get(f, d2)["posting_id"] is None
    assert money_reads.balances(f, "receivable", BOSS)[0]["balance"] == D(800)
    docs.reverse(f, d1, BOSS, NOW, reason="供应商取消")
    assert docs.get(f, d1)["state"] == "reversed"
    assert money_reads.balances(f, "payable", BOSS)[0]["balance"] == D(6000)  # only the stock-era receipt is left
    doc(app, world, K.PURCHASE_RECEIPT, shop["sup"], [(world.eggs, "1000", "0.6")], NOW)
    profit = money_reads.trading_profit(f, NOV, NOV + DAY, BOSS)
    assert (profit["sales"], profit["purchases"], profit["profit"]) == (D(800), D(600), D(200))
    assert app.queries.violations() == []


def test_jxc_check_catches_a_corrupted_allocation(app, world, shop):
    from jxc.storage.tables_money import money_items

    doc(app, world, K.SALES_DELIVERY, shop["cus"], [(world.rice, "10", "50")], NOW)
    pay(app, shop, "300", NOW)
    assert app.queries.violations() == []
    with app.engine.begin() as conn:
        conn.execute(update(money_items).where(money_items.c.kind == "sales_delivery").values(allocated=D(600)))
    found = {v.invariant for v in app.queries.violations()}
    assert "M1" in found and "M2" in found  # projection ≠ allocation rows, and more than the amount


def test_order_two_deliveries_and_a_return_tie_out_to_the_documents(app, world, shop):
    """Issue 5 scenario: order → reservation → 2 deliveries → return; the statement equals Σ lines × price."""
    f = app.uow_factory
    so = trade.create_order(f, "sales", shop["cus"], world.wh, [trade.OrderLineInput(world.rice, "30", unit_price="45.5")],
                            SALES, NOW)
    trade.confirm_order(f, so, SALES, NOW)
    first = trade.deliver(f, so, {1: "12"}, SALES, NOW)
    second = trade.deliver(f, so, {1: "18"}, SALES, NOW + DAY)
    doc(app, world, K.SALES_RETURN, shop["cus"], [(world.rice, "3", "45.5")], NOW + DAY * 2, actor=SALES)
    pay(app, shop, "1000", NOW + DAY * 3)
    lines = [ln for d in (first, second) for ln in docs.get(f, d)["lines"]]
    billed = sum(ln["qty_base"] * ln["unit_price"] for ln in lines)
    st = money_reads.statement(f, shop["cus"], NOV, NOV + DAY * 10, BOSS)
    assert billed == D("1365") and st["debits"] == billed and st["credits"] == D("136.5") + 1000
    assert st["closing"] == billed - D("136.5") - 1000 == money_reads.balances(f, "receivable", BOSS)[0]["balance"]
    assert {m["reference"] for m in st["movements"]} >= {docs.get(f, first)["number"], docs.get(f, second)["number"]}
    assert app.queries.violations() == []

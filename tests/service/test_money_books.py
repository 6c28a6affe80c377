"""应收应付 for a bookkeeper moving onto the system — opening balances (期初), refunds of a credit (退款)
and transfers between money accounts (资金调拨): statements, ageing, balances, the credit check and
the accounts stay true, and `jxc check` (M1–M6) stays clean."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select, update

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError, Forbidden
from jxc.domain.money import PaymentKind
from jxc.services import first_run, masterdata, money, money_reads, trade
from jxc.services import money_openings as op
from jxc.services import money_transfers as mt
from jxc.services.posting import SYSTEM, Actor, close_period
from tests.conftest import NOW
from tests.service.test_money import BOSS, FINANCE, SALES, doc, items

DAY = timedelta(days=1)
START = datetime(2026, 11, 1, tzinfo=UTC)  # the day the shop starts on the system
CASHIER = Actor("xiaomei", frozenset({"money.receive", "money.view"}), role="custom")


@pytest.fixture
def books(app, world):
    f = app.uow_factory
    cus = masterdata.create(f, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer",
                                            "credit_limit": "5000", "payment_terms_days": 30}, SYSTEM, NOW)
    other = masterdata.create(f, "partners", {"code": "C2", "name": "老王面馆", "role": "customer"}, SYSTEM, NOW)
    sup = masterdata.create(f, "partners", {"code": "S1", "name": "城南粮油", "role": "supplier",
                                            "payment_terms_days": 15}, SYSTEM, NOW)
    wechat = money.create_account(f, "WX", "微信收款", "wechat", BOSS, NOW)
    bank = money.create_account(f, "BANK", "工商银行", "bank", BOSS, NOW)
    cash = money.create_account(f, "CASH", "现金", "cash", BOSS, NOW)
    doc(app, world, K.PURCHASE_RECEIPT, None, [(world.rice, "500", "30")], NOW - DAY)  # stock to sell, no payable
    return {"cus": cus, "other": other, "sup": sup, "wechat": wechat, "bank": bank, "cash": cash}


def opening(app, partner, amount, on, reference=None, due=None, side=None, actor=FINANCE):
    at = datetime.combine(on, datetime.min.time(), tzinfo=UTC)
    return op.record_openings(app.uow_factory, [op.OpeningInput(partner, amount, at, reference, due, side)],
                              actor, NOW)[0]


def receive(app, b, amount, at, allocations=None, partner=None, account=None):
    return money.record_payment(app.uow_factory, money.PaymentInput(
        PaymentKind.RECEIPT, partner or b["cus"], account or b["wechat"], amount, at, allocations), FINANCE, NOW)


def refund(app, b, amount, at=None, kind=PaymentKind.CUSTOMER_REFUND, partner=None, account=None, allocations=None,
           actor=FINANCE):
    return money.record_payment(app.uow_factory, money.PaymentInput(
        kind, partner or b["cus"], account or b["wechat"], amount, at or NOW, allocations), actor, NOW)


def balance(app, account):
    return {a["id"]: a["balance"] for a in money.accounts(app.uow_factory, BOSS)}[account]


def audit_actions(app):
    from jxc.storage.tables import audit_records

    with app.engine.connect() as conn:
        return [r[0] for r in conn.execute(select(audit_records.c.action).order_by(audit_records.c.id))]


# ── opening balances (期初) ───────────────────────────────────────────────────


def test_opening_invoices_fall_in_the_statement_opening_and_age_by_their_own_due_dates(app, world, books):
    """Two open invoices from the old books: one with its due date, one due by the customer's 30-day terms."""
    f = app.uow_factory
    opening(app, books["cus"], "800", date(2026, 9, 10), "INV-0910", due=date(2026, 10, 10))
    opening(app, books["cus"], "400", date(2026, 10, 20), "INV-1020")  # due 11-19 by the terms
    st = money_reads.statement(f, books["cus"], START, START + 30 * DAY, BOSS)
    assert (st["opening"], st["movements"], st["closing"]) == (D(1200), [], D(1200))
    aged = money_reads.ageing(f, "receivable", START + 30 * DAY, date(2026, 11, 30), BOSS)["partners"][0]
    assert (aged["d31_60"], aged["d1_30"], aged["balance"]) == (D(800), D(400), D(1200))  # 51 and 11 days late
    receive(app, books, "1000", START + DAY)  # oldest first: INV-0910 in full, 200 of INV-1020
    left = {i["reference"]: i["open"] for i in items(app, books["cus"]) if i["kind"] == "opening"}
    assert left == {"INV-0910": 0, "INV-1020": D(200)}
    assert money_reads.balances(f, "receivable", BOSS, [books["cus"]])[0]["balance"] == D(200)
    assert app.queries.violations() == []


def test_the_credit_check_counts_what_the_opening_says_is_owed(app, world, books):
    f = app.uow_factory
    opening(app, books["cus"], "4000", date(2026, 10, 31))
    so = trade.create_order(f, "sales", books["cus"], world.wh,
                            [trade.OrderLineInput(world.rice, "30", unit_price="50")], SALES, NOW)
    with pytest.raises(DomainError) as err:
        trade.confirm_order(f, so, SALES, NOW)
    assert err.value.code == "CREDIT_LIMIT_EXCEEDED" and err.value.details["owed"] == "4000.0000"


def test_an_opening_credit_pays_the_first_delivery_like_a_prepayment(app, world, books):
    opening(app, books["cus"], "-300", date(2026, 10, 31), "预收")
    d = doc(app, world, K.SALES_DELIVERY, books["cus"], [(world.rice, "10", "50")], NOW)
    delivery = next(i for i in items(app, books["cus"]) if i["document_id"] == d)
    assert delivery["open"] == D(200)
    (credit,) = [i for i in items(app, books["cus"]) if i["kind"] == "opening"]
    assert (credit["amount"], credit["due_on"], credit["open"]) == (D(-300), None, 0)


def test_the_same_reference_is_entered_once_an_identical_retry_returns_it_and_a_batch_is_all_or_nothing(app, books):
    f = app.uow_factory
    first = opening(app, books["cus"], "800", date(2026, 10, 1), "INV-1")
    assert first.created and opening(app, books["cus"], "800", date(2026, 10, 1), "INV-1") == \
        op.OpeningResult(first.id, False)  # a re-run import writes nothing
    with pytest.raises(DomainError) as err:
        opening(app, books["cus"], "900", date(2026, 10, 1), "INV-1")
    assert (err.value.code, err.value.field) == ("OPENING_EXISTS", "entries[0].reference")
    assert "INV-1" in err.value.message_zh and "INV-1" in err.value.message_en
    at = datetime(2026, 10, 2, tzinfo=UTC)
    with pytest.raises(DomainError) as err:  # a good entry, a twice-listed one and a bad one: nothing is written
        op.record_openings(f, [op.OpeningInput(books["other"], "50", at, "A"), op.OpeningInput(books["other"], "60", at, "A"),
                               op.OpeningInput(books["other"], "0", at, "B")], FINANCE, NOW)
    assert {(p["code"], p["field"]) for p in err.value.details["problems"]} == {
        ("VALUE_INVALID", "entries[2].amount")}  # the amounts are checked first; duplicates after
    with pytest.raises(DomainError) as err:
        op.record_openings(f, [op.OpeningInput(books["other"], "50", at, "A"),
                               op.OpeningInput(books["other"], "60", at, "A")], FINANCE, NOW)
    assert (err.value.code, err.value.field) == ("OPENING_EXISTS", "entries[1].reference")
    assert items(app, books["other"]) == []
    assert len(op.page_openings(f, BOSS, None, 100)) == 1


def test_reversing_an_opening_needs_a_reason_releases_what_paid_it_and_frees_the_reference(app, books):
    f = app.uow_factory
    wrong = opening(app, books["cus"], "500", date(2026, 10, 31), "期初")
    receive(app, books, "500", START + DAY)
    with pytest.raises(DomainError) as err:
        op.reverse_opening(f, wrong.id, " ", FINANCE, NOW)
    assert err.value.code == "REASON_REQUIRED"
    op.reverse_opening(f, wrong.id, "金额录错，应为 450", FINANCE, NOW)
    with pytest.raises(DomainError) as err:
        op.reverse_opening(f, wrong.id, "again", FINANCE, NOW)
    assert err.value.code == "ALREADY_REVERSED"
    st = money_reads.statement(f, books["cus"], START, START + 30 * DAY, BOSS)
    assert st["opening"] == 0  # the reversal is dated like the opening: the opening balance is clean
    assert [(i["kind"], i["open"]) for i in items(app, books["cus"]) if i["open"]] == [("receipt", D(-500))]
    fixed = opening(app, books["cus"], "450", date(2026, 10, 31), "期初")  # the reference is free again
    assert fixed.created and balance(app, books["wechat"]) == D(500)
    assert money_reads.balances(f, "receivable", BOSS, [books["cus"]])[0]["balance"] == D(-50)
    assert [a for a in audit_actions(app) if a.startswith("opening.")] == ["opening.record", "opening.reverse",
                                                                          "opening.record"]
    rows = {r["id"]: r for r in op.page_openings(f, BOSS, None, 10)}
    assert rows[wrong.id]["state"] == "reversed" and rows[wrong.id]["reason"] == "金额录错，应为 450"
    assert (rows[fixed.id]["state"], rows[fixed.id]["open"]) == ("posted", 0)  # the receipt's credit paid it
    assert app.queries.violations() == []


def test_openings_dated_in_a_closed_period_are_refused_like_any_posting(app, books):
    f = app.uow_factory
    before = opening(app, books["cus"], "100", date(2026, 10, 30), "INV-A")
    close_period(f, START, BOSS, NOW)
    with pytest.raises(DomainError) as err:
        opening(app, books["cus"], "100", date(2026, 10, 31))
    assert (err.value.code, err.value.field) == ("PERIOD_CLOSED", "entries[0].effective_at")
    assert opening(app, books["cus"], "100", date(2026, 11, 1)).created
    with pytest.raises(DomainError) as err:  # its reversal would be dated like it: in the closed period
        op.reverse_opening(f, before.id, "录错", FINANCE, NOW)
    assert err.value.code == "PERIOD_CLOSED"
    op.reverse_opening(f, before.id, "录错", FINANCE, NOW, effective_at=START + DAY)
    st = money_reads.statement(f, books["cus"], START, START + 30 * DAY, BOSS)
    assert (st["opening"], [r["kind"] for r in st["movements"]], st["closing"]) == (
        D(100), ["opening", "reversal"], D(100))  # the closed period's figure stands; the correction is in Nov


def test_only_money_holders_enter_openings_and_each_side_needs_its_permission(app, books):
    with pytest.raises(Forbidden):
        opening(app, books["cus"], "100", date(2026, 10, 31), actor=SALES)
    assert opening(app, books["cus"], "100", date(2026, 10, 31), actor=CASHIER).created  # receivable: money.receive
    with pytest.raises(Forbidden):
        opening(app, books["sup"], "100", date(2026, 10, 31), actor=CASHIER)  # payable needs money.pay
    with pytest.raises(DomainError) as err:
        opening(app, books["sup"], "100", date(2026, 10, 31), side="receivable")
    assert (err.value.code, err.value.field) == ("VALUE_INVALID", "entries[0].partner_id")  # a supplier owes nothing


def test_a_csv_table_becomes_openings_with_partner_codes_and_dates_in_the_book_zone(app, books):
    table = ("客户编码,单号,金额,日期,到期日\n"
             "C1,INV-9,1200.50,2026-09-30,2026-10-30\n"
             "C2,,300,,\n"
             "S1,FP-7,2000,2026/10/15,\n").encode()
    rows = first_run.read_table(table, "openings.csv", columns=op.COLUMNS)
    entries = op.entries_from_rows(app.uow_factory, rows, UTC, default_on=date(2026, 10, 31))
    done = op.record_openings(app.uow_factory, entries, FINANCE, NOW)
    assert [r.created for r in done] == [True, True, True]
    got = {(r["partner_code"], r["reference"], r["amount"], r["due_on"]) for r in op.page_openings(
        app.uow_factory, BOSS, None, 10)}
    assert got == {("C1", "INV-9", D("1200.5"), date(2026, 10, 30)), ("C2", "期初", D(300), date(2026, 10, 31)),
                   ("S1", "FP-7", D(2000), date(2026, 10, 30))}  # S1: 10-15 + 15 days' terms
    bad = first_run.read_table(b"code,amount,date\nC1,10,2026-10-01\nNOPE,5,2026-10-01\nC2,5,31.10.2026\n",
                               columns=op.COLUMNS)
    with pytest.raises(DomainError) as err:
        op.entries_from_rows(app.uow_factory, bad, UTC)
    assert {(p["code"], p["field"]) for p in err.value.details["problems"]} == {
        ("NOT_FOUND", "entries[1].partner_id"), ("VALUE_INVALID", "entries[2].effective_at"),
        ("VALUE_REQUIRED", "entries[2].effective_at")}


# ── refunds (退款) ────────────────────────────────────────────────────────────


def test_refunding_an_overpayment_pays_money_out_and_consumes_the_credit(app, world, books):
    f = app.uow_factory
    doc(app, world, K.SALES_DELIVERY, books["cus"], [(world.rice, "10", "50")], NOW)
    rid = receive(app, books, "700", NOW)  # 200 more than owed
    tk = refund(app, books, "150")
    pay = money.get_payment(f, tk, BOSS)
    assert pay["number"].startswith("TK-") and pay["unallocated"] == 0
    assert [(a["other_id"], a["amount"]) for a in pay["allocations"]] == [(money.get_payment(f, rid, BOSS)["item_id"],
                                                                          D(150))]
    assert money.get_payment(f, rid, BOSS)["unallocated"] == D(50)
    assert balance(app, books["wechat"]) == D(550)
    st = money_reads.statement(f, books["cus"], NOW - DAY, NOW + DAY, BOSS)
    assert [(r["kind"], r["debit"], r["credit"]) for r in st["movements"]] == [
        ("sales_delivery", D(500), 0), ("receipt", 0, D(700)), ("customer_refund", D(150), 0)]
    assert st["closing"] == D(-50) == sum(i["open"] for i in items(app, books["cus"]))
    assert app.queries.violations() == []


def test_a_refund_larger_than_the_credit_is_refused_naming_the_amount(app, world, books):
    doc(app, world, K.SALES_DELIVERY, books["cus"], [(world.rice, "10", "50")], NOW)
    receive(app, books, "700", NOW)
    with pytest.raises(DomainError) as err:
        refund(app, books, "200.01")
    e = err.value
    assert (e.code, e.field, e.status, e.details["available"]) == ("REFUND_EXCEEDS_CREDIT", "amount", 409, "200.0000")
    assert "200.0000" in e.message_zh and "200.0000" in e.message_en
    assert [p["kind"] for p in money_reads.page_payments(app.uow_factory, BOSS, None, 10)] == ["receipt"]
    with pytest.raises(DomainError) as err:
        refund(app, books, "1", partner=books["other"])  # no credit at all
    assert err.value.code == "REFUND_EXCEEDS_CREDIT" and err.value.details["available"] == "0"


def test_a_sales_return_credit_is_refunded_and_the_books_close_at_zero(app, world, books):
    d = doc(app, world, K.SALES_DELIVERY, books["cus"], [(world.rice, "10", "50")], NOW)
    receive(app, books, "500", NOW)
    doc(app, world, K.SALES_RETURN, books["cus"], [(world.rice, "2", "50")], NOW + DAY)
    (ret,) = [i for i in items(app, books["cus"]) if i["kind"] == "sales_return"]
    assert ret["open"] == D(-100) and ret["amount"] == D(-100)  # its delivery was paid: the return is a credit
    refund(app, books, "100", at=NOW + DAY, account=books["cash"])
    assert [i["open"] for i in items(app, books["cus"]) if i["open"]] == []
    assert balance(app, books["cash"]) == D(-100)
    assert next(i for i in items(app, books["cus"]) if i["document_id"] == d)["open"] == 0
    assert app.queries.violations() == []


def test_what_the_customer_still_owes_is_netted_before_a_refund(app, world, books):
    """A prepayment kept unallocated (500) while a delivery (300) is open: only 200 can go back."""
    doc(app, world, K.SALES_DELIVERY, books["cus"], [(world.rice, "6", "50")], NOW)
    receive(app, books, "500", NOW, allocations=())
    with pytest.raises(DomainError) as err:
        refund(app, books, "300")
    assert err.value.details["available"] == "200.0000"
    refund(app, books, "200")
    assert money_reads.balances(app.uow_factory, "receivable", BOSS, [books["cus"]])[0]["balance"] == 0


def test_a_refund_is_allocated_in_full_to_credits_only(app, world, books):
    d = doc(app, world, K.SALES_DELIVERY, books["cus"], [(world.rice, "10", "50")], NOW)
    rid = receive(app, books, "800", NOW)
    credit = money.get_payment(app.uow_factory, rid, BOSS)["item_id"]
    debit = next(i["id"] for i in items(app, books["cus"]) if i["document_id"] == d)
    with pytest.raises(DomainError) as err:
        refund(app, books, "100", allocations=[(credit, "60")])
    assert (err.value.code, err.value.field) == ("VALUE_INVALID", "allocations")
    with pytest.raises(DomainError) as err:
        refund(app, books, "100", allocations=[(debit, "100")])
    assert err.value.code == "ALLOCATION_TARGET_INVALID"
    with pytest.raises(DomainError) as err:
        refund(app, books, "100", at=NOW - DAY)  # the credit did not exist yet
    assert err.value.code == "REFUND_EXCEEDS_CREDIT"
    refund(app, books, "100", allocations=[(credit, "100")])
    assert money.get_payment(app.uow_factory, rid, BOSS)["unallocated"] == D(200)


def test_reversing_a_refund_restores_the_credit_and_the_account(app, world, books):
    f = app.uow_factory
    rid = receive(app, books, "300", NOW)  # all a prepayment
    tk = refund(app, books, "300")
    assert balance(app, books["wechat"]) == 0
    money.reverse_payment(f, tk, "客户说不用退了", FINANCE, NOW)
    assert balance(app, books["wechat"]) == D(300)
    assert money.get_payment(f, rid, BOSS)["unallocated"] == D(300)
    assert money_reads.balances(f, "receivable", BOSS, [books["cus"]])[0]["balance"] == D(-300)
    assert app.queries.violations() == []


def test_a_supplier_refund_brings_money_in_from_our_credit_there(app, world, books):
    f = app.uow_factory
    doc(app, world, K.PURCHASE_RECEIPT, books["sup"], [(world.rice, "100", "30")], NOW)
    money.record_payment(f, money.PaymentInput(PaymentKind.PAYMENT, books["sup"], books["bank"], "3500", NOW),
                         FINANCE, NOW)
    with pytest.raises(Forbidden):  # money in needs money.receive, money out money.pay
        refund(app, books, "100", kind=PaymentKind.CUSTOMER_REFUND, actor=CASHIER)
    refund(app, books, "500", kind=PaymentKind.SUPPLIER_REFUND, partner=books["sup"], account=books["bank"],
           actor=CASHIER)
    assert balance(app, books["bank"]) == D(-3000)
    assert money_reads.balances(f, "payable", BOSS)[0]["balance"] == 0
    st = money_reads.statement(f, books["sup"], NOW - DAY, NOW + DAY, BOSS)
    assert [r["kind"] for r in st["movements"]] == ["purchase_receipt", "payment", "supplier_refund"]
    assert app.queries.violations() == []


# ── transfers between accounts (资金调拨) ─────────────────────────────────────


def test_a_transfer_moves_money_less_the_fee_and_the_account_statement_ties_out(app, world, books):
    f = app.uow_factory
    receive(app, books, "1000", NOW, allocations=())
    tid = mt.record_transfer(f, mt.TransferInput(books["wechat"], books["bank"], "1000", "1.5",
                                                 NOW + timedelta(hours=2), "微信提现"), FINANCE, NOW)
    t = mt.get_transfer(f, tid, BOSS)
    assert t["number"].startswith("ZJ-") and (t["amount"], t["fee"], t["received"]) == (D(1000), D("1.5"), D("998.5"))
    assert (balance(app, books["wechat"]), balance(app, books["bank"])) == (0, D("998.5"))
    before = {a["id"]: a["balance"] for a in money.accounts(f, BOSS, at=NOW + timedelta(hours=1))}
    assert (before[books["wechat"]], before[books["bank"]]) == (D(1000), 0)
    st = mt.account_statement(f, books["wechat"], NOW - DAY, NOW + DAY, BOSS)
    assert [(r["kind"], r["amount"], r["balance"]) for r in st["movements"]] == [
        ("receipt", D(1000), D(1000)), ("transfer", D(-1000), 0)]
    assert (st["opening"], st["inflow"], st["outflow"], st["closing"]) == (0, D(1000), D(1000), 0)
    assert app.queries.violations() == []


def test_reversing_a_transfer_puts_the_money_back_without_rewriting_history(app, books):
    f = app.uow_factory
    tid = mt.record_transfer(f, mt.TransferInput(books["cash"], books["bank"], "500", effective_at=NOW), FINANCE, NOW)
    with pytest.raises(DomainError) as err:
        mt.reverse_transfer(f, tid, "", FINANCE, NOW)
    assert err.value.code == "REASON_REQUIRED"
    mt.reverse_transfer(f, tid, "存错账户", FINANCE, NOW + DAY)
    assert (balance(app, books["cash"]), balance(app, books["bank"])) == (0, 0)
    earlier = {a["id"]: a["balance"] for a in money.accounts(f, BOSS, at=NOW + timedelta(hours=1))}
    assert (earlier[books["cash"]], earlier[books["bank"]]) == (D(-500), D(500))
    with pytest.raises(DomainError) as err:
        mt.reverse_transfer(f, tid, "again", FINANCE, NOW + DAY)
    assert err.value.code == "ALREADY_REVERSED"
    assert [a for a in audit_actions(app) if a.startswith("transfer.")] == ["transfer.record", "transfer.reverse"]
    assert app.queries.violations() == []


@pytest.mark.parametrize(("to", "amount", "fee", "field"), [
    ("cash", "100", "0", "to_account_id"), ("bank", "100", "100", "fee"), ("bank", "100", "-1", "fee"),
    ("bank", "0", "0", "amount"), ("bank", "1.00001", "0", "amount"), ("bank", "1e15", "0", "amount"),
    ("missing", "100", "0", "to_account_id")])
def test_a_transfer_is_refused_naming_the_field(app, books, to, amount, fee, field):
    target = books.get(to, 99999)
    with pytest.raises(DomainError) as err:
        mt.record_transfer(app.uow_factory, mt.TransferInput(books["cash"], target, amount, fee), FINANCE, NOW)
    assert err.value.field == field and err.value.message_zh and err.value.message_en
    assert mt.page_transfers(app.uow_factory, BOSS, None, 10) == []


def test_a_transfer_retry_with_its_key_moves_money_once_and_closed_periods_refuse_it(app, books):
    f = app.uow_factory
    inp = mt.TransferInput(books["cash"], books["bank"], "100", effective_at=NOW, idempotency_key="t-1")
    assert mt.record_transfer(f, inp, FINANCE, NOW) == mt.record_transfer(f, inp, FINANCE, NOW)
    with pytest.raises(DomainError) as err:
        mt.record_transfer(f, mt.TransferInput(books["cash"], books["bank"], "101", effective_at=NOW,
                                               idempotency_key="t-1"), FINANCE, NOW)
    assert err.value.code == "IDEMPOTENCY_MISMATCH"
    assert balance(app, books["bank"]) == D(100)
    with pytest.raises(Forbidden):
        mt.record_transfer(f, mt.TransferInput(books["cash"], books["bank"], "1"), CASHIER, NOW)
    close_period(f, NOW + DAY, BOSS, NOW + 2 * DAY)
    with pytest.raises(DomainError) as err:
        mt.record_transfer(f, mt.TransferInput(books["cash"], books["bank"], "1", effective_at=NOW), FINANCE, NOW)
    assert err.value.code == "PERIOD_CLOSED"


# ── jxc check ────────────────────────────────────────────────────────────────


def test_jxc_check_catches_a_tampered_transfer_leg_opening_or_refund(app, world, books):
    from jxc.storage.tables_money import money_account_entries, money_items, money_openings

    opening(app, books["cus"], "-300", date(2026, 10, 31))
    refund(app, books, "100")
    mt.record_transfer(app.uow_factory, mt.TransferInput(books["cash"], books["bank"], "50"), FINANCE, NOW)
    assert app.queries.violations() == []
    with app.engine.begin() as conn:
        conn.execute(update(money_account_entries).where(money_account_entries.c.amount > 0).values(amount=D(60)))
        conn.execute(update(money_openings).values(amount=D(-310)))
        conn.execute(update(money_items).where(money_items.c.kind == "customer_refund").values(account_id=books["bank"]))
    found = {(v.invariant, v.subject.split(" ")[0]) for v in app.queries.violations()}
    assert {("M5", "transfer"), ("M6", "opening"), ("M5", "money")} <= found


# ── scenario: a bookkeeper moves onto the system ─────────────────────────────


def test_scenario_opening_balances_then_a_month_of_money_ties_out(app, world, books):
    """#ante   期初 dated 10-31 and before: 幸福里餐馆 owes INV-A 1,000 (due 10-20) and INV-B 600 (due 11-15);
               老王面馆 prepaid 200; we owe 城南粮油 2,500. The money accounts start at 0.
    #apply  11-03 幸福里 pays 1,200 by WeChat (INV-A, then 200 of INV-B)
            11-05 delivery to 老王 300 (its prepayment pays 200) · 11-06 老王 pays 500 cash (400 over)
            11-07 老王 is refunded the 400 in cash · 11-08 WeChat 1,200 withdrawn to the bank, fee 1.2
            11-10 we pay 城南粮油 2,600 from the bank · 11-11 城南 refunds the 100 into the bank
    #booked balances 幸福里 400 (INV-B, 4 days overdue on 11-19) · 老王 0 · 城南 0;
            WeChat 0 · cash 500 − 400 = 100 · bank 1,198.8 − 2,600 + 100 = −1,301.2"""
    f = app.uow_factory
    oct31 = datetime(2026, 10, 31, tzinfo=UTC)
    entries = [op.OpeningInput(books["cus"], "1000", oct31 - 40 * DAY, "INV-A", date(2026, 10, 20)),
               op.OpeningInput(books["cus"], "600", oct31 - 5 * DAY, "INV-B", date(2026, 11, 15)),
               op.OpeningInput(books["other"], "-200", oct31, "预收"),
               op.OpeningInput(books["sup"], "2500", oct31, "期初应付")]
    assert all(r.created for r in op.record_openings(f, entries, FINANCE, NOW))
    nov = lambda d: datetime(2026, 11, d, 10, tzinfo=UTC)  # noqa: E731 - a table of dates
    receive(app, books, "1200", nov(3))
    doc(app, world, K.SALES_DELIVERY, books["other"], [(world.rice, "6", "50")], nov(5))
    receive(app, books, "500", nov(6), partner=books["other"], account=books["cash"])
    refund(app, books, "400", at=nov(7), partner=books["other"], account=books["cash"])
    mt.record_transfer(f, mt.TransferInput(books["wechat"], books["bank"], "1200", "1.2", nov(8)), FINANCE, NOW)
    money.record_payment(f, money.PaymentInput(PaymentKind.PAYMENT, books["sup"], books["bank"], "2600", nov(10)),
                         FINANCE, NOW)
    refund(app, books, "100", at=nov(11), kind=PaymentKind.SUPPLIER_REFUND, partner=books["sup"],
           account=books["bank"])
    owed = {r["partner_id"]: r["balance"] for side in ("receivable", "payable")
            for r in money_reads.balances(f, side, BOSS)}
    assert owed == {books["cus"]: D(400), books["other"]: 0, books["sup"]: 0}
    for partner in (books["cus"], books["other"], books["sup"]):
        st = money_reads.statement(f, partner, START, START + 30 * DAY, BOSS)
        assert st["opening"] + st["debits"] - st["credits"] == st["closing"] == owed[partner]
        assert sum(i["open"] for i in items(app, partner)) == owed[partner]
    aged = money_reads.ageing(f, "receivable", nov(19), date(2026, 11, 19), BOSS, books["cus"])["partners"][0]
    assert (aged["d1_30"], aged["balance"]) == (D(400), D(400))
    assert {a["code"]: a["balance"] for a in money.accounts(f, BOSS)} == {
        "WX": 0, "CASH": D(100), "BANK": D("-1301.2")}
    assert app.queries.violations() == []

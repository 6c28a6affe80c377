"""应收 concurrency — receipts racing to settle the same delivery never over-allocate it, and refunds racing
for the same credit never pay out more than it (M1–M6 clean)."""

from __future__ import annotations

import threading
from decimal import Decimal as D

from jxc.domain.documents import DocumentKind as K
from jxc.domain.money import PaymentKind
from jxc.services import documents as docs
from jxc.services import masterdata, money, money_reads
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import Actor
from tests.conftest import NOW, make_world

BOSS = Actor("boss", frozenset({"*"}), role="owner")


def test_concurrent_receipts_settle_a_delivery_exactly_once(file_app):
    app = file_app
    f = app.uow_factory
    w = make_world(app)
    cus = masterdata.create(f, "partners", {"code": "C", "name": "客户", "role": "customer"}, BOSS, NOW)
    sup = masterdata.create(f, "partners", {"code": "S", "name": "供应商", "role": "supplier"}, BOSS, NOW)
    acc = money.create_account(f, "CASH", "现金", "cash", BOSS, NOW)
    for kind, partner, qty in ((K.PURCHASE_RECEIPT, sup, "100"), (K.SALES_DELIVERY, cus, "10")):
        did = docs.create_draft(f, DraftInput(kind, w.wh, (LineInput(w.rice, qty, unit_price="50"),),
                                              partner_id=partner), BOSS, NOW)
        docs.submit(f, did, BOSS, NOW)
    n, barrier, errors = 6, threading.Barrier(6), []

    def receive() -> None:
        barrier.wait()
        try:
            money.record_payment(f, money.PaymentInput(PaymentKind.RECEIPT, cus, acc, "200", NOW), BOSS, NOW)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=receive) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    items = money_reads.open_items(f, BOSS, None, 100, partner_id=cus, open_only=False)
    delivery = next(i for i in items if i["kind"] == "sales_delivery")
    assert delivery["allocated"] == D(500)  # six receipts of 200: 500 settles it, 700 stays a prepayment
    assert sum(i["open"] for i in items) == D(500) - n * D(200)
    assert app.queries.violations() == []


def _credit_of(app, amount: str):
    """A customer with ``amount`` paid in advance (an unallocated receipt): a credit to refund."""
    f = app.uow_factory
    make_world(app)
    cus = masterdata.create(f, "partners", {"code": "C", "name": "客户", "role": "customer"}, BOSS, NOW)
    acc = money.create_account(f, "CASH", "现金", "cash", BOSS, NOW)
    money.record_payment(f, money.PaymentInput(PaymentKind.RECEIPT, cus, acc, amount, NOW, ()), BOSS, NOW)
    return cus, acc


def _race(app, cus: int, acc: int, amounts: list[str]) -> tuple[list[int], list[Exception]]:
    barrier, done, errors = threading.Barrier(len(amounts)), [], []

    def refund(amount: str) -> None:
        barrier.wait()
        try:
            done.append(money.record_payment(app.uow_factory, money.PaymentInput(
                PaymentKind.CUSTOMER_REFUND, cus, acc, amount, NOW), BOSS, NOW))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=refund, args=(a,)) for a in amounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done, errors


def test_two_refunds_racing_for_one_credit_only_one_is_paid(file_app):
    """100 on account; two clerks each refund 80 at the same moment: one is paid, the other is refused
    with REFUND_EXCEEDS_CREDIT (20 left), and the cash box paid out 80 once."""
    app = file_app
    cus, acc = _credit_of(app, "100")
    done, errors = _race(app, cus, acc, ["80", "80"])
    assert len(done) == 1 and [(e.code, e.details["available"]) for e in errors] == [  # type: ignore[attr-defined]
        ("REFUND_EXCEEDS_CREDIT", "20.0000")]
    assert money.accounts(app.uow_factory, BOSS)[0]["balance"] == D(20)
    items = money_reads.open_items(app.uow_factory, BOSS, None, 100, partner_id=cus, open_only=False)
    assert sum(i["open"] for i in items) == D(-20)
    assert app.queries.violations() == []


def test_two_refunds_that_both_fit_the_credit_are_both_paid(file_app):
    app = file_app
    cus, acc = _credit_of(app, "100")
    done, errors = _race(app, cus, acc, ["60", "40"])
    assert errors == [] and len(done) == 2
    items = money_reads.open_items(app.uow_factory, BOSS, None, 100, partner_id=cus, open_only=False)
    receipt = next(i for i in items if i["kind"] == "receipt")
    assert (receipt["allocated"], money.accounts(app.uow_factory, BOSS)[0]["balance"]) == (D(100), 0)
    assert app.queries.violations() == []


def test_no_stock_sales_and_receipts_for_one_customer_never_deadlock(file_app):
    """无库存版: a posting that moves no stock raises its receivable under the partner lock; it takes the
    book head first, as a receipt does, so four deliveries and four receipts for one customer racing
    all finish (PostgreSQL reported a deadlock when the posting locked the partner first) and tie out."""
    from jxc.services import book

    app = file_app
    f = app.uow_factory
    w = make_world(app)
    book.set_setting(f, "trading.no_stock", True, Actor("boss", frozenset({"*"}), role="owner", reauthenticated=True), NOW)
    cus = masterdata.create(f, "partners", {"code": "C", "name": "客户", "role": "customer"}, BOSS, NOW)
    acc = money.create_account(f, "CASH", "现金", "cash", BOSS, NOW)
    drafts = [docs.create_draft(f, DraftInput(K.SALES_DELIVERY, w.wh, (LineInput(w.rice, "2", unit_price="50"),),
                                              partner_id=cus), BOSS, NOW) for _ in range(4)]
    barrier, errors = threading.Barrier(8), []

    def work(n: int) -> None:
        barrier.wait()
        try:
            if n < 4:
                docs.submit(f, drafts[n], BOSS, NOW)
            else:
                money.record_payment(f, money.PaymentInput(PaymentKind.RECEIPT, cus, acc, "30", NOW), BOSS, NOW)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    items = money_reads.open_items(f, BOSS, None, 100, partner_id=cus, open_only=False)
    assert sum(i["open"] for i in items) == 4 * D(100) - 4 * D(30)
    assert app.queries.violations() == []

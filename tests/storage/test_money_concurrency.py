"""应收 concurrency — receipts racing to settle the same delivery never over-allocate it (M1–M4 clean)."""

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

"""开单 / 按订单出入库 / 退货 — each is one transaction: document, posting, receivable and audit together or nothing.

What these protect (issue 5 gaps):
- a quick sale, an order delivery / receipt and a return leave nothing behind when refused or when the
  unit of work dies half way (no stray draft, no ledger entry without its document, no open item);
- a quick sale an approval rule catches is cleanly `pending_approval` (no stock moved, nothing owed) and
  posts with its receivable when approved;
- the same idempotency key returns the first sale and writes nothing more (I7); another sale under it is refused;
- a stock refusal names the line (field) it is about, in zh and en.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import text

from jxc.domain.approvals import Rule
from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import admin, masterdata, money, pricing, trade
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW

SALES = Actor("liu", BUILTIN_ROLES["sales"][2], role="sales")
MANAGER = Actor("qian", BUILTIN_ROLES["manager"][2], role="manager", reauthenticated=True)
OWNER = Actor("laoban", BUILTIN_ROLES["owner"][2], role="owner", reauthenticated=True)
BUYER = Actor("zhao", BUILTIN_ROLES["purchaser"][2] | BUILTIN_ROLES["keeper"][2], role="purchaser")
TABLES = ("documents", "document_lines", "postings", "ledger_entries", "audit_records", "outbox_events",
          "money_items", "reservations")


def footprint(app) -> dict[str, int]:
    """Rows in every table a sale writes, plus the number series (a rolled-back sale uses no number)."""
    with app.engine.connect() as conn:
        out = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
        out["numbers"] = conn.execute(text("SELECT coalesce(sum(last), 0) FROM number_sequences")).scalar_one()
    return out


def on_hand(app, w, product):
    return sum((a.qty for a in app.queries.balances(product_id=product, warehouse_id=w.wh).values()), D(0))


@pytest.fixture
def shop(app, world):
    """20 bags of rice at 10 and 50 eggs on the shelf; a customer with a credit limit of 100, and a supplier."""
    f = app.uow_factory
    sup = masterdata.create(f, "partners", {"code": "S1", "name": "北方粮油", "role": "supplier"}, SYSTEM, NOW)
    cus = masterdata.create(f, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer",
                                            "credit_limit": "100"}, SYSTEM, NOW)
    rec = docs.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "20", unit_price="10"),
                                                                         LineInput(world.eggs, "50", unit_price="0.5")),
                                          partner_id=sup), BUYER, NOW)
    docs.submit(f, rec, BUYER, NOW)
    pricing.set_price(f, world.rice, "default", "15", OWNER, NOW)
    return sup, cus


def sale(world, qty, key=None, partner=None, price=None):
    return trade.QuickSaleInput(world.wh, (trade.OrderLineInput(world.eggs, "1", unit_price="1"),
                                           trade.OrderLineInput(world.rice, qty, unit_price=price)),
                                partner_id=partner, idempotency_key=key)


def test_quick_sale_short_of_stock_leaves_nothing_and_names_the_line(app, world, shop):
    f = app.uow_factory
    docs.submit(f, docs.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, world.wh, (
        LineInput(world.milk, "4", lot_id=world.milk_lot, unit_price="3"),)), BUYER, NOW), BUYER, NOW)
    before = footprint(app)
    milk = trade.QuickSaleInput(world.wh, (trade.OrderLineInput(world.eggs, "1", unit_price="1"),
                                           trade.OrderLineInput(world.milk, "5", unit_price="6")),
                                idempotency_key="till-1")
    with pytest.raises(DomainError) as err:
        trade.quick_sale(f, milk, SALES, NOW)
    e = err.value
    assert e.code == "STOCK_INSUFFICIENT" and e.field == "lines[1].qty"
    assert e.message_zh.startswith("第2行：") and e.message_en.startswith("line 2: ")
    assert footprint(app) == before  # no draft, no cancelled draft, no audit, no number used
    again = trade.quick_sale(f, trade.QuickSaleInput(world.wh, (milk.lines[0], trade.OrderLineInput(
        world.milk, "4", unit_price="6")), idempotency_key="till-1"), SALES, NOW)
    assert again["state"] == "posted" and on_hand(app, world, world.milk) == 0  # the key was not burnt


def test_quick_sale_of_stock_reserved_for_an_order_is_refused_on_the_line(app, world, shop):
    _, cus = shop
    f = app.uow_factory
    so = trade.create_order(f, "sales", cus, world.wh, [trade.OrderLineInput(world.rice, "6", unit_price="15")],
                            SALES, NOW)
    trade.confirm_order(f, so, SALES, NOW)  # 6 of the 20 held for the order
    before = footprint(app)
    with pytest.raises(DomainError) as err:
        trade.quick_sale(f, sale(world, "15"), SALES, NOW)
    assert (err.value.code, err.value.field) == ("STOCK_RESERVED", "lines[1].qty")
    assert footprint(app) == before
    assert trade.quick_sale(f, sale(world, "14"), SALES, NOW)["state"] == "posted"
    assert app.queries.violations() == []


def test_quick_sale_dying_after_the_posting_leaves_no_ledger_entry_and_no_document(app, world, shop, monkeypatch):
    """A crash between the stock posting and the receivable (the old code committed in two steps)."""
    _, cus = shop
    before = footprint(app)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(money, "raise_for_document", crash)
    with pytest.raises(RuntimeError):
        trade.quick_sale(app.uow_factory, sale(world, "2", partner=cus, key="till-2"), SALES, NOW)
    assert footprint(app) == before and on_hand(app, world, world.rice) == 20
    monkeypatch.undo()
    done = trade.quick_sale(app.uow_factory, sale(world, "2", partner=cus, key="till-2"), SALES, NOW)
    assert done["state"] == "posted" and "replayed" not in done and on_hand(app, world, world.rice) == 18
    with app.uow_factory() as uow:
        assert uow.money.balance(cus, "receivable") == D("31")
    assert app.queries.violations() == []


def test_quick_sale_over_the_credit_limit_is_refused_on_the_partner_and_leaves_nothing(app, world, shop):
    _, cus = shop
    f = app.uow_factory
    first = trade.quick_sale(f, sale(world, "5", partner=cus), SALES, NOW)  # 1 + 5 × 15 = 76 owed
    assert first["state"] == "posted"
    before = footprint(app)
    with pytest.raises(DomainError) as err:
        trade.quick_sale(f, sale(world, "2", partner=cus), SALES, NOW)  # 76 + 31 = 107 > 100
    e = err.value
    assert (e.code, e.field, D(e.details["exposure"]), D(e.details["credit_limit"])) == (
        "CREDIT_LIMIT_EXCEEDED", "partner_id", 107, 100)
    assert "本次开单 31" in e.message_zh and "this sale 31" in e.message_en
    assert footprint(app) == before
    walk_in = trade.quick_sale(f, sale(world, "2"), SALES, NOW)  # 散客 pays at the till: no limit
    assert walk_in["state"] == "posted"


def test_quick_sale_an_approval_rule_catches_is_pending_then_posts_with_its_receivable(app, world, shop):
    _, cus = shop
    f = app.uow_factory
    admin.add_rule(f, Rule("大额开单需主管审批", ("manager",), kind=K.SALES_DELIVERY, min_amount=D(50)), OWNER, NOW)
    out = trade.quick_sale(f, sale(world, "4", partner=cus, key="till-3"), SALES, NOW)  # 61 ≥ 50
    assert out["state"] == "pending_approval" and out["approval_plan"][0]["role"] == "manager"
    assert "金额 61" in out["approval_plan"][0]["reasons"][0]
    assert on_hand(app, world, world.rice) == 20  # nothing moved while it waits
    with f() as uow:
        assert uow.money.balance(cus, "receivable") == 0
    assert trade.quick_sale(f, sale(world, "4", partner=cus, key="till-3"), SALES, NOW)["id"] == out["id"]
    assert docs.approve(f, out["id"], MANAGER, NOW).value == "posted"
    assert on_hand(app, world, world.rice) == 16
    with f() as uow:
        assert uow.money.balance(cus, "receivable") == D("61")
    assert app.queries.violations() == []


def test_quick_sale_retry_returns_the_first_sale_writes_nothing_and_refuses_another_sale_under_the_key(
        app, world, shop):
    f = app.uow_factory
    first = trade.quick_sale(f, sale(world, "3", key="pos-9"), SALES, NOW)
    assert first["price_sources"][1]["source"]["tier"] == "default" and first["lines"][1]["unit_price"] == 15
    before = footprint(app)
    again = trade.quick_sale(f, sale(world, "3", key="pos-9"), SALES, NOW)
    assert (again["id"], again["number"], again["replayed"]) == (first["id"], first["number"], True)
    assert again["price_sources"][1]["source"]["tier"] == "default"
    assert footprint(app) == before and on_hand(app, world, world.rice) == 17  # I7: sold once
    pricing.set_price(f, world.rice, "default", "16", OWNER, NOW)
    before = footprint(app)
    later = trade.quick_sale(f, sale(world, "3", key="pos-9"), SALES, NOW)
    assert later["lines"][1]["unit_price"] == 15 and later["price_sources"][1]["source"] is None  # not 16's source
    with pytest.raises(DomainError) as err:
        trade.quick_sale(f, sale(world, "4", key="pos-9"), SALES, NOW)
    assert (err.value.code, err.value.field) == ("IDEMPOTENCY_MISMATCH", "idempotency_key")
    assert footprint(app) == before


def test_order_delivery_short_of_stock_leaves_no_draft_and_names_the_order_line(app, world, shop):
    _, cus = shop
    f = app.uow_factory
    so = trade.create_order(f, "sales", cus, world.wh, [trade.OrderLineInput(world.rice, "1", unit_price="15"),
                                                        trade.OrderLineInput(world.milk, "3", unit_price="6")],
                            SALES, NOW)
    trade.confirm_order(f, so, SALES, NOW)  # rice reserved; no milk in any lot: a shortfall
    before = footprint(app)
    with pytest.raises(DomainError) as err:
        trade.deliver(f, so, None, SALES, NOW)
    e = err.value
    assert (e.code, e.field) == ("STOCK_INSUFFICIENT", "quantities[2]") and e.message_zh.startswith("第2行：")
    assert footprint(app) == before  # the old code left a draft delivery here
    assert trade.get_order(f, so)["state"] == "confirmed"
    delivered = trade.deliver(f, so, {1: "1"}, SALES, NOW)
    assert docs.get(f, delivered)["state"] == "posted" and trade.get_order(f, so)["state"] == "partial"


def test_receipt_against_an_order_dying_half_way_leaves_nothing_and_the_order_untouched(
        app, world, shop, monkeypatch):
    sup, _ = shop
    f = app.uow_factory
    po = trade.create_order(f, "purchase", sup, world.wh, [trade.OrderLineInput(world.rice, "10", unit_price="9")],
                            BUYER, NOW)
    trade.confirm_order(f, po, BUYER, NOW)
    before = footprint(app)

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(money, "raise_for_document", crash)
    with pytest.raises(RuntimeError):
        trade.receive(f, po, {1: "4"}, BUYER, NOW)
    assert footprint(app) == before
    assert trade.get_order(f, po)["lines"][0]["qty_done"] == 0 and on_hand(app, world, world.rice) == 20

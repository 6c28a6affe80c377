"""采购销售全流程 — price lists, supplier terms, 以销定购 rows, quick sale, returns against documents, scorecard.

Every scenario ends with the invariant check (`jxc check`: I1–I10 on live data).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError, ValidationFailed
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import documents as docs
from jxc.services import masterdata, pricing, purchasing, trade
from jxc.services import reserving as rs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW

SALES = Actor("liu", BUILTIN_ROLES["sales"][2], role="sales")
BUYER = Actor("zhao", BUILTIN_ROLES["purchaser"][2] | BUILTIN_ROLES["keeper"][2] | {"masterdata.edit"},
              role="purchaser")
BOSS = Actor("boss", frozenset({"*"}), role="owner")


@pytest.fixture
def partners(app):
    f = app.uow_factory
    s1 = masterdata.create(f, "partners", {"code": "S1", "name": "城南蔬菜批发", "role": "supplier",
                                          "lead_time_days": 3}, SYSTEM, NOW)
    s2 = masterdata.create(f, "partners", {"code": "S2", "name": "北方粮油", "role": "supplier"}, SYSTEM, NOW)
    c1 = masterdata.create(f, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer"}, SYSTEM, NOW)
    return s1, s2, c1


def on_hand(app, w, product):
    return sum((a.qty for a in app.queries.balances(product_id=product, warehouse_id=w.wh).values()), D(0))


def value(app, w, product):
    return sum((a.value for a in app.queries.balances(product_id=product, warehouse_id=w.wh).values()), D(0))


def test_price_resolution_prefers_customer_then_channel_then_member_then_default_and_converts_units(
        app, world, partners):
    _, _, cus = partners
    f = app.uow_factory
    masterdata.add_unit_conversion(f, world.eggs, "盒", "12", SYSTEM, NOW)
    pricing.set_price(f, world.eggs, "default", "0.8", BOSS, NOW)
    pricing.set_price(f, world.eggs, "member", "0.7", BOSS, NOW)
    pricing.set_price(f, world.eggs, "channel", "0.75", BOSS, NOW, channel="wechat")
    pricing.set_price(f, world.eggs, "customer", "7.8", BOSS, NOW, unit="盒", partner_id=cus)
    ask = pricing.PriceQuery
    walk_in = pricing.resolve(f, ask(world.eggs), NOW)
    assert (walk_in["unit_price"], walk_in["source"]["tier"]) == (D("0.8"), "default")
    assert pricing.resolve(f, ask(world.eggs, member=True), NOW)["source"]["tier"] == "member"
    assert pricing.resolve(f, ask(world.eggs, channel="wechat", member=True), NOW)["source"]["tier"] == "channel"
    box = pricing.resolve(f, ask(world.eggs, "盒", partner_id=cus, channel="wechat"), NOW)
    assert (box["unit_price"], box["source"]["tier"], box["source"]["converted"]) == (D("7.8"), "customer", False)
    each = pricing.resolve(f, ask(world.eggs, partner_id=cus), NOW)  # 7.8 per box of 12 → 0.65 per egg
    assert (each["unit_price"], each["source"]["converted"], each["source"]["label_zh"]) == (D("0.65"), True, "客户价")
    by_box = pricing.resolve(f, ask(world.eggs, "盒"), NOW)  # default 0.8 per egg → 9.6 per box
    assert by_box["unit_price"] == D("9.6")
    with pytest.raises(DomainError) as err:
        pricing.resolve(f, ask(world.rice), NOW)
    assert err.value.code == "NOT_FOUND"
    so = trade.create_order(f, "sales", cus, world.wh, [trade.OrderLineInput(world.eggs, "2", unit="盒")], SALES, NOW)
    line = trade.get_order(f, so)["lines"][0]
    assert (line["unit_price"], line["price_source"]) == (D("0.65"), "customer")  # stored per base unit
    with pytest.raises(DomainError) as err:
        pricing.set_price(f, world.eggs, "default", "1", SALES, NOW)
    assert err.value.code == "PERMISSION_DENIED"


def test_shortfall_becomes_suggestion_rows_converted_per_supplier_in_whole_packs_and_closed(app, world, partners):
    s1, s2, cus = partners
    f = app.uow_factory
    masterdata.add_unit_conversion(f, world.eggs, "箱", "30", SYSTEM, NOW)
    pricing.set_supplier_terms(f, s1, world.eggs, BUYER, NOW, unit_price="0.5", pack_unit="箱", preferred=True)
    pricing.set_supplier_terms(f, s2, world.eggs, BUYER, NOW, unit_price="0.45")
    pricing.set_supplier_terms(f, s2, world.rice, BUYER, NOW, unit_price="40", lead_time_days=7, preferred=True)
    needed = NOW + timedelta(days=10)
    so = trade.create_order(f, "sales", cus, world.wh, [trade.OrderLineInput(world.eggs, "40", unit_price="1"),
                                                        trade.OrderLineInput(world.rice, "2", unit_price="60")],
                            SALES, NOW, needed_on=needed)
    events = trade.confirm_order(f, so, SALES, NOW)
    rows = purchasing.list_suggestions(f)
    assert [(r["product_id"], r["qty"], r["supplier_id"]) for r in rows] == [(world.eggs, D(40), s1),
                                                                            (world.rice, D(2), s2)]
    assert rows[0]["order_by"] == needed - timedelta(days=3)  # supplier lead time of S1 (partner default)
    assert rows[1]["order_by"] == needed - timedelta(days=7)  # lead time on the supplier terms
    assert [e["suggestion_id"] for e in events] == [r["id"] for r in rows]
    pos = purchasing.convert(f, None, BUYER, NOW)
    assert len(pos) == 2 and purchasing.list_suggestions(f) == []
    eggs_po = trade.get_order(f, pos[0])
    assert (eggs_po["partner_id"], eggs_po["lines"][0]["unit"], eggs_po["lines"][0]["qty"],
            eggs_po["lines"][0]["qty_base"], eggs_po["lines"][0]["unit_price"]) == (s1, "箱", D(2), D(60), D("0.5"))
    assert trade.get_order(f, pos[1])["partner_id"] == s2 and trade.get_order(f, pos[1])["needed_on"] == needed
    with pytest.raises(DomainError):
        purchasing.convert(f, None, BUYER, NOW)  # nothing open any more
    trade.confirm_order(f, pos[0], BUYER, NOW)
    trade.receive(f, pos[0], None, BUYER, NOW)
    states = {r["product_id"]: r["state"] for r in purchasing.list_suggestions(f, state=None)}
    assert states == {world.eggs: "fulfilled", world.rice: "converted"}
    so2 = trade.create_order(f, "sales", cus, world.wh, [trade.OrderLineInput(world.milk, "5", unit_price="6")],
                             SALES, NOW)
    trade.confirm_order(f, so2, SALES, NOW)  # no supplier for milk: suggestion without one
    with pytest.raises(ValidationFailed):
        purchasing.convert(f, None, BUYER, NOW)
    trade.close_order(f, so2, SALES, NOW, reason="客户取消")
    milk = [r for r in purchasing.list_suggestions(f, state=None) if r["product_id"] == world.milk]
    assert [r["state"] for r in milk] == ["obsolete"]
    assert app.queries.violations() == []


def receipt(app, world, sup, product, qty, price, lot=0):
    d = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (
        LineInput(product, qty, unit_price=price, lot_id=lot),), partner_id=sup), BUYER, NOW)
    docs.submit(app.uow_factory, d, BUYER, NOW)
    return d


def test_quick_sale_prices_from_list_picks_fefo_and_a_failed_sale_leaves_no_draft(app, world, partners):
    s1, _, cus = partners
    f = app.uow_factory
    late = masterdata.create_lot(f, world.milk, "L-LATE", SYSTEM, NOW, produced_on=NOW.date(),
                                 expires_on=(NOW + timedelta(days=60)).date())
    early = masterdata.create_lot(f, world.milk, "L-EARLY", SYSTEM, NOW, produced_on=NOW.date(),
                                  expires_on=(NOW + timedelta(days=40)).date())
    receipt(app, world, s1, world.milk, "10", "3", lot=late)
    receipt(app, world, s1, world.milk, "10", "3", lot=early)
    pricing.set_price(f, world.milk, "default", "6", BOSS, NOW)
    pricing.set_price(f, world.milk, "member", "5.5", BOSS, NOW)
    sale = trade.quick_sale(f, trade.QuickSaleInput(world.wh, (trade.OrderLineInput(world.milk, "12"),), member=True),
                            SALES, NOW)
    assert sale["state"] == "posted" and sale["kind"] == "sales_delivery"
    assert sale["lines"][0]["unit_price"] == D("5.5") and sale["price_sources"][0]["source"]["tier"] == "member"
    left = {k.lot_id: a.qty for k, a in app.queries.balances(product_id=world.milk).items()}
    assert left == {late: D(8)}  # the early lot went first (FEFO)
    with pytest.raises(DomainError) as err:
        trade.quick_sale(f, trade.QuickSaleInput(world.wh, (trade.OrderLineInput(world.milk, "9"),)), SALES, NOW)
    assert err.value.code == "STOCK_INSUFFICIENT"
    assert [d for d in app.queries.open_documents() if d["kind"] == "sales_delivery"] == []
    again = trade.quick_sale(f, trade.QuickSaleInput(world.wh, (trade.OrderLineInput(world.milk, "1"),),
                                                     idempotency_key="pos-1"), SALES, NOW)
    same = trade.quick_sale(f, trade.QuickSaleInput(world.wh, (trade.OrderLineInput(world.milk, "1"),),
                                                    idempotency_key="pos-1"), SALES, NOW)
    assert same["id"] == again["id"] and on_hand(app, world, world.milk) == D(7)  # a retry sells once (I7)
    assert app.queries.violations() == []


def test_po_three_partial_receipts_then_return_against_one_at_its_cost(app, world, partners):
    s1, _, _ = partners
    f = app.uow_factory
    po = trade.create_order(f, "purchase", s1, world.wh, [trade.OrderLineInput(world.rice, "30", unit_price="10")],
                            BUYER, NOW, needed_on=NOW + timedelta(days=2))
    trade.confirm_order(f, po, BUYER, NOW)
    receipts = [trade.receive(f, po, {1: "10"}, BUYER, NOW + timedelta(days=n)) for n in range(3)]
    assert trade.get_order(f, po)["state"] == "done" and app.queries.violations() == []
    receipt(app, world, s1, world.rice, "10", "16")  # the average is now (300 + 160) / 40 = 11.5
    with pytest.raises(DomainError) as err:
        trade.return_goods(f, receipts[0], {1: "4"}, BUYER, NOW)
    assert err.value.code == "REASON_REQUIRED"
    ret = trade.return_goods(f, receipts[0], {1: "4"}, BUYER, NOW, reason_code="quality")
    assert docs.get(f, ret)["state"] == "posted" and docs.get(f, ret)["source_document_id"] == receipts[0]
    assert on_hand(app, world, world.rice) == 36 and value(app, world, world.rice) == D("420.00")  # out at 10, not 11.5
    with pytest.raises(ValidationFailed) as err:
        trade.return_goods(f, receipts[0], {1: "7"}, BUYER, NOW, reason_code="quality")
    assert err.value.code == "RETURN_EXCEEDS_MOVED" and err.value.details["problems"][0]["details"]["returnable"] == "6.0000"
    trade.return_goods(f, receipts[0], {1: "6"}, BUYER, NOW, reason_code="quality")
    docs.reverse(f, receipts[1], BOSS, NOW, reason="录错")
    with pytest.raises(DomainError) as err:
        trade.return_goods(f, receipts[1], {1: "1"}, BUYER, NOW, reason_code="quality")
    assert err.value.code == "INVALID_TRANSITION"  # a reversed receipt has nothing left to return
    assert app.queries.violations() == []


def test_so_reserves_two_deliveries_then_return_with_reason_at_delivery_cost(app, world, partners):
    s1, _, cus = partners
    f = app.uow_factory
    receipt(app, world, s1, world.rice, "10", "20")
    so = trade.create_order(f, "sales", cus, world.wh, [trade.OrderLineInput(world.rice, "8", unit_price="35")],
                            SALES, NOW)
    assert trade.confirm_order(f, so, SALES, NOW) == []
    assert rs.availability(f, world.rice, world.wh, NOW.date()).available == D(2)
    first = trade.deliver(f, so, {1: "5"}, SALES, NOW)
    receipt(app, world, s1, world.rice, "5", "26")  # average: (5 × 20 + 5 × 26) / 10 = 23
    trade.deliver(f, so, {1: "3"}, SALES, NOW)  # at 23
    assert trade.get_order(f, so)["state"] == "done" and app.queries.violations() == []
    with pytest.raises(DomainError) as err:
        trade.return_goods(f, first, {1: "2"}, SALES, NOW)
    assert err.value.code == "REASON_REQUIRED"
    ret = trade.return_goods(f, first, {1: "2"}, SALES, NOW, reason_text="包装破损")
    doc = docs.get(f, ret)
    assert doc["kind"] == "sales_return" and doc["lines"][0]["unit_price"] == D(35)  # refunded at the sale price
    assert on_hand(app, world, world.rice) == D(9) and value(app, world, world.rice) == D("201.00")  # 7×23 + 2×20
    with pytest.raises(ValidationFailed):
        trade.return_goods(f, first, {1: "4"}, SALES, NOW, reason_text="又退")
    assert app.queries.violations() == []


def test_supplier_scorecard_on_time_fill_and_return_rate_flag(app, world, partners):
    s1, s2, _ = partners
    f = app.uow_factory
    po = trade.create_order(f, "purchase", s1, world.wh, [trade.OrderLineInput(world.rice, "20", unit_price="10")],
                            BUYER, NOW - timedelta(days=20), needed_on=NOW - timedelta(days=15))
    trade.confirm_order(f, po, BUYER, NOW - timedelta(days=20))
    on_time = trade.receive(f, po, {1: "10"}, BUYER, NOW - timedelta(days=16))
    d = docs.get(f, on_time)
    assert d["state"] == "posted"
    late = trade.receive(f, po, {1: "6"}, BUYER, NOW)
    trade.return_goods(f, late, {1: "3"}, BUYER, NOW, reason_code="quality")
    card = {r["supplier_id"]: r for r in purchasing.scorecard(f, BOSS, NOW + timedelta(hours=1))}
    r = card[s1]
    assert (r["receipts"], r["on_time_receipts"], r["qty_ordered"], r["qty_received_against_orders"]) == (
        2, 1, D(20), D(16))
    assert (r["on_time_rate"], r["fill_rate"], r["return_rate"], r["return_rate_flag"]) == (
        D("0.5"), D("0.8"), D("0.1875"), True)
    assert s2 not in card
    with pytest.raises(DomainError):
        purchasing.scorecard(f, SALES, NOW)


GOLDEN = """
| step | doc              | qty | price | on hand | value  | average | cogs  |
| 1    | receipt R1       | 10  | 2.00  | 10      | 20.00  | 2.00    |       |
| 2    | receipt R2       | 30  | 3.00  | 40      | 110.00 | 2.75    |       |
| 3    | delivery D1      | 16  |       | 24      | 66.00  | 2.75    | 44.00 |
| 4    | receipt R3       | 6   | 4.00  | 30      | 90.00  | 3.00    |       |
| 5    | delivery D2      | 10  |       | 20      | 60.00  | 3.00    | 30.00 |
| 6    | sales return D1  | 4   |       | 24      | 71.00  | 2.9583  | -11.00|
| 7    | purchase ret R3  | 2   |       | 22      | 63.00  | 2.8636  |       |
| 8    | delivery D3      | 11  |       | 11      | 31.50  | 2.8636  | 31.50 |
"""


def test_costing_golden_table_receipts_issues_and_returns_at_original_cost(app, world, partners):
    """A bookkeeper's table (移动加权平均): receipts at price, deliveries at the running average,
    a sales return comes back at its delivery's cost (2.75, not today's 3.00) and a purchase return
    goes back at its receipt's price (4.00); COGS per delivery is the ledger's value at the customer."""
    s1, _, cus = partners
    f = app.uow_factory
    rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in GOLDEN.strip().splitlines()[1:]]
    made: dict[str, int] = {}
    for _step, doc, qty, price, want_qty, want_value, want_avg, want_cogs in rows:
        kind, name = doc.rsplit(" ", 1)
        if kind == "receipt":
            made[name] = receipt(app, world, s1, world.rice, qty, price)
        elif kind == "delivery":
            made[name] = trade.quick_sale(f, trade.QuickSaleInput(world.wh, (
                trade.OrderLineInput(world.rice, qty, unit_price="9"),), partner_id=cus), SALES, NOW)["id"]
        elif kind == "sales return":
            made[name + "-ret"] = trade.return_goods(f, made[name], {1: qty}, SALES, NOW, reason_text="退货")
        else:
            made[name + "-ret"] = trade.return_goods(f, made[name], {1: qty}, BUYER, NOW, reason_code="quality")
        assert on_hand(app, world, world.rice) == D(want_qty), doc
        assert value(app, world, world.rice) == D(want_value), doc
        assert (value(app, world, world.rice) / on_hand(app, world, world.rice)).quantize(D("0.0001")) == D(want_avg)
        if want_cogs:
            d = docs.get(f, made.get(name) if kind == "delivery" else made[name + "-ret"])
            cogs = sum((e["value"] for e in app.queries.page_ledger(None, 50, posting_id=d["posting_id"],
                                                                      location_id=world.customer)), D(0))
            assert cogs == D(want_cogs), doc
    assert app.queries.violations() == []

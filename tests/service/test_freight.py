"""采购运费分摊 — freight on a purchase receipt goes into the cost of its lines and onto the supplier's payable."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.services import documents as docs
from jxc.services import masterdata, money_reads, trade
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW

BOSS = Actor("boss", frozenset({"*"}), role="owner")


@pytest.fixture
def partners(app):
    sup = masterdata.create(app.uow_factory, "partners", {"code": "S1", "name": "城南蔬菜批发", "role": "supplier"},
                            SYSTEM, NOW)
    cus = masterdata.create(app.uow_factory, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer"},
                            SYSTEM, NOW)
    return sup, cus


def post(app, inp, at=NOW):
    doc = docs.create_draft(app.uow_factory, inp, BOSS, at)
    docs.submit(app.uow_factory, doc, BOSS, at)
    return doc


def stock(app, world, product):
    """(qty, value) of a product in the warehouse."""
    bal = app.queries.balances(product_id=product, warehouse_id=world.wh).values()
    return sum((a.qty for a in bal), D(0)), sum((a.value for a in bal), D(0))


def at_customer(app, world, product):
    return sum((a.value for k, a in app.queries.balances(product_id=product, physical_only=False).items()
                if k.location_id == world.customer), D(0))


def payable(app, sup):
    rows = money_reads.balances(app.uow_factory, "payable", BOSS, [sup])
    return rows[0]["balance"] if rows else D(0)


def test_freight_costing_golden_case(app, world, partners):
    """A bookkeeper's table: 30 元 freight on the first receipt, split by amount, in the average cost.

    | step                                  | rice qty | rice value | rice avg | eggs qty | eggs value | eggs avg |
    | R1 rice 10 @50 (500) + 24.19 freight  | 10       | 524.19     | 52.419   |          |            |          |
    |    eggs 120 @1 (120) + 5.81 freight   |          |            |          | 120      | 125.81     | 1.048417 |
    | R2 rice 10 @55 (550), no freight      | 20       | 1074.19    | 53.7095  | 120      | 125.81     | 1.048417 |
    | deliver rice 8 (COGS 429.676)         | 12       | 644.514    | 53.7095  |          |            |          |
    | return against R1: rice 2 (104.838)   | 10       | 539.676    | 53.9676  |          |            |          |
    |                    eggs 120 (125.81)  |          |            |          | 0        | 0          |          |

    Freight 30 split by amount 500 : 120 is 24.1935… : 5.8064…; rounded down to the 分 that is
    24.19 + 5.80 = 29.99, and the 分 left goes to the larger remainder (eggs, .64 > .35).
    Payable to the supplier: 620 + 30 (R1) + 550 (R2) − 220 (return, goods only) = 980.
    """
    sup, cus = partners
    r1 = post(app, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "10", unit_price="50"),
                                                              LineInput(world.eggs, "120", unit_price="1")),
                              partner_id=sup, freight="30"))
    lines = docs.get(app.uow_factory, r1)["lines"]
    assert [ln["freight_share"] for ln in lines] == [D("24.19"), D("5.81")]
    assert stock(app, world, world.rice) == (D(10), D("524.19"))
    assert stock(app, world, world.eggs) == (D(120), D("125.81"))
    post(app, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "10", unit_price="55"),), partner_id=sup))
    assert stock(app, world, world.rice) == (D(20), D("1074.19"))
    post(app, DraftInput(K.SALES_DELIVERY, world.wh, (LineInput(world.rice, "8", unit_price="80"),), partner_id=cus))
    assert at_customer(app, world, world.rice) == D("429.676")  # COGS = 8 × 53.7095
    assert stock(app, world, world.rice) == (D(12), D("644.514"))
    post(app, DraftInput(K.PURCHASE_RETURN, world.wh, (LineInput(world.rice, "2"), LineInput(world.eggs, "120")),
                         partner_id=sup, reason_code="quality", source_document_id=r1))
    assert stock(app, world, world.rice) == (D(10), D("539.676"))  # average now 53.9676
    assert stock(app, world, world.eggs) == (D(0), D(0))  # the freight share went back out with the eggs
    assert payable(app, sup) == D(980)
    assert app.queries.violations() == []


def test_receipt_by_quantity_reversal_takes_freight_out_exactly(app, world, partners):
    sup, _ = partners
    r = post(app, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "1", unit_price="100"),
                                                             LineInput(world.eggs, "2", unit_price="1")),
                             partner_id=sup, freight="10", freight_basis="qty"))
    assert [ln["freight_share"] for ln in docs.get(app.uow_factory, r)["lines"]] == [D("3.33"), D("6.67")]
    assert stock(app, world, world.rice) == (D(1), D("103.33"))
    assert stock(app, world, world.eggs) == (D(2), D("8.67"))
    assert payable(app, sup) == D(112)
    docs.reverse(app.uow_factory, r, BOSS, NOW + timedelta(hours=1), reason="录错")
    assert stock(app, world, world.rice) == (D(0), D(0)) and stock(app, world, world.eggs) == (D(0), D(0))
    assert payable(app, sup) == D(0)
    assert app.queries.violations() == []


def test_freight_on_an_unpriced_receipt_is_owed_and_costed_by_quantity(app, world, partners):
    sup, _ = partners
    post(app, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "4"),), partner_id=sup,
                         freight="2", freight_basis="qty"))
    assert stock(app, world, world.rice) == (D(4), D(2))
    assert payable(app, sup) == D(2)
    assert app.queries.violations() == []


def test_order_receipt_carries_freight(app, world, partners):
    sup, _ = partners
    po = trade.create_order(app.uow_factory, "purchase", sup, world.wh,
                            [trade.OrderLineInput(world.rice, "10", unit_price="20"),
                             trade.OrderLineInput(world.eggs, "10", unit_price="2")], BOSS, NOW)
    trade.confirm_order(app.uow_factory, po, BOSS, NOW)
    doc = trade.receive(app.uow_factory, po, None, BOSS, NOW, freight="11", freight_basis="amount")
    got = docs.get(app.uow_factory, doc)
    assert (got["state"], got["freight"], got["freight_basis"]) == ("posted", D(11), "amount")
    assert [ln["freight_share"] for ln in got["lines"]] == [D(10), D(1)]
    assert stock(app, world, world.rice) == (D(10), D(210)) and stock(app, world, world.eggs) == (D(10), D(21))
    assert payable(app, sup) == D(231)
    assert app.queries.violations() == []


@pytest.mark.parametrize(("kind", "freight", "basis", "code", "field"), [
    (K.SALES_DELIVERY, "5", None, "FREIGHT_NOT_ALLOWED", "freight"),
    (K.PURCHASE_RECEIPT, "-1", None, "VALUE_INVALID", "freight"),
    (K.PURCHASE_RECEIPT, "1.005", None, "VALUE_INVALID", "freight"),
    (K.PURCHASE_RECEIPT, "abc", None, "VALUE_INVALID", "freight"),
    (K.PURCHASE_RECEIPT, "5", "weight", "VALUE_INVALID", "freight_basis"),
    (K.PURCHASE_RECEIPT, "5", "amount", "FREIGHT_BASIS_EMPTY", "freight_basis"),  # no prices to split by
])
def test_bad_freight_is_refused_naming_the_field(app, world, partners, kind, freight, basis, code, field):
    sup, cus = partners
    partner = cus if kind is K.SALES_DELIVERY else sup
    with pytest.raises(DomainError) as err:
        docs.create_draft(app.uow_factory, DraftInput(kind, world.wh, (LineInput(world.rice, "1"),), partner_id=partner,
                                                      freight=freight, freight_basis=basis), BOSS, NOW)
    problems = err.value.details.get("problems") or [err.value.as_dict()]
    assert (code, field) in {(p["code"], p["field"]) for p in problems}, problems
    assert all(p["message_zh"] and p["message_en"] for p in problems)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.integers(1, 500), st.decimals("0", "99.99", places=2)), min_size=1, max_size=4),
       freight=st.decimals("0.01", "999.99", places=2), by_qty=st.booleans())
def test_receipt_ledger_value_is_line_amounts_plus_freight(app, world, partners, lines, freight, by_qty):
    """Ledger value of a receipt = Σ line amounts + freight, to the 0.0001, whatever the rounding of the shares."""
    sup, _ = partners
    if not by_qty and sum(q * p for q, p in lines) == 0:
        lines = [(q, D(1)) for q, _ in lines]
    products = [world.rice, world.eggs]
    inp = DraftInput(K.PURCHASE_RECEIPT, world.wh,
                     tuple(LineInput(products[i % 2], str(q), unit_price=str(p)) for i, (q, p) in enumerate(lines)),
                     partner_id=sup, freight=str(freight), freight_basis="qty" if by_qty else "amount")
    before = [stock(app, world, p)[1] for p in products]
    doc = post(app, inp)
    after = [stock(app, world, p)[1] for p in products]
    assert sum(after, D(0)) - sum(before, D(0)) == sum((q * p for q, p in lines), D(0)) + freight
    assert sum((ln["freight_share"] for ln in docs.get(app.uow_factory, doc)["lines"]), D(0)) == freight


def test_editing_a_draft_receipt_splits_the_new_freight_again(app, world, partners):
    sup, _ = partners
    lines = (LineInput(world.rice, "1", unit_price="10"), LineInput(world.eggs, "3", unit_price="10"))
    doc = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, lines, partner_id=sup,
                                                        freight="8"), BOSS, NOW)
    assert [ln["freight_share"] for ln in docs.get(app.uow_factory, doc)["lines"]] == [D(2), D(6)]
    docs.update_draft(app.uow_factory, doc, DraftInput(K.PURCHASE_RECEIPT, world.wh, lines, partner_id=sup),
                      1, BOSS, NOW)
    got = docs.get(app.uow_factory, doc)
    assert got["freight"] == 0 and [ln["freight_share"] for ln in got["lines"]] == [None, None]

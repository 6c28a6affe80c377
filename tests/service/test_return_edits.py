"""退货草稿的修改 — a rejected return edited through the generic document edit stays tied to its original.

Protects: each edited line keeps (or is given) the original line it returns (`source_line_no`), so the
returnable-quantity limit still holds and the goods still move at the original's cost; a line whose
product is not on the original, a quantity over what is returnable, another lot, another original or
another partner are refused with the field named.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from jxc.domain.approvals import Rule
from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import admin, masterdata, trade
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW

MANAGER = Actor("qian", BUILTIN_ROLES["manager"][2], role="manager", reauthenticated=True)
OWNER = Actor("laoban", BUILTIN_ROLES["owner"][2], role="owner", reauthenticated=True)
BUYER = Actor("zhao", BUILTIN_ROLES["purchaser"][2] | BUILTIN_ROLES["keeper"][2], role="purchaser")


def receipt(app, w, sup, *lines):
    doc = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, w.wh, tuple(lines), partner_id=sup),
                            BUYER, NOW)
    docs.submit(app.uow_factory, doc, BUYER, NOW)
    return doc


def rice(app, w):
    bal = app.queries.balances(product_id=w.rice, warehouse_id=w.wh).values()
    return sum((a.qty for a in bal), D(0)), sum((a.value for a in bal), D(0))


def edit(app, doc_id, *lines, **header):
    """What the web form or PUT /documents/{id} sends: no original, and lines as typed."""
    doc = docs.get(app.uow_factory, doc_id)
    inp = DraftInput(K.PURCHASE_RETURN, header.pop("warehouse_id", doc["warehouse_id"]), tuple(lines),
                     partner_id=header.pop("partner_id", doc["partner_id"]), reason_code="quality", **header)
    docs.update_draft(app.uow_factory, doc_id, inp, doc["version"], BUYER, NOW)
    return docs.get(app.uow_factory, doc_id)


def refusal(app, doc_id, *lines, **header) -> dict[str, str]:
    with pytest.raises(DomainError) as err:
        edit(app, doc_id, *lines, **header)
    return {p["field"]: p["code"] for p in err.value.details.get("problems", [err.value.as_dict()])}


@pytest.fixture
def books(app, world):
    f = app.uow_factory
    sup = masterdata.create(f, "partners", {"code": "S1", "name": "北方粮油", "role": "supplier"}, SYSTEM, NOW)
    other = masterdata.create(f, "partners", {"code": "S2", "name": "南方粮油", "role": "supplier"}, SYSTEM, NOW)
    admin.add_rule(f, Rule("采购退货需主管审批", ("manager",), kind=K.PURCHASE_RETURN), OWNER, NOW)
    first = receipt(app, world, sup, LineInput(world.rice, "10", unit_price="10"))
    second = receipt(app, world, sup, LineInput(world.rice, "10", unit_price="20"))  # average now 15
    return sup, other, first, second


def test_rejected_return_edited_keeps_its_original_line_and_posts_at_the_original_cost(app, world, books):
    sup, other, first, second = books
    f = app.uow_factory
    ret = trade.return_goods(f, first, {1: "4"}, BUYER, NOW, reason_code="quality")
    assert docs.get(f, ret)["state"] == "pending_approval"
    docs.reject(f, ret, MANAGER, NOW, comment="实际退 5 袋")
    edited = edit(app, ret, LineInput(world.rice, "5"))  # no source line, no price: the form's line
    ln = edited["lines"][0]
    assert (edited["source_document_id"], ln["source_line_no"], ln["unit_price"]) == (first, 1, D(10))
    assert refusal(app, ret, LineInput(world.rice, "11")) == {"lines[0].qty": "RETURN_EXCEEDS_MOVED"}  # 10 moved
    assert refusal(app, ret, LineInput(world.rice, "5"), LineInput(world.eggs, "1")) == {
        "lines[1].product_id": "VALUE_INVALID"}  # eggs were not on that receipt
    assert refusal(app, ret, LineInput(world.rice, "5", source_line_no=2)) == {
        "lines[0].source_line_no": "VALUE_INVALID"}
    assert refusal(app, ret, LineInput(world.rice, "5"), source_document_id=second) == {
        "source_document_id": "VALUE_INVALID"}
    assert refusal(app, ret, LineInput(world.rice, "5"), partner_id=other) == {"partner_id": "VALUE_INVALID"}
    assert docs.submit(f, ret, BUYER, NOW).value == "pending_approval"
    assert docs.approve(f, ret, MANAGER, NOW).value == "posted"
    assert rice(app, world) == (D(15), D(250))  # 300 − 5 × 10 (the receipt's cost), not 5 × 15
    with pytest.raises(DomainError) as err:
        trade.return_goods(f, first, {1: "6"}, BUYER, NOW, reason_code="quality")
    assert D(err.value.details["problems"][0]["details"]["returnable"]) == 5
    assert app.queries.violations() == []


def test_return_edit_of_a_product_on_two_original_lines_asks_which_and_keeps_the_lot(app, world, books):
    sup, _, _, _ = books
    f = app.uow_factory
    late = masterdata.create_lot(f, world.milk, "L-2", SYSTEM, NOW, produced_on=NOW.date())
    both = receipt(app, world, sup, LineInput(world.milk, "6", lot_id=world.milk_lot, unit_price="3"),
                   LineInput(world.milk, "6", lot_id=late, unit_price="4"))
    ret = trade.return_goods(f, both, {2: "2"}, BUYER, NOW, reason_code="quality")
    docs.reject(f, ret, MANAGER, NOW, comment="批次")
    assert refusal(app, ret, LineInput(world.milk, "2")) == {"lines[0].source_line_no": "VALUE_REQUIRED"}
    assert refusal(app, ret, LineInput(world.milk, "2", lot_id=world.milk_lot, source_line_no=2)) == {
        "lines[0].lot_id": "VALUE_INVALID"}
    kept = edit(app, ret, LineInput(world.milk, "3", source_line_no=2))["lines"][0]
    assert (kept["lot_id"], kept["unit_price"], kept["source_line_no"]) == (late, D(4), 2)

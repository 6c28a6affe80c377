"""单据 — lifecycle, numbering, approvals, permissions, transfers, reversal through documents."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from jxc.domain.documents import DocumentKind as K
from jxc.domain.documents import DocumentState as S
from jxc.domain.errors import Conflict, DomainError, ValidationFailed
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import documents as docs
from jxc.services import masterdata, transfers
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import Actor
from tests.conftest import NOW


def actor(name: str, role: str, warehouses=None) -> Actor:
    return Actor(name, BUILTIN_ROLES[role][2], role=role, warehouses=warehouses, reauthenticated=True)


OWNER, BOSS2 = actor("laoban", "owner"), actor("laoban2", "owner")
MANAGER, KEEPER, CASHIER = actor("wang", "manager"), actor("zhang", "keeper"), actor("liu", "sales")


def qty(app, product, location) -> D:
    bal = app.queries.balances(product_id=product, physical_only=False)
    return sum((a.qty for k, a in bal.items() if k.location_id == location), D(0))


def wh_qty(app, product, warehouse) -> D:
    """On hand in every location of a warehouse (lines without a location use its default)."""
    return sum((a.qty for a in app.queries.balances(product_id=product, warehouse_id=warehouse).values()), D(0))


def receive(app, w, product, n, price="2", lot=0):
    doc = docs.create_draft(app.uow_factory, DraftInput(
        K.PURCHASE_RECEIPT, w.wh, (LineInput(product, n, lot_id=lot, unit_price=price),)),
        KEEPER, NOW)
    assert docs.submit(app.uow_factory, doc, KEEPER, NOW) is S.POSTED
    return doc


def test_draft_moves_no_stock_until_posted_and_gets_a_number(app, world):
    doc = docs.create_draft(app.uow_factory, DraftInput(
        K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "3"),)), KEEPER, NOW)
    got = docs.get(app.uow_factory, doc)
    assert got["number"] == "CGRK-20261101-0001" and got["state"] == "draft"
    assert wh_qty(app, world.rice, world.wh) == 0
    assert docs.submit(app.uow_factory, doc, KEEPER, NOW) is S.POSTED
    with app.uow_factory() as uow:
        default = uow.documents.default_locations([world.wh])[world.wh]  # WH1-01, made with the warehouse
    assert qty(app, world.rice, default) == 3
    second = docs.create_draft(app.uow_factory, DraftInput(
        K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "1"),)), KEEPER, NOW)
    assert docs.get(app.uow_factory, second)["number"] == "CGRK-20261101-0002"
    assert app.queries.violations() == []


def test_units_convert_to_base_on_the_line(app, world):
    masterdata.add_unit_conversion(app.uow_factory, world.eggs, "盒", "30", OWNER, NOW)
    doc = docs.create_draft(app.uow_factory, DraftInput(
        K.PURCHASE_RECEIPT, world.wh, (LineInput(world.eggs, "2.5", unit="盒", unit_price="24"),)), KEEPER, NOW)
    line = docs.get(app.uow_factory, doc)["lines"][0]
    assert (line["unit"], line["qty"], line["qty_base"]) == ("盒", D("2.5"), D(75))
    # the price is entered per the line's unit (24 元/盒) and stored per base unit (0.8 元/个), so the
    # stock is valued at 2.5 盒 × 24 = 60, not at 75 × 24 (a demo once valued cabbages 30× too high)
    assert line["unit_price"] == D("0.8")
    assert docs.submit(app.uow_factory, doc, KEEPER, NOW) is S.POSTED
    value = sum(a.value for a in app.queries.balances(product_id=world.eggs).values())
    assert value == D(60)


def test_stale_edit_is_refused_naming_who_changed_it(app, world):
    inp = DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "3"),))
    doc = docs.create_draft(app.uow_factory, inp, KEEPER, NOW)
    docs.update_draft(app.uow_factory, doc, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "4"),)),
                      1, MANAGER, NOW + timedelta(minutes=5))
    with pytest.raises(Conflict) as err:
        docs.update_draft(app.uow_factory, doc, inp, 1, KEEPER, NOW + timedelta(minutes=6))
    assert err.value.code == "VERSION_CONFLICT" and "wang" in err.value.message_zh
    assert docs.get(app.uow_factory, doc)["lines"][0]["qty"] == D(4)


def test_posted_document_is_final_and_cancel_only_for_drafts(app, world):
    doc = receive(app, world, world.rice, "5")
    for call in (lambda: docs.cancel_draft(app.uow_factory, doc, KEEPER, NOW),
                 lambda: docs.update_draft(app.uow_factory, doc, DraftInput(
                     K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "1"),)), 2, KEEPER, NOW),
                 lambda: docs.submit(app.uow_factory, doc, KEEPER, NOW)):
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == "INVALID_TRANSITION"
    draft = docs.create_draft(app.uow_factory, DraftInput(
        K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "1"),)), KEEPER, NOW)
    docs.cancel_draft(app.uow_factory, draft, KEEPER, NOW, reason="录重了")
    assert docs.get(app.uow_factory, draft)["state"] == "cancelled"


def test_scrap_needs_reason_and_manager_approval_not_self(app, world):
    receive(app, world, world.rice, "10")
    with pytest.raises(ValidationFailed) as err:
        docs.create_draft(app.uow_factory, DraftInput(K.SCRAP, world.wh, (LineInput(world.rice, "2"),)), KEEPER, NOW)
    assert err.value.code == "REASON_REQUIRED"
    doc = docs.create_draft(app.uow_factory, DraftInput(K.SCRAP, world.wh, (LineInput(world.rice, "2"),),
                                                        reason_code="damaged"), KEEPER, NOW)
    assert docs.submit(app.uow_factory, doc, KEEPER, NOW) is S.PENDING_APPROVAL
    got = docs.get(app.uow_factory, doc)
    assert got["approval_plan"][0]["role"] == "manager" and "报损" in got["approval_plan"][0]["reasons"][0]
    assert wh_qty(app, world.rice, world.wh) == 10  # pending: nothing moved
    with pytest.raises(DomainError) as err:
        docs.approve(app.uow_factory, doc, CASHIER, NOW)
    assert err.value.code == "PERMISSION_DENIED"
    assert docs.approve(app.uow_factory, doc, MANAGER, NOW, comment="确认破损") is S.POSTED
    assert wh_qty(app, world.rice, world.wh) == 8
    manager_doc = docs.create_draft(app.uow_factory, DraftInput(K.SCRAP, world.wh, (LineInput(world.rice, "1"),),
                                                                reason_text="老鼠咬破"), MANAGER, NOW)
    docs.submit(app.uow_factory, manager_doc, MANAGER, NOW)
    with pytest.raises(DomainError) as err:
        docs.approve(app.uow_factory, manager_doc, MANAGER, NOW)
    assert err.value.code == "SELF_APPROVAL"
    assert app.queries.violations() == []


def test_reject_returns_to_draft_with_comment_then_resubmit(app, world):
    receive(app, world, world.rice, "10")
    doc = docs.create_draft(app.uow_factory, DraftInput(K.SCRAP, world.wh, (LineInput(world.rice, "9"),),
                                                        reason_code="lost"), KEEPER, NOW)
    docs.submit(app.uow_factory, doc, KEEPER, NOW)
    docs.reject(app.uow_factory, doc, MANAGER, NOW, comment="数量不对，请复核")
    got = docs.get(app.uow_factory, doc)
    assert got["state"] == "draft" and got["approvals"][0]["decision"] == "rejected"
    docs.update_draft(app.uow_factory, doc, DraftInput(K.SCRAP, world.wh, (LineInput(world.rice, "2"),),
                                                       reason_code="lost"), got["version"], KEEPER, NOW)
    assert docs.submit(app.uow_factory, doc, KEEPER, NOW) is S.PENDING_APPROVAL


def test_negative_stock_goes_to_the_owner_and_posts_allowed(app, world):
    receive(app, world, world.rice, "2")
    doc = docs.create_draft(app.uow_factory, DraftInput(K.SALES_DELIVERY, world.wh, (LineInput(world.rice, "5"),)),
                            CASHIER, NOW)
    assert docs.submit(app.uow_factory, doc, CASHIER, NOW) is S.PENDING_APPROVAL
    with pytest.raises(DomainError) as err:
        docs.approve(app.uow_factory, doc, MANAGER, NOW)
    assert err.value.code in ("PERMISSION_DENIED", "APPROVER_ROLE_REQUIRED")
    assert docs.approve(app.uow_factory, doc, OWNER, NOW) is S.POSTED
    assert wh_qty(app, world.rice, world.wh) == -3
    assert app.queries.violations() == []


def test_negative_sales_line_needs_permission(app, world):
    inp = DraftInput(K.SALES_DELIVERY, world.wh, (LineInput(world.rice, "-1"),))
    with pytest.raises(ValidationFailed) as err:
        docs.create_draft(app.uow_factory, inp, CASHIER, NOW)
    assert err.value.code == "NEGATIVE_LINE_NOT_PERMITTED"
    doc = docs.create_draft(app.uow_factory, inp, OWNER, NOW)
    docs.submit(app.uow_factory, doc, OWNER, NOW)
    assert wh_qty(app, world.rice, world.wh) == 1  # a negative sale is a return


def test_warehouse_scope_is_enforced(app, world):
    other = masterdata.create(app.uow_factory, "warehouses", {"code": "W9", "name": "外仓"}, OWNER, NOW)
    scoped = actor("zhao", "keeper", warehouses=frozenset({other}))
    with pytest.raises(DomainError) as err:
        docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "1"),)),
                          scoped, NOW)
    assert err.value.code == "WAREHOUSE_NOT_PERMITTED" and err.value.status == 403


def test_reversal_through_the_document(app, world):
    doc = receive(app, world, world.rice, "5")
    docs.reverse(app.uow_factory, doc, MANAGER, NOW, reason="供应商送错")
    assert docs.get(app.uow_factory, doc)["state"] == "reversed"
    assert wh_qty(app, world.rice, world.wh) == 0
    with pytest.raises(DomainError) as err:
        docs.reverse(app.uow_factory, doc, MANAGER, NOW, reason="again")
    assert err.value.code == "INVALID_TRANSITION"
    assert app.queries.violations() == []


def test_transfer_goes_through_transit_partial_receipt_then_final_with_discrepancy(app, world):
    wh2 = masterdata.create(app.uow_factory, "warehouses", {"code": "W2", "name": "二店", "kind": "store"}, OWNER, NOW)
    receive(app, world, world.rice, "10")
    t = docs.create_draft(app.uow_factory, DraftInput(K.TRANSFER, world.wh, (LineInput(world.rice, "6"),),
                                                      to_warehouse_id=wh2), KEEPER, NOW)
    assert docs.submit(app.uow_factory, t, KEEPER, NOW) is S.POSTED
    assert wh_qty(app, world.rice, world.wh) == 4 and qty(app, world.rice, world.transit) == 6
    transfers.confirm_receipt(app.uow_factory, t, {1: "4"}, KEEPER, NOW, final=False)
    assert transfers.outstanding(app.uow_factory, t) == {1: D(2)}
    with pytest.raises(ValidationFailed) as err:
        transfers.confirm_receipt(app.uow_factory, t, {1: "3"}, KEEPER, NOW)
    assert err.value.code == "QTY_EXCEEDS_OUTSTANDING"
    rid = transfers.confirm_receipt(app.uow_factory, t, {1: "1"}, KEEPER, NOW, final=True)
    lines = docs.get(app.uow_factory, rid)["lines"]
    assert [(ln["qty_base"], ln["remark"]) for ln in lines] == [(D(1), "签收"), (D(1), "在途差异：少到")]
    assert qty(app, world.rice, world.transit) == 0
    assert qty(app, world.rice, world.count_diff) == 1
    with app.uow_factory() as uow:
        dest = uow.documents.default_locations([wh2])[wh2]
    assert qty(app, world.rice, dest) == 5
    assert app.queries.violations() == []


def test_status_change_and_count_adjustment_and_assembly(app, world):
    receive(app, world, world.rice, "10")
    sc = docs.create_draft(app.uow_factory, DraftInput(K.STATUS_CHANGE, world.wh, (
        LineInput(world.rice, "3", to_status="quality_hold"),)), KEEPER, NOW)
    docs.submit(app.uow_factory, sc, KEEPER, NOW)
    bal = app.queries.balances(product_id=world.rice)
    assert {k.status: a.qty for k, a in bal.items()} == {"available": D(7), "quality_hold": D(3)}
    ca = docs.create_draft(app.uow_factory, DraftInput(K.COUNT_ADJUSTMENT, world.wh, (
        LineInput(world.rice, "1", role="loss"), LineInput(world.eggs, "6", role="gain", unit_price="0.5")),
        reason_code="difference"), KEEPER, NOW)
    assert docs.submit(app.uow_factory, ca, KEEPER, NOW) is S.PENDING_APPROVAL
    docs.approve(app.uow_factory, ca, MANAGER, NOW)
    assert wh_qty(app, world.eggs, world.wh) == 6
    asm = docs.create_draft(app.uow_factory, DraftInput(K.ASSEMBLY, world.wh, (
        LineInput(world.eggs, "6", role="component"), LineInput(world.rice, "1", role="output")),), KEEPER, NOW)
    docs.submit(app.uow_factory, asm, KEEPER, NOW)
    assert wh_qty(app, world.eggs, world.wh) == 0
    assert app.queries.violations() == []


def test_idempotent_draft_creation(app, world):
    inp = DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "1"),), idempotency_key="pda-1")
    assert docs.create_draft(app.uow_factory, inp, KEEPER, NOW) == docs.create_draft(app.uow_factory, inp, KEEPER, NOW)


def test_actor_for_reads_role_permissions_and_scope(app, world):
    from jxc.services import users

    users.create_user(app.uow_factory, "xiaozhang", "password1", "keeper", OWNER, NOW)
    a = users.actor_for(app.uow_factory, "xiaozhang")
    assert a.role == "keeper" and "document.post.purchase_receipt" in a.permissions and a.warehouses is None


def test_approval_needs_the_password_again(app, world):
    receive(app, world, world.rice, "3")
    doc = docs.create_draft(app.uow_factory, DraftInput(K.SCRAP, world.wh, (LineInput(world.rice, "1"),),
                                                        reason_code="expired"), KEEPER, NOW)
    docs.submit(app.uow_factory, doc, KEEPER, NOW)
    tired = Actor("wang", BUILTIN_ROLES["manager"][2], role="manager")
    with pytest.raises(DomainError) as err:
        docs.approve(app.uow_factory, doc, tired, NOW)
    assert err.value.code == "REAUTH_REQUIRED" and err.value.field == "password"
    assert docs.get(app.uow_factory, doc)["state"] == "pending_approval"


def test_overdue_drafts_remind_operator_then_manager_once_each(app, world):
    from jxc.services.reminders import remind_overdue

    doc = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "1"),)),
                            KEEPER, NOW)
    assert remind_overdue(app.uow_factory, NOW + timedelta(minutes=30)) == []
    first = remind_overdue(app.uow_factory, NOW + timedelta(minutes=61))
    assert [(r["document_id"], r["level"], r["notify"]) for r in first] == [(doc, 1, {"user": "zhang"})]
    assert remind_overdue(app.uow_factory, NOW + timedelta(minutes=90)) == []
    second = remind_overdue(app.uow_factory, NOW + timedelta(hours=5))
    assert second[0]["level"] == 2 and second[0]["notify"]["role"] == "manager"
    assert "不计入库存" in second[0]["message_zh"]
    assert docs.get(app.uow_factory, doc)["version"] == 1  # reminding is not editing


def test_delivery_without_a_lot_picks_nearest_expiry_sellable_lots_first(app, world):
    from datetime import date

    lots = {n: masterdata.create_lot(app.uow_factory, world.milk, n, OWNER, NOW, expires_on=e)
            for n, e in (("L-DEC", date(2026, 12, 20)), ("L-NOV", date(2026, 11, 25)), ("L-SOON", date(2026, 11, 3)))}
    for name in lots:
        receive(app, world, world.milk, "4", lot=lots[name])
    doc = docs.create_draft(app.uow_factory, DraftInput(K.SALES_DELIVERY, world.wh, (LineInput(world.milk, "6"),)),
                            CASHIER, NOW)
    docs.submit(app.uow_factory, doc, CASHIER, NOW)
    bal = app.queries.balances(product_id=world.milk)
    left = {k.lot_id: a.qty for k, a in bal.items()}
    # L-SOON expires in 2 days (blocked, 7-day rule), so L-NOV goes first, then L-DEC
    assert left == {lots["L-SOON"]: D(4), lots["L-DEC"]: D(2)}  # L-NOV emptied
    scrap = docs.create_draft(app.uow_factory, DraftInput(K.SCRAP, world.wh, (LineInput(world.milk, "4"),),
                                                          reason_code="expired"), KEEPER, NOW)
    docs.submit(app.uow_factory, scrap, KEEPER, NOW)
    docs.approve(app.uow_factory, scrap, MANAGER, NOW)
    left = {k.lot_id: a.qty for k, a in app.queries.balances(product_id=world.milk).items()}
    assert lots["L-SOON"] not in left  # scrap may take the blocked lot, and FEFO takes it first
    too_much = docs.create_draft(app.uow_factory, DraftInput(K.SALES_DELIVERY, world.wh, (LineInput(world.milk, "3"),)),
                                 CASHIER, NOW)
    with pytest.raises(DomainError) as err:
        docs.submit(app.uow_factory, too_much, CASHIER, NOW)
    assert err.value.code == "STOCK_INSUFFICIENT" and err.value.details["available"] == "2.0000"


def test_transfer_carries_its_value_through_transit_and_returns_come_back_at_average(app, world):
    wh2 = masterdata.create(app.uow_factory, "warehouses", {"code": "W3", "name": "三店", "kind": "store"}, OWNER, NOW)
    receive(app, world, world.rice, "10", price="3")
    t = docs.create_draft(app.uow_factory, DraftInput(K.TRANSFER, world.wh, (LineInput(world.rice, "4"),),
                                                      to_warehouse_id=wh2), KEEPER, NOW)
    docs.submit(app.uow_factory, t, KEEPER, NOW)
    transfers.confirm_receipt(app.uow_factory, t, None, KEEPER, NOW)
    arrived = app.queries.balances(product_id=world.rice, warehouse_id=wh2)
    assert sum(a.value for a in arrived.values()) == D("12")  # 4 × 3.00 arrived with the goods
    in_transit = app.queries.balances(product_id=world.rice, physical_only=False)
    assert all(a.value == 0 for k, a in in_transit.items() if k.location_id == world.transit)
    sale = docs.create_draft(app.uow_factory, DraftInput(K.SALES_DELIVERY, world.wh, (LineInput(world.rice, "2"),)),
                             CASHIER, NOW)
    docs.submit(app.uow_factory, sale, CASHIER, NOW)
    back = docs.create_draft(app.uow_factory, DraftInput(K.SALES_RETURN, world.wh, (LineInput(world.rice, "1"),),
                                                         reason_code="quality"), CASHIER, NOW)
    docs.submit(app.uow_factory, back, CASHIER, NOW)
    here = app.queries.balances(product_id=world.rice, warehouse_id=world.wh)
    assert (sum(a.qty for a in here.values()), sum(a.value for a in here.values())) == (D(5), D(15))


def test_lines_without_a_location_take_from_the_shelves_that_hold_the_stock(app, world):
    from datetime import date

    lot = masterdata.create_lot(app.uow_factory, world.milk, "L-A", OWNER, NOW, expires_on=date(2026, 12, 31))
    for product, n, lot_id in ((world.rice, "6", 0), (world.milk, "5", lot)):
        doc = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (
            LineInput(product, n, lot_id=lot_id, unit_price="2", location_id=world.shelf_b),)), KEEPER, NOW)
        docs.submit(app.uow_factory, doc, KEEPER, NOW)
    sale = docs.create_draft(app.uow_factory, DraftInput(K.SALES_DELIVERY, world.wh, (
        LineInput(world.rice, "4"), LineInput(world.milk, "3"))), CASHIER, NOW)
    assert docs.submit(app.uow_factory, sale, CASHIER, NOW) is S.POSTED  # the stock is on B-01, not WH1-01
    assert qty(app, world.rice, world.shelf_b) == 2 and qty(app, world.milk, world.shelf_b) == 2


def test_short_shelf_life_produce_is_sellable_until_the_last_third_of_its_life(app, world):
    from datetime import timedelta

    from jxc.services import reserving as rs

    spinach = masterdata.create(app.uow_factory, "products", {"code": "SC001", "name": "菠菜", "base_unit": "斤",
                                                             "tracking": "lot", "shelf_life_days": 3}, OWNER, NOW)
    today = NOW.date()
    fresh = masterdata.create_lot(app.uow_factory, spinach, "D0", OWNER, NOW, produced_on=today)  # expires in 3 days
    last_day = masterdata.create_lot(app.uow_factory, spinach, "D-2", OWNER, NOW,
                                     expires_on=today + timedelta(days=0))  # expires today: last third
    for lot_id in (fresh, last_day):
        receive(app, world, spinach, "10", lot=lot_id)
    e = rs.availability(app.uow_factory, spinach, world.wh, today)
    assert e.available == D(10)  # under the book's 7-day rule nothing would ever be sellable
    assert {p.lot for p in e.parts if p.reason.startswith("lot:")} == {"D-2"}

"""账实不符排查 — one story per cause the seeds list; the view must name the right document.

Every story: what happened on the shelf, what was (or was not) entered, what
the count found, and which document the investigation points at.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from openpyxl import load_workbook

from jxc.domain.documents import DocumentKind as K
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import counting as cnt
from jxc.services import counting_close as cc
from jxc.services import documents as docs
from jxc.services import masterdata, transfers
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.investigation import investigate, tables, write_xlsx
from jxc.services.posting import Actor
from tests.conftest import NOW
from tests.service.test_documents import KEEPER, MANAGER, OWNER

DAY = timedelta(days=1)
TEMP = Actor("xiaoli", BUILTIN_ROLES["sales"][2], role="sales", device="PDA-2", ip="10.0.0.12")  # 临时工
CASHIER = Actor("liu", BUILTIN_ROLES["sales"][2], role="sales", device="POS-1")


def post(app, kind, wh, product, qty, who, at, **header):
    doc = docs.create_draft(app.uow_factory, DraftInput(kind, wh, (LineInput(product, qty, unit_price="3"),),
                                                        effective_at=at, **header), who, at)
    docs.submit(app.uow_factory, doc, who, at)
    return docs.get(app.uow_factory, doc)["number"], doc


def test_unrecorded_return_damaged_goods_thrown_away_points_at_the_return(app, world):
    """Tiles: 100 in, 5 more in, 20 sold; a temp worker books a 5-piece return into stock but throws the
    broken pieces away (no scrap document). Shelf: 85. Book: 90. The return is the culprit, not the
    ordinary receipt of the same size."""
    post(app, K.PURCHASE_RECEIPT, world.wh, world.rice, "100", KEEPER, NOW)
    post(app, K.PURCHASE_RECEIPT, world.wh, world.rice, "5", KEEPER, NOW + DAY)
    post(app, K.SALES_DELIVERY, world.wh, world.rice, "20", CASHIER, NOW + 2 * DAY)
    ret, _ = post(app, K.SALES_RETURN, world.wh, world.rice, "5", TEMP, NOW + 3 * DAY, reason_code="quality")
    r = investigate(app.uow_factory, world.rice, world.wh, NOW + 5 * DAY, counted_qty=D(85))
    assert (r["book_qty"], r["gap"]) == (D(90), D(5))
    assert [t["balance"] for t in r["timeline"]] == [D(100), D(105), D(85), D(90)]
    s = r["suspect"]
    assert (s["number"], s["section"], s["created_by"], s["device"]) == (ret, "timeline", "xiaoli", "PDA-2")


def test_staged_receipt_never_confirmed_points_at_the_draft(app, world):
    """20 bags arrived and were shelved; the receipt was typed as a draft and never submitted. Shelf 120, book 100."""
    post(app, K.PURCHASE_RECEIPT, world.wh, world.rice, "100", KEEPER, NOW)
    draft = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "20"),)),
                              KEEPER, NOW + DAY)
    r = investigate(app.uow_factory, world.rice, world.wh, NOW + 2 * DAY, counted_qty=D(120))
    assert r["gap"] == D(-20)
    assert [(d["state"], d["effect"]) for d in r["open_documents"]] == [("draft", D(20))]
    assert (r["suspect"]["section"], r["suspect"]["document_id"]) == ("open_document", draft)
    assert r["suspect"]["created_by"] == "zhang"


def test_delivered_before_documented_is_explained_by_the_backdated_delivery_and_the_count_posts_nothing(app, world):
    """10 bags left on day 2 without a document; the count on day 3 at 09:00 found 90; the clerk entered
    the delivery at 15:00, dated day 2. The count closes with no variance, and the view names the delivery."""
    post(app, K.PURCHASE_RECEIPT, world.wh, world.rice, "100", KEEPER, NOW)
    plan = cnt.create_plan(app.uow_factory, cnt.PlanInput("全盘", world.wh, kind="full"), KEEPER, NOW + 2 * DAY)
    task = cnt.create_task(app.uow_factory, plan, KEEPER, NOW + 2 * DAY)
    counted_at = NOW + 2 * DAY + timedelta(hours=1)
    with app.uow_factory() as uow:
        shelf = uow.documents.default_locations([world.wh])[world.wh]
    cnt.enter_line(app.uow_factory, task, cnt.CountLine(shelf, "P002", "90", counted_at=counted_at), KEEPER, counted_at)
    late = NOW + 2 * DAY + timedelta(hours=7)
    doc = docs.create_draft(app.uow_factory, DraftInput(K.SALES_DELIVERY, world.wh, (LineInput(world.rice, "10"),),
                                                        effective_at=NOW + DAY + timedelta(hours=1)), CASHIER, late)
    docs.submit(app.uow_factory, doc, CASHIER, late)
    closed = cc.close(app.uow_factory, task, KEEPER, late + timedelta(hours=1))
    assert closed.document_id is None and closed.lines[0].variance == 0
    r = investigate(app.uow_factory, world.rice, world.wh, late + timedelta(hours=1), counted_qty=D(90),
                    counted_at=counted_at)
    assert (r["gap"], r["gap_at_count"]) == (D(0), D(10))
    delivery = [t for t in r["timeline"] if t["kind"] == "sales_delivery"][0]
    assert delivery["backdated"] and delivery["after_count"]
    assert (r["suspect"]["section"], r["suspect"]["document_id"]) == ("late_posting", doc)


def test_transfer_never_signed_for_points_at_the_transfer(app, world):
    """30 bags sent from the warehouse to store 二店 arrived, but nobody confirmed receipt (签收). The store
    counts 30 on its shelf, its book says 0."""
    store = masterdata.create(app.uow_factory, "warehouses", {"code": "W2", "name": "二店", "kind": "store"}, OWNER, NOW)
    post(app, K.PURCHASE_RECEIPT, world.wh, world.rice, "100", KEEPER, NOW)
    number, transfer = post(app, K.TRANSFER, world.wh, world.rice, "30", KEEPER, NOW + DAY, to_warehouse_id=store)
    r = investigate(app.uow_factory, world.rice, store, NOW + 2 * DAY, counted_qty=D(30))
    assert r["gap"] == D(-30)
    assert [(t["direction"], t["in_transit"]) for t in r["in_transit"]] == [("in", D(30))]
    assert (r["suspect"]["section"], r["suspect"]["number"]) == ("in_transit", number)
    assert r["reservations_status"] == "ok" and r["reservations"] == []
    transfers.confirm_receipt(app.uow_factory, transfer, None, KEEPER, NOW + 2 * DAY)  # 签收 at last
    after = investigate(app.uow_factory, world.rice, store, NOW + 3 * DAY, counted_qty=D(30))
    assert after["gap"] == 0 and after["in_transit"] == [] and after["suspect"] is None


def test_fake_sale_then_return_points_at_the_return_paired_with_the_sale(app, world):
    """At 16:00 the cashier 'sells' 8 to a friend, who takes them; at 16:05 the same cashier books a return of
    8 (nothing came back) and the refund. Shelf 42, book 50."""
    post(app, K.PURCHASE_RECEIPT, world.wh, world.rice, "50", KEEPER, NOW)
    four_pm = NOW + DAY + timedelta(hours=7)
    sale, _ = post(app, K.SALES_DELIVERY, world.wh, world.rice, "8", CASHIER, four_pm)
    ret, _ = post(app, K.SALES_RETURN, world.wh, world.rice, "8", CASHIER, four_pm + timedelta(minutes=5),
               reason_code="customer")
    r = investigate(app.uow_factory, world.rice, world.wh, NOW + 2 * DAY, counted_qty=D(42))
    s = r["suspect"]
    assert (r["gap"], s["number"], s["paired_with"], s["created_by"], s["device"]) == (D(8), ret, sale, "liu", "POS-1")
    assert "虚构销售" in s["reason_zh"]


def test_the_view_starts_at_the_last_good_count_and_exports_a_real_xlsx(app, world, tmp_path):
    post(app, K.PURCHASE_RECEIPT, world.wh, world.rice, "100", KEEPER, NOW)
    plan = cnt.create_plan(app.uow_factory, cnt.PlanInput("全盘", world.wh, kind="full"), KEEPER, NOW)
    task = cnt.create_task(app.uow_factory, plan, KEEPER, NOW)
    with app.uow_factory() as uow:
        shelf = uow.documents.default_locations([world.wh])[world.wh]
    good = NOW + timedelta(hours=2)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine(shelf, "P002", "98", counted_at=good), KEEPER, good)
    result = cc.close(app.uow_factory, task, KEEPER, good)
    docs.approve(app.uow_factory, result.document_id, MANAGER, good)
    post(app, K.SALES_DELIVERY, world.wh, world.rice, "8", CASHIER, NOW + DAY)
    r = investigate(app.uow_factory, world.rice, world.wh, NOW + 2 * DAY, counted_qty=D(90))
    assert r["since"] == good and r["opening"] == D(98)  # the count, its 盘亏 of 2 dated at its close
    path = tmp_path / "investigation.xlsx"
    write_xlsx(r, path)
    wb = load_workbook(path)
    assert wb.sheetnames == list(tables(r))
    summary = {row[0]: row[1] for row in wb["概要 Summary"].iter_rows(values_only=True)}
    assert summary["差异 gap (账-实)"] == 0 and summary["商品 product"] == "P002 东北大米"
    assert [row[2] for row in wb["流水 Timeline"].iter_rows(min_row=2, values_only=True)][-1].startswith("XSCK-")



def test_goods_handed_over_on_a_reserved_order_without_a_delivery_point_at_the_reservation(app, world):
    """Sales order XSDD-7 reserved 10 bags; the customer drove off with them, nobody entered the delivery
    (先发货后补单, not yet 补). Shelf 90, book 100: the undelivered reservation explains it."""
    from jxc.services.reserving import ReserveRequest, reserve

    post(app, K.PURCHASE_RECEIPT, world.wh, world.rice, "100", KEEPER, NOW)
    reserve(app.uow_factory, ReserveRequest(world.rice, world.wh, "10", "sales_order:XSDD-7"), CASHIER, NOW + DAY)
    r = investigate(app.uow_factory, world.rice, world.wh, NOW + 2 * DAY, counted_qty=D(90))
    assert r["reservations_status"] == "ok" and [x["open_qty"] for x in r["reservations"]] == [D(10)]
    assert (r["suspect"]["section"], r["suspect"]["number"]) == ("reservation", "sales_order:XSDD-7")
    assert r["suspect"]["created_by"] == "liu"

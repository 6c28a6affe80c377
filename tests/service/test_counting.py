"""盘点 — plans, blind tasks, offline lines, combining counters, recount, and closing into 盘盈盘亏.

Each test is a short story: what the shelf held, what the counters entered, and
what the books say afterwards.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from jxc.domain.documents import DocumentKind as K
from jxc.domain.documents import DocumentState as S
from jxc.domain.errors import Conflict, DomainError
from jxc.services import counting as cnt
from jxc.services import counting_close as cc
from jxc.services import documents as docs
from jxc.services import masterdata
from jxc.services.counting_scope import recompute_abc
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM
from tests.conftest import NOW
from tests.service.test_documents import CASHIER, KEEPER, MANAGER, actor, wh_qty

KEEPER2 = actor("li", "keeper")
T = NOW


def stock_in(app, w, product, n, at=T, price="2", lot=0, location=None):
    doc = docs.create_draft(app.uow_factory, DraftInput(
        K.PURCHASE_RECEIPT, w.wh, (LineInput(product, n, lot_id=lot, unit_price=price, location_id=location),),
        effective_at=at), KEEPER, at)
    docs.submit(app.uow_factory, doc, KEEPER, at)


def sell(app, w, product, n, at, location=None):
    doc = docs.create_draft(app.uow_factory, DraftInput(
        K.SALES_DELIVERY, w.wh, (LineInput(product, n, location_id=location),), effective_at=at), CASHIER, at)
    docs.submit(app.uow_factory, doc, CASHIER, at)


def task_for(app, w, blind=False, assignees=("zhang",), **plan):
    plan_id = cnt.create_plan(app.uow_factory, cnt.PlanInput("A货架循环盘点", w.wh, blind=blind, **plan), KEEPER, T)
    return cnt.create_task(app.uow_factory, plan_id, KEEPER, T, assignees=assignees)


def test_closing_proposes_a_count_adjustment_that_needs_a_manager_and_only_posting_moves_stock(app, world):
    stock_in(app, world, world.rice, "100", location=world.shelf_a)
    task = task_for(app, world)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "95", counted_at=T + timedelta(hours=1)),
                   KEEPER, T + timedelta(hours=1))
    result = cc.close(app.uow_factory, task, KEEPER, T + timedelta(hours=2))
    assert result.document_state == S.PENDING_APPROVAL
    doc = docs.get(app.uow_factory, result.document_id)
    assert doc["kind"] == "count_adjustment" and doc["reason_code"] == "difference"
    assert [(ln["role"], ln["qty_base"], ln["unit_price"]) for ln in doc["lines"]] == [("loss", D(5), D(2))]
    assert wh_qty(app, world.rice, world.wh) == 100  # proposed, not posted: the books have not moved
    docs.approve(app.uow_factory, result.document_id, MANAGER, T + timedelta(hours=3))
    assert wh_qty(app, world.rice, world.wh) == 95
    assert app.queries.violations() == []


def test_stock_sold_after_a_line_was_counted_is_not_lost_twice(app, world):
    """Book 100 at 10:00, shelf counted 95 at 10:00, 10 sold at 11:00, closed at 12:00: the loss is 5, not 15."""
    stock_in(app, world, world.rice, "100", location=world.shelf_a)
    task = task_for(app, world)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "95", counted_at=T + timedelta(hours=1)),
                   KEEPER, T + timedelta(hours=1))
    sell(app, world, world.rice, "10", T + timedelta(hours=2), location=world.shelf_a)
    result = cc.close(app.uow_factory, task, KEEPER, T + timedelta(hours=3))
    (line,) = result.lines
    assert (line.book_qty, line.counted_qty, line.variance) == (D(100), D(95), D(-5))
    docs.approve(app.uow_factory, result.document_id, MANAGER, T + timedelta(hours=3))
    assert wh_qty(app, world.rice, world.wh) == 85  # 95 on the shelf at 10:00 − 10 sold since


def test_a_line_entered_offline_is_stored_once_and_a_reused_key_is_refused(app, world):
    stock_in(app, world, world.rice, "10", location=world.shelf_a)
    task = task_for(app, world)
    line = cnt.CountLine("A-01", "P002", "9", counted_at=T + timedelta(minutes=5), idempotency_key="phone-7:1")
    first = cnt.enter_line(app.uow_factory, task, line, KEEPER, T + timedelta(hours=4))  # sent when back online
    again = cnt.enter_line(app.uow_factory, task, line, KEEPER, T + timedelta(hours=4, minutes=1))
    assert first == (first[0], True) and again == (first[0], False)
    with pytest.raises(DomainError) as err:
        cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "8", counted_at=T + timedelta(minutes=5),
                                                            idempotency_key="phone-7:1"), KEEPER, T + timedelta(hours=5))
    assert err.value.code == "IDEMPOTENCY_MISMATCH"
    with app.uow_factory() as uow:
        assert len(uow.counting.entries(task)) == 1


def test_units_convert_and_barcodes_and_lots_are_scanned(app, world):
    masterdata.add_unit_conversion(app.uow_factory, world.eggs, "盒", "30", SYSTEM, T)
    masterdata.add_barcode(app.uow_factory, world.milk, "6901234567890", SYSTEM, T)
    stock_in(app, world, world.eggs, "60", location=world.shelf_a)
    stock_in(app, world, world.milk, "12", lot=world.milk_lot, location=world.shelf_a)
    task = task_for(app, world)
    at = T + timedelta(minutes=30)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P003", "2", unit="盒", counted_at=at), KEEPER, at)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "6901234567890", "12", lot="L20261101",
                                                        counted_at=at), KEEPER, at)
    with pytest.raises(DomainError) as err:
        cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P001", "1", counted_at=at), KEEPER, at)
    assert err.value.code == "LOT_REQUIRED"
    result = cc.close(app.uow_factory, task, KEEPER, at)
    assert result.document_id is None and all(ln.variance == 0 for ln in result.lines)
    assert {ln.counted_qty for ln in result.lines} == {D(60), D(12)}


def test_two_counters_who_disagree_block_the_close_until_recounted(app, world):
    stock_in(app, world, world.rice, "50", location=world.shelf_a)
    task = task_for(app, world, assignees=("zhang", "li"))
    at = T + timedelta(minutes=10)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "48", counted_at=at), KEEPER, at)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "50", counted_at=at), KEEPER2, at)
    with pytest.raises(Conflict) as err:
        cc.close(app.uow_factory, task, KEEPER, at)
    assert err.value.code == "COUNT_CONFLICT"
    cc.recount(app.uow_factory, task, [(world.shelf_a, world.rice, 0)], MANAGER, at)
    later = at + timedelta(minutes=20)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "49", counted_at=later), KEEPER2, later)
    result = cc.close(app.uow_factory, task, KEEPER, later)
    assert [(ln.counted_qty, ln.counters) for ln in result.lines] == [(D(49), ("li",))]


def test_counters_agree_when_their_variances_agree_even_if_a_sale_came_between(app, world):
    stock_in(app, world, world.rice, "50", location=world.shelf_a)
    task = task_for(app, world, assignees=("zhang", "li"))
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "48", counted_at=T + timedelta(minutes=5)),
                   KEEPER, T + timedelta(minutes=5))
    sell(app, world, world.rice, "3", T + timedelta(minutes=10), location=world.shelf_a)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "45", counted_at=T + timedelta(minutes=15)),
                   KEEPER2, T + timedelta(minutes=15))
    (line,) = cc.close(app.uow_factory, task, KEEPER, T + timedelta(minutes=20)).lines
    assert not line.conflict and line.variance == -2


def test_last_entry_per_counter_wins_and_damaged_adds_to_good(app, world):
    stock_in(app, world, world.rice, "20", location=world.shelf_a)
    task = task_for(app, world)
    for qty, cond, minute in (("15", "good", 1), ("17", "good", 2), ("3", "damaged", 3)):
        at = T + timedelta(minutes=minute)
        cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", qty, condition=cond, counted_at=at,
                                                            photo_ref="photo://x" if cond == "damaged" else None),
                       KEEPER, at)
    (line,) = cc.close(app.uow_factory, task, KEEPER, T + timedelta(minutes=5)).lines
    assert line.counted_qty == 20 and line.conditions == ("damaged", "good")


def test_blind_task_hides_the_book_from_counters_but_not_from_the_manager(app, world):
    stock_in(app, world, world.rice, "20", location=world.shelf_a)
    task = task_for(app, world, blind=True)
    counter_view = cc.sheet(app.uow_factory, task, KEEPER, T)
    assert counter_view["shows_book"] is False and "book_qty_now" not in counter_view["lines"][0]
    assert cc.sheet(app.uow_factory, task, MANAGER, T)["lines"][0]["book_qty_now"] == 20


def test_unassigned_counter_and_closed_task_are_refused(app, world):
    stock_in(app, world, world.rice, "20", location=world.shelf_a)
    task = task_for(app, world, assignees=("li",))
    with pytest.raises(DomainError) as err:
        cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "20"), KEEPER, T)
    assert err.value.code == "COUNT_NOT_ASSIGNED"
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "20"), KEEPER2, T)
    cc.close(app.uow_factory, task, KEEPER2, T)
    with pytest.raises(DomainError) as err:
        cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "19"), KEEPER2, T)
    assert err.value.code == "COUNT_TASK_STATE"


def test_recount_after_close_withdraws_the_pending_adjustment(app, world):
    stock_in(app, world, world.rice, "30", location=world.shelf_a)
    task = task_for(app, world)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "20"), KEEPER, T)
    first = cc.close(app.uow_factory, task, KEEPER, T)
    assert first.document_state == S.PENDING_APPROVAL
    cc.recount(app.uow_factory, task, [(world.shelf_a, world.rice, 0)], MANAGER, T, comment="差太多")
    assert docs.get(app.uow_factory, first.document_id)["state"] == "cancelled"
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "29"), KEEPER, T + timedelta(minutes=1))
    second = cc.close(app.uow_factory, task, KEEPER, T + timedelta(minutes=2))
    assert docs.get(app.uow_factory, second.document_id)["lines"][0]["qty_base"] == 1
    docs.approve(app.uow_factory, second.document_id, MANAGER, T + timedelta(minutes=3))
    with pytest.raises(DomainError) as err:
        cc.recount(app.uow_factory, task, [(world.shelf_a, world.rice, 0)], MANAGER, T)
    assert err.value.code == "COUNT_TASK_STATE"


def test_plan_scopes_by_shelf_category_abc_and_rotation(app, world):
    masterdata.update(app.uow_factory, "products", world.rice, {"category": "粮油"}, None, SYSTEM, T)
    masterdata.update(app.uow_factory, "products", world.eggs, {"category": "蛋品"}, None, SYSTEM, T)
    stock_in(app, world, world.rice, "10", location=world.shelf_a)
    stock_in(app, world, world.eggs, "10", location=world.shelf_b)
    stock_in(app, world, world.milk, "10", lot=world.milk_lot, location=world.shelf_b)
    sell(app, world, world.rice, "5", T + timedelta(hours=1), location=world.shelf_a)

    def items(**plan):
        task = task_for(app, world, **plan)
        with app.uow_factory() as uow:
            return {(i["location_id"], i["product_id"]) for i in uow.counting.task(task)["items"]}

    assert items(location_ids=(world.shelf_a,)) == {(world.shelf_a, world.rice)}
    assert items(categories=("蛋品",)) == {(world.shelf_b, world.eggs)}
    assert recompute_abc(app.uow_factory, KEEPER, T + timedelta(hours=2)) == {"A": 1, "B": 0, "C": 2}
    assert items(abc_classes=("A",)) == {(world.shelf_a, world.rice)}
    weekly = items(rotation_by="category", period_days=21, interval_days=7)  # 3 categories, one a week
    assert len(weekly) == 1


def test_kpis_record_accuracy_and_adjustment_value_by_reason_category_and_person(app, world):
    masterdata.update(app.uow_factory, "products", world.rice, {"category": "粮油"}, None, SYSTEM, T)
    stock_in(app, world, world.rice, "10", location=world.shelf_a)
    stock_in(app, world, world.eggs, "10", location=world.shelf_b, price="1")
    task = task_for(app, world, assignees=())
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("A-01", "P002", "8"), KEEPER, T)
    cnt.enter_line(app.uow_factory, task, cnt.CountLine("B-01", "P003", "10"), KEEPER2, T)
    result = cc.close(app.uow_factory, task, KEEPER, T)
    docs.approve(app.uow_factory, result.document_id, MANAGER, T)
    k = cc.kpis(app.uow_factory)
    assert k["overall"] == {"lines": 2, "accurate": 1, "rate": D("0.5")}
    assert k["value_by_reason"] == {"difference": D(4)} and k["value_by_category"] == {"粮油": D(4)}
    assert k["value_by_person"] == {"zhang": D(4)} and k["loss_value"] == D(4) and k["posted_value"] == D(4)

"""过账 — the posting service: balanced entries, balances, guards, reversal, idempotency."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from jxc.domain.catalog import StockStatus
from jxc.domain.errors import DomainError, ValidationFailed
from jxc.domain.ledger import BucketKey, Movement
from jxc.services.posting import SYSTEM, Actor, PostingRequest, close_period, post, reverse
from tests.conftest import NOW, World

CLERK = Actor("clerk", frozenset({"document.post"}))


def receive(app, w: World, product: int, qty: str, cost: str = "2.5", lot: int = 0, key=None, at=NOW):
    req = PostingRequest("receipt", (Movement(product, D(qty), w.supplier, w.shelf_a, lot_id=lot,
                                              unit_cost=D(cost)),), at, idempotency_key=key)
    return post(app.uow_factory, req, CLERK, NOW)


def issue(app, w: World, product: int, qty: str, lot: int = 0, at=NOW, actor=CLERK, allow_negative=False):
    req = PostingRequest("issue", (Movement(product, D(qty), w.shelf_a, w.customer, lot_id=lot),), at,
                         allow_negative=allow_negative)
    return post(app.uow_factory, req, actor, NOW)


def on_hand(app, w: World, product: int, location: int | None = None, lot: int = 0) -> D:
    bal = app.queries.balances(product_id=product)
    loc = location or w.shelf_a
    return sum((a.qty for k, a in bal.items() if k.location_id == loc and k.lot_id == lot), D(0))


def test_receipt_writes_balanced_entries_and_balances(app, world):
    res = receive(app, world, world.rice, "10")
    assert res.created and res.entries == 2
    bal = app.queries.balances(product_id=world.rice, physical_only=False)
    assert bal[BucketKey(world.shelf_a, world.rice, 0, "available")].qty == D(10)
    assert bal[BucketKey(world.supplier, world.rice, 0, "available")].qty == D(-10)
    assert bal[BucketKey(world.shelf_a, world.rice, 0, "available")].value == D("25")
    assert app.queries.violations() == []


def test_issue_beyond_stock_is_refused_and_writes_nothing(app, world):
    receive(app, world, world.rice, "3")
    with pytest.raises(DomainError) as err:
        issue(app, world, world.rice, "5")
    assert err.value.code == "STOCK_INSUFFICIENT"
    assert err.value.details["buckets"][0]["qty_after"] == "-2.0000"
    assert on_hand(app, world, world.rice) == D(3)
    assert app.queries.violations() == []


def test_negative_stock_needs_permission_and_is_recorded(app, world):
    with pytest.raises(DomainError) as err:
        issue(app, world, world.eggs, "2", allow_negative=True)
    assert err.value.code == "NEGATIVE_NOT_PERMITTED"
    owner = Actor("owner", frozenset({"stock.allow_negative"}))
    issue(app, world, world.eggs, "2", actor=owner, allow_negative=True)
    assert on_hand(app, world, world.eggs) == D(-2)
    assert app.queries.violations() == []  # I3 holds: the negative was approved


def test_issue_costs_at_moving_average(app, world):
    receive(app, world, world.rice, "10", cost="2")
    receive(app, world, world.rice, "10", cost="4")
    issue(app, world, world.rice, "5")
    bal = app.queries.balances(product_id=world.rice)
    assert bal[BucketKey(world.shelf_a, world.rice, 0, "available")].value == D("45")


def test_lot_tracked_product_requires_lot_and_all_problems_are_reported(app, world):
    req = PostingRequest("receipt", (
        Movement(world.milk, D("5"), world.supplier, world.shelf_a),
        Movement(world.rice, D("0"), world.supplier, world.shelf_a),
        Movement(world.rice, D("1"), world.shelf_a, world.shelf_a),
    ), NOW)
    with pytest.raises(ValidationFailed) as err:
        post(app.uow_factory, req, CLERK, NOW)
    codes = [p.code for p in err.value.problems]
    assert codes == ["LOT_REQUIRED", "QTY_NOT_POSITIVE", "SAME_BUCKET"]
    assert err.value.problems[0].field == "movements[0].lot_id"
    assert "批次" in err.value.problems[0].message_zh


def test_status_change_moves_stock_between_statuses(app, world):
    receive(app, world, world.milk, "12", lot=world.milk_lot)
    req = PostingRequest("status_change", (Movement(world.milk, D("4"), world.shelf_a, world.shelf_a,
                                                    lot_id=world.milk_lot,
                                                    to_status=StockStatus.FROZEN),), NOW)
    post(app.uow_factory, req, CLERK, NOW)
    bal = app.queries.balances(product_id=world.milk)
    assert bal[BucketKey(world.shelf_a, world.milk, world.milk_lot, "available")].qty == D(8)
    assert bal[BucketKey(world.shelf_a, world.milk, world.milk_lot, "frozen")].qty == D(4)


def test_same_idempotency_key_posts_once(app, world):
    first = receive(app, world, world.rice, "10", key="pda-7-0001")
    again = receive(app, world, world.rice, "10", key="pda-7-0001")
    assert again.posting_id == first.posting_id and not again.created
    assert on_hand(app, world, world.rice) == D(10)
    with pytest.raises(DomainError) as err:
        receive(app, world, world.rice, "11", key="pda-7-0001")
    assert err.value.code == "IDEMPOTENCY_MISMATCH"


def test_reversal_posts_exact_negative_once(app, world):
    res = receive(app, world, world.rice, "10", cost="3")
    rev = reverse(app.uow_factory, res.posting_id, CLERK, NOW + timedelta(hours=1), reason="录错")
    assert on_hand(app, world, world.rice) == D(0)
    assert app.queries.violations() == []
    with pytest.raises(DomainError) as err:
        reverse(app.uow_factory, res.posting_id, CLERK, NOW)
    assert err.value.code == "ALREADY_REVERSED"
    with pytest.raises(DomainError) as err:
        reverse(app.uow_factory, rev.posting_id, CLERK, NOW)
    assert err.value.code == "REVERSAL_OF_REVERSAL"


def test_reversal_that_would_go_negative_is_refused(app, world):
    res = receive(app, world, world.rice, "10")
    issue(app, world, world.rice, "8")
    with pytest.raises(DomainError) as err:
        reverse(app.uow_factory, res.posting_id, CLERK, NOW)
    assert err.value.code == "STOCK_INSUFFICIENT"


def test_closed_period_refuses_backdated_postings_and_time_travel_is_exact(app, world):
    day1, day3 = NOW - timedelta(days=3), NOW - timedelta(days=1)
    receive(app, world, world.rice, "10", at=day1)
    issue(app, world, world.rice, "4", at=day3)
    close_period(app.uow_factory, NOW - timedelta(days=2), SYSTEM, NOW)
    with pytest.raises(DomainError) as err:
        receive(app, world, world.rice, "1", at=day1)
    assert err.value.code == "PERIOD_CLOSED"
    receive(app, world, world.rice, "5", at=NOW)
    qty = lambda at: sum(a.qty for a in app.queries.stock_at(at, product_id=world.rice).values())  # noqa: E731
    assert qty(day1 - timedelta(seconds=1)) == 0
    assert qty(day1) == 10
    assert qty(day3) == 6
    assert qty(NOW) == 11
    assert app.queries.violations() == []

"""看板 — the dashboard's numbers on a small world, each checked by hand.

World (总仓, Asia/Shanghai): A (safety 10) 4 on hand @2.50; B (safety 5) 8 @1, 2 sold yesterday;
milk (21-day shelf life) 5 @4 in a lot expiring in 8 days (warned, still sellable) and 1 @4 in a lot expired 2 days ago.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jxc.domain.availability import AvailabilityPolicy
from jxc.domain.ledger import Movement
from jxc.services import dashboard, masterdata, trade
from jxc.services.posting import SYSTEM, PostingRequest, post
from jxc.services.reserving import ReserveRequest, reserve
from tests.conftest import NOW, make_world

ZONE = ZoneInfo("Asia/Shanghai")
D = Decimal


@pytest.fixture
def shop(app):
    w = make_world(app)
    f = app.uow_factory
    a = masterdata.create(f, "products", {"code": "A1", "name": "苹果", "base_unit": "斤", "safety_stock": "10"},
                          SYSTEM, NOW)
    b = masterdata.create(f, "products", {"code": "B1", "name": "香蕉", "base_unit": "斤", "safety_stock": "5"},
                          SYSTEM, NOW)
    today = NOW.astimezone(ZONE).date()
    fresh = masterdata.create_lot(f, w.milk, "L-FRESH", SYSTEM, NOW, expires_on=today + timedelta(days=8))
    old = masterdata.create_lot(f, w.milk, "L-OLD", SYSTEM, NOW, expires_on=today - timedelta(days=2))
    three_days_ago = NOW - timedelta(days=3)
    post(f, PostingRequest("purchase_receipt", (
        Movement(a, D(4), w.supplier, w.shelf_a, unit_cost=D("2.50")),
        Movement(b, D(8), w.supplier, w.shelf_a, unit_cost=D(1)),
        Movement(w.milk, D(5), w.supplier, w.shelf_a, lot_id=fresh, unit_cost=D(4)),
        Movement(w.milk, D(1), w.supplier, w.shelf_b, lot_id=old, unit_cost=D(4)),
    ), three_days_ago), SYSTEM, three_days_ago)
    yesterday = NOW - timedelta(days=1)
    post(f, PostingRequest("sales_delivery", (Movement(b, D(2), w.shelf_a, w.customer),), yesterday),
         SYSTEM, yesterday)
    supplier = masterdata.create(f, "partners", {"code": "S1", "name": "果园", "role": "supplier"}, SYSTEM, NOW)
    customer = masterdata.create(f, "partners", {"code": "C1", "name": "食堂", "role": "customer"}, SYSTEM, NOW)
    return app, w, a, b, supplier, customer


def test_stock_value_and_skus_below_safety_stock(shop):
    app, w, a, b, *_ = shop
    board = dashboard.board(app.web, [], {}, NOW, ZONE, None)
    assert board.stock_value == D("40.00")  # 4×2.5 + 6×1 + 6×4
    assert (board.skus_below_safety, board.skus_total) == (1, 5)  # A: 4 < 10; B: 6 ≥ 5; 3 world products
    total, rows = dashboard.below_safety(app.web, None)
    assert [(r["code"], r["qty"], r["gap"]) for r in rows] == [("A1", D(4), D(6))]


def test_near_expiry_and_expired_values_and_their_lots(shop):
    app, *_ = shop
    board = dashboard.board(app.web, [], {"expiry.warn_days": 30}, NOW, ZONE, None)
    assert (board.near_expiry_value, board.expired_value) == (D("20.00"), D("4.00"))
    # a book that warns only 3 days ahead: 8 days left is fine, the expired lot is still expired
    near, expired = dashboard.expiry_rows(app.web, None, NOW.astimezone(ZONE).date(),
                                          AvailabilityPolicy(block_days=3, warn_days=3))
    assert near == [] and [(r["lot_number"], r["days_left"]) for r in expired] == [("L-OLD", -2)]


def test_near_expiry_uses_the_availability_rule_scaled_by_shelf_life(app):
    """A 30-day book window must not flag every fresh lot: the dashboard asks `lot_health`, the rule
    that decides what may be sold (warn at half, block at a third of a short shelf life)."""
    w = make_world(app)
    f = app.uow_factory
    today = NOW.astimezone(ZONE).date()
    lettuce = masterdata.create(f, "products", {"code": "V1", "name": "生菜", "base_unit": "斤", "tracking": "lot",
                                                "shelf_life_days": "3"}, SYSTEM, NOW)
    yogurt = masterdata.create(f, "products", {"code": "Y1", "name": "酸奶", "base_unit": "杯", "tracking": "lot",
                                               "shelf_life_days": "30"}, SYSTEM, NOW)
    own = masterdata.create(f, "products", {"code": "T1", "name": "豆腐", "base_unit": "块", "tracking": "lot",
                                            "shelf_life_days": "3", "expiry_warn_days": "2",
                                            "expiry_block_days": "1"}, SYSTEM, NOW)
    lots = {(pid, left): masterdata.create_lot(f, pid, f"L{pid}-{left}", SYSTEM, NOW,
                                               expires_on=today + timedelta(days=left))
            for pid, lefts in ((lettuce, (2, 1, 0)), (yogurt, (20, 10, 3)), (own, (2, 1))) for left in lefts}
    post(f, PostingRequest("purchase_receipt", tuple(
        Movement(pid, D(1), w.supplier, w.shelf_a, lot_id=lot, unit_cost=D(10 + left))
        for (pid, left), lot in lots.items()), NOW), SYSTEM, NOW)
    near, expired = dashboard.expiry_rows(app.web, None, today, dashboard.expiry_policy({"expiry.warn_days": 30}))
    got = {(r["code"], r["days_left"]): r["health"] for r in near}
    # lettuce (3 days): warn = min(30, 3 // 2) = 1 day, strictly before expiry − 1 → only the lot
    # expiring today; 2 and 1 days left are still fresh and sellable
    # yogurt (30 days): warn = min(30, 15), block = min(7, 10): 20 left is fine, 10 warned, 3 blocked
    # tofu's own thresholds win over its shelf life: warn 2 → 1 day left is warned
    assert got == {("V1", 0): "near_expiry_blocked", ("Y1", 10): "near_expiry_warn",
                   ("Y1", 3): "near_expiry_blocked", ("T1", 1): "near_expiry_warn"}
    assert expired == []
    board = dashboard.board(app.web, [], {"expiry.warn_days": 30}, NOW, ZONE, None)
    assert board.near_expiry_value == D(10 + 0) + D(10 + 10) + D(10 + 3) + D(10 + 1)
    expiry = next(p for p in board.penalties if p.key == "expiry")  # the health score uses the same rows
    assert expiry.inputs["near"] == board.near_expiry_value


def test_open_purchase_and_expected_outbound_count_orders_and_loose_reservations(shop):
    app, w, a, b, supplier, customer = shop
    f = app.uow_factory
    po = trade.create_order(f, "purchase", supplier, w.wh, [trade.OrderLineInput(a, "20", unit_price="2.40")],
                            SYSTEM, NOW)
    trade.confirm_order(f, po, SYSTEM, NOW)
    trade.create_order(f, "purchase", supplier, w.wh, [trade.OrderLineInput(a, "99", unit_price="1")], SYSTEM, NOW)
    so = trade.create_order(f, "sales", customer, w.wh, [trade.OrderLineInput(b, "3", unit_price="5")], SYSTEM,
                            NOW, needed_on=NOW + timedelta(days=2))
    trade.confirm_order(f, so, SYSTEM, NOW)
    late = trade.create_order(f, "sales", customer, w.wh, [trade.OrderLineInput(b, "1", unit_price="5")], SYSTEM,
                              NOW, needed_on=NOW + timedelta(days=9))
    trade.confirm_order(f, late, SYSTEM, NOW)
    reserve(f, ReserveRequest(w.milk, w.wh, "2", "微信群订单 #7"), SYSTEM, NOW)
    board = dashboard.board(app.web, [], {}, NOW, ZONE, None)
    assert board.open_purchase_value == D("48.00")  # the draft order counts for nothing
    # 3 × 5 (due in 2 days; the 9-day order is outside) + 2 milk at average cost 4
    assert board.outbound_7d_value == D("23.00")
    rows = dashboard.expected_outbound(app.web, None, NOW)
    assert sorted((r["source"], r["value"]) for r in rows) == [("reservation", D("8.00")),
                                                              ("sales_order", D("15.00"))]


def test_series_turnover_and_health_are_explained(shop):
    app, *_ = shop
    docs = [{"state": "draft", "updated_at": NOW - timedelta(hours=3)},
            {"state": "pending_approval", "updated_at": NOW - timedelta(minutes=10)}]
    board = dashboard.board(app.web, docs, {"overdue.first_minutes": 60}, NOW, ZONE, None, window_days=5)
    assert (board.overdue_drafts, board.overdue_approvals) == (1, 0)  # 10 minutes is not late yet
    # receipt 3 days ago (+42), sale yesterday (−2): values at each day's end, oldest first
    assert board.stock_series == (D(0), D(42), D(42), D(40), D(40))
    assert board.sales_series == (D(0), D(0), D(0), D(2), D(0))
    assert board.turnover_days == D("82.0")  # average stock 32.8 ÷ (2 / 5 per day)
    points = {p.key: p.points for p in board.penalties}
    # below 1/5 = 20 %; expiry (20 + 2×4)/40 = 70 % → 30; 1 overdue → 4; turnover 82 → (82−45)//3+1 = 13
    assert points == {"below_safety": 20, "expiry": 30, "overdue": 4, "slow_turnover": 13}
    assert board.health == 100 - 20 - 30 - 4 - 13


def test_a_keeper_scoped_to_another_warehouse_sees_none_of_it(shop):
    app, *_ = shop
    other = masterdata.create(app.uow_factory, "warehouses", {"code": "W9", "name": "别的店"}, SYSTEM, NOW)
    board = dashboard.board(app.web, [], {}, NOW, ZONE, [other])
    assert (board.stock_value, board.skus_below_safety, board.near_expiry_value) == (D(0), 2, D(0))


def test_health_is_100_without_problems_and_never_below_0():
    assert dashboard.health(10, 0, D(100), D(0), D(0), 0, D(10)) == (100, ())
    score, penalties = dashboard.health(1, 1, D(1), D(1), D(1), 99, D(999))
    assert score == 0 and sum(p.points for p in penalties) == 100

"""预占 — reserve / consume / release / expire, I4 against plain deliveries, why-not-available, channels."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from jxc.domain.errors import DomainError
from jxc.domain.ledger import Movement
from jxc.services import masterdata
from jxc.services import reserving as rs
from jxc.services.posting import SYSTEM, Actor, PostingRequest, post
from tests.conftest import NOW

SALES = Actor("liu", frozenset({"document.create.sales_delivery", "document.post"}), role="sales")


def stock(app, w, product, qty, lot=0, cost="2"):
    post(app.uow_factory, PostingRequest("receipt", (Movement(product, D(qty), w.supplier, w.shelf_a, lot_id=lot,
                                                              unit_cost=D(cost)),), NOW), SYSTEM, NOW)


def deliver(app, w, product, qty, consumes=(), lot=0):
    return post(app.uow_factory, PostingRequest("sales_delivery", (Movement(product, D(qty), w.shelf_a, w.customer,
                                                                           lot_id=lot),), NOW,
                                                consumes=tuple((rid, D(q)) for rid, q in consumes)), SALES, NOW)


def test_reserve_all_or_nothing_with_the_available_figure(app, world):
    stock(app, world, world.rice, "10")
    r = rs.reserve(app.uow_factory, rs.ReserveRequest(world.rice, world.wh, "7", "sales_order:1"), SALES, NOW)
    assert (r.qty, r.shortage) == (D(7), D(0))
    with pytest.raises(DomainError) as err:
        rs.reserve(app.uow_factory, rs.ReserveRequest(world.rice, world.wh, "4", "sales_order:2"), SALES, NOW)
    assert err.value.code == "STOCK_INSUFFICIENT" and err.value.details["available"] == "3.0000"
    part = rs.reserve(app.uow_factory, rs.ReserveRequest(world.rice, world.wh, "4", "sales_order:2",
                                                         allow_partial=True), SALES, NOW)
    assert (part.qty, part.shortage) == (D(3), D(1))  # a back-order, said out loud
    assert app.queries.violations() == []


def test_plain_delivery_cannot_take_reserved_stock_but_the_order_can(app, world):
    stock(app, world, world.rice, "10")
    r = rs.reserve(app.uow_factory, rs.ReserveRequest(world.rice, world.wh, "8", "sales_order:1"), SALES, NOW)
    deliver(app, world, world.rice, "2")  # the 2 free units
    with pytest.raises(DomainError) as err:
        deliver(app, world, world.rice, "1")
    assert err.value.code == "STOCK_RESERVED" and err.value.details["reserved"] == "8.0000"
    deliver(app, world, world.rice, "5", consumes=[(r.reservation_id, "5")])
    deliver(app, world, world.rice, "3", consumes=[(r.reservation_id, "3")])
    with app.uow_factory() as uow:
        assert uow.reservations.get(r.reservation_id)["state"] == "consumed"
    stock(app, world, world.rice, "1")
    with pytest.raises(DomainError) as err:
        deliver(app, world, world.rice, "0.5", consumes=[(r.reservation_id, "0.5")])
    assert err.value.code == "RESERVATION_NOT_OPEN"
    assert app.queries.violations() == []


def test_release_and_ttl_expiry_free_the_stock(app, world):
    stock(app, world, world.rice, "5")
    a = rs.reserve(app.uow_factory, rs.ReserveRequest(world.rice, world.wh, "3", "mini:1", ttl_s=1800), SALES, NOW)
    b = rs.reserve(app.uow_factory, rs.ReserveRequest(world.rice, world.wh, "2", "order:2"), SALES, NOW)
    assert a.expires_at == NOW + timedelta(minutes=30) and b.expires_at is None
    assert rs.expire_due(app.uow_factory, NOW + timedelta(minutes=29), SYSTEM) == []
    assert rs.expire_due(app.uow_factory, NOW + timedelta(minutes=30), SYSTEM) == [a.reservation_id]
    assert rs.release(app.uow_factory, b.reservation_id, SALES, NOW, reason="客户取消") == D(2)
    with pytest.raises(DomainError) as err:
        rs.release(app.uow_factory, b.reservation_id, SALES, NOW)
    assert err.value.code == "RESERVATION_NOT_OPEN"
    assert rs.availability(app.uow_factory, world.rice, world.wh, NOW.date()).available == D(5)


def test_why_not_available_names_lots_statuses_and_holders(app, world):
    fresh = masterdata.create_lot(app.uow_factory, world.milk, "L-FRESH", SYSTEM, NOW, expires_on=date(2026, 12, 31))
    near = masterdata.create_lot(app.uow_factory, world.milk, "L-NEAR", SYSTEM, NOW, expires_on=date(2026, 11, 4))
    stock(app, world, world.milk, "20", lot=fresh)
    stock(app, world, world.milk, "6", lot=near)
    rs.reserve(app.uow_factory, rs.ReserveRequest(world.milk, world.wh, "5", "meituan:889"), SALES, NOW)
    e = rs.availability(app.uow_factory, world.milk, world.wh, NOW.date())
    assert (e.on_hand, e.available) == (D(26), D(15))
    parts = {(p.reason, p.lot, p.holder): p.qty for p in e.parts}
    assert parts[("lot:near_expiry_blocked", "L-NEAR", None)] == D(6)
    assert parts[("reserved", None, "meituan:889")] == D(5)
    lots = rs.shippable_lots(app.uow_factory, world.milk, world.wh, NOW.date())
    assert [x.lot_number for x in lots] == ["L-FRESH"]  # the near-expiry lot is blocked from sale
    with pytest.raises(DomainError):  # lot-specific reservation of the blocked lot
        rs.reserve(app.uow_factory, rs.ReserveRequest(world.milk, world.wh, "1", "x", lot_id=near), SALES, NOW)


def test_channel_sellable_is_published_when_it_changes(app, world):
    rs.save_channel(app.uow_factory, "meituan", "美团", [world.wh], SYSTEM, NOW, buffer_qty="2", quota_pct=50,
                    ttl_s=900)
    stock(app, world, world.rice, "20")
    r = rs.reserve(app.uow_factory, rs.ReserveRequest(world.rice, world.wh, "4", "meituan:1", channel="meituan"),
                   SALES, NOW)
    assert r.expires_at == NOW + timedelta(seconds=900)
    with app.uow_factory() as uow:
        assert uow.reservations.published("meituan", [world.rice]) == {world.rice: D(6)}  # (20-4)×50% − 2
    rs.release(app.uow_factory, r.reservation_id, SALES, NOW)
    with app.uow_factory() as uow:
        assert uow.reservations.published("meituan", [world.rice]) == {world.rice: D(8)}
    with pytest.raises(DomainError) as err:
        rs.reserve(app.uow_factory, rs.ReserveRequest(world.rice, world.wh, "1", "x", channel="douyin"), SALES, NOW)
    assert err.value.code == "NOT_FOUND"


def test_same_idempotency_key_reserves_once(app, world):
    stock(app, world, world.rice, "5")
    req = rs.ReserveRequest(world.rice, world.wh, "2", "pos:7", idempotency_key="pos-7-1")
    first, again = rs.reserve(app.uow_factory, req, SALES, NOW), rs.reserve(app.uow_factory, req, SALES, NOW)
    assert first.reservation_id == again.reservation_id and not again.created
    assert rs.availability(app.uow_factory, world.rice, world.wh, NOW.date()).available == D(3)


def test_channel_sellable_is_republished_when_a_document_changes_stock(app, world):
    from jxc.domain.documents import DocumentKind as K
    from jxc.services import documents as docs
    from jxc.services.doc_rules import DraftInput, LineInput

    rs.save_channel(app.uow_factory, "mini", "小程序", [world.wh], SYSTEM, NOW)
    owner = Actor("boss", frozenset({"*"}), role="owner")
    doc = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (
        LineInput(world.rice, "12", unit_price="2"),)), owner, NOW)
    docs.submit(app.uow_factory, doc, owner, NOW)
    with app.uow_factory() as uow:
        assert uow.reservations.published("mini", [world.rice]) == {world.rice: D(12)}
    docs.reverse(app.uow_factory, doc, owner, NOW, reason="录错")
    with app.uow_factory() as uow:
        assert uow.reservations.published("mini", [world.rice]) == {world.rice: D(0)}

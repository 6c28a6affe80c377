"""报表 — figures tie out to the documents and the ledger; filters, paging and permissions hold."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from jxc.domain.errors import DomainError
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import masterdata, reports, trade
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW
from tests.service.test_trade_flows import BOSS, BUYER, SALES

FIN = Actor("sun", BUILTIN_ROLES["finance"][2], role="finance")
R = reports.ReportFilter


@pytest.fixture
def book(app, world):
    """Two suppliers' receipts, two customers' deliveries over two days, one return."""
    f = app.uow_factory
    s1 = masterdata.create(f, "partners", {"code": "S1", "name": "供应商一", "role": "supplier"}, SYSTEM, NOW)
    c1 = masterdata.create(f, "partners", {"code": "C1", "name": "客户一", "role": "customer"}, SYSTEM, NOW)
    c2 = masterdata.create(f, "partners", {"code": "C2", "name": "客户二", "role": "customer"}, SYSTEM, NOW)
    po = trade.create_order(f, "purchase", s1, world.wh, [trade.OrderLineInput(world.rice, "100", unit_price="20"),
                                                          trade.OrderLineInput(world.eggs, "300", unit_price="0.5")],
                            BUYER, NOW)
    trade.confirm_order(f, po, BUYER, NOW)
    trade.receive(f, po, {1: "50", 2: "300"}, BUYER, NOW)  # rice 50 @ 20, eggs 300 @ 0.5
    r2 = trade.receive(f, po, {1: "30"}, BUYER, NOW)
    trade.return_goods(f, r2, {1: "5"}, BUYER, NOW, reason_code="quality")
    so = trade.create_order(f, "sales", c1, world.wh, [trade.OrderLineInput(world.rice, "10", unit_price="30")],
                            SALES, NOW)
    trade.confirm_order(f, so, SALES, NOW)
    d1 = trade.deliver(f, so, {1: "6"}, SALES, NOW)  # revenue 180, COGS 120
    trade.quick_sale(f, trade.QuickSaleInput(world.wh, (trade.OrderLineInput(world.eggs, "100", unit_price="1"),),
                                             partner_id=c2), SALES, NOW + timedelta(days=1))  # 100, COGS 50
    trade.return_goods(f, d1, {1: "1"}, SALES, NOW, reason_text="坏了")  # −30, COGS −20
    return s1, c1, c2


def test_sales_summary_and_gross_profit_tie_out_to_documents(app, world, book):
    s1, c1, c2 = book
    q = app.queries
    by_partner = reports.run(q, FIN, "sales_summary", "partner", R())["items"]
    assert [(r["code"], r["documents"], r["qty"], r["amount"], r["qty_returned"]) for r in by_partner] == [
        ("C1", 2, D(5), D(150), D(1)), ("C2", 1, D(100), D(100), D(0))]
    gp = {r["code"]: r for r in reports.run(q, FIN, "gross_profit", "customer", R())["items"]}
    assert (gp["C1"]["revenue"], gp["C1"]["cogs"], gp["C1"]["gross_profit"]) == (D(150), D(100), D(50))
    assert (gp["C2"]["revenue"], gp["C2"]["cogs"], gp["C2"]["margin"]) == (D(100), D(50), D("0.5"))
    per_doc = reports.run(q, FIN, "gross_profit", "document", R())["items"]
    assert sum(r["cogs"] for r in per_doc) == D(150) and len(per_doc) == 3
    days = reports.run(q, FIN, "gross_profit", "day", R())["items"]
    assert [(r["key"], r["revenue"]) for r in days] == [("2026-11-01", D(150)), ("2026-11-02", D(100))]
    purchase = reports.run(q, FIN, "purchase_summary", "product", R())["items"]
    assert [(r["code"], r["qty"], r["amount"], r["amount_returned"]) for r in purchase] == [
        ("P002", D(75), D(1500), D(100)), ("P003", D(300), D(150), D(0))]
    only = reports.run(q, FIN, "sales_summary", "product", R(partner_id=c2))["items"]
    assert [r["code"] for r in only] == ["P003"]
    later = reports.run(q, FIN, "sales_summary", "partner", R(since=NOW + timedelta(hours=12)))["items"]
    assert [r["code"] for r in later] == ["C2"]


def test_fulfilment_and_fill_rates_follow_orders(app, world, book):
    q = app.queries
    po = reports.run(q, FIN, "purchase_fulfilment", "product", R())["items"]
    assert [(r["code"], r["qty_ordered"], r["qty_filled"], r["fill_rate"]) for r in po] == [
        ("P002", D(100), D(80), D("0.8")), ("P003", D(300), D(300), D(1))]
    so = reports.run(q, FIN, "sales_fill_rate", "partner", R())["items"]
    assert [(r["orders"], r["orders_done"], r["fill_rate"]) for r in so] == [(1, 0, D("0.6"))]  # a return is no short shipment


def test_pages_cover_every_row_once_and_refusals_name_the_problem(app, world, book):
    q = app.queries
    first = reports.run(q, FIN, "gross_profit", "document", R(), limit=2)
    rest = reports.run(q, FIN, "gross_profit", "document", R(), offset=first["next_offset"], limit=2)
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_offset"] is None
    for name, by, actor, code in (("nope", "product", FIN, "VALUE_INVALID"),
                                  ("gross_profit", "colour", FIN, "VALUE_INVALID"),
                                  ("sales_summary", "product", SALES, "PERMISSION_DENIED"),
                                  ("gross_profit", "product", Actor("x", frozenset({"report.view"})),
                                   "PERMISSION_DENIED")):
        with pytest.raises(DomainError) as err:
            reports.run(q, actor, name, by, R())
        assert err.value.code == code
    assert reports.run(q, BOSS, "sales_summary", "product", R(warehouse_id=world.wh + 99))["items"] == []

"""订单完成汇总 — the order-fulfilment projection answers exactly like the live query over the orders,
equals its recomputation after every change (R2), and a rebuild gives back what the writes kept.

`assert_projection_answers_like_live(engine, filters)` is callable from any test that has built orders:
for each side × grouping × filter it runs both queries and compares every row.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, update

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.services import book, masterdata, reports, trade
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from jxc.storage import fulfilment_repo, order_sums
from jxc.storage.tables_report_orders import order_sums as order_sums_table
from tests.conftest import NOW

BOSS = Actor("boss", frozenset({"*"}), role="owner")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SEQ = itertools.count()
GROUPINGS = ("partner", "product", "warehouse", "day", "month")
# Order times around local midnight and month ends (Asia/Shanghai is UTC+8).
TIMES = (datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC),  # 10-31 23:59:59 local
         datetime(2026, 10, 31, 16, 0, tzinfo=UTC),  # 11-01 00:00 local
         NOW,  # 11-01 17:00 local
         datetime(2026, 11, 15, 2, 0, tzinfo=UTC),
         datetime(2026, 11, 30, 16, 30, tzinfo=UTC),  # 12-01 00:30 local
         datetime(2027, 1, 1, 4, 0, tzinfo=UTC))
DAYS = (None, date(2026, 10, 1), date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 15),
        date(2026, 12, 1), date(2026, 12, 2), date(2027, 1, 1), date(2027, 2, 1))
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


@dataclass
class Shop:
    whs: tuple[int, int]
    customers: tuple[int, int]
    suppliers: tuple[int, int]
    products: tuple[int, int, int]
    orders: list[int]
    documents: list[int]


def make_shop(app: Any) -> Shop:
    """Two warehouses stocked with three untracked products; two customers, two suppliers."""
    f, n = app.uow_factory, next(SEQ)
    whs = tuple(masterdata.create(f, "warehouses", {"code": f"W{n}{i}", "name": f"仓{i}"}, SYSTEM, NOW) for i in (1, 2))
    for wh in whs:
        masterdata.create(f, "locations", {"code": f"L{n}{wh}", "name": "货架", "warehouse_id": wh}, SYSTEM, NOW)
    cus = tuple(masterdata.create(f, "partners", {"code": f"C{n}{i}", "name": f"客户{i}", "role": "customer"},
                                  SYSTEM, NOW) for i in (1, 2))
    sup = tuple(masterdata.create(f, "partners", {"code": f"S{n}{i}", "name": f"供应商{i}", "role": "supplier"},
                                  SYSTEM, NOW) for i in (1, 2))
    prods = tuple(masterdata.create(f, "products", {"code": f"P{n}{i}", "name": f"商品{i}", "base_unit": "个"},
                                    SYSTEM, NOW) for i in (1, 2, 3))
    for wh in whs:
        stock = docs.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, wh, tuple(LineInput(p, "100000", unit_price="1")
                                                                              for p in prods)), BOSS, NOW)
        docs.submit(f, stock, BOSS, NOW)
    return Shop(whs, cus, sup, prods, [], [])  # type: ignore[arg-type]


@pytest.fixture
def shop(app: Any) -> Shop:
    return make_shop(app)


# ── the operations a property run draws ──────────────────────────────────────

def run_op(app: Any, shop: Shop, op: tuple[Any, ...]) -> None:
    """Apply one drawn operation through the services; refusals the services make are part of the game."""
    f = app.uow_factory
    try:
        match op:
            case ("create", kind, who, wh, lines, at, confirm):
                partner = (shop.customers if kind == "sales" else shop.suppliers)[who]
                shop.orders.append(trade.create_order(
                    f, kind, partner, shop.whs[wh],
                    [trade.OrderLineInput(shop.products[p], str(q), unit_price="1") for p, q in lines], BOSS, TIMES[at]))
                if confirm:
                    trade.confirm_order(f, shop.orders[-1], BOSS, NOW)
            case ("confirm", i) if shop.orders:
                trade.confirm_order(f, shop.orders[i % len(shop.orders)], BOSS, NOW)
            case ("fulfil", i, share, at) if shop.orders:
                order = trade.get_order(f, shop.orders[i % len(shop.orders)])
                want = {}
                for ln in order["lines"]:  # a share of what is left; purchase may go 10 % over (tolerance)
                    left = ln["qty_base"] - ln["qty_done"] + (ln["qty_base"] / 10 if order["kind"] == "purchase" else 0)
                    qty = (left * share).quantize(D(1))
                    if qty > 0:
                        want[ln["line_no"]] = qty
                if want:
                    go = trade.deliver if order["kind"] == "sales" else trade.receive
                    shop.documents.append(go(f, order["id"], want, BOSS, TIMES[at]))
            case ("reverse", i) if shop.documents:
                docs.reverse(f, shop.documents[i % len(shop.documents)], BOSS, NOW, "红冲测试")
            case ("close", i) if shop.orders:
                trade.close_order(f, shop.orders[i % len(shop.orders)], BOSS, NOW, "测试")
    except DomainError:
        pass


line = st.tuples(st.integers(0, 2), st.integers(1, 9))
ops = st.lists(st.one_of(
    st.tuples(st.just("create"), st.sampled_from(["sales", "purchase"]), st.integers(0, 1), st.integers(0, 1),
              st.lists(line, min_size=1, max_size=3), st.integers(0, len(TIMES) - 1), st.booleans()),
    st.tuples(st.just("confirm"), st.integers(0, 50)),
    st.tuples(st.just("fulfil"), st.integers(0, 50), st.sampled_from([D("0.5"), D(1)]), st.integers(0, len(TIMES) - 1)),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.just("close"), st.integers(0, 50)),
), min_size=1, max_size=25)


def filters_for(shop: Shop) -> st.SearchStrategy[dict[str, Any]]:
    def local(d: date | None) -> datetime | None:
        return None if d is None else datetime.combine(d, datetime.min.time(), tzinfo=SHANGHAI)

    return st.fixed_dictionaries({
        "since": st.sampled_from(DAYS).map(local) | st.just(NOW),  # NOW: not a local midnight → live
        "until": st.sampled_from(DAYS).map(local),
        "warehouse_id": st.sampled_from((None, *shop.whs)),
        "partner_id": st.sampled_from((None, shop.customers[0], shop.suppliers[1])),
        "product_id": st.sampled_from((None, *shop.products)),
        "warehouse_ids": st.sampled_from((None, [shop.whs[0]])),
        "utc_offset_minutes": st.sampled_from((480, 480, 480, 0)),  # 0: not the projection's zone → live
    })


# ── the property ─────────────────────────────────────────────────────────────

def assert_projection_answers_like_live(engine: Engine, filters: list[dict[str, Any]]) -> None:
    """Every side × grouping × filter: the projection's rows are the live query's rows, and the
    projection does answer whenever it should (aligned range, the book's offset, one dimension)."""
    with engine.connect() as conn:
        for f, side, by in itertools.product(filters, ("sales", "purchase"), GROUPINGS):
            live = [dict(r) for r in conn.execute(fulfilment_repo.live(conn, side, by, f)).mappings()]
            q = fulfilment_repo.projected(conn, side, by, f)
            crosses = (f["partner_id"] is not None and f["product_id"] is not None
                       or by == "product" and f["partner_id"] is not None
                       or by == "partner" and f["product_id"] is not None)
            if f["utc_offset_minutes"] == 480 and NOW not in (f["since"], f["until"]) and not crosses:
                assert q is not None, (side, by, f)
            if q is not None:
                got = [dict(r) for r in conn.execute(q).mappings()]
                assert got == live, (side, by, f)


def assert_r2_clean(app: Any) -> None:
    with app.engine.connect() as conn:
        assert order_sums.check(conn) == []


def every_range() -> list[dict[str, Any]]:
    """Every (since, until) pair of DAYS (local midnights), no other filter."""
    def local(d: date | None) -> datetime | None:
        return None if d is None else datetime.combine(d, datetime.min.time(), tzinfo=SHANGHAI)

    return [{"since": local(a), "until": local(b), "warehouse_id": None, "partner_id": None, "product_id": None,
             "warehouse_ids": None, "utc_offset_minutes": 480} for a in DAYS for b in DAYS]


# an order at every time, both sides, half filled, one filled and reversed, one closed: all range splits
EVERY_TIME = [("create", kind, at % 2, at % 2, [(at % 3, 4), ((at + 1) % 3, 2)], at, True)
              for at in range(len(TIMES)) for kind in ("sales", "purchase")]
EVERY_TIME += [("fulfil", i, D("0.5"), i % len(TIMES)) for i in range(0, 12, 3)]
EVERY_TIME += [("fulfil", 1, D(1), 2), ("reverse", 1), ("close", 4)]


@FAST
@given(data=st.data(), steps=ops)
@example(data=None, steps=EVERY_TIME)
def test_projection_answers_every_grouping_and_filter_like_the_live_query(app, shop, data, steps):
    for op in steps:
        run_op(app, shop, op)
        assert_r2_clean(app)
    filters = [data.draw(filters_for(shop)) for _ in range(8)] if data is not None else every_range()
    assert_projection_answers_like_live(app.engine, filters)
    with app.engine.connect() as conn:
        kept = order_sums.stored(conn)
    app.rebuild_reports()
    with app.engine.connect() as conn:
        assert order_sums.stored(conn) == kept  # the rebuild gives back what the writes kept


def test_fill_rate_report_pages_come_from_the_projection_with_the_same_figures(app, shop):
    """Through services.reports: a sales order filled 6 of 10 by day, month, partner; the projection rows exist."""
    f = app.uow_factory
    so = trade.create_order(f, "sales", shop.customers[0], shop.whs[0],
                            [trade.OrderLineInput(shop.products[0], "10", unit_price="1"),
                             trade.OrderLineInput(shop.products[1], "5", unit_price="1")], BOSS, TIMES[1])
    trade.confirm_order(f, so, BOSS, NOW)
    trade.deliver(f, so, {1: "6", 2: "5"}, BOSS, NOW)
    by_month = reports.run(app.queries, BOSS, "sales_fill_rate", "month", reports.ReportFilter())["items"]
    assert [(r["key"], r["orders"], r["lines"], r["lines_filled"], r["qty_ordered"], r["qty_filled"], r["fill_rate"])
            for r in by_month] == [("2026-11", 1, 2, 1, D(15), D(11), D("0.7333"))]
    with app.engine.connect() as conn:
        assert fulfilment_repo.projected(conn, "sales", "month", {}) is not None
        rows = order_sums.stored(conn)
    assert rows[("sales", "partner", "day", date(2026, 11, 1), shop.customers[0], shop.whs[0])] == (
        1, 0, 2, 1, D(15), D(11))
    assert rows[("sales", "product", "month", date(2026, 11, 1), shop.products[1], shop.whs[0])] == (
        1, 0, 1, 1, D(5), D(5))


def test_r2_names_a_tampered_row_and_a_missing_one(app, shop):
    f = app.uow_factory
    so = trade.create_order(f, "sales", shop.customers[1], shop.whs[1],
                            [trade.OrderLineInput(shop.products[2], "4", unit_price="1")], BOSS, NOW)
    trade.confirm_order(f, so, BOSS, NOW)
    assert app.queries.violations() == []
    s = order_sums_table.c
    with app.engine.begin() as conn:
        conn.execute(update(order_sums_table).where(s.dim == "partner", s.grain == "month").values(orders=2))
        conn.execute(order_sums_table.delete().where(s.dim == "product", s.grain == "day"))
    found = [v for v in app.queries.violations() if v.invariant == "R2"]
    assert len(found) == 2
    assert any("partner" in v.subject and "'orders': 2" in v.detail for v in found)
    assert any("product" in v.subject and "holds nothing" in v.detail for v in found)
    app.rebuild_reports()
    assert app.queries.violations() == []


def test_a_rolled_back_batch_call_leaves_no_sums_behind(app, shop):
    """Batch (demo builder): a call that fails after confirming drops its deltas with its savepoint."""
    with app.batch() as f:
        so = trade.create_order(f, "sales", shop.customers[0], shop.whs[0],
                                [trade.OrderLineInput(shop.products[0], "3", unit_price="1")], BOSS, NOW)
        with f() as uow:
            uow.trade.update(so, {"state": "confirmed", "updated_at": NOW})
            # leaving without commit: the savepoint rolls back, and so must the pending delta
        trade.confirm_order(f, so, BOSS, NOW)
    assert_r2_clean(app)
    with app.engine.connect() as conn:
        assert order_sums.stored(conn)[("sales", "all", "day", date(2026, 11, 1), 0, shop.whs[0])][0] == 1


def test_a_zone_with_daylight_saving_is_not_projected_and_reports_run_live(app, shop):
    f = app.uow_factory
    owner = replace(BOSS, reauthenticated=True)
    book.set_setting(f, "reports.timezone", "Europe/Berlin", owner, NOW)
    app.rebuild_reports()
    so = trade.create_order(f, "sales", shop.customers[0], shop.whs[0],
                            [trade.OrderLineInput(shop.products[0], "3", unit_price="1")], BOSS, NOW)
    trade.confirm_order(f, so, BOSS, NOW)
    with app.engine.connect() as conn:
        assert order_sums.stored(conn) == {}
        assert fulfilment_repo.projected(conn, "sales", "partner", {"utc_offset_minutes": 60}) is None
    page = reports.run(app.queries, BOSS, "sales_fill_rate", "partner", reports.ReportFilter())["items"]
    assert [(r["key"], r["orders"], r["qty_ordered"]) for r in page] == [(shop.customers[0], 1, D(3))]
    assert_r2_clean(app)
    book.set_setting(f, "reports.timezone", "Asia/Tokyo", owner, NOW)
    app.rebuild_reports()  # UTC+9: projected again, in the new zone
    with app.engine.connect() as conn:
        assert fulfilment_repo.projected(conn, "sales", "partner", {"utc_offset_minutes": 540}) is not None
        assert fulfilment_repo.projected(conn, "sales", "partner", {"utc_offset_minutes": 480}) is None
    assert_r2_clean(app)


def test_fixed_offsets_of_zones():
    assert order_sums.fixed_offset("Asia/Shanghai") == 480
    assert order_sums.fixed_offset("UTC") == 0
    assert order_sums.fixed_offset("Europe/Berlin") is None
    assert order_sums.fixed_offset("America/New_York") is None


WRITES = re.compile(r"(insert|update|delete)\(\s*(orders|order_lines)\b|\b(orders|order_lines)\.(insert|update|delete)\(")


def test_only_the_trade_repository_writes_orders():
    """The projection is kept by SqlTradeRepository; a write to orders anywhere else would leave it behind."""
    src = Path(__file__).resolve().parents[2] / "src" / "jxc"
    writers = sorted(str(p.relative_to(src)) for p in src.rglob("*.py")
                     if "migrations" not in p.parts and WRITES.search(p.read_text(encoding="utf-8")))
    assert writers == ["storage/trade_repo.py"]


def test_month_edges_read_day_rows_and_whole_months_month_rows():
    p = fulfilment_repo._periods  # noqa: SLF001 - the range split is the point of this test
    assert str(p("month", date(2026, 11, 15), date(2027, 1, 10)).compile(compile_kwargs={"literal_binds": True})
               ).count("order_sums.grain") == 3  # whole Dec 2026, plus 11-15…11-30 and 01-01…01-09 from days
    assert str(p("month", date(2026, 11, 15), date(2026, 12, 10)).compile(compile_kwargs={"literal_binds": True})
               ).count("'month'") == 0


def test_repository_writes_the_services_do_not_make_today_are_projected_too(app, shop):
    """An order inserted already confirmed, a line moved to another product and re-quantified, a line
    moved to another order, an order's partner changed: R2 stays clean after each."""
    x, y, z = shop.products
    header = {"kind": "sales", "state": "confirmed", "partner_id": shop.customers[0], "warehouse_id": shop.whs[0],
              "needed_on": None, "remark": None, "version": 1, "created_by": "t", "created_at": TIMES[0],
              "updated_at": NOW}

    def line(product: int, qty: str, done: str) -> dict[str, Any]:
        return {"product_id": product, "unit": "个", "qty": D(qty), "qty_base": D(qty), "qty_done": D(done),
                "unit_price": None, "reservation_id": None, "shortage": D(0), "price_source": None}

    with app.uow() as uow:
        a = uow.trade.insert({**header, "number": "A"}, [line(x, "4", "4"), line(y, "3", "1")])
        b = uow.trade.insert({**header, "number": "B", "created_at": TIMES[4]}, [line(z, "2", "0")])
        uow.commit()
    assert_r2_clean(app)
    first, second = (ln["id"] for ln in trade.get_order(app.uow_factory, a)["lines"])
    for values in ({"product_id": x}, {"qty_base": D(1)}, {"qty_done": D(5)}):
        with app.uow() as uow:
            uow.trade.update_line(second, values)
            uow.commit()
        assert_r2_clean(app)
    with app.uow() as uow:
        uow.trade.update_line(first, {"order_id": b})
        uow.trade.update(b, {"partner_id": shop.customers[1], "state": "done"})
        uow.commit()
    assert_r2_clean(app)
    with app.engine.connect() as conn:
        rows = order_sums.stored(conn)
    assert rows[("sales", "partner", "month", date(2026, 12, 1), shop.customers[1], shop.whs[0])] == (
        1, 1, 2, 1, D(6), D(4))  # order b: its own line (2, none done) and a's first line (4 of 4)

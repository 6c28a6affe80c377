"""订单完成汇总 under concurrency — clerks delivering lines of the same customer's orders of the same day at
once all land in the same `order_sums` rows; every delivery counts once, nobody deadlocks, and the
projection equals its recomputation (R2). On a SQLite file in WAL mode and on PostgreSQL
(`--db=postgresql`: row locks on order_sums taken in key order at commit, a rebuild behind an
exclusive advisory lock)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from jxc.domain.errors import DomainError
from jxc.services import reports, trade
from jxc.storage import order_sums
from tests.conftest import NOW
from tests.storage.test_concurrency import ROUNDS, THREADS, race
from tests.storage.test_order_sums import BOSS, make_shop


def _orders(app, shop, n: int) -> list[int]:
    """``n`` confirmed sales orders of one customer, one day, one warehouse; two lines each, the products
    in alternating order (so that line locks are not taken in one global order)."""
    f, x, y = app.uow_factory, shop.products[0], shop.products[1]
    out = []
    for i in range(n):
        pair = (x, y) if i % 2 == 0 else (y, x)
        oid = trade.create_order(f, "sales", shop.customers[0], shop.whs[0],
                                 [trade.OrderLineInput(p, "5", unit_price="1") for p in pair], BOSS, NOW)
        trade.confirm_order(f, oid, BOSS, NOW)
        out.append(oid)
    return out


def _deliver(app, order_id: int, line_no: int) -> list[str]:
    try:
        trade.deliver(app.uow_factory, order_id, {line_no: "5"}, BOSS, NOW)
        return ["ok"]
    except DomainError as exc:
        return [exc.code]


def _clean(app) -> None:
    with app.engine.connect() as conn:
        assert order_sums.check(conn) == []
    assert app.queries.violations() == []


@pytest.mark.parametrize("round_", ROUNDS)
def test_eight_clerks_delivering_lines_of_one_customers_orders_count_every_line_once(file_app, round_):
    shop = make_shop(file_app)
    orders = _orders(file_app, shop, THREADS // 2)
    outcomes = race(lambda n: _deliver(file_app, orders[n % len(orders)], n // len(orders) + 1))
    assert outcomes == {"ok": THREADS}, outcomes
    _clean(file_app)
    page = reports.run(file_app.queries, BOSS, "sales_fill_rate", "partner", reports.ReportFilter())["items"]
    mine = [r for r in page if r["key"] == shop.customers[0]]
    assert [(r["orders"], r["lines"], r["lines_filled"], r["qty_filled"]) for r in mine] == [
        (len(orders), THREADS, THREADS, D(5 * THREADS))]


def test_a_rebuild_racing_deliveries_neither_loses_nor_doubles_one(file_app):
    shop = make_shop(file_app)
    orders = _orders(file_app, shop, THREADS // 2)

    def work(n: int) -> list[str]:
        if n == THREADS - 1:
            file_app.rebuild_reports()
            return ["rebuilt"]
        return _deliver(file_app, orders[n % len(orders)], n // len(orders) + 1)

    outcomes = race(work)
    assert outcomes == {"ok": THREADS - 1, "rebuilt": 1}, outcomes
    _clean(file_app)

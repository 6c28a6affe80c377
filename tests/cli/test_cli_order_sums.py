"""`jxc check` names a tampered order-fulfilment row (R2); `jxc reports rebuild` repairs it."""

from __future__ import annotations

from sqlalchemy import update
from typer.testing import CliRunner

from jxc.interfaces.cli import app as cli
from jxc.services import trade
from jxc.storage.tables_report_orders import order_sums
from tests.cli.test_cli import env  # noqa: F401 - the fixture
from tests.conftest import NOW
from tests.storage.test_order_sums import BOSS, make_shop

runner = CliRunner()


def test_check_names_a_tampered_order_sum_and_reports_rebuild_repairs_it(env):  # noqa: F811
    shop = make_shop(env)
    so = trade.create_order(env.uow_factory, "sales", shop.customers[0], shop.whs[0],
                            [trade.OrderLineInput(shop.products[0], "2", unit_price="1")], BOSS, NOW)
    trade.confirm_order(env.uow_factory, so, BOSS, NOW)
    clean = runner.invoke(cli, ["check"])
    assert clean.exit_code == 0 and "R2" in clean.output, clean.output
    with env.engine.begin() as conn:
        conn.execute(update(order_sums).where(order_sums.c.dim == "all").values(lines=7))
    broken = runner.invoke(cli, ["check"])
    assert broken.exit_code == 1 and "R2" in broken.output and "'lines': 7" in broken.output, broken.output
    rebuilt = runner.invoke(cli, ["reports", "rebuild"])
    assert rebuilt.exit_code == 0 and "order_sums: 6 行 rows" in rebuilt.output, rebuilt.output
    assert runner.invoke(cli, ["check"]).exit_code == 0

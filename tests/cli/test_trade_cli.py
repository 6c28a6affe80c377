"""`jxc order / quick-sale / return / price / suggestions / scorecard / report` on a real book."""

from __future__ import annotations

from typer.testing import CliRunner

from jxc.interfaces.cli import app as cli
from jxc.services import masterdata
from jxc.services.posting import SYSTEM
from tests.cli.test_cli import env  # noqa: F401 - the fixture
from tests.conftest import NOW, make_world

runner = CliRunner()


def run(*args):
    r = runner.invoke(cli, [str(a) for a in args])
    return r.exit_code, r.output


def test_order_to_report_through_the_command_line(env):  # noqa: F811
    make_world(env)
    for code, role in (("S1", "supplier"), ("C1", "customer")):
        masterdata.create(env.uow_factory, "partners", {"code": code, "name": code, "role": role}, SYSTEM, NOW)
    assert run("price", "supplier", "P002", "--supplier", "S1", "--price", "20", "--preferred")[0] == 0
    code, out = run("order", "create", "purchase", "--partner", "S1", "--warehouse", "WH1", "--line", "P002:10")
    assert code == 0 and "draft" in out, out
    assert run("order", "confirm", "1")[0] == 0
    code, out = run("order", "receive", "1", "--qty", "1=10")
    assert code == 0 and "done" in out, out
    assert run("price", "set", "P002", "--tier", "default", "--price", "30")[0] == 0
    code, out = run("price", "resolve", "P002")
    assert code == 0 and "30" in out and "零售价" in out
    code, out = run("quick-sale", "--warehouse", "WH1", "--line", "P002:4", "--customer", "C1")
    assert code == 0 and "posted" in out and "零售价" in out, out
    code, out = run("return", "1", "--qty", "1=99", "--reason-code", "quality")
    assert code == 2 and "RETURN_EXCEEDS_MOVED" in out
    code, out = run("report", "gross_profit", "--by", "partner")
    assert code == 0 and "C1" in out and "40" in out, out  # revenue 120 − COGS 80
    code, out = run("order", "create", "sales", "--partner", "C1", "--warehouse", "WH1", "--line", "P002:9")
    assert code == 0
    code, out = run("order", "confirm", "2")
    assert code == 0 and "shortfalls" in out
    code, out = run("suggestions", "convert")
    assert code == 0 and "CGDD" in out, out
    assert run("suggestions", "list", "--state", "converted")[0] == 0
    assert run("order", "list", "--kind", "purchase")[0] == 0
    assert run("order", "show", "2")[0] == 0
    assert run("order", "deliver", "2", "--qty", "1=6")[0] == 0
    assert run("order", "close", "2", "--reason", "够了")[0] == 0
    code, out = run("scorecard")
    assert code == 0 and "S1" in out


def test_order_receive_takes_freight_into_cost(env):  # noqa: F811
    world = make_world(env)
    masterdata.create(env.uow_factory, "partners", {"code": "S1", "name": "S1", "role": "supplier"}, SYSTEM, NOW)
    assert run("order", "create", "purchase", "--partner", "S1", "--warehouse", "WH1", "--line", "P002:10::20")[0] == 0
    assert run("order", "confirm", "1")[0] == 0
    code, out = run("order", "receive", "1", "--freight", "-1")
    assert code == 2 and "freight" in out, out
    code, out = run("order", "receive", "1", "--freight", "6", "--freight-basis", "qty")
    assert code == 0 and "done" in out, out
    rice = env.queries.balances(product_id=world.rice, warehouse_id=world.wh).values()
    assert (sum(a.qty for a in rice), sum(a.value for a in rice)) == (10, 206)  # 10 × 20 + 6 freight

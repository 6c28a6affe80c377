"""社群订单命令 — `parse-order --book` uses the database catalog with learned aliases; `chat-order` drafts."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from jxc.interfaces.cli import app as cli
from jxc.services import chat_intake as ci
from jxc.services import trade
from tests.cli.test_cli import env  # noqa: F401 - the fixture
from tests.conftest import NOW
from tests.service.test_chat_intake import SALES, make_shop

runner = CliRunner()


def test_parse_order_book_mode_uses_products_and_learned_aliases(env):  # noqa: F811
    shop = make_shop(env)
    ci.record_alias(env.uow_factory, env.chat_catalog, "肥宅水", shop.cola, SALES, NOW)
    r = runner.invoke(cli, ["parse-order", "--book"], input="肥宅水2箱\n蓝莓今天有吗？\n")
    assert r.exit_code == 0, r.output
    first, second = (json.loads(line) for line in r.stdout.splitlines())
    assert [(ln["sku"], ln["qty"], ln["unit"]) for ln in first["lines"]] == [("D001", "2", "箱")]
    assert first["lines"][0]["evidence"]["matched_by"] == "learned_alias"
    assert second["unparseable"] is True and second["reason"] == "question"


def test_parse_order_needs_exactly_one_catalog_source(env, tmp_path):  # noqa: F811
    assert runner.invoke(cli, ["parse-order"], input="蓝莓2盒\n").exit_code == 2
    csv = tmp_path / "c.csv"
    csv.write_text("sku,name,spec,unit,aliases,barcode,price\nF1,蓝莓,,盒,,,\n", encoding="utf-8")
    assert runner.invoke(cli, ["parse-order", "--book", "--catalog", str(csv)], input="x\n").exit_code == 2


def test_chat_order_creates_a_draft_and_reports_lines_needing_a_decision(env):  # noqa: F811
    make_shop(env)
    r = runner.invoke(cli, ["chat-order", "王姐 蓝莓2盒 菠菜十来斤 3栋502", "--warehouse", "WH1"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["created"] is True and out["needs_decision"] == [2]
    assert trade.get_order(env.uow_factory, out["order_id"])["state"] == "draft"
    unknown = runner.invoke(cli, ["chat-order", "蓝莓2盒", "--warehouse", "WH1"])
    assert unknown.exit_code == 2 and "CHAT_CUSTOMER_UNKNOWN" in unknown.output
    accepted = runner.invoke(cli, ["chat-order", "菠菜十来斤", "--warehouse", "WH1", "--customer", "C-ZHAO",
                                   "--accept", "1"])
    assert json.loads(accepted.stdout)["placed"] == [1]

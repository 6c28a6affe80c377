"""命令行设置 — users, roles, approval rules and settings configured without code, and audited."""

from __future__ import annotations

from typer.testing import CliRunner

from jxc.interfaces.cli import app as cli
from jxc.services import users
from tests.cli.test_cli import env  # noqa: F401 - the fixture
from tests.conftest import make_world

runner = CliRunner()


def test_user_role_scope_rules_and_settings_from_the_command_line(env):  # noqa: F811
    make_world(env)
    ok = runner.invoke(cli, ["role", "save", "night_cashier", "--name-zh", "夜班收银", "--name-en", "night cashier",
                             "--permission", "document.create.sales_delivery",
                             "--permission", "document.post.sales_delivery"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(cli, ["role", "save", "x", "--name-zh", "x", "--name-en", "x", "--permission", "stock.fly"])
    assert bad.exit_code == 2 and "stock.fly" in bad.output
    added = runner.invoke(cli, ["user", "add", "xiaowu", "--role", "night_cashier", "--password", "password-1",
                                "--warehouse", "WH1"])
    assert added.exit_code == 0, added.output
    a = users.actor_for(env.uow_factory, "xiaowu")
    assert a.role == "night_cashier" and a.warehouses is not None and len(a.warehouses) == 1
    assert runner.invoke(cli, ["user", "set", "xiaowu", "--warehouse", "all"]).exit_code == 0
    assert users.actor_for(env.uow_factory, "xiaowu").warehouses is None
    rule = runner.invoke(cli, ["rules", "add", "大额销售需主管", "--role", "manager", "--kind", "sales_delivery",
                               "--min-amount", "5000"])
    assert rule.exit_code == 0, rule.output
    listed = runner.invoke(cli, ["rules", "list"])
    assert "大额销售需主管" in listed.output and "min_amount≥5000" in listed.output
    assert runner.invoke(cli, ["rules", "disable", "4"]).exit_code == 0
    assert runner.invoke(cli, ["settings", "set", "overdue.first_minutes", "30"]).output.strip() == "overdue.first_minutes = 30"
    wrong = runner.invoke(cli, ["settings", "set", "overdue.first_minutes", "0"])
    assert wrong.exit_code == 2 and "1–10080" in wrong.output and "单据超时提醒" in wrong.output
    assert "doc_prefix.scrap" in runner.invoke(cli, ["settings", "list"]).output
    audit = runner.invoke(cli, ["audit", "--user", "cli"])
    assert "role.save" in audit.output and "rule.add" in audit.output and "setting.change" in audit.output

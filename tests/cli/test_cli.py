"""命令行 — init, check, stock, period close on the database under test."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from jxc.domain.ledger import Movement
from jxc.interfaces.cli import app as cli
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW, make_world

runner = CliRunner()


@pytest.fixture
def env(file_app, monkeypatch, tmp_path):
    monkeypatch.setenv("JXC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    if file_app.engine.dialect.name == "postgresql":
        monkeypatch.setenv("JXC_DATABASE_URL", file_app.settings.url)
    else:
        monkeypatch.delenv("JXC_DATABASE_URL", raising=False)
    return file_app


def test_init_creates_owner_and_refuses_a_second_with_same_name(env):
    first = runner.invoke(cli, ["init", "--password", "s3cret-pass"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, ["init", "--password", "s3cret-pass"])
    assert again.exit_code == 2
    assert "CODE_TAKEN" in again.output and "已存在" in again.output


def test_init_refuses_short_password_naming_the_field(env):
    r = runner.invoke(cli, ["init", "--password", "short"])
    assert r.exit_code == 2
    assert "密码至少 8 位" in r.output


def test_stock_lists_balances_and_as_of(env):
    w = make_world(env)
    post(env.uow_factory, PostingRequest("receipt", (Movement(w.rice, D(12), w.supplier, w.shelf_a,
                                                              unit_cost=D("2.5")),), NOW), SYSTEM, NOW)
    now = runner.invoke(cli, ["stock", "--product", "P002"])
    assert now.exit_code == 0, now.output
    assert "东北大米" in now.output and "12" in now.output and "30.00" in now.output
    before = runner.invoke(cli, ["stock", "--product", "P002", "--at", "2026-10-31"])
    assert "东北大米" not in before.output
    missing = runner.invoke(cli, ["stock", "--product", "NOPE"])
    assert missing.exit_code == 2


def test_check_is_clean_then_names_a_tampered_balance(env):
    w = make_world(env)
    post(env.uow_factory, PostingRequest("receipt", (Movement(w.rice, D(5), w.supplier, w.shelf_a,
                                                              unit_cost=D(1)),), NOW), SYSTEM, NOW)
    assert runner.invoke(cli, ["check"]).exit_code == 0
    with env.engine.begin() as conn:
        conn.execute(text("update balances set qty = qty + 1 where location_id = :l"), {"l": w.shelf_a})
    r = runner.invoke(cli, ["check"])
    assert r.exit_code == 1
    assert "I1" in r.output and f"location={w.shelf_a}" in r.output


def test_period_close_refuses_going_backwards(env):
    assert runner.invoke(cli, ["period", "close", "--until", "2026-10-31"]).exit_code == 0
    r = runner.invoke(cli, ["period", "close", "--until", "2026-10-30"])
    assert r.exit_code == 2 and "PERIOD_NOT_ADVANCING" in r.output


def test_demo_builds_a_shop_whose_books_check_clean_and_is_not_built_twice(env):
    r = runner.invoke(cli, ["demo", "--days", "1"])
    assert r.exit_code == 0, r.output
    assert "laoban" in r.output and "demo1234" in r.output
    assert "420 个商品 products" in r.output and "1 天 days" in r.output and "预计 / estimated" in r.output
    assert env.queries.violations() == []
    stock = runner.invoke(cli, ["stock", "--warehouse", "MD01"])
    assert "蓝莓" in stock.output
    again = runner.invoke(cli, ["demo", "--business", "wholesale"])
    assert "跳过" in again.output  # one business per book: the second is refused, the first untouched
    assert runner.invoke(cli, ["demo", "--business", "bakery"]).exit_code == 2


def test_jxc_demo_builds_ninety_days_and_serve_demo_a_quick_thirty(env, monkeypatch):
    """Issue 10: `jxc demo` is the 90-day shop; `jxc serve --demo` builds the 30-day one so the first run is quick."""
    from jxc.interfaces import cli as cli_module
    from jxc.services import demo as demo_module

    asked: list[int] = []

    class Stop(Exception):
        pass

    def fake_build(*_args, days=None, business="fresh", **_kw):
        asked.append(days if days is not None else demo_module.default_days(business))
        raise Stop

    monkeypatch.setattr(demo_module, "build_demo", fake_build)
    r = runner.invoke(cli, ["demo"])
    assert isinstance(r.exception, Stop) and asked == [90]
    with pytest.raises(Stop):
        cli_module._make_demo(env)  # what `jxc serve --demo` runs on an empty book
    assert asked == [90, 30]

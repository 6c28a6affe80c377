"""命令行：单据与日志 — open documents shown as not-stock, reminders sent once, audit search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from jxc.domain.documents import DocumentKind as K
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.interfaces.cli import app as cli
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import Actor
from tests.cli.test_cli import env  # noqa: F401 - the fixture
from tests.conftest import make_world

runner = CliRunner()
KEEPER = Actor("zhang", BUILTIN_ROLES["keeper"][2], role="keeper", ip="10.1.1.9", device="PDA-3")


def test_documents_lists_drafts_as_not_stock_and_remind_sends_once(env):  # noqa: F811
    w = make_world(env)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    docs.create_draft(env.uow_factory, DraftInput(K.PURCHASE_RECEIPT, w.wh, (LineInput(w.rice, "5"),)),
                      KEEPER, two_hours_ago)
    listed = runner.invoke(cli, ["documents"])
    assert listed.exit_code == 0, listed.output
    assert "CGRK-" in listed.output and "不计入库存" in listed.output and "采购入库" in listed.output
    first = runner.invoke(cli, ["remind"])
    assert "已发送 1 条提醒" in first.output
    assert "已发送 0 条提醒" in runner.invoke(cli, ["remind"]).output


def test_audit_search_prints_who_from_where(env):  # noqa: F811
    w = make_world(env)
    docs.create_draft(env.uow_factory, DraftInput(K.PURCHASE_RECEIPT, w.wh, (LineInput(w.rice, "5"),)),
                      KEEPER, datetime.now(UTC))
    r = runner.invoke(cli, ["audit", "--user", "zhang", "--product", "P002"])
    assert r.exit_code == 0, r.output
    assert "document.create" in r.output and "10.1.1.9" in r.output and "PDA-3" in r.output
    assert runner.invoke(cli, ["audit", "--product", "NOPE"]).exit_code == 2


def test_available_explains_reservations_and_expire_frees_them(env):  # noqa: F811
    from decimal import Decimal as D

    from jxc.domain.ledger import Movement
    from jxc.services import reserving as rs
    from jxc.services.posting import SYSTEM, PostingRequest, post

    w = make_world(env)
    now = datetime.now(UTC)
    post(env.uow_factory, PostingRequest("receipt", (Movement(w.rice, D(9), w.supplier, w.shelf_a, unit_cost=D(1)),),
                                         now), SYSTEM, now)
    rs.reserve(env.uow_factory, rs.ReserveRequest(w.rice, w.wh, "4", "meituan:77", ttl_s=1), SYSTEM,
               now - timedelta(seconds=5))
    shown = runner.invoke(cli, ["available", "--product", "P002", "--warehouse", "WH1"])
    assert shown.exit_code == 0, shown.output
    assert "meituan:77" in shown.output and "可用 available 5" in shown.output
    assert "已释放 1 笔" in runner.invoke(cli, ["reservations", "expire"]).output
    assert "可用 available 9" in runner.invoke(cli, ["available", "--product", "P002", "--warehouse", "WH1"]).output

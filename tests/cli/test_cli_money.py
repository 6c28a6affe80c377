"""命令行：应收应付 — account, receipt allocated oldest first, statement and ageing print the numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from jxc.domain.documents import DocumentKind as K
from jxc.interfaces.cli import app as cli
from jxc.services import documents as docs
from jxc.services import masterdata
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM
from tests.cli.test_cli import env  # noqa: F401 - the fixture
from tests.conftest import make_world

runner = CliRunner()


def test_receipt_statement_and_ageing_from_the_command_line(env):  # noqa: F811
    w = make_world(env)
    f = env.uow_factory
    now = datetime.now(UTC)
    cus = masterdata.create(f, "partners", {"code": "C9", "name": "幸福里餐馆", "role": "customer",
                                            "payment_terms_days": 5}, SYSTEM, now)
    sup = masterdata.create(f, "partners", {"code": "S9", "name": "粮油", "role": "supplier"}, SYSTEM, now)
    for kind, partner, qty, price in ((K.PURCHASE_RECEIPT, sup, "50", "2"), (K.SALES_DELIVERY, cus, "10", "8.5")):
        did = docs.create_draft(f, DraftInput(kind, w.wh, (LineInput(w.rice, qty, unit_price=price),), partner_id=partner,
                                              effective_at=now - timedelta(days=40)), SYSTEM, now)
        docs.submit(f, did, SYSTEM, now)
    assert runner.invoke(cli, ["account", "add", "--code", "ZFB", "--name", "支付宝", "--kind", "alipay"]).exit_code == 0
    r = runner.invoke(cli, ["payment", "record", "--partner", "C9", "--account", "ZFB", "--amount", "30", "--key", "k"])
    assert r.exit_code == 0, r.output
    assert "未核销 unallocated 0" in r.output
    again = runner.invoke(cli, ["payment", "record", "--partner", "C9", "--account", "ZFB", "--amount", "30", "--key", "k"])
    assert again.output.split()[0] == r.output.split()[0]  # the same SK- number: recorded once
    over = runner.invoke(cli, ["payment", "record", "--partner", "C9", "--account", "ZFB", "--amount", "5",
                               "--to", "2:999"])
    assert over.exit_code == 2 and "OVER_ALLOCATION" in over.output
    day = (now - timedelta(days=45)).date().isoformat()
    st = runner.invoke(cli, ["statement", "--partner", "C9", "--from", day, "--to", now.date().isoformat()])
    assert st.exit_code == 0, st.output
    assert "期初 opening" in st.output and "85" in st.output and "55" in st.output  # 85 delivered, 55 still owed
    aged = runner.invoke(cli, ["ageing"])
    assert aged.exit_code == 0 and "31-60" in aged.output and "55" in aged.output
    assert "ZFB" in runner.invoke(cli, ["account", "list"]).output
    assert runner.invoke(cli, ["check"]).exit_code == 0

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


def test_opening_import_refund_and_transfer_from_the_command_line(env, tmp_path):  # noqa: F811
    """A bookkeeper's first day: import the openings (a re-run enters nothing twice), refund a prepaid
    customer in cash, move the WeChat takings to the bank, and read the statements and accounts."""
    f = env.uow_factory
    now = datetime.now(UTC)
    for code, name, role in (("C1", "幸福里餐馆", "customer"), ("C2", "老王面馆", "customer"), ("S1", "粮油", "supplier")):
        masterdata.create(f, "partners", {"code": code, "name": name, "role": role, "payment_terms_days": 30}, SYSTEM, now)
    for code, kind in (("XJ", "cash"), ("WX", "wechat"), ("YH", "bank")):
        assert runner.invoke(cli, ["account", "add", "--code", code, "--name", code, "--kind", kind]).exit_code == 0
    sheet = tmp_path / "期初.csv"
    sheet.write_text("往来单位编码,单号,金额,日期,到期日\nC1,INV-7,1200,2026-09-30,2026-10-30\nC2,预收,-300,,\n"
                     "S1,FP-1,800,,\n", encoding="utf-8-sig")
    r = runner.invoke(cli, ["money", "opening", "import", str(sheet), "--on", "2026-10-31"])
    assert r.exit_code == 0, r.output
    assert "期初已录入 3 笔" in r.output
    again = runner.invoke(cli, ["money", "opening", "import", str(sheet), "--on", "2026-10-31"])
    assert "期初已录入 0 笔" in again.output and "already there" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text("code,amount,date\nC1,10,2026-10-01\nNOPE,5,2026-10-01\n", encoding="utf-8")
    refused = runner.invoke(cli, ["money", "opening", "import", str(bad)])
    assert refused.exit_code == 2 and "第 3 行" in refused.output and "NOPE" in refused.output
    listed = runner.invoke(cli, ["money", "opening", "list"]).output
    assert "INV-7" in listed and "1200" in listed and "-300" in listed
    st = runner.invoke(cli, ["statement", "--partner", "C1", "--from", "2026-11-01", "--to", "2026-11-30"]).output
    assert "期初 opening" in st and "1200" in st  # the opening balance of the first month
    over = runner.invoke(cli, ["money", "refund", "--partner", "C2", "--account", "XJ", "--amount", "301"])
    assert over.exit_code == 2 and "REFUND_EXCEEDS_CREDIT" in over.output and "300" in over.output
    done = runner.invoke(cli, ["money", "refund", "--partner", "C2", "--account", "XJ", "--amount", "300"])
    assert done.exit_code == 0 and "TK-" in done.output and "退款 300" in done.output
    r = runner.invoke(cli, ["payment", "record", "--partner", "C1", "--account", "WX", "--amount", "1200"])
    assert r.exit_code == 0, r.output
    moved = runner.invoke(cli, ["money", "transfer", "add", "--from", "WX", "--to", "YH", "--amount", "1200",
                                "--fee", "1.2"])
    assert moved.exit_code == 0 and "到账 received 1198.8" in moved.output, moved.output
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in
             runner.invoke(cli, ["account", "list"]).output.splitlines() if "│" in line]
    accounts = {c[0]: c[-1] for c in cells if c and c[0] in ("XJ", "WX", "YH")}
    assert accounts == {"XJ": "-300", "WX": "0", "YH": "1198.8"}
    day = now.astimezone(env.settings.zone).date().isoformat()
    flow = runner.invoke(cli, ["account", "statement", "--code", "WX", "--from", day, "--to", day]).output
    assert "收款" in flow and "资金调拨" in flow and "期末 closing" in flow
    tid = runner.invoke(cli, ["money", "transfer", "list"]).output
    assert "ZJ-" in tid
    assert runner.invoke(cli, ["money", "transfer", "reverse", "--id", "1", "--reason", "调错"]).exit_code == 0
    assert runner.invoke(cli, ["money", "opening", "reverse", "--id", "1", "--reason", "录错"]).exit_code == 0
    assert runner.invoke(cli, ["check"]).exit_code == 0

"""命令行：盘点与排查 — plan → start → enter → close from the terminal, and `jxc investigate --xlsx`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from typer.testing import CliRunner

from jxc.domain.documents import DocumentKind as K
from jxc.interfaces.cli import app as cli
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from tests.cli.test_cli import env  # noqa: F401 - the fixture
from tests.conftest import make_world
from tests.service.test_documents import KEEPER

runner = CliRunner()


def test_count_from_plan_to_proposed_adjustment_then_investigate_and_export(env, tmp_path):  # noqa: F811
    w = make_world(env)
    earlier = datetime.now(UTC) - timedelta(hours=3)
    doc = docs.create_draft(env.uow_factory, DraftInput(K.PURCHASE_RECEIPT, w.wh, (
        LineInput(w.rice, "20", unit_price="3", location_id=w.shelf_a),), effective_at=earlier), KEEPER, earlier)
    docs.submit(env.uow_factory, doc, KEEPER, earlier)
    ok = runner.invoke(cli, ["count", "plan", "--warehouse", "WH1", "--name", "A架", "--location", str(w.shelf_a)])
    assert ok.exit_code == 0 and "#1" in ok.output, ok.output
    started = runner.invoke(cli, ["count", "start", "--plan", "1", "--assign", "cli"])
    assert started.exit_code == 0 and "PD-" in started.output and "P002" in started.output, started.output
    line = ["count", "enter", "--task", "1", "--location", "A-01", "--product", "P002", "--qty", "18", "--key", "k1"]
    assert "#1" in runner.invoke(cli, line).output
    assert "duplicate" in runner.invoke(cli, line).output
    closed = runner.invoke(cli, ["count", "close", "--task", "1"])
    assert closed.exit_code == 0 and "pending_approval" in closed.output and "-2" in closed.output, closed.output
    assert "100.0%" not in runner.invoke(cli, ["count", "kpi"]).output
    path = tmp_path / "p002.xlsx"
    r = runner.invoke(cli, ["investigate", "--product", "P002", "--counted", "18", "--xlsx", str(path)])
    assert r.exit_code == 0, r.output
    assert "CGRK-" in r.output and "疑点" in r.output
    assert "流水 Timeline" in load_workbook(path).sheetnames
    assert runner.invoke(cli, ["count", "close", "--task", "99"]).exit_code == 2

"""学习别名与命令行 — learned aliases, the catalog loader and ``jxc parse-order``."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from jxc.chat_orders import Catalog, CatalogError, ChatOrderParser
from jxc.interfaces.cli_parse_order import register

from .conftest import DATA


def test_learned_alias_matches_next_time(parser, sku_of):
    before = parser.parse("大红袍2斤")
    assert not any(line.sku == sku_of("阿克苏苹果") for line in before.lines)
    learned = parser.with_alias(sku_of("阿克苏苹果"), "大红袍")
    (line,) = learned.parse("大红袍2斤").lines
    assert line.sku == sku_of("阿克苏苹果")
    assert line.evidence["matched_by"] == "learned_alias"
    assert not line.needs_review


def test_learned_alias_outranks_existing_alias(catalog, sku_of):
    corrected = ChatOrderParser(catalog.with_alias(sku_of("小白菜"), "青菜"))
    (line,) = corrected.parse("青菜2斤").lines
    assert line.sku == sku_of("小白菜")


def test_with_alias_does_not_change_original_catalog(catalog, sku_of):
    catalog.with_alias(sku_of("苹果"), "红果果")
    assert catalog.learned_aliases == ()


def test_catalog_rejects_row_without_unit():
    with pytest.raises(CatalogError) as error:
        Catalog.from_csv_text("sku,name,spec,unit,aliases,barcode,price\nA1,苹果,,,,,\n")
    assert error.value.line == 2 and error.value.message_zh


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def version() -> None:  # a second command so Typer keeps sub-command names
        """version."""

    return app


def test_cli_writes_json_lines(tmp_path):
    messages = tmp_path / "messages.txt"
    messages.write_text("要2盒蓝莓+1袋山药\n今天有草莓吗？\n", encoding="utf-8")
    result = CliRunner().invoke(
        _app(),
        ["parse-order", "--catalog", str(DATA / "catalog.csv"), "--input", str(messages)],
    )
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["id"] == 1 and first["unparseable"] is False
    assert [(line["qty"], line["unit"]) for line in first["lines"]] == [("2", "盒"), ("1", "袋")]
    assert {"sku", "qty", "unit", "confidence"} <= set(first["lines"][0])
    assert second == {**second, "id": 2, "lines": [], "unparseable": True}


def test_cli_reads_json_lines_from_stdin():
    record = {"id": "m-7", "text": "苹果香蕉\n各两斤"}
    result = CliRunner().invoke(
        _app(),
        ["parse-order", "--catalog", str(DATA / "catalog.csv"), "--input", "-"],
        input=json.dumps(record, ensure_ascii=False) + "\n",
    )
    assert result.exit_code == 0, result.output
    (output,) = (json.loads(line) for line in result.output.splitlines())
    assert output["id"] == "m-7" and len(output["lines"]) == 2


def test_cli_reports_unreadable_catalog(tmp_path):
    result = CliRunner().invoke(
        _app(), ["parse-order", "--catalog", str(tmp_path / "missing.csv")], input=""
    )
    assert result.exit_code == 2

"""命令行：报表投影 — `jxc reports rebuild` recomputes the report projections (汇总表, 订单完成汇总)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from jxc.bootstrap import build
from jxc.config import Settings
from jxc.services import reports
from jxc.services.posting import Actor

reports_app = typer.Typer(help="报表投影 / report projections", no_args_is_help=True)
CLI_ACTOR = Actor("cli", frozenset({"*"}))
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]


@reports_app.command("rebuild")
def rebuild(data_dir: DataDir = None) -> None:
    """重建报表投影 / recompute the report projections — 汇总表 (report_sums) from posted documents and
    订单完成汇总 (order_sums) from the orders — in one transaction, in the zone of the book setting
    reports.timezone."""
    a = build(Settings(data_dir=data_dir) if data_dir else Settings())
    for name, rows in reports.rebuild(a.uow_factory, CLI_ACTOR, a.clock.now()).items():
        Console().print(f"[green]已重建 / rebuilt[/green] {name}: {rows} 行 rows")


def register(app: typer.Typer) -> None:
    app.add_typer(reports_app, name="reports")

"""命令行：汇总表 — `jxc reports rebuild` recomputes the report projection from posted documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from jxc.bootstrap import build
from jxc.config import Settings
from jxc.services import reports
from jxc.services.posting import Actor

reports_app = typer.Typer(help="报表汇总表 / the report projection", no_args_is_help=True)
CLI_ACTOR = Actor("cli", frozenset({"*"}))
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]


@reports_app.command("rebuild")
def rebuild(data_dir: DataDir = None) -> None:
    """重建汇总表 / recompute the report projection (report_sums) from posted documents, in one transaction."""
    a = build(Settings(data_dir=data_dir) if data_dir else Settings())
    rows = reports.rebuild(a.uow_factory, CLI_ACTOR, a.clock.now())
    Console().print(f"汇总表已重建 / report projection rebuilt: {rows} 行 rows")


def register(app: typer.Typer) -> None:
    app.add_typer(reports_app, name="reports")

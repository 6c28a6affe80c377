"""命令行：备份与恢复 — `jxc backup` and `jxc restore`, each verified by the invariant check.

Exit codes: 0 done and the check is clean; 1 done but the check found
violations (the table names them); 2 refused or failed (bad file, non-empty
book without --force, pg_dump missing …), with the fix in Chinese and English.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jxc.bootstrap import App, BackupError, build
from jxc.config import Settings
from jxc.services.ports import Violation

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]


def _app(data_dir: Path | None) -> App:
    return build(Settings(data_dir=data_dir) if data_dir else Settings())


def _refused(exc: BackupError) -> typer.Exit:
    err = Console(stderr=True)
    err.print(f"[red]错误[/red]：{exc.message_zh}", highlight=False)
    err.print(f"[red]error[/red]: {exc.message_en}", highlight=False)
    return typer.Exit(code=2)


def _verdict(violations: list[Violation], what_zh: str, what_en: str) -> None:
    if not violations:
        Console().print(f"[green]校验通过 / verified[/green]：{what_zh}账实核对无问题 / invariants hold in {what_en} "
                        "(I1 I2 I3 I4 I5 I6 I8 I9 M1–M6 R1 R2)")
        return
    err = Console(stderr=True)
    table = Table("invariant", "subject 对象", "detail 说明", title=f"{what_zh}未通过核对 / {what_en} fails the check")
    for v in violations:
        table.add_row(v.invariant, v.subject, v.detail)
    err.print(table)
    err.print(f"[red]发现 {len(violations)} 处问题 / {len(violations)} violation(s)[/red]；"
              "用 `jxc investigate` 排查 / investigate with `jxc investigate`")
    raise typer.Exit(code=1)


def backup(
    data_dir: DataDir = None,
    to: Annotated[Path | None, typer.Option("--to", help="backup file (default <data_dir>/backups/<name>-<time>)")]
    = None,
) -> None:
    """备份 / back up the book while it runs (SQLite backup API, PostgreSQL pg_dump -Fc), then check the copy."""
    a = _app(data_dir)
    try:
        report = a.backup(to)
    except BackupError as exc:
        raise _refused(exc) from exc
    finally:
        a.dispose()
    Console().print(f"已备份 / backed up ({report.dialect}): [bold]{report.path}[/bold] "
                    f"({report.size_bytes / 1024:.0f} KiB)", highlight=False)
    _verdict(report.violations, "备份", "the backup")


def restore(
    from_: Annotated[Path, typer.Option("--from", help="backup file made by `jxc backup`")],
    data_dir: DataDir = None,
    force: Annotated[bool, typer.Option("--force", help="replace a book that has data (kept as .before-restore)")]
    = False,
) -> None:
    """恢复 / replace the book by a backup (stop `jxc serve` and workers first), then check it."""
    a = _app(data_dir)
    try:
        report = a.restore(from_, force)
    except BackupError as exc:
        raise _refused(exc) from exc
    finally:
        a.dispose()
    out = Console()
    out.print(f"已恢复 / restored ({report.dialect}) from [bold]{report.source}[/bold]", highlight=False)
    if report.kept is not None:
        out.print(f"原账套已另存 / the previous book was kept as: {report.kept}", highlight=False)
    _verdict(report.violations, "恢复后的账套", "the restored book")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)

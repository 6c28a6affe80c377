"""命令行：单据与日志 — open (not yet stock) documents, overdue reminders, audit search."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.domain.documents import KINDS, STATE_LABELS, DocumentKind, DocumentState
from jxc.services.reminders import remind_overdue

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]


def _app(data_dir: Path | None) -> App:
    return build(Settings(data_dir=data_dir) if data_dir else Settings())


def _age(now: datetime, then: datetime) -> str:
    minutes = int((now - then).total_seconds() // 60)
    return f"{minutes // 1440}天{minutes % 1440 // 60}时" if minutes >= 1440 else f"{minutes // 60}时{minutes % 60}分"


def documents(data_dir: DataDir = None) -> None:
    """未生效单据 / drafts and pending approvals — staged work that does NOT count as stock yet."""
    a = _app(data_dir)
    now = a.clock.now()
    rows = a.queries.open_documents()
    table = Table("单号 number", "类型 kind", "状态 state", "仓库 wh", "经办 by", "未处理 open for",
                  title="未生效单据（不计入库存）/ open documents (not stock yet)")
    for r in rows:
        state = STATE_LABELS[DocumentState(r["state"])][0]
        age = _age(now, r["updated_at"])
        style = "bold red" if r["reminder_level"] >= 2 else ("yellow" if r["reminder_level"] else "")
        table.add_row(r["number"], KINDS[DocumentKind(r["kind"])].zh, state, r["warehouse"], r["created_by"],
                      age, style=style)
    Console().print(table)
    Console().print(f"共 {len(rows)} 张 / {len(rows)} open")


def remind(data_dir: DataDir = None) -> None:
    """超时提醒 / send due reminders for drafts and approvals left open too long (run from cron or the worker)."""
    a = _app(data_dir)
    sent = remind_overdue(a.uow_factory, a.clock.now())
    for r in sent:
        Console().print(f"{r['number']}  level {r['level']}  → {r['notify']}")
    Console().print(f"已发送 {len(sent)} 条提醒 / {len(sent)} reminder(s) sent")


def audit(
    data_dir: DataDir = None,
    user: Annotated[str | None, typer.Option(help="user name 操作人")] = None,
    action: Annotated[str | None, typer.Option(help="action prefix, e.g. document. or login.failed")] = None,
    product: Annotated[str | None, typer.Option(help="product code 商品编码")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """操作日志 / search the audit log, newest first."""
    a = _app(data_dir)
    pid, _ = a.queries.lookup_ids(product, None)
    if product and pid is None:
        Console(stderr=True).print(f"[red]找不到商品 / no such product[/red]: {product}")
        raise typer.Exit(code=2)
    rows = a.queries.audit(product_id=pid, username=user, action=action, limit=limit)
    table = Table("#", "时间 at", "操作人 actor", "动作 action", "对象 object", "IP", "设备 device")
    zone = a.settings.zone
    for r in rows:
        table.add_row(str(r["seq"]), f"{r['at'].astimezone(zone):%Y-%m-%d %H:%M:%S}", r["actor"], r["action"],
                      f"{r['object_type']}:{r['object_id']}", r["ip"] or "", r["device"] or "")
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("documents")(documents)
    app.command("remind")(remind)
    app.command("audit")(audit)

"""命令行：可用量与预占 — available with its why, shippable lots, reservation expiry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.services import reserving
from jxc.services.posting import SYSTEM

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]
reservations_app = typer.Typer(help="预占 / reservations", no_args_is_help=True)


def _app(data_dir: Path | None) -> App:
    return build(Settings(data_dir=data_dir) if data_dir else Settings())


def available(
    product: Annotated[str, typer.Option(help="product code 商品编码")],
    warehouse: Annotated[str, typer.Option(help="warehouse code 仓库编码")],
    data_dir: DataDir = None,
) -> None:
    """可用量 / available stock and why the rest is not (lots, statuses, reservations), plus FEFO order."""
    a = _app(data_dir)
    pid, wid = a.queries.lookup_ids(product, warehouse)
    if pid is None or wid is None:
        Console(stderr=True).print(f"[red]找不到编码 / no such code[/red]: {product if pid is None else warehouse}")
        raise typer.Exit(code=2)
    today = a.clock.now().astimezone(a.settings.zone).date()
    e = reserving.availability(a.uow_factory, pid, wid, today)
    out = Console()
    out.print(f"现存 on hand [bold]{e.on_hand.normalize():f}[/bold]  ·  预占 reserved {e.reserved.normalize():f}"
              f"  ·  可用 available [bold green]{e.available.normalize():f}[/bold green]")
    table = Table("原因 reason", "数量 qty", "库位 location", "批次 lot", "占用方 holder", "说明 note",
                  title="为什么不可用 / why not available")
    for p in e.parts:
        table.add_row(p.reason, f"{p.qty.normalize():f}", p.location or "", p.lot or "", p.holder or "", p.zh)
    out.print(table)
    lots = reserving.shippable_lots(a.uow_factory, pid, wid, today)
    if lots:
        order = Table("#", "批次 lot", "到期 expires", "数量 qty", title="发货顺序（近效期先出）/ shipping order")
        for i, lot in enumerate(lots, 1):
            order.add_row(str(i), lot.lot_number or "—", str(lot.expires_on or ""), f"{lot.qty.normalize():f}")
        out.print(order)


@reservations_app.command("expire")
def expire(data_dir: DataDir = None) -> None:
    """到期释放 / expire reservations past their TTL now (the worker does this continuously)."""
    a = _app(data_dir)
    done = reserving.expire_due(a.uow_factory, a.clock.now(), SYSTEM)
    Console().print(f"已释放 {len(done)} 笔过期预占 / {len(done)} reservation(s) expired")


def register(app: typer.Typer) -> None:
    app.command("available")(available)
    app.add_typer(reservations_app, name="reservations")

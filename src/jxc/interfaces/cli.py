"""命令行 — the `jxc` command line: serve, init, db upgrade, check, stock, period close.

Every command builds the app through `jxc.bootstrap` and calls services or
queries; none touches tables directly. Errors print in Chinese and English
and exit non-zero.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.domain.errors import DomainError
from jxc.interfaces import (
    cli_admin,
    cli_counting,
    cli_documents,
    cli_money,
    cli_ops,
    cli_parse_order,
    cli_reports,
    cli_stock,
    cli_trade,
)
from jxc.services import demo, users
from jxc.services.posting import Actor, close_period

FULL_DEMO_DAYS = 90  # `jxc demo`: the 90 days of history; `serve --demo` uses the builder's quick default

app = typer.Typer(help="进销存 jxc — purchase–sales–inventory / 进销存系统", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="数据库 / database schema", no_args_is_help=True)
period_app = typer.Typer(help="月结 / period close", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(period_app, name="period")


class _Consoles:
    """Consoles made per use, so the terminal width is read when printing."""

    @property
    def out(self) -> Console:
        return Console()

    @property
    def err(self) -> Console:
        return Console(stderr=True)


_c = _Consoles()

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]
CLI_ACTOR = Actor("cli", frozenset({"*"}))


def _app(data_dir: Path | None) -> App:
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    return build(settings)


def _fail(exc: DomainError) -> typer.Exit:
    _c.err.print(f"[red]错误 {exc.code}[/red]：{exc.message_zh}\n[red]error {exc.code}[/red]: {exc.message_en}")
    return typer.Exit(code=2)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """升级数据库结构 / create or upgrade the schema (safe to rerun)."""
    a = _app(data_dir)
    a.upgrade()
    _c.out.print(f"数据库已是最新 / schema at revision {a.schema_revision()} ({a.engine.dialect.name})")


@app.command()
def init(
    data_dir: DataDir = None,
    username: Annotated[str, typer.Option(help="first owner's user name 老板账号")] = "admin",
    password: Annotated[str | None, typer.Option(help="password (asked when omitted)")] = None,
) -> None:
    """初始化 / create the data folder, the schema and the first owner user."""
    a = _app(data_dir)
    a.upgrade()
    if password is None:
        password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    try:
        users.create_user(a.uow_factory, username, password, "owner", CLI_ACTOR, a.clock.now(),
                          display_name="老板")
    except DomainError as exc:
        raise _fail(exc) from exc
    _c.out.print(f"已创建老板账号 / created owner user [bold]{username}[/bold] in {a.settings.url}")


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="listen address (JXC_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (JXC_PORT)")] = None,
    with_demo: Annotated[bool, typer.Option("--demo", help="fill an empty book with the demo shop")] = False,
) -> None:
    """启动服务 / run web + API on this machine (migrates an empty database first)."""
    import uvicorn

    from jxc.interfaces.api.app import create_app

    a = _app(data_dir)
    a.upgrade()
    if with_demo:
        _make_demo(a)
    host = host or a.settings.host
    port = port or a.settings.port
    _c.out.print(f"进销存已启动 / jxc is running: [bold]http://{host}:{port}/[/bold]")
    _c.out.print(f"数据库 / database: {a.engine.dialect.name}  ·  健康检查 / health: http://{host}:{port}/healthz")
    if not with_demo:
        _c.out.print(f"首次使用：在浏览器打开 http://{host}:{port}/setup 完成开户向导（或运行 `jxc init`）/ "
                     "first run: open /setup in the browser for the setup wizard (or run `jxc init`)")
    uvicorn.run(create_app(a, run_worker=a.settings.worker_in_process), host=host, port=port, log_level="info")


@app.command()
def worker(
    data_dir: DataDir = None,
    once: Annotated[bool, typer.Option("--once", help="deliver what is due, then exit")] = False,
) -> None:
    """事件投递 / run the outbox worker (events, push, webhooks) on its own; several may run on PostgreSQL."""
    from jxc.interfaces import worker as outbox_worker

    raise typer.Exit(outbox_worker.run(_app(data_dir), once))


def _make_demo(a: App, business: str = "fresh", days: int | None = None, scale: int = 1,
               seed: int = 20260122) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if not demo.is_empty(a.uow_factory):
        _c.out.print("已有数据，跳过演示数据 / the book has data: demo not created")
        return
    zh, en = demo.BUSINESSES[business]
    total = (days if days is not None else demo.default_days(business)) * scale
    _c.out.print(f"正在生成演示数据：{zh} / building the demo: {en} — {total} 天 days, "
                 f"预计 / estimated ~{demo.estimate_s(business, total):.0f} s")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("天 days"),
               TimeElapsedColumn(), TextColumn("剩余 / left"), TimeRemainingColumn())
    with Progress(*columns, console=_c.out, transient=False) as bar:
        task = bar.add_task(zh, total=total)
        summary = demo.build_demo(a.uow_factory, a.clock.now(), a.settings.zone, days=days, seed=seed,
                                  business=business, scale=scale, batch=a.batch,
                                  progress=lambda done, _all: bar.update(task, completed=done))
    _c.out.print(f"演示数据已生成 / demo ready: {summary.products} 个商品 products, {summary.documents} 张单据 "
                 f"documents, {summary.postings} 笔过账 postings, {summary.days} 天 days")
    for note in summary.notes:
        _c.out.print(f"  · {note}")
    table = Table("用户名 user", "角色 role", "姓名 name", "密码 password", title="演示账号 / demo logins")
    for username, role, name in summary.users:
        table.add_row(username, role, name, demo.DEMO_PASSWORD)
    _c.out.print(table)


@app.command("demo")
def demo_cmd(
    data_dir: DataDir = None,
    business: Annotated[str, typer.Option(help="fresh = 鲜邻优选 生鲜店 · wholesale = 宏达建材 批发")] = "fresh",
    days: Annotated[int, typer.Option(min=1, help="days of history 历史天数 (`jxc serve --demo` builds 30 for a quick "
                                                  "first run)")] = FULL_DEMO_DAYS,
    scale: Annotated[int, typer.Option(min=1, help="N× the history, for load tests 压测倍数")] = 1,
    seed: Annotated[int, typer.Option(help="random seed 随机种子 (same seed, same book)")] = 20260122,
) -> None:
    """演示数据 / build a demo business into an empty data folder (through the real services)."""
    if business not in demo.BUSINESSES:
        raise typer.BadParameter(f"可选 / choose one of: {', '.join(demo.BUSINESSES)}", param_hint="--business")
    a = _app(data_dir)
    a.upgrade()
    _make_demo(a, business, days, scale, seed)


@app.command()
def check(data_dir: DataDir = None) -> None:
    """检查账实一致 / verify invariants I1 I2 I3 I4 I5 I6 I8 I9, money owed M1–M6 and the report
    projections R1 (汇总表) and R2 (订单完成汇总) on the live database."""
    a = _app(data_dir)
    violations = a.queries.violations()
    if not violations:
        _c.out.print("[green]检查通过 / all invariants hold[/green] (I1 I2 I3 I4 I5 I6 I8 I9 M1–M6 R1 R2)")
        return
    table = Table("invariant", "subject 对象", "detail 说明")
    for v in violations:
        table.add_row(v.invariant, v.subject, v.detail)
    _c.err.print(table)
    _c.err.print(f"[red]发现 {len(violations)} 处问题 / {len(violations)} violation(s)[/red]")
    raise typer.Exit(code=1)


def _parse_at(value: str, a: App) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"时间格式应为 2026-11-01 或 2026-11-01T18:00 / use ISO format: {value}") from exc
    if len(value) <= 10:
        at = datetime.combine(at.date(), time.max)
    return at if at.tzinfo else at.replace(tzinfo=a.settings.zone)


@app.command()
def stock(
    data_dir: DataDir = None,
    product: Annotated[str | None, typer.Option(help="product code 商品编码")] = None,
    warehouse: Annotated[str | None, typer.Option(help="warehouse code 仓库编码")] = None,
    at: Annotated[str | None, typer.Option(help="as of (date = end of that day) 截至时间")] = None,
    all_locations: Annotated[bool, typer.Option("--all-locations", help="include virtual locations")] = False,
) -> None:
    """库存余额 / stock on hand, now or as of a time, filterable."""
    a = _app(data_dir)
    pid, wid = a.queries.lookup_ids(product, warehouse)
    for code, found, label in ((product, pid, "商品 product"), (warehouse, wid, "仓库 warehouse")):
        if code and found is None:
            _c.err.print(f"[red]找不到{label}编码 / no such code[/red]: {code}")
            raise typer.Exit(code=2)
    physical = not all_locations
    buckets = (a.queries.stock_at(_parse_at(at, a), pid, wid, physical_only=physical) if at
               else a.queries.balances(pid, wid, physical_only=physical))
    table = Table("商品 product", "名称 name", "仓库 wh", "库位 location", "批次 lot", "状态 status",
                  "数量 qty", "金额 value", title=f"库存 / stock{' @ ' + at if at else ''}")
    total = Decimal(0)
    for r in a.queries.describe(buckets):
        table.add_row(r.product_code, r.product_name, r.warehouse_code or "", r.location_code,
                      r.lot_number or "", r.status, f"{r.qty.normalize():f}", f"{r.value:.2f}")
        total += r.value
    _c.out.print(table)
    _c.out.print(f"合计金额 / total value: {total:.2f}")


@period_app.command("close")
def period_close(
    until: Annotated[str, typer.Option(help="last day of the period, e.g. 2026-10-31 结账截止日")],
    data_dir: DataDir = None,
) -> None:
    """月结 / close the period through UNTIL: snapshot stock, refuse earlier postings."""
    a = _app(data_dir)
    try:
        day = date.fromisoformat(until)
    except ValueError as exc:
        raise typer.BadParameter(f"日期格式应为 2026-10-31 / use YYYY-MM-DD: {until}") from exc
    bound = datetime.combine(day + timedelta(days=1), time.min, tzinfo=a.settings.zone)
    try:
        period_id = close_period(a.uow_factory, bound, CLI_ACTOR, a.clock.now())
    except DomainError as exc:
        raise _fail(exc) from exc
    _c.out.print(f"已结账至 {day} / closed through {day} (period #{period_id})")


cli_parse_order.register(app)
cli_documents.register(app)
cli_stock.register(app)
cli_counting.register(app)
cli_ops.register(app)
cli_admin.register(app)
cli_money.register(app)
cli_trade.register(app)
cli_reports.register(app)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""命令行：盘点与账实排查 — `jxc count …` (plan, start, assign, enter, sheet, recount, close, abc, kpi)
and `jxc investigate` (the five-step discrepancy view, printable and exportable to Excel).

Commands call services only; `--user` acts as that user (role, warehouses), otherwise as the
command line itself (every permission, device "cli").
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.domain.errors import DomainError
from jxc.services import counting as cnt
from jxc.services import counting_close as cc
from jxc.services import users
from jxc.services.counting_scope import recompute_abc
from jxc.services.investigation import investigate, tables, write_xlsx
from jxc.services.posting import Actor

count_app = typer.Typer(help="盘点 / stock counts: plans, tasks, counting, recount, close", no_args_is_help=True)
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]
User = Annotated[str | None, typer.Option("--user", help="act as this user 操作人 (default: the CLI)")]
TaskId = Annotated[int, typer.Option("--task", help="count task id 盘点任务 ID")]


def _app(data_dir: Path | None) -> App:
    return build(Settings(data_dir=data_dir) if data_dir else Settings())


def _actor(a: App, user: str | None) -> Actor:
    if user:
        return users.actor_for(a.uow_factory, user, device="cli")
    return Actor("cli", frozenset({"*"}), device="cli")


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        Console(stderr=True).print(f"[red]错误 {exc.code}[/red]：{exc.message_zh}\n"
                                   f"[red]error {exc.code}[/red]: {exc.message_en}")
        raise typer.Exit(code=2) from exc


def _wid(a: App, code: str) -> int:
    _, wid = a.queries.lookup_ids(None, code)
    if wid is None:
        Console(stderr=True).print(f"[red]找不到仓库 / no such warehouse[/red]: {code}")
        raise typer.Exit(code=2)
    return wid


def _at(a: App, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"时间格式应为 2026-11-01T18:00 / use ISO format: {value}") from exc
    if len(value) <= 10:
        at = datetime.combine(at.date(), time.max)
    return at if at.tzinfo else at.replace(tzinfo=a.settings.zone)


@count_app.command("plan")
def plan(
    warehouse: Annotated[str, typer.Option(help="warehouse code 仓库编码")],
    name: Annotated[str, typer.Option(help="plan name 计划名称")],
    kind: Annotated[str, typer.Option(help="full 全盘 / cycle 循环盘点")] = "cycle",
    location: Annotated[list[int] | None, typer.Option(help="location id (repeat) 库位")] = None,
    category: Annotated[list[str] | None, typer.Option(help="category (repeat) 品类")] = None,
    abc: Annotated[list[str] | None, typer.Option(help="ABC class (repeat)")] = None,
    rotate_by: Annotated[str | None, typer.Option(help="category / product: rotation 轮盘")] = None,
    period_days: Annotated[int, typer.Option(help="rotation period 轮盘周期")] = 28,
    interval_days: Annotated[int, typer.Option(help="one slice every N days")] = 7,
    blind: Annotated[bool, typer.Option("--blind", help="hide expected quantities 盲盘")] = False,
    user: User = None, data_dir: DataDir = None,
) -> None:
    """新建盘点计划 / create a count plan (full, by shelf, category, ABC class or rotation)."""
    a = _app(data_dir)
    inp = cnt.PlanInput(name, _wid(a, warehouse), kind, tuple(location or ()), tuple(category or ()),
                        tuple(abc or ()), rotate_by, period_days, interval_days, blind)
    plan_id = _run(cnt.create_plan, a.uow_factory, inp, _actor(a, user), a.clock.now())
    Console().print(f"已创建盘点计划 / plan created: #{plan_id}")


@count_app.command("start")
def start(
    plan_id: Annotated[int, typer.Option("--plan", help="plan id 计划 ID")],
    assign: Annotated[list[str] | None, typer.Option(help="counter user name (repeat) 盘点人")] = None,
    user: User = None, data_dir: DataDir = None,
) -> None:
    """下达盘点任务 / start a task from a plan: list what to count where, assign counters."""
    a = _app(data_dir)
    actor = _actor(a, user)
    task_id = _run(cnt.create_task, a.uow_factory, plan_id, actor, a.clock.now(), assign or ())
    _print_sheet(cc.sheet(a.uow_factory, task_id, actor, a.clock.now()))


@count_app.command("assign")
def assign_cmd(task: TaskId, counter: Annotated[list[str], typer.Option("--counter", help="user (repeat)")],
               user: User = None, data_dir: DataDir = None) -> None:
    """分配盘点人 / set the counters of a task."""
    a = _app(data_dir)
    _run(cnt.assign, a.uow_factory, task, counter, _actor(a, user), a.clock.now())
    Console().print(f"已分配 / assigned: {', '.join(counter)}")


@count_app.command("enter")
def enter(
    task: TaskId,
    location: Annotated[str, typer.Option(help="shelf code (QR) 货架码")],
    product: Annotated[str, typer.Option(help="product code or barcode 商品编码/条码")],
    qty: Annotated[str, typer.Option(help="counted quantity 实盘数量")],
    unit: Annotated[str | None, typer.Option(help="unit 单位 (default: base unit)")] = None,
    lot: Annotated[str | None, typer.Option(help="lot number 批次号")] = None,
    condition: Annotated[str, typer.Option(help="good / damaged / near_expiry")] = "good",
    photo: Annotated[str | None, typer.Option(help="photo reference 照片")] = None,
    counted_at: Annotated[str | None, typer.Option(help="when counted (ISO) 盘点时间")] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key 幂等键")] = None,
    user: User = None, data_dir: DataDir = None,
) -> None:
    """录入盘点行 / enter one counted line (any unit; a repeated --key is stored once)."""
    a = _app(data_dir)
    line = cnt.CountLine(location, product, qty, unit, lot, condition, photo, _at(a, counted_at), key)
    entry_id, created = _run(cnt.enter_line, a.uow_factory, task, line, _actor(a, user), a.clock.now())
    Console().print(f"{'已录入' if created else '已收到过（未重复记录）'} / {'entered' if created else 'duplicate'}: #{entry_id}")


@count_app.command("sheet")
def sheet_cmd(task: TaskId, user: User = None, data_dir: DataDir = None) -> None:
    """盘点表 / what to count where, counted so far (book and variance unless blind)."""
    a = _app(data_dir)
    _print_sheet(_run(cc.sheet, a.uow_factory, task, _actor(a, user), a.clock.now()))


@count_app.command("recount")
def recount_cmd(task: TaskId, location: Annotated[int, typer.Option(help="location id 库位 ID")],
                product: Annotated[int, typer.Option(help="product id 商品 ID")],
                lot: Annotated[int, typer.Option(help="lot id (0: none)")] = 0,
                comment: Annotated[str, typer.Option(help="why 原因")] = "复盘",
                user: User = None, data_dir: DataDir = None) -> None:
    """复盘 / recount one place before the adjustment posts (withdraws a pending adjustment)."""
    a = _app(data_dir)
    _run(cc.recount, a.uow_factory, task, [(location, product, lot)], _actor(a, user), a.clock.now(), comment)
    Console().print("已要求复盘 / recount requested")


@count_app.command("close")
def close_cmd(task: TaskId, reason: Annotated[str, typer.Option(help="count reason code 原因")] = "difference",
              zero_uncounted: Annotated[bool, typer.Option("--zero-uncounted", help="full count: uncounted = 0")] = False,
              user: User = None, data_dir: DataDir = None) -> None:
    """结束盘点 / close: propose the 盘盈盘亏 document and submit it to approval."""
    a = _app(data_dir)
    r = _run(cc.close, a.uow_factory, task, _actor(a, user), a.clock.now(), reason, zero_uncounted)
    for ln in r.lines:
        Console().print(f"  {ln.ref}  实盘 {ln.counted_qty.normalize():f}  账面 {ln.book_qty.normalize():f}  "
                        f"差异 {ln.variance.normalize():f}  ({ln.counted_by} @ {ln.counted_at:%m-%d %H:%M})")
    if r.document_id is None:
        Console().print("无差异，不生成盘盈盘亏单 / no variance: no adjustment")
    else:
        Console().print(f"盘盈盘亏单 / adjustment #{r.document_id}: {r.document_state}")
    if r.uncounted:
        Console().print(f"[yellow]未盘到 / not counted: {len(r.uncounted)}[/yellow]")


@count_app.command("abc")
def abc_cmd(days: Annotated[int, typer.Option(help="usage window in days")] = 90,
            user: User = None, data_dir: DataDir = None) -> None:
    """ABC 分类重算 / reclassify products by value of usage (run monthly)."""
    a = _app(data_dir)
    counts = _run(recompute_abc, a.uow_factory, _actor(a, user), a.clock.now(), days)
    Console().print("  ".join(f"{k}: {v}" for k, v in counts.items()))


@count_app.command("kpi")
def kpi_cmd(data_dir: DataDir = None) -> None:
    """盘点准确率 / record accuracy per task and month; adjustment value by reason, category, person."""
    a = _app(data_dir)
    k = cc.kpis(a.uow_factory)
    t = Table("范围 scope", "行数 lines", "准确 accurate", "准确率 rate")
    for label, row in [("总计 overall", k["overall"]), *k["tasks"].items(), *k["trend"].items()]:
        t.add_row(label, str(row["lines"]), str(row["accurate"]), f"{row['rate'] * 100:.1f}%")
    Console().print(t)
    for title in ("value_by_reason", "value_by_category", "value_by_person"):
        Console().print(f"{title}: " + ", ".join(f"{key or '-'} {v:.2f}" for key, v in k[title].items()))


def _print_sheet(s: dict[str, Any]) -> None:
    cols = ["库位 location", "商品 product", "名称 name", "批次 lot", "轮次 round", "实盘 counted", "盘点人 by"]
    if s["shows_book"]:
        cols += ["账面 book", "差异 variance"]
    t = Table(*cols, title=f"盘点任务 {s['number']} (#{s['id']}) · {s['state']}{' · 盲盘 blind' if s['blind'] else ''}")
    for r in s["lines"]:
        row = [r["location"], r["product"], r["name"], r["lot"] or "", str(r["round"]),
               "" if r["counted_qty"] is None else f"{r['counted_qty'].normalize():f}", ",".join(r["counters"])]
        if s["shows_book"]:
            row += [f"{r['book_qty_now'].normalize():f}", "" if r["variance"] is None else f"{r['variance'].normalize():f}"]
        t.add_row(*row, style="bold red" if r["conflict"] else "")
    Console().print(t)


def investigate_cmd(
    product: Annotated[str, typer.Option(help="product code 商品编码")],
    warehouse: Annotated[str | None, typer.Option(help="warehouse code 仓库编码")] = None,
    counted: Annotated[str | None, typer.Option(help="counted quantity 实盘数量")] = None,
    at: Annotated[str | None, typer.Option(help="when counted (ISO; default now) 盘点时间")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="export to this .xlsx file 导出 Excel")] = None,
    data_dir: DataDir = None,
) -> None:
    """账实排查 / the five-step view: timeline, open drafts, transit, reversals/back-dated, suspect, who."""
    a = _app(data_dir)
    pid, wid = a.queries.lookup_ids(product, warehouse)
    if pid is None or (warehouse and wid is None):
        Console(stderr=True).print(f"[red]找不到商品或仓库 / no such product or warehouse[/red]: {product} {warehouse or ''}")
        raise typer.Exit(code=2)
    if wid is None:
        codes = {r.warehouse_code for r in a.queries.describe(a.queries.balances(pid))}
        if len(codes) != 1:
            Console(stderr=True).print("[red]请用 --warehouse 指定仓库 / give --warehouse[/red]: " + ", ".join(sorted(
                c for c in codes if c)))
            raise typer.Exit(code=2)
        _, wid = a.queries.lookup_ids(None, codes.pop())
    try:
        qty = Decimal(counted) if counted is not None else None
    except InvalidOperation as exc:
        raise typer.BadParameter(f"数量无效 / not a number: {counted}") from exc
    report = _run(investigate, a.uow_factory, pid, wid, a.clock.now(), qty, _at(a, at))
    for title, rows in tables(report).items():
        t = Table(*[str(h) for h in rows[0]], title=title)
        for row in rows[1:]:
            t.add_row(*[_show(v, a) for v in row])
        Console().print(t)
    s = report["suspect"]
    if s:
        Console().print(f"[bold red]疑点 / suspect: {s['number']}[/bold red]  {s['reason_zh']} / {s['reason_en']}  "
                        f"经办 {s['created_by'] or '-'}  设备 {s['device'] or '-'}")
    if report["reservations_status"] == "pending":
        Console().print("预占未出库：待预占功能上线 / reservations: pending (issue 4)")
    if xlsx:
        write_xlsx(report, xlsx)
        Console().print(f"已导出 / exported: {xlsx}")


def _show(v: Any, a: App) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return f"{v.astimezone(a.settings.zone):%Y-%m-%d %H:%M}"
    if isinstance(v, Decimal):
        return f"{v.normalize():f}"
    if isinstance(v, bool):
        return "✔" if v else ""
    return str(v)


def register(app: typer.Typer) -> None:
    app.add_typer(count_app, name="count")
    app.command("investigate")(investigate_cmd)

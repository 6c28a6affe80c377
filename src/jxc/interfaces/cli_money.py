"""命令行：应收应付 — money accounts, receipts / payments with allocation, statements, ageing, credit overrides;
`jxc money` for opening balances (期初), refunds (退款) and transfers between accounts (资金调拨).

`--user` acts as that user (role and permissions); otherwise as the CLI (every permission).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.domain.errors import DomainError
from jxc.domain.money import BUCKET_LABELS, BUCKETS, ITEM_LABELS, REFUND_KIND, PaymentKind
from jxc.domain.money import Side as MoneySide
from jxc.services import first_run, money, money_reads, users
from jxc.services import money_openings as op
from jxc.services import money_transfers as mt
from jxc.services.posting import Actor

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]
User = Annotated[str | None, typer.Option("--user", help="act as this user 操作人 (default: the CLI)")]
Side = Annotated[str | None, typer.Option("--side", help="receivable 应收 / payable 应付 (default: from the partner)")]
payment_app = typer.Typer(help="收款 / 付款 — receipts and payments with allocation (核销)", no_args_is_help=True)
account_app = typer.Typer(help="资金账户 — cash, bank, WeChat Pay, Alipay", no_args_is_help=True)
credit_app = typer.Typer(help="信用额度 — credit-limit overrides for sales orders", no_args_is_help=True)
money_app = typer.Typer(help="应收应付 — opening balances 期初, refunds 退款, transfers 资金调拨", no_args_is_help=True)
opening_app = typer.Typer(help="期初应收/应付 — what partners owed when the book started", no_args_is_help=True)
transfer_app = typer.Typer(help="资金调拨 — money between the business's own accounts", no_args_is_help=True)
money_app.add_typer(opening_app, name="opening")
money_app.add_typer(transfer_app, name="transfer")


def _app(data_dir: Path | None) -> App:
    return build(Settings(data_dir=data_dir) if data_dir else Settings())


def _actor(a: App, user: str | None) -> Actor:
    return users.actor_for(a.uow_factory, user, device="cli") if user else Actor("cli", frozenset({"*"}), device="cli")


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        Console(stderr=True).print(f"[red]错误 {exc.code}[/red]：{exc.message_zh}\n"
                                   f"[red]error {exc.code}[/red]: {exc.message_en}")
        raise typer.Exit(code=2) from exc


def _ids(a: App, partner: str | None = None, account: str | None = None) -> tuple[int, int]:
    pid, aid = money_reads.ids_by_code(a.uow_factory, partner, account)
    for code, got, what in ((partner, pid, "往来单位 / partner"), (account, aid, "资金账户 / account")):
        if code and got is None:
            Console(stderr=True).print(f"[red]找不到{what}[/red]: {code}")
            raise typer.Exit(code=2)
    return pid or 0, aid or 0


def _day(a: App, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=a.settings.zone)


def _num(d: Decimal) -> str:
    return f"{d.normalize():f}" if d else "0"


def _when(a: App, at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=a.settings.zone)


def _allocations(to: list[str] | None) -> list[tuple[int, str]]:
    out = []
    for spec in to or []:
        item, _, amount = spec.partition(":")
        if not item.isdigit() or not amount:
            raise typer.BadParameter(f"--to 格式为 明细ID:金额 / use ITEM_ID:AMOUNT, got {spec}")
        out.append((int(item), amount))
    return out


@payment_app.command("record")
def record(
    partner: Annotated[str, typer.Option(help="partner code 往来单位编码")],
    account: Annotated[str, typer.Option(help="account code 资金账户编码")],
    amount: Annotated[str, typer.Option(help="amount 金额")],
    kind: Annotated[str, typer.Option(help="receipt 收款 / payment 付款")] = "receipt",
    to: Annotated[list[str] | None, typer.Option("--to", help="allocate ITEM_ID:AMOUNT (repeat); default oldest first")] = None,
    unallocated: Annotated[bool, typer.Option("--unallocated", help="keep it all as a prepayment 预收/预付")] = False,
    at: Annotated[datetime | None, typer.Option(help="business time 业务时间 (default now)")] = None,
    remark: Annotated[str | None, typer.Option(help="remark 备注")] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key 幂等键: a retry records once")] = None,
    user: User = None, data_dir: DataDir = None,
) -> None:
    """收款/付款 / record a receipt or payment into an account, allocated oldest first (or --to / --unallocated)."""
    a = _app(data_dir)
    pid, aid = _ids(a, partner, account)
    allocations = [] if unallocated else (_allocations(to) or None)
    payment_id = _run(money.record_payment, a.uow_factory, money.PaymentInput(
        PaymentKind(kind), pid, aid, amount, _when(a, at), allocations, remark, key), _actor(a, user), a.clock.now())
    _show(a, payment_id, _actor(a, user))


def _show(a: App, payment_id: int, actor: Actor) -> None:
    p = _run(money.get_payment, a.uow_factory, payment_id, actor)
    Console().print(f"{p['number']}  {ITEM_LABELS[p['kind']][0]} {_num(p['amount'])}  "
                    f"状态 {p['state']}  未核销 unallocated {_num(p['unallocated'])}")


@payment_app.command("allocate")
def allocate_cmd(
    payment: Annotated[int, typer.Option("--id", help="payment id 收付款单 ID")],
    to: Annotated[list[str] | None, typer.Option("--to", help="ITEM_ID:AMOUNT (repeat); default oldest first")] = None,
    user: User = None, data_dir: DataDir = None,
) -> None:
    """核销 / allocate what is left of a payment to open items."""
    a = _app(data_dir)
    done = _run(money.allocate, a.uow_factory, payment, _allocations(to) or None, _actor(a, user), a.clock.now())
    Console().print(f"已核销 allocated {_num(done)}")
    _show(a, payment, _actor(a, user))


@payment_app.command("reverse")
def reverse_cmd(
    payment: Annotated[int, typer.Option("--id", help="payment id 收付款单 ID")],
    reason: Annotated[str, typer.Option(help="reason 红冲原因")],
    user: User = None, data_dir: DataDir = None,
) -> None:
    """红冲收付款 / reverse a receipt or payment; its allocations are released."""
    a = _app(data_dir)
    _run(money.reverse_payment, a.uow_factory, payment, reason, _actor(a, user), a.clock.now())
    _show(a, payment, _actor(a, user))


@payment_app.command("list")
def list_cmd(partner: Annotated[str | None, typer.Option(help="partner code")] = None,
             user: User = None, data_dir: DataDir = None) -> None:
    """收付款单 / list receipts and payments (newest last)."""
    a = _app(data_dir)
    pid = _ids(a, partner)[0] if partner else None
    rows = _run(money_reads.page_payments, a.uow_factory, _actor(a, user), None, 500, partner_id=pid)
    table = Table("ID", "单号 number", "类型 kind", "往来 partner", "金额 amount", "业务时间 at", "状态 state")
    for r in rows:
        table.add_row(str(r["id"]), r["number"], r["kind"], str(r["partner_id"]), _num(r["amount"]),
                      r["effective_at"].astimezone(a.settings.zone).strftime("%Y-%m-%d %H:%M"), r["state"])
    Console().print(table)


@account_app.command("add")
def account_add(code: Annotated[str, typer.Option()], name: Annotated[str, typer.Option()],
                kind: Annotated[str, typer.Option(help="cash 现金 / bank 银行 / wechat 微信 / alipay 支付宝")],
                user: User = None, data_dir: DataDir = None) -> None:
    """新建资金账户 / add a money account."""
    a = _app(data_dir)
    aid = _run(money.create_account, a.uow_factory, code, name, kind, _actor(a, user), a.clock.now())
    Console().print(f"资金账户 {code} 已创建 / account created (id {aid})")


@account_app.command("list")
def account_list(user: User = None, data_dir: DataDir = None) -> None:
    """资金账户余额 / accounts with their balances."""
    a = _app(data_dir)
    table = Table("编码 code", "名称 name", "类型 kind", "余额 balance")
    for r in _run(money.accounts, a.uow_factory, _actor(a, user)):
        table.add_row(r["code"], r["name"], r["kind"], _num(r["balance"]))
    Console().print(table)


@credit_app.command("override")
def credit_override(order: Annotated[int, typer.Option(help="sales order id 销售订单 ID")],
                    reason: Annotated[str, typer.Option(help="why 原因 (audited)")],
                    user: User = None, data_dir: DataDir = None) -> None:
    """信用超额审批 / let a sales order over the credit limit be confirmed (sales.credit_override)."""
    a = _app(data_dir)
    r = _run(money.override_credit, a.uow_factory, order, reason, _actor(a, user), a.clock.now())
    Console().print(f"已批准 approved exposure {_num(r['exposure'])} (limit {r['credit_limit']})")


def statement(
    partner: Annotated[str, typer.Option(help="partner code 往来单位编码")],
    since: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first day 起始日")],
    until: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="last day 截止日 (inclusive)")],
    side: Side = None, user: User = None, data_dir: DataDir = None,
) -> None:
    """对账单 / statement: opening balance, every movement with its reference, closing balance."""
    a = _app(data_dir)
    pid = _ids(a, partner)[0]
    s = _run(money_reads.statement, a.uow_factory, pid, _day(a, since.date()), _day(a, until.date() + timedelta(days=1)),
             _actor(a, user), side)
    out = Console()
    out.print(f"[bold]{s['partner_name']}[/bold] ({s['partner_code']}) {'应收' if s['side'] == 'receivable' else '应付'} "
              f"对账单 {since:%Y-%m-%d} – {until:%Y-%m-%d}")
    table = Table("日期 date", "摘要 kind", "单号 reference", "借 debit", "贷 credit", "余额 balance", "到期 due")
    table.add_row("", "期初 opening", "", "", "", _num(s["opening"]), "")
    for r in s["movements"]:
        table.add_row(r["effective_at"].astimezone(a.settings.zone).strftime("%Y-%m-%d"),
                      ITEM_LABELS.get(r["kind"], (r["kind"],))[0], r["reference"],
                      _num(r["debit"]) if r["debit"] else "", _num(r["credit"]) if r["credit"] else "",
                      _num(r["balance"]), str(r["due_on"] or ""))
    table.add_row("", "期末 closing", "", _num(s["debits"]), _num(s["credits"]), _num(s["closing"]), "")
    out.print(table)


def ageing(
    side: Annotated[str, typer.Option(help="receivable 应收 / payable 应付")] = "receivable",
    as_of: Annotated[datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="day 截至日 (default today)")] = None,
    user: User = None, data_dir: DataDir = None,
) -> None:
    """账龄 / ageing: open items per partner by days overdue (not due, 1–30, 31–60, 61–90, >90) and totals."""
    a = _app(data_dir)
    day = as_of.date() if as_of else a.clock.now().astimezone(a.settings.zone).date()
    end = _day(a, day + timedelta(days=1)) - timedelta(microseconds=1)
    r = _run(money_reads.ageing, a.uow_factory, side, end, day, _actor(a, user))
    table = Table("往来 partner", *(BUCKET_LABELS[b][0] for b in BUCKETS), "预收/预付 credit", "余额 balance",
                  title=f"{'应收' if side == 'receivable' else '应付'}账龄 / ageing as of {day}")
    for p in r["partners"]:
        table.add_row(f"{p['partner_code']} {p['partner_name']}", *(_num(p[b]) for b in BUCKETS), _num(p["credit"]),
                      _num(p["balance"]))
    t = r["totals"]
    table.add_row("合计 total", *(_num(t[b]) for b in BUCKETS), _num(t["credit"]), _num(t["balance"]), style="bold")
    Console().print(table)


@account_app.command("statement")
def account_statement(
    code: Annotated[str, typer.Option("--code", help="account code 资金账户编码")],
    since: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first day 起始日")],
    until: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="last day 截止日 (inclusive)")],
    user: User = None, data_dir: DataDir = None,
) -> None:
    """资金账户流水 / an account's opening balance, every receipt, payment, refund and transfer, closing balance."""
    a = _app(data_dir)
    aid = _ids(a, account=code)[1]
    s = _run(mt.account_statement, a.uow_factory, aid, _day(a, since.date()), _day(a, until.date() + timedelta(days=1)),
             _actor(a, user))
    table = Table("日期 date", "摘要 kind", "单号 reference", "收入 in", "支出 out", "余额 balance",
                  title=f"{s['account']['name']} ({code}) {since:%Y-%m-%d} – {until:%Y-%m-%d}")
    table.add_row("", "期初 opening", "", "", "", _num(s["opening"]))
    for r in s["movements"]:
        table.add_row(r["effective_at"].astimezone(a.settings.zone).strftime("%Y-%m-%d"), r["label_zh"], r["reference"],
                      _num(r["amount"]) if r["amount"] > 0 else "", _num(-r["amount"]) if r["amount"] < 0 else "",
                      _num(r["balance"]))
    table.add_row("", "期末 closing", "", _num(s["inflow"]), _num(s["outflow"]), _num(s["closing"]), style="bold")
    Console().print(table)


# ── jxc money: opening balances, refunds, transfers ──────────────────────────

OnDay = Annotated[datetime | None, typer.Option("--on", formats=["%Y-%m-%d"],
                                                help="opening date 期初日期 (e.g. the day before you start)")]


def _print_openings(results: list[op.OpeningResult]) -> None:
    made = sum(1 for r in results if r.created)
    Console().print(f"期初已录入 {made} 笔，已存在（未重复录入）{len(results) - made} 笔 / "
                    f"{made} opening(s) entered, {len(results) - made} already there (not entered twice)")


def _fail_rows(exc: DomainError, first_row: int) -> typer.Exit:
    """Problems of entries[i] are printed as spreadsheet rows (the header is row 1)."""
    err = Console(stderr=True)
    for p in exc.details.get("problems") or [exc.as_dict()]:
        where = p.get("field") or ""
        if where.startswith("entries["):
            n = int(where[8:where.index("]")])
            where = f"第 {n + first_row} 行 row {n + first_row} {where[where.index(']') + 2:]}"
        err.print(f"[red]{p['code']}[/red] {where}：{p['message_zh']} / {p['message_en']}")
    return typer.Exit(code=2)


@opening_app.command("add")
def opening_add(
    partner: Annotated[str, typer.Option(help="partner code 往来单位编码")],
    amount: Annotated[str, typer.Option(help="amount owed 金额 (negative: a credit, e.g. prepaid 预收/预付)")],
    on: OnDay = None,
    reference: Annotated[str | None, typer.Option(help="invoice number 单号 (default 期初)")] = None,
    due: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="due date 到期日 (default: terms)")] = None,
    side: Side = None, remark: Annotated[str | None, typer.Option(help="remark 备注")] = None,
    user: User = None, data_dir: DataDir = None,
) -> None:
    """期初 / enter one opening balance (or one open invoice) of a customer or supplier."""
    a = _app(data_dir)
    pid = _ids(a, partner)[0]
    day = (on or a.clock.now().astimezone(a.settings.zone)).date()
    entry = op.OpeningInput(pid, amount, _day(a, day), reference, due.date() if due else None, side, remark)
    try:
        _print_openings(op.record_openings(a.uow_factory, [entry], _actor(a, user), a.clock.now()))
    except DomainError as exc:
        raise _fail_rows(exc, 1) from exc


@opening_app.command("import")
def opening_import(
    file: Annotated[Path, typer.Argument(help="CSV / xlsx: 往来单位编码, 单号, 金额, 日期, 到期日, 方向 (zh or en headers)")],
    on: OnDay = None, side: Side = None, user: User = None, data_dir: DataDir = None,
) -> None:
    """期初导入 / import opening balances from a CSV or xlsx list: all rows or none; re-running skips rows
    already entered."""
    a = _app(data_dir)
    rows = first_run.read_table(file.read_bytes(), file.name, columns=op.COLUMNS)
    try:
        entries = op.entries_from_rows(a.uow_factory, rows, a.settings.zone, on.date() if on else None, side)
        _print_openings(op.record_openings(a.uow_factory, entries, _actor(a, user), a.clock.now()))
    except DomainError as exc:
        raise _fail_rows(exc, 2) from exc


@opening_app.command("list")
def opening_list(partner: Annotated[str | None, typer.Option(help="partner code")] = None,
                 user: User = None, data_dir: DataDir = None) -> None:
    """期初列表 / openings with what is still open of each."""
    a = _app(data_dir)
    pid = _ids(a, partner)[0] if partner else None
    table = Table("ID", "往来 partner", "方向 side", "单号 reference", "日期 date", "到期 due", "金额 amount",
                  "未结 open", "状态 state")
    for r in _run(op.page_openings, a.uow_factory, _actor(a, user), None, 5000, partner_id=pid):
        table.add_row(str(r["id"]), f"{r['partner_code']} {r['partner_name']}", r["side"], r["reference"],
                      r["effective_at"].astimezone(a.settings.zone).strftime("%Y-%m-%d"), str(r["due_on"] or ""),
                      _num(r["amount"]), _num(r["open"]), r["state"])
    Console().print(table)


@opening_app.command("reverse")
def opening_reverse(opening: Annotated[int, typer.Option("--id", help="opening id 期初 ID")],
                    reason: Annotated[str, typer.Option(help="reason 红冲原因")],
                    at: Annotated[datetime | None, typer.Option(help="date it (default: like the opening; "
                                                                      "later when that period is closed)")] = None,
                    user: User = None, data_dir: DataDir = None) -> None:
    """红冲期初 / reverse an opening (dated like it); its reference may then be entered again."""
    a = _app(data_dir)
    _run(op.reverse_opening, a.uow_factory, opening, reason, _actor(a, user), a.clock.now(), _when(a, at))
    Console().print(f"期初 {opening} 已红冲 / opening reversed")


@money_app.command("refund")
def refund(
    partner: Annotated[str, typer.Option(help="partner code 往来单位编码")],
    account: Annotated[str, typer.Option(help="account code 资金账户编码")],
    amount: Annotated[str, typer.Option(help="amount 金额")],
    to: Annotated[list[str] | None, typer.Option("--to", help="use credit ITEM_ID:AMOUNT (repeat); default oldest")] = None,
    at: Annotated[datetime | None, typer.Option(help="business time 业务时间 (default now)")] = None,
    side: Side = None, remark: Annotated[str | None, typer.Option(help="remark 备注")] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key 幂等键")] = None,
    user: User = None, data_dir: DataDir = None,
) -> None:
    """退款 / pay a customer back out of its credit, or take a supplier's refund in (never more than the credit)."""
    a = _app(data_dir)
    pid, aid = _ids(a, partner, account)
    s = _run(money_reads.side_for, a.uow_factory, pid, side)
    payment_id = _run(money.record_payment, a.uow_factory, money.PaymentInput(
        REFUND_KIND[MoneySide(s)], pid, aid, amount, _when(a, at), _allocations(to) or None, remark, key),
        _actor(a, user), a.clock.now())
    _show(a, payment_id, _actor(a, user))


@transfer_app.command("add")
def transfer_add(
    source: Annotated[str, typer.Option("--from", help="account code it leaves 调出账户")],
    target: Annotated[str, typer.Option("--to", help="account code it reaches 调入账户")],
    amount: Annotated[str, typer.Option(help="amount leaving 调出金额")],
    fee: Annotated[str, typer.Option(help="fee 手续费 (the other account gets amount − fee)")] = "0",
    at: Annotated[datetime | None, typer.Option(help="business time 业务时间 (default now)")] = None,
    remark: Annotated[str | None, typer.Option(help="remark 备注")] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key 幂等键")] = None,
    user: User = None, data_dir: DataDir = None,
) -> None:
    """资金调拨 / move money between accounts (cash → bank, WeChat → bank) with an optional fee."""
    a = _app(data_dir)
    src, dst = _ids(a, account=source)[1], _ids(a, account=target)[1]
    tid = _run(mt.record_transfer, a.uow_factory, mt.TransferInput(src, dst, amount, fee, _when(a, at), remark, key),
               _actor(a, user), a.clock.now())
    t = _run(mt.get_transfer, a.uow_factory, tid, _actor(a, user))
    Console().print(f"{t['number']}  {source} → {target}  调出 {_num(t['amount'])}  手续费 fee {_num(t['fee'])}  "
                    f"到账 received {_num(t['received'])}")


@transfer_app.command("list")
def transfer_list(user: User = None, data_dir: DataDir = None) -> None:
    """调拨列表 / transfers between accounts with their state."""
    a = _app(data_dir)
    codes = {r["id"]: r["code"] for r in _run(money.accounts, a.uow_factory, _actor(a, user))}
    table = Table("ID", "单号 number", "调出 from", "调入 to", "金额 amount", "手续费 fee", "业务时间 at", "状态 state")
    for t in _run(mt.page_transfers, a.uow_factory, _actor(a, user), None, 5000):
        table.add_row(str(t["id"]), t["number"], codes.get(t["from_account_id"], ""), codes.get(t["to_account_id"], ""),
                      _num(t["amount"]), _num(t["fee"]),
                      t["effective_at"].astimezone(a.settings.zone).strftime("%Y-%m-%d %H:%M"), t["state"])
    Console().print(table)


@transfer_app.command("reverse")
def transfer_reverse(transfer: Annotated[int, typer.Option("--id", help="transfer id 调拨 ID")],
                     reason: Annotated[str, typer.Option(help="reason 红冲原因")],
                     user: User = None, data_dir: DataDir = None) -> None:
    """红冲调拨 / reverse a transfer: the money (and the fee) goes back."""
    a = _app(data_dir)
    _run(mt.reverse_transfer, a.uow_factory, transfer, reason, _actor(a, user), a.clock.now())
    Console().print(f"调拨 {transfer} 已红冲 / transfer reversed")


def register(app: typer.Typer) -> None:
    app.add_typer(money_app, name="money")
    app.add_typer(payment_app, name="payment")
    app.add_typer(account_app, name="account")
    app.add_typer(credit_app, name="credit")
    app.command("statement")(statement)
    app.command("ageing")(ageing)

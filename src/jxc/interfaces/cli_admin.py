"""命令行：用户、角色、审批规则、设置 — configure the business without code.

The command line runs on the server under the operator's own login, so it acts as
the owner with the password already confirmed; every change is audited as `cli`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.domain.approvals import Rule
from jxc.domain.documents import DocumentKind
from jxc.domain.errors import DomainError
from jxc.services import admin, book, users
from jxc.services.posting import Actor

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]
OPERATOR = Actor("cli", frozenset({"*"}), role="owner", reauthenticated=True)
user_app = typer.Typer(help="用户 / users", no_args_is_help=True)
role_app = typer.Typer(help="角色 / roles", no_args_is_help=True)
rules_app = typer.Typer(help="审批规则 / approval rules", no_args_is_help=True)
settings_app = typer.Typer(help="账套设置 / business settings", no_args_is_help=True)


def _app(data_dir: Path | None) -> App:
    return build(Settings(data_dir=data_dir) if data_dir else Settings())


def _fail(exc: DomainError) -> typer.Exit:
    Console(stderr=True).print(f"[red]错误 {exc.code}[/red]：{exc.message_zh}\n[red]error {exc.code}[/red]: {exc.message_en}")
    return typer.Exit(code=2)


def _warehouses(a: App, codes: list[str]) -> list[int]:
    ids = []
    for code in codes:
        _, wid = a.queries.lookup_ids(None, code)
        if wid is None:
            Console(stderr=True).print(f"[red]找不到仓库 / no such warehouse[/red]: {code}")
            raise typer.Exit(code=2)
        ids.append(wid)
    return ids


@user_app.command("add")
def user_add(username: str, role: Annotated[str, typer.Option(help="role code 角色")],
             password: Annotated[str | None, typer.Option(help="asked when omitted")] = None,
             warehouse: Annotated[list[str] | None, typer.Option(help="warehouse code(s) the user may work in")] = None,
             data_dir: DataDir = None) -> None:
    """新建用户 / add a user with a role (and optionally warehouse scope)."""
    a = _app(data_dir)
    password = password or typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    try:
        users.create_user(a.uow_factory, username, password, role, OPERATOR, a.clock.now())
        if warehouse:
            admin.set_user_access(a.uow_factory, username, OPERATOR, a.clock.now(),
                                  warehouse_ids=_warehouses(a, warehouse))
    except DomainError as exc:
        raise _fail(exc) from exc
    Console().print(f"已创建用户 / created user {username} ({role})")


@user_app.command("set")
def user_set(username: str, role: Annotated[str | None, typer.Option(help="new role")] = None,
             warehouse: Annotated[list[str] | None, typer.Option(help="warehouse scope; repeat; 'all' clears")] = None,
             data_dir: DataDir = None) -> None:
    """修改用户权限 / change a user's role and/or warehouse scope."""
    a = _app(data_dir)
    scope = None if warehouse is None else ([] if warehouse == ["all"] else _warehouses(a, warehouse))
    try:
        admin.set_user_access(a.uow_factory, username, OPERATOR, a.clock.now(), role=role, warehouse_ids=scope)
    except DomainError as exc:
        raise _fail(exc) from exc
    Console().print(f"已更新 / updated {username}")


@role_app.command("save")
def role_save(code: str, name_zh: Annotated[str, typer.Option()], name_en: Annotated[str, typer.Option()],
              permission: Annotated[list[str], typer.Option(help="permission code; repeat")],
              data_dir: DataDir = None) -> None:
    """自定义角色 / create or change a role made of permission codes."""
    a = _app(data_dir)
    try:
        admin.save_role(a.uow_factory, code, name_zh, name_en, permission, OPERATOR, a.clock.now())
    except DomainError as exc:
        raise _fail(exc) from exc
    Console().print(f"已保存角色 / saved role {code}: {len(set(permission))} permissions")


@rules_app.command("list")
def rules_list(data_dir: DataDir = None) -> None:
    """审批规则 / the approval rules, active and disabled."""
    a = _app(data_dir)
    table = Table("id", "名称 name", "单据 kind", "条件 conditions", "审批 levels", "启用 active")
    for rid, r in admin.list_rules(a.uow_factory):
        cond = {k: v for k, v in (("min_amount", r.min_amount), ("min_line_qty", r.min_line_qty),
                                  ("min_count_diff_value", r.min_count_diff_value),
                                  ("backdated_hours", r.backdated_hours)) if v is not None}
        flags = [k for k in ("negative_stock", "below_cost", "between_stores") if getattr(r, k)]
        table.add_row(str(rid), r.name, r.kind.value if r.kind else "*", " ".join([*(f"{k}≥{v}" for k, v in cond.items()),
                                                                                  *flags]) or "—",
                      " → ".join(r.levels), "是" if r.active else "否")
    Console().print(table)


@rules_app.command("add")
def rules_add(name: str, role: Annotated[list[str], typer.Option(help="approver role per level, in order")],
              kind: Annotated[str | None, typer.Option(help="document kind, e.g. scrap")] = None,
              min_amount: Annotated[str | None, typer.Option()] = None,
              min_line_qty: Annotated[str | None, typer.Option()] = None,
              min_count_diff_value: Annotated[str | None, typer.Option()] = None,
              backdated_hours: Annotated[str | None, typer.Option()] = None,
              negative_stock: Annotated[bool, typer.Option("--negative-stock")] = False,
              below_cost: Annotated[bool, typer.Option("--below-cost")] = False,
              between_stores: Annotated[bool, typer.Option("--between-stores")] = False,
              data_dir: DataDir = None) -> None:
    """添加审批规则 / kind + conditions → approver roles (one to three levels)."""
    a = _app(data_dir)
    try:
        rule = Rule(name, tuple(role), DocumentKind(kind) if kind else None,
                    *(Decimal(v) if v is not None else None
                      for v in (min_amount, min_line_qty, min_count_diff_value)),
                    negative_stock, Decimal(backdated_hours) if backdated_hours else None, below_cost, between_stores)
        rid = admin.add_rule(a.uow_factory, rule, OPERATOR, a.clock.now())
    except DomainError as exc:
        raise _fail(exc) from exc
    except ValueError as exc:
        Console(stderr=True).print(f"[red]规则无效 / invalid rule[/red]: {exc}")
        raise typer.Exit(code=2) from exc
    Console().print(f"已添加规则 / added rule #{rid}")


@rules_app.command("disable")
def rules_disable(rule_id: int, data_dir: DataDir = None) -> None:
    """停用审批规则 / disable a rule (it stays on record)."""
    a = _app(data_dir)
    try:
        admin.set_rule_active(a.uow_factory, rule_id, False, OPERATOR, a.clock.now())
    except DomainError as exc:
        raise _fail(exc) from exc
    Console().print(f"已停用规则 / disabled rule #{rule_id}")


@settings_app.command("list")
def settings_list(data_dir: DataDir = None) -> None:
    """账套设置 / every setting with its current value."""
    a = _app(data_dir)
    table = Table("key", "value")
    for k, v in book.get_settings(a.uow_factory).items():
        table.add_row(k, str(v))
    Console().print(table)


@settings_app.command("set")
def settings_set(key: str, value: str, data_dir: DataDir = None) -> None:
    """修改设置 / change one setting (validated, audited)."""
    a = _app(data_dir)
    try:
        stored = book.set_setting(a.uow_factory, key, value, OPERATOR, a.clock.now())
    except DomainError as exc:
        raise _fail(exc) from exc
    Console().print(f"{key} = {stored}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(role_app, name="role")
    app.add_typer(rules_app, name="rules")
    app.add_typer(settings_app, name="settings")

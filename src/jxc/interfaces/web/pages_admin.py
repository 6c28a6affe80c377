"""设置 — roles, users, approval rules, availability policy and number series, reasons, channels.

Guarantees:
- Every change goes through the service the API uses (`services.admin`, `services.book`,
  `services.users`, `services.reserving.save_channel`), so permissions, validation and
  audit records are the same; sensitive changes ask for the password again (re-auth),
  verified with `users.verify_password` (audited).
- A refusal re-renders the settings tab with the message next to the form, in the
  user's language; nothing is half-saved (each service call is one transaction).
- Only holders of `settings.edit` or `user.manage` see the settings at all.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jxc.domain.approvals import Rule
from jxc.domain.documents import DocumentKind
from jxc.domain.errors import DomainError, Forbidden, ValidationFailed
from jxc.domain.permissions import PERMISSIONS, holds
from jxc.domain.settings import SETTINGS
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import i18n, views
from jxc.interfaces.web.i18n import N_, gettext_for
from jxc.interfaces.web.routes import Page, Viewer, _csrf_ok, _render
from jxc.services import admin, book, reserving, users
from jxc.services.posting import Actor

router = APIRouter(include_in_schema=False)
TABS = {"roles": N_("角色"), "users": N_("用户"), "rules": N_("审批规则"), "book": N_("可用量策略与单号"),
        "reasons": N_("原因选项"), "channels": N_("销售渠道")}
BOOK_GROUPS = (("availability.", N_("可用量策略")), ("expiry.", N_("效期")), ("overdue.", N_("超时提醒")),
               ("doc_prefix.", N_("单号前缀")), ("business.", N_("企业信息")))


def _may_see(actor: Actor) -> bool:
    return holds(actor.permissions, "settings.edit") or holds(actor.permissions, "user.manage")


def _refuse(actor: Actor) -> None:
    raise Forbidden("PERMISSION_DENIED", f"{actor.name} 没有修改系统设置的权限（settings.edit / user.manage）",
                    f"{actor.name} lacks settings.edit / user.manage")


def _page(request: Request, v: Viewer, tab: str, status: int = 200, errors: dict[str, str] | None = None,
          values: dict[str, Any] | None = None) -> Response:
    app = jxc(request)
    en = i18n.lang_of(request) == i18n.EN
    current = book.get_settings(app.uow_factory)
    groups = [(label, [(k, spec.en if en else spec.zh, current[k], isinstance(spec.default, bool))
                       for k, spec in SETTINGS.items() if k.startswith(prefix)]) for prefix, label in BOOK_GROUPS]
    return _render(request, "settings.html", status, viewer=v, tab=tab if tab in TABS else "roles", tabs=TABS,
                   roles=app.web.roles(), users=app.web.users(), rules=admin.list_rules(app.uow_factory),
                   reasons=app.web.reasons(), channels=app.web.channels(),
                   warehouses=app.web.warehouse_list(None), groups=groups,
                   permissions=[(code, en_ if en else zh) for code, (zh, en_) in PERMISSIONS.items()],
                   kinds=views.KIND_ZH, errors=errors or {}, values=values or {},
                   saved=request.query_params.get("saved"), en=en,
                   can_users=holds(v.actor.permissions, "user.manage"),
                   can_settings=holds(v.actor.permissions, "settings.edit"))


@router.get("/settings")
def settings(request: Request, v: Page, tab: str = "roles") -> Response:
    """设置 — one page, a tab per area."""
    if not _may_see(v.actor):
        _refuse(v.actor)
    return _page(request, v, tab)


async def _multi(request: Request) -> dict[str, list[str]]:
    return parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)


def _one(data: dict[str, list[str]], key: str) -> str:
    return (data.get(key) or [""])[0].strip()


def _reauth(request: Request, v: Viewer, data: dict[str, list[str]]) -> Actor:
    """The actor, re-authenticated by the password typed into the form (or a refusal naming the field)."""
    app = jxc(request)
    password = _one(data, "password")
    if not password or not users.verify_password(app.uow_factory, v.actor.name, password, app.clock.now(),
                                                 v.actor.ip, v.actor.device):
        raise DomainError("AUTH_FAILED", "密码不正确，请输入你的登录密码以确认修改",
                          "wrong password; enter your login password to confirm the change", field="password")
    return replace(v.actor, reauthenticated=True)


def _errors(request: Request, exc: DomainError) -> dict[str, str]:
    en = i18n.lang_of(request) == i18n.EN
    if isinstance(exc, ValidationFailed):
        out: dict[str, str] = {}
        for p in exc.problems:
            out.setdefault(p.field or "_", p.message_en if en else p.message_zh)
        return out
    return {exc.field or "_": i18n.error_text(request, exc)}


async def _apply(request: Request, v: Viewer, tab: str, action: Any) -> Response:
    """CSRF, then ``action(data)``; a DomainError re-renders the tab with its messages."""
    data = await _multi(request)
    form = {k: vals[0] for k, vals in data.items()}
    if not _csrf_ok(request, form, v):
        return _render(request, "error.html", 403, viewer=v,
                       message=gettext_for(request)("页面已过期（CSRF 校验失败），请刷新页面后重试"))
    if not _may_see(v.actor):
        _refuse(v.actor)
    try:
        action(data)
    except DomainError as exc:
        form.pop("password", None)
        return _page(request, v, tab, 422 if exc.status < 403 else exc.status, _errors(request, exc), form)
    return RedirectResponse(f"/settings?tab={tab}&saved=1", status_code=303)


@router.post("/settings/roles")
async def save_role(request: Request, v: Page) -> Response:
    app = jxc(request)

    def act(data: dict[str, list[str]]) -> None:
        admin.save_role(app.uow_factory, _one(data, "code"), _one(data, "name_zh"), _one(data, "name_en"),
                        data.get("perm", []), _reauth(request, v, data), app.clock.now())

    return await _apply(request, v, "roles", act)


@router.post("/settings/users")
async def create_user(request: Request, v: Page) -> Response:
    app = jxc(request)

    def act(data: dict[str, list[str]]) -> None:
        actor = _reauth(request, v, data)
        if not holds(actor.permissions, "user.manage"):
            raise Forbidden("PERMISSION_DENIED", f"{actor.name} 没有管理用户的权限（user.manage）",
                            f"{actor.name} lacks user.manage")
        try:
            users.create_user(app.uow_factory, _one(data, "username"), _one(data, "new_password"),
                              _one(data, "role"), actor, app.clock.now(),
                              display_name=_one(data, "display_name") or None)
        except ValidationFailed as exc:  # its "password" is the new user's, not the confirming one
            raise ValidationFailed([replace(p, field="password_new") if p.field == "password" else p
                                    for p in exc.problems]) from None

    return await _apply(request, v, "users", act)


@router.post("/settings/users/access")
async def user_access(request: Request, v: Page) -> Response:
    app = jxc(request)

    def act(data: dict[str, list[str]]) -> None:
        wids = [int(w) for w in data.get("warehouse_ids", []) if w.isdigit()]
        admin.set_user_access(app.uow_factory, _one(data, "username"), _reauth(request, v, data), app.clock.now(),
                              role=_one(data, "role") or None, warehouse_ids=wids)

    return await _apply(request, v, "users", act)


def _decimal(raw: str) -> Decimal | None:
    return Decimal(raw) if raw else None


@router.post("/settings/rules")
async def add_rule(request: Request, v: Page) -> Response:
    app = jxc(request)

    def act(data: dict[str, list[str]]) -> None:
        levels = tuple(r for r in (_one(data, "level1"), _one(data, "level2"), _one(data, "level3")) if r)
        kind = _one(data, "kind")
        try:
            rule = Rule(_one(data, "name"), levels, kind=DocumentKind(kind) if kind else None,
                        min_amount=_decimal(_one(data, "min_amount")),
                        min_count_diff_value=_decimal(_one(data, "min_count_diff_value")),
                        negative_stock=_one(data, "negative_stock") == "on")
        except (ValueError, ArithmeticError):
            raise DomainError("VALUE_INVALID", "规则无效：需要 1–3 级审批角色，金额为数字",
                              "invalid rule: 1 to 3 approver roles, amounts as numbers", field="levels") from None
        admin.add_rule(app.uow_factory, rule, _reauth(request, v, data), app.clock.now())

    return await _apply(request, v, "rules", act)


@router.post("/settings/rules/{rule_id}/active")
async def rule_active(request: Request, rule_id: int, v: Page) -> Response:
    app = jxc(request)

    def act(data: dict[str, list[str]]) -> None:
        admin.set_rule_active(app.uow_factory, rule_id, _one(data, "active") == "1", _reauth(request, v, data),
                              app.clock.now())

    return await _apply(request, v, "rules", act)


@router.post("/settings/book")
async def save_book(request: Request, v: Page) -> Response:
    """可用量策略、效期、单号前缀 — every changed key through `book.set_setting` (each validated, audited)."""
    app = jxc(request)

    def act(data: dict[str, list[str]]) -> None:
        actor = _reauth(request, v, data)
        current = book.get_settings(app.uow_factory)
        for key, spec in SETTINGS.items():
            if isinstance(spec.default, bool):
                value: Any = _one(data, key) == "on"
            elif key in data:
                value = _one(data, key)
            else:
                continue
            if str(value) != str(current[key]):
                book.set_setting(app.uow_factory, key, value, actor, app.clock.now())

    return await _apply(request, v, "book", act)


@router.post("/settings/reasons")
async def add_reason(request: Request, v: Page) -> Response:
    app = jxc(request)

    def act(data: dict[str, list[str]]) -> None:
        admin.add_reason(app.uow_factory, _one(data, "kind"), _one(data, "code"), _one(data, "label_zh"),
                         _one(data, "label_en"), v.actor, app.clock.now())

    return await _apply(request, v, "reasons", act)


@router.post("/settings/channels")
async def save_channel(request: Request, v: Page) -> Response:
    app = jxc(request)

    def act(data: dict[str, list[str]]) -> None:
        try:
            quota, ttl = int(_one(data, "quota_pct") or 100), int(_one(data, "ttl_s") or 1800)
        except ValueError:
            raise DomainError("VALUE_INVALID", "配额与 TTL 须为整数", "quota and TTL are whole numbers",
                              field="channel") from None
        reserving.save_channel(app.uow_factory, _one(data, "code"), _one(data, "name"),
                               [int(w) for w in data.get("warehouse_ids", []) if w.isdigit()], v.actor,
                               app.clock.now(), buffer_qty=_one(data, "buffer_qty") or "0", quota_pct=quota,
                               ttl_s=ttl, active=_one(data, "active") == "on")

    return await _apply(request, v, "channels", act)

"""设置与管理 — users and their access, roles, approval rules, reasons, book settings, channels,
period close, the invariant check and the discrepancy investigation over HTTP.

Sensitive changes (access, roles, rules, settings, period close) need the caller's password in
the body (`password`), checked again like an approval; each change is audited by its service.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from jxc.domain.approvals import Rule
from jxc.domain.documents import DocumentKind
from jxc.domain.errors import DomainError
from jxc.interfaces.api.deps import CurrentActor, JxcApp
from jxc.interfaces.api.render import plain
from jxc.interfaces.api.routes_stock import _scope
from jxc.services import admin, auth, book, ingest, reserving, users
from jxc.services.documents import Forbidden
from jxc.services.investigation import investigate
from jxc.services.posting import Actor, close_period

router = APIRouter(prefix="/api/v1", tags=["settings"])
Password = Annotated[str, Field(min_length=1, max_length=200, description="your password again 再次输入密码")]
Qty = Annotated[Decimal | None, Field(ge=0, max_digits=18, decimal_places=4)]


def _reauth(app: Any, actor: Actor, password: str) -> Actor:
    if not users.verify_password(app.uow_factory, actor.name, password, app.clock.now(), actor.ip, actor.device):
        raise Forbidden("REAUTH_REQUIRED", "密码不正确，请再次输入密码确认", "wrong password; confirm with your password",
                        field="password")
    return replace(actor, reauthenticated=True)


def _aware(at: datetime | None, name: str) -> datetime | None:
    if at is not None and at.tzinfo is None:
        raise DomainError("VALUE_INVALID", f"{name} 必须带时区，例如 2026-11-01T09:00:00+08:00",
                          f"{name} must carry a time zone, e.g. 2026-11-01T09:00:00+08:00", field=name)
    return at


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200, description="the new user's password")
    role: str = Field(min_length=1, max_length=32)
    display_name: Annotated[str | None, Field(max_length=100)] = None


class AccessIn(BaseModel):
    role: Annotated[str | None, Field(max_length=32)] = None
    warehouse_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        None, max_length=1000, description="warehouses the user may work in; [] = all")
    password: Password


class RoleIn(BaseModel):
    name_zh: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=64)
    permissions: list[Annotated[str, Field(max_length=64)]] = Field(max_length=200)
    password: Password


class RuleIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    levels: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(min_length=1, max_length=3,
                                                                              description="approver roles in order")
    kind: DocumentKind | None = None
    min_amount: Qty = None
    min_line_qty: Qty = None
    min_count_diff_value: Qty = None
    negative_stock: bool = False
    backdated_hours: Qty = None
    below_cost: bool = False
    between_stores: bool = False
    password: Password


class PasswordIn(BaseModel):
    password: Password


class ReasonIn(BaseModel):
    kind: Literal["scrap", "return", "count"]
    code: str = Field(min_length=1, max_length=32)
    label_zh: str = Field(min_length=1, max_length=64)
    label_en: str = Field(min_length=1, max_length=64)


class SettingIn(BaseModel):
    value: Any = Field(description="the new value (number, text or true/false)")
    password: Password


class ChannelIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    warehouse_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=100)
    buffer_qty: Decimal = Field(Decimal(0), ge=0, max_digits=18, decimal_places=4)
    quota_pct: int = Field(100, ge=0, le=100)
    ttl_s: int = Field(1800, ge=0, le=30 * 86400)
    active: bool = True


class CloseIn(BaseModel):
    until: datetime = Field(description="close everything effective before this time (with a zone)")
    password: Password


@router.post("/users", status_code=201, tags=["users"])
def create_user(body: UserIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """新建用户 — needs user.manage; the password is stored as argon2id."""
    auth.require_permission(actor, "user.manage")
    uid = users.create_user(app.uow_factory, body.username, body.password, body.role, actor, app.clock.now(),
                            body.display_name)
    return {"id": uid, "username": body.username.strip(), "role": body.role}


@router.put("/users/{username}/access", tags=["users"])
def set_access(username: Annotated[str, Path(max_length=64)], body: AccessIn, actor: CurrentActor,
               app: JxcApp) -> dict[str, Any]:
    """用户权限 — role and/or warehouses (password again; audited with before and after)."""
    admin.set_user_access(app.uow_factory, username, _reauth(app, actor, body.password), app.clock.now(),
                          body.role, body.warehouse_ids)
    who = users.actor_for(app.uow_factory, username)
    return {"username": username, "role": who.role,
            "warehouses": None if who.warehouses is None else sorted(who.warehouses)}


@router.put("/roles/{code}", tags=["users"])
def save_role(code: Annotated[str, Path(max_length=32)], body: RoleIn, actor: CurrentActor,
              app: JxcApp) -> dict[str, Any]:
    """自定义角色 — create or change a role made of permission codes (password again)."""
    admin.save_role(app.uow_factory, code, body.name_zh, body.name_en, body.permissions,
                    _reauth(app, actor, body.password), app.clock.now())
    return {"code": code, "permissions": sorted(set(body.permissions))}


@router.get("/approval-rules")
def list_rules(actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """审批规则 — every rule, active or not."""
    auth.require_permission(actor, "settings.edit")
    return {"items": [plain({"id": rid, **asdict(rule)}) for rid, rule in admin.list_rules(app.uow_factory)],
            "next_cursor": None}


@router.post("/approval-rules", status_code=201)
def add_rule(body: RuleIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """新增审批规则 — kind + conditions → approver roles in order (password again)."""
    fields = body.model_dump(exclude={"password", "levels"})
    rule = Rule(levels=tuple(body.levels), **fields)
    rid = admin.add_rule(app.uow_factory, rule, _reauth(app, actor, body.password), app.clock.now())
    return plain({"id": rid, **asdict(rule)})


@router.post("/approval-rules/{rule_id}/{action}")
def toggle_rule(rule_id: Annotated[int, Path(ge=1, le=2**31 - 1)], action: Literal["enable", "disable"],
                body: PasswordIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """启用 / 停用规则 (password again)."""
    admin.set_rule_active(app.uow_factory, rule_id, action == "enable", _reauth(app, actor, body.password),
                          app.clock.now())
    return {"id": rule_id, "active": action == "enable"}


@router.post("/reasons", status_code=201)
def add_reason(body: ReasonIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """原因 — one more choice for scrap / return / count reasons."""
    admin.add_reason(app.uow_factory, body.kind, body.code, body.label_zh, body.label_en, actor, app.clock.now())
    return body.model_dump()


@router.get("/settings")
def get_settings(actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """账套设置 — every setting with its current value (defaults filled in)."""
    auth.require_permission(actor, "settings.edit")
    return plain(book.get_settings(app.uow_factory))


@router.put("/settings/{key}")
def set_setting(key: Annotated[str, Path(max_length=64)], body: SettingIn, actor: CurrentActor,
                app: JxcApp) -> dict[str, Any]:
    """修改设置 — one key (password again); answers the value as stored."""
    value = book.set_setting(app.uow_factory, key, body.value, _reauth(app, actor, body.password), app.clock.now())
    return plain({"key": key, "value": value})


@router.get("/channels", tags=["reservations"])
def list_channels(actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """销售渠道 — warehouses that feed each, safety buffer, quota and reservation TTL."""
    auth.require_permission(actor, "document.create.sales_delivery")
    return {"items": plain(ingest.channels(app.uow_factory)), "next_cursor": None}


@router.put("/channels/{code}", tags=["reservations"])
def save_channel(code: Annotated[str, Path(min_length=1, max_length=32)], body: ChannelIn, actor: CurrentActor,
                 app: JxcApp) -> dict[str, Any]:
    """保存渠道 — create or change (settings.edit; audited)."""
    reserving.save_channel(app.uow_factory, code, body.name, body.warehouse_ids, actor, app.clock.now(),
                           body.buffer_qty, body.quota_pct, body.ttl_s, body.active)
    return plain({"code": code, **body.model_dump()})


@router.post("/periods/close", tags=["reports"])
def close(body: CloseIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """月结 — snapshot stock before `until`; postings effective earlier are refused from now on (I9)."""
    auth.require_permission(actor, "period.close")
    who = _reauth(app, actor, body.password)
    until = _aware(body.until, "until")
    assert until is not None
    return {"period_id": close_period(app.uow_factory, until, who, app.clock.now()), "closed_until": until.isoformat()}


@router.get("/check", tags=["reports"])
def check(actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """对账检查 — `jxc check` over HTTP: every violated invariant (I1–I10); empty means the books hold."""
    auth.require_permission(actor, "audit.view")
    found = app.queries.violations()
    return {"ok": not found, "violations": [{"invariant": v.invariant, "subject": v.subject, "detail": v.detail}
                                            for v in found]}


@router.get("/stock/investigate", tags=["stock"])
def investigation(actor: CurrentActor, app: JxcApp,
                  product_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
                  warehouse_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
                  counted_qty: Annotated[Decimal | None, Query(ge=0, max_digits=18, decimal_places=4)] = None,
                  counted_at: datetime | None = None,
                  lot_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None) -> dict[str, Any]:
    """账实排查 — the five-step view: timeline, open documents, in transit, reversals and back-dated
    entries, the suspect document and who did it (report.view, in the caller's warehouses)."""
    auth.require_permission(actor, "report.view")
    _scope(actor, warehouse_id)
    return plain(investigate(app.uow_factory, product_id, warehouse_id, app.clock.now(), counted_qty,
                             _aware(counted_at, "counted_at"), lot_id))

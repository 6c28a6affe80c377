"""设置 — roles, user permissions and scopes, approval rules, reason lists; configured without code.

Guarantees:
- Each change needs `user.manage` (roles, users) or `settings.edit` (rules,
  reasons), and the password entered again (`Actor.reauthenticated`).
- Each change writes an audit record with before and after (I6).
- Permission codes and approver roles are checked: a rule cannot name a role
  that does not exist, a role cannot hold a permission that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from jxc.domain.approvals import Rule
from jxc.domain.errors import DomainError, NotFound, Problems
from jxc.domain.permissions import known
from jxc.services.access import require, require_reauth
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]


def _audit(uow: UnitOfWork, action: str, obj: str, oid: str, actor: Actor, now: datetime,
           before: Any, after: Any) -> None:
    uow.audit.append(AuditEntry(action, obj, oid, actor.name, now, before, after, actor.ip, actor.device))


def save_role(f: UowFactory, code: str, name_zh: str, name_en: str, permissions: Iterable[str],
              actor: Actor, now: datetime) -> None:
    """自定义角色 — create or change a role made of permission codes."""
    require(actor, "user.manage")
    require_reauth(actor)
    perms = sorted(set(permissions))
    p = Problems()
    if not code.strip() or not code.isidentifier():
        p.add("VALUE_INVALID", "code", "角色编码只能用字母、数字和下划线", "a role code uses letters, digits and _")
    for bad in [x for x in perms if not known(x)]:
        p.add("VALUE_INVALID", "permissions", f"未知权限：{bad}", f"unknown permission: {bad}")
    p.raise_if_any()
    with f() as uow:
        before = uow.documents.role_permissions(code)
        if code == "owner":
            raise DomainError("VALUE_INVALID", "老板角色不能修改", "the owner role cannot be changed", field="code")
        uow.documents.save_role(code, name_zh, name_en, perms)
        _audit(uow, "role.save", "role", code, actor, now,
               None if before is None else {"permissions": sorted(before)}, {"permissions": perms})
        uow.commit()


def set_user_access(f: UowFactory, username: str, actor: Actor, now: datetime, role: str | None = None,
                    warehouse_ids: Iterable[int] | None = None) -> None:
    """用户权限 — change a user's role and/or the warehouses they may work in (empty: all)."""
    require(actor, "user.manage")
    require_reauth(actor)
    with f() as uow:
        user = uow.records.find("users", username=username)
        if user is None:
            raise NotFound("NOT_FOUND", f"用户 {username} 不存在", f"no user {username}", field="username")
        before: dict[str, Any] = {"role": user["role"], "warehouses": sorted(uow.documents.user_warehouses(user["id"]))}
        after = dict(before)
        if role is not None:
            if uow.documents.role_permissions(role) is None:
                raise DomainError("VALUE_INVALID", f"角色“{role}”不存在", f"role '{role}' does not exist", field="role")
            uow.records.update("users", user["id"], {"role": role}, None)
            after["role"] = role
        if warehouse_ids is not None:
            wids = sorted(set(warehouse_ids))
            missing = [w for w in wids if uow.records.get("warehouses", w) is None]
            if missing:
                raise DomainError("NOT_FOUND", f"仓库不存在：{missing}", f"no such warehouses: {missing}",
                                  field="warehouse_ids")
            uow.documents.set_user_warehouses(user["id"], wids)
            after["warehouses"] = wids
        _audit(uow, "user.access", "user", str(user["id"]), actor, now, before, after)
        uow.commit()


def add_rule(f: UowFactory, rule: Rule, actor: Actor, now: datetime) -> int:
    """审批规则 — add a rule: kind + conditions → approver roles in order."""
    require(actor, "settings.edit")
    require_reauth(actor)
    with f() as uow:
        p = Problems()
        for role in rule.levels:
            if uow.documents.role_permissions(role) is None:
                p.add("VALUE_INVALID", "levels", f"审批角色“{role}”不存在", f"approver role '{role}' does not exist")
        if not rule.name.strip():
            p.add("VALUE_REQUIRED", "name", "规则名称不能为空", "the rule needs a name")
        p.raise_if_any()
        rid = uow.documents.add_rule(rule, now)
        _audit(uow, "rule.add", "approval_rule", str(rid), actor, now, None, asdict(rule))
        uow.commit()
        return rid


def set_rule_active(f: UowFactory, rule_id: int, active: bool, actor: Actor, now: datetime) -> None:
    """停用/启用规则."""
    require(actor, "settings.edit")
    require_reauth(actor)
    with f() as uow:
        before = uow.documents.set_rule_active(rule_id, active)
        if before is None:
            raise NotFound("NOT_FOUND", f"规则 {rule_id} 不存在", f"no rule {rule_id}", field="rule_id")
        _audit(uow, "rule.active", "approval_rule", str(rule_id), actor, now, {"active": before}, {"active": active})
        uow.commit()


def add_reason(f: UowFactory, kind: str, code: str, label_zh: str, label_en: str, actor: Actor,
               now: datetime) -> None:
    """原因 — one more choice for scrap / return / count reasons."""
    require(actor, "settings.edit")
    if kind not in ("scrap", "return", "count"):
        raise DomainError("VALUE_INVALID", "原因类别只能是 scrap / return / count",
                          "the reason kind is one of scrap, return, count", field="kind")
    with f() as uow:
        uow.documents.add_reason(kind, code, label_zh, label_en)
        _audit(uow, "reason.add", "reason", f"{kind}:{code}", actor, now, None,
               {"label_zh": label_zh, "label_en": label_en})
        uow.commit()



def list_rules(f: UowFactory) -> list[tuple[int, Rule]]:
    """审批规则列表 — id and rule, active or not."""
    with f() as uow:
        return uow.documents.rule_rows()

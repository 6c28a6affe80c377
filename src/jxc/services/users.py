"""用户 — users and logins: argon2 password hashes, every login attempt audited.

Guarantees:
- Passwords are stored only as argon2id hashes.
- Every login, successful or failed, writes an audit record (I6); a failed
  login does not say whether the user name or the password was wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from jxc.domain.errors import Problems, Unauthorized
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
ROLES = ("owner", "manager", "purchaser", "keeper", "sales", "finance", "auditor")
MIN_PASSWORD = 8
_hasher = PasswordHasher()


def create_user(uow_factory: UowFactory, username: str, password: str, role: str, actor: Actor,
                now: datetime, display_name: str | None = None) -> int:
    """新建用户 — a user with a role; the password is hashed with argon2id."""
    problems = Problems()
    username = (username or "").strip()
    if not username:
        problems.add("VALUE_REQUIRED", "username", "用户名不能为空", "username is required")
    if len(password or "") < MIN_PASSWORD:
        problems.add("VALUE_INVALID", "password", f"密码至少 {MIN_PASSWORD} 位",
                     f"the password needs at least {MIN_PASSWORD} characters")
    with uow_factory() as uow:
        if uow.documents.role_permissions(role) is None:  # built-in or custom (roles table)
            problems.add("VALUE_INVALID", "role", f"角色“{role}”不存在，可选：{'、'.join(ROLES)} 或自定义角色",
                         f"unknown role '{role}'; choose one of {', '.join(ROLES)} or a custom role")
        if username and uow.records.find("users", username=username) is not None:
            problems.add("CODE_TAKEN", "username", f"用户名“{username}”已存在", f"user '{username}' exists")
        problems.raise_if_any()
        uid = uow.records.insert("users", {
            "username": username, "display_name": display_name or username, "role": role,
            "password_hash": _hasher.hash(password), "active": True, "created_at": now})
        uow.audit.append(AuditEntry("user.create", "user", str(uid), actor.name, now, None,
                                    {"username": username, "role": role}, actor.ip, actor.device))
        uow.commit()
        return uid


def _check(uow_factory: UowFactory, username: str, password: str, now: datetime, action: str,
           ip: str | None, device: str | None) -> dict[str, Any] | None:
    """Verify a password and audit the attempt (``action``.success / .failed); the user when right."""
    with uow_factory() as uow:
        user = uow.records.find("users", username=username)
        ok = False
        if user is not None and user["active"]:
            try:
                ok = _hasher.verify(user["password_hash"], password)
            except VerificationError:
                ok = False
        uow.audit.append(AuditEntry(f"{action}.{'success' if ok else 'failed'}", "user",
                                    str(user["id"]) if user else username, username, now, None, None, ip, device))
        uow.commit()
    return user if ok else None


def authenticate(uow_factory: UowFactory, username: str, password: str, now: datetime,
                 ip: str | None = None, device: str | None = None) -> dict[str, Any]:
    """登录 — check a password; audit the attempt either way."""
    user = _check(uow_factory, username, password, now, "login", ip, device)
    if user is None:
        raise Unauthorized("AUTH_FAILED", "用户名或密码错误", "wrong user name or password", field="password")
    return {k: v for k, v in user.items() if k != "password_hash"}


def verify_password(uow_factory: UowFactory, username: str, password: str, now: datetime,
                    ip: str | None = None, device: str | None = None) -> bool:
    """再次确认密码 — for sensitive operations; every attempt is audited."""
    return _check(uow_factory, username, password, now, "reauth", ip, device) is not None


def actor_for(uow_factory: UowFactory, username: str, ip: str | None = None,
              device: str | None = None) -> Actor:
    """操作人 — a user's role permissions and warehouse scope, as an `Actor` for the services."""
    with uow_factory() as uow:
        user = uow.records.find("users", username=username)
        if user is None or not user["active"]:
            raise Unauthorized("AUTH_FAILED", "用户不存在或已停用", "no such active user", field="username")
        perms = uow.documents.role_permissions(user["role"]) or frozenset()
        scope = uow.documents.user_warehouses(user["id"])
    return Actor(username, perms, ip, device, role=user["role"], warehouses=scope or None)

"""登录与令牌 — web sessions (with CSRF), login throttling and lockout, bearer API tokens.

Guarantees:
- Secrets (session cookies, API tokens) are stored only as sha256 digests;
  passwords stay argon2id (`services.users`).
- A user name (or client address) with too many failed logins inside the
  window is locked out for a while; a locked attempt is refused without
  checking the password, and audited like every other attempt.
- A token acts with the intersection of its scopes and its user's current
  role: revoking the role's permission, deactivating the user or revoking the
  token takes effect on the next request.
- Creating and revoking a token is audited; only its owner (or a holder of
  `user.manage`) may list or revoke it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from jxc.domain.errors import DomainError, NotFound, Problems
from jxc.domain.permissions import holds, known
from jxc.services import users
from jxc.services.documents import Forbidden
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
TOKEN_PREFIX = "jxc_"


class Unauthorized(DomainError):
    status = 401


class TooManyAttempts(DomainError):
    status = 429


@dataclass(frozen=True)
class LoginPolicy:
    """登录策略 — failures allowed per window, the window, the lockout, the session lifetime."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    session_ttl: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    secret: str  # goes into the cookie, never stored
    csrf_token: str
    username: str
    expires_at: datetime


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _keys(username: str, ip: str | None) -> list[tuple[str, int]]:
    """Throttle keys with their failure factor: an address may try for several user names."""
    return [(f"user:{username}", 1)] + ([(f"ip:{ip}", 4)] if ip else [])


def _locked(f: UowFactory, username: str, ip: str | None, now: datetime, policy: LoginPolicy) -> datetime | None:
    with f() as uow:
        until = [t["locked_until"] for key, _ in _keys(username, ip)
                 if (t := uow.api.throttle(key)) and t["locked_until"] and t["locked_until"] > now]
        if until:
            uow.audit.append(AuditEntry("login.locked", "user", username, username, now, None, None, ip, None))
            uow.commit()
    return max(until) if until else None


def _record_failure(f: UowFactory, username: str, ip: str | None, now: datetime, policy: LoginPolicy) -> None:
    with f() as uow:
        for key, factor in _keys(username, ip):
            t = uow.api.throttle(key)
            if t is None or now - t["window_started_at"] > policy.window:
                failures, started = 1, now
            else:
                failures, started = t["failures"] + 1, t["window_started_at"]
            locked = now + policy.lockout if failures >= policy.max_failures * factor else None
            uow.api.put_throttle(key, 0 if locked else failures, now if locked else started, locked)
        uow.commit()


def login(f: UowFactory, username: str, password: str, now: datetime, policy: LoginPolicy,
          ip: str | None = None, device: str | None = None) -> Session:
    """登录 — check the password (unless locked out) and open a session."""
    locked = _locked(f, username, ip, now, policy)
    if locked is not None:
        minutes = max(1, int((locked - now).total_seconds() // 60) + 1)
        raise TooManyAttempts("LOGIN_LOCKED", f"登录失败次数过多，请 {minutes} 分钟后再试",
                              f"too many failed logins; try again in {minutes} minutes", field="username",
                              details={"retry_after_s": int((locked - now).total_seconds())})
    try:
        user = users.authenticate(f, username, password, now, ip, device)
    except DomainError:
        _record_failure(f, username, ip, now, policy)
        raise Unauthorized("AUTH_FAILED", "用户名或密码错误", "wrong user name or password",
                           field="password") from None
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with f() as uow:
        uow.api.put_throttle(f"user:{username}", 0, now, None)
        uow.api.add_session({"id": digest(secret), "username": user["username"], "csrf_token": csrf,
                             "created_at": now, "expires_at": now + policy.session_ttl, "ip": ip,
                             "device": device})
        uow.commit()
    return Session(secret, csrf, user["username"], now + policy.session_ttl)


def logout(f: UowFactory, secret: str, now: datetime, ip: str | None = None) -> None:
    """退出 — the session ends now."""
    with f() as uow:
        row = uow.api.get_session(digest(secret))
        if row is not None:
            uow.api.delete_session(row["id"])
            uow.audit.append(AuditEntry("logout", "user", row["username"], row["username"], now, None, None, ip, None))
            uow.commit()


def session_actor(f: UowFactory, secret: str, now: datetime, ip: str | None = None,
                  device: str | None = None) -> tuple[Actor, str]:
    """The actor of a session cookie and the session's CSRF token; 401 when missing or expired."""
    with f() as uow:
        row = uow.api.get_session(digest(secret))
    if row is None or row["expires_at"] <= now:
        raise Unauthorized("AUTH_REQUIRED", "登录已过期，请重新登录", "the session expired; log in again",
                           field=None)
    try:
        return users.actor_for(f, row["username"], ip, device), row["csrf_token"]
    except DomainError:
        raise Unauthorized("AUTH_REQUIRED", "用户已停用，请重新登录", "the user is deactivated", field=None) from None


def _scopes(actor: Actor, scopes: Iterable[str]) -> list[str]:
    wanted = sorted(set(scopes))
    p = Problems()
    if not wanted:
        p.add("VALUE_REQUIRED", "scopes", "请至少选择一个权限范围", "choose at least one scope")
    for s in wanted:
        if not known(s):
            p.add("VALUE_INVALID", "scopes", f"未知权限范围：{s}", f"unknown scope: {s}")
        elif s != "*" and not holds(actor.permissions, s):
            p.add("VALUE_INVALID", "scopes", f"你没有权限 {s}，不能授予令牌", f"you do not hold {s} and cannot grant it")
    p.raise_if_any()
    return wanted


def create_token(f: UowFactory, name: str, scopes: Iterable[str], actor: Actor,
                 now: datetime) -> tuple[int, str]:
    """新建令牌 — for the acting user; the secret is returned once and stored hashed."""
    granted = _scopes(actor, scopes)
    if not (name or "").strip():
        raise DomainError("VALUE_REQUIRED", "令牌名称不能为空（例如“收银机1号”）", "the token needs a name",
                          field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with f() as uow:
        tid = uow.api.add_token({"name": name.strip(), "token_hash": digest(secret), "prefix": secret[:12],
                                 "username": actor.name, "scopes": json.dumps(granted), "created_by": actor.name,
                                 "created_at": now})
        uow.audit.append(AuditEntry("token.create", "api_token", str(tid), actor.name, now, None,
                                    {"name": name.strip(), "scopes": granted}, actor.ip, actor.device))
        uow.commit()
    return tid, secret


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "token_hash"}
    out["scopes"] = json.loads(row["scopes"])
    return out


def list_tokens(f: UowFactory, actor: Actor) -> list[dict[str, Any]]:
    """令牌列表 — the actor's own tokens (all of them for `user.manage`), without secrets."""
    with f() as uow:
        rows = uow.api.tokens(None if holds(actor.permissions, "user.manage") else actor.name)
    return [_public(r) for r in rows]


def revoke_token(f: UowFactory, token_id: int, actor: Actor, now: datetime) -> None:
    """吊销令牌 — effective on the next request that uses it."""
    with f() as uow:
        row = next((r for r in uow.api.tokens(None) if r["id"] == token_id), None)
        if row is None or (row["username"] != actor.name and not holds(actor.permissions, "user.manage")):
            raise NotFound("NOT_FOUND", f"令牌 {token_id} 不存在", f"token {token_id} does not exist", field="token_id")
        if row["revoked_at"] is None:
            uow.api.update_token(token_id, {"revoked_at": now})
            uow.audit.append(AuditEntry("token.revoke", "api_token", str(token_id), actor.name, now,
                                        {"revoked_at": None}, {"revoked_at": now.isoformat()}, actor.ip,
                                        actor.device))
            uow.commit()


def token_actor(f: UowFactory, secret: str, now: datetime, ip: str | None = None,
                device: str | None = None) -> Actor:
    """The actor of a bearer token: its user's role, narrowed to the token's scopes."""
    with f() as uow:
        row = uow.api.find_token(digest(secret))
        if row is not None and row["revoked_at"] is None and (
                row["last_used_at"] is None or now - row["last_used_at"] > timedelta(minutes=1)):
            uow.api.update_token(row["id"], {"last_used_at": now})
            uow.commit()
    if row is None or row["revoked_at"] is not None:
        raise Unauthorized("TOKEN_INVALID", "API 令牌无效或已吊销", "the API token is invalid or revoked",
                           field="authorization")
    try:
        user = users.actor_for(f, row["username"], ip, device or f"token:{row['prefix']}")
    except DomainError:
        raise Unauthorized("TOKEN_INVALID", "令牌所属用户已停用", "the token's user is deactivated",
                           field="authorization") from None
    scopes = frozenset(json.loads(row["scopes"]))
    if "*" in scopes:
        return user
    effective = frozenset(s for s in scopes if holds(user.permissions, s))
    return replace(user, permissions=effective)


def require_permission(actor: Actor, code: str) -> None:
    """Refuse (403) unless the actor holds ``code``."""
    if not holds(actor.permissions, code):
        raise Forbidden("PERMISSION_DENIED", f"{actor.name} 没有权限：{code}，请联系老板开通",
                        f"{actor.name} lacks the permission {code}; ask the owner", field=None,
                        details={"permission": code})

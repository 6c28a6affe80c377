"""登录与令牌 — /api/v1/auth (session cookie + CSRF) and /api/v1/tokens (bearer tokens with scopes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from jxc.interfaces.api.deps import SESSION_COOKIE, CurrentActor, JxcApp, client
from jxc.services import auth

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="e.g. 收银机1号 / POS 1")
    scopes: list[str] = Field(min_length=1, max_length=50,
                              description="permission codes the token may use; '*' = all of the user's")


def policy(app: Any) -> auth.LoginPolicy:
    s = app.settings
    from datetime import timedelta

    return auth.LoginPolicy(s.login_max_failures, timedelta(seconds=s.login_lockout_s),
                            timedelta(seconds=s.login_lockout_s), timedelta(seconds=s.session_ttl_s))


@router.post("/auth/login")
def login(body: LoginIn, request: Request, response: Response, app: JxcApp) -> dict[str, Any]:
    """登录 — sets the session cookie; answer carries the CSRF token for unsafe requests."""
    ip, device = client(request)
    s = auth.login(app.uow_factory, body.username, body.password, app.clock.now(), policy(app), ip, device)
    response.set_cookie(SESSION_COOKIE, s.secret, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", max_age=app.settings.session_ttl_s)
    return {"username": s.username, "csrf_token": s.csrf_token, "expires_at": s.expires_at.isoformat()}


@router.post("/auth/logout")
def logout(request: Request, response: Response, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """退出登录."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        auth.logout(app.uow_factory, cookie, app.clock.now(), actor.ip)
    response.delete_cookie(SESSION_COOKIE)
    return {"ok": True}


@router.get("/auth/me")
def me(actor: CurrentActor) -> dict[str, Any]:
    """当前用户 — name, role, permissions and warehouse scope (null: every warehouse)."""
    return {"username": actor.name, "role": actor.role, "permissions": sorted(actor.permissions),
            "warehouses": None if actor.warehouses is None else sorted(actor.warehouses)}


@router.get("/tokens")
def list_tokens(actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """令牌列表 — the caller's tokens (everyone's for user.manage); secrets are never shown again."""
    return {"items": [_iso(t) for t in auth.list_tokens(app.uow_factory, actor)], "next_cursor": None}


@router.post("/tokens", status_code=201)
def create_token(body: TokenIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """新建令牌 — the secret is in this answer only; store it in the device."""
    tid, secret = auth.create_token(app.uow_factory, body.name, body.scopes, actor, app.clock.now())
    return {"id": tid, "token": secret, "name": body.name, "scopes": sorted(set(body.scopes))}


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: int, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """吊销令牌."""
    auth.revoke_token(app.uow_factory, token_id, actor, app.clock.now())
    return {"id": token_id, "revoked": True}


def _iso(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}

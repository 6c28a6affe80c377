"""请求依赖 — who is calling: a bearer API token, or a session cookie plus its CSRF token.

`CurrentActor` is the one dependency every protected route declares; it is
resolved once per request. Cookie sessions must echo the session's CSRF token
in `X-CSRF-Token` on every unsafe method; bearer tokens need no CSRF token
(browsers never send them by themselves).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from jxc.bootstrap import App
from jxc.services import auth
from jxc.services.documents import Forbidden
from jxc.services.posting import Actor

SESSION_COOKIE = "jxc_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def jxc(request: Request) -> App:
    return request.app.state.jxc


def client(request: Request) -> tuple[str | None, str | None]:
    ip = request.client.host if request.client else None
    return ip, (request.headers.get("user-agent") or "")[:200] or None


def credential(scope_headers: dict[str, str], cookie: str | None) -> str | None:
    """The caller's raw credential (for scoping idempotency keys), or None."""
    authz = scope_headers.get("authorization", "")
    if authz.lower().startswith("bearer "):
        return "bearer:" + authz[7:].strip()
    return f"session:{cookie}" if cookie else None


def scope_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def caller_key(request: Request, actor: Actor, idempotency_key: str | None) -> str | None:
    """An `Idempotency-Key` made the caller's own (documents', payments' and transfers' keys are global):
    the hash of the caller's credential (token or session; else its name) and the key, or None."""
    if not idempotency_key:
        return None
    raw = credential({"authorization": request.headers.get("authorization", "")},
                     request.cookies.get(SESSION_COOKIE)) or actor.name
    return "api:" + hashlib.sha256(f"{scope_of(raw)}\n{idempotency_key}".encode()).hexdigest()


def resolve(request: Request) -> Actor:
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    app = jxc(request)
    ip, device = client(request)
    now = app.clock.now()
    authz = request.headers.get("authorization", "")
    if authz.lower().startswith("bearer "):
        actor = auth.token_actor(app.uow_factory, authz[7:].strip(), now, ip, device)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise auth.Unauthorized("AUTH_REQUIRED", "请先登录，或在 Authorization 头中提供 API 令牌",
                                    "log in first, or send an API token as 'Authorization: Bearer …'",
                                    field=None)
        actor, csrf = auth.session_actor(app.uow_factory, cookie, now, ip, device)
        if request.method not in SAFE and not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), csrf):
            raise Forbidden("CSRF_FAILED", "页面已过期（CSRF 校验失败），请刷新页面后重试",
                            "CSRF check failed: send the session's token in X-CSRF-Token; reload the page",
                            field=CSRF_HEADER)
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(resolve)]
JxcApp = Annotated[App, Depends(jxc)]

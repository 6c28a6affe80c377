"""Idempotency-Key — a pure ASGI middleware around every POST (see services.api_idempotency).

The caller's scope is the sha256 of its credential (token or session cookie),
so two devices never collide on a key. Requests without a credential pass
through (they are refused by authentication anyway).
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jxc.domain.errors import DomainError
from jxc.interfaces.api.deps import SESSION_COOKIE, credential, scope_of
from jxc.interfaces.api.errors import PROBLEM, problem_body
from jxc.services import api_idempotency as idem

HEADER = "idempotency-key"


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, jxc_app: Any) -> None:
        self.app = app
        self.jxc = jxc_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = headers.get(HEADER)
        cookie = SimpleCookie(headers.get("cookie", "")).get(SESSION_COOKIE)
        raw = credential(headers, cookie.value if cookie else None)
        if key is None or raw is None:
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        owner, path, f = scope_of(raw), scope["path"], self.jxc.uow_factory
        try:
            replay = await run_in_threadpool(idem.begin, f, owner, key, "POST", path, body, self.jxc.clock.now())
        except DomainError as exc:
            await _send_json(send, exc.status, json.dumps(problem_body(exc, path), ensure_ascii=False), PROBLEM)
            return
        if replay is not None:
            await _send_json(send, replay.status, replay.body, _type(replay.body), replayed=True)
            return
        sent = False

        async def replay_body() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, chunks = 500, []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            text = b"".join(chunks).decode("utf-8", "replace")
            await run_in_threadpool(idem.finish, f, owner, key, status, text)


def _type(body: str) -> str:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return "text/plain; charset=utf-8"
    return PROBLEM if isinstance(data, dict) and "type" in data and "status" in data else "application/json"


async def _send_json(send: Send, status: int, body: str, media: str, replayed: bool = False) -> None:
    raw = body.encode()
    headers = [(b"content-type", media.encode()), (b"content-length", str(len(raw)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})

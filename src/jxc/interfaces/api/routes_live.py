"""推送与事件 — WebSocket /api/v1/ws (resume with last_event_id) and a polling twin, /api/v1/events."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from jxc.domain.errors import DomainError
from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import SESSION_COOKIE, CurrentActor, JxcApp
from jxc.interfaces.api.push import PushHub, visible
from jxc.services import auth
from jxc.services.posting import Actor

router = APIRouter(prefix="/api/v1", tags=["events"])
ALL_TOPICS = frozenset({"stock", "document", "period"})


@router.get("/events")
def events(request: Request, actor: CurrentActor, app: JxcApp,
           after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0, limit: pg.Limit = pg.DEFAULT_LIMIT) -> dict[str, Any]:
    """已投递事件 — for integrations that poll: ids after `after`, oldest first (dedupe by id)."""
    hub: PushHub = request.app.state.push_hub
    rows = app.queries.events_since(after, limit)
    items = [m for m in hub.messages(rows) if visible(actor, ALL_TOPICS, m)]
    return {"items": items, "next_after": rows[-1]["id"] if rows else after}


def _ws_actor(ws: WebSocket, app: Any) -> Actor:
    ip = ws.client.host if ws.client else None
    now = app.clock.now()
    authz = ws.headers.get("authorization", "")
    token = authz[7:].strip() if authz.lower().startswith("bearer ") else ws.query_params.get("token")
    if token:
        return auth.token_actor(app.uow_factory, token, now, ip, "websocket")
    cookie = ws.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise auth.Unauthorized("AUTH_REQUIRED", "请先登录", "log in first", field=None)
    origin = ws.headers.get("origin")
    if origin and urlsplit(origin).netloc != ws.headers.get("host"):  # cross-site WebSocket hijacking
        raise auth.Unauthorized("CSRF_FAILED", "来源不匹配", "cross-origin WebSocket refused", field="origin")
    return auth.session_actor(app.uow_factory, cookie, now, ip, "websocket")[0]


@router.websocket("/ws")
async def ws(websocket: WebSocket, last_event_id: int | None = None) -> None:
    """实时推送 — JSON messages {id, type, aggregate, aggregate_id, warehouses, data}; send
    {"topics": ["stock", "document"]} to narrow them."""
    app = websocket.app.state.jxc
    hub: PushHub = websocket.app.state.push_hub
    try:
        actor = await run_in_threadpool(_ws_actor, websocket, app)
    except DomainError as exc:
        await websocket.close(code=4401 if exc.status == 401 else 4403, reason=exc.code)
        return
    await websocket.accept()
    sub = hub.subscribe(actor)
    try:
        sent: set[int] = set()
        if last_event_id is not None:
            for m in await run_in_threadpool(hub.backlog, sub, last_event_id):
                await websocket.send_json(m)
                sent.add(m["id"])
        await websocket.send_json({"type": "ready", "last_event_id": max(sent, default=last_event_id)})
        receiver = asyncio.create_task(_topics(websocket, sub))
        try:
            while True:
                getter = asyncio.create_task(sub.queue.get())
                done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if receiver in done:
                    getter.cancel()
                    return
                m = getter.result()
                if m["id"] not in sent:
                    await websocket.send_json(m)
        finally:
            receiver.cancel()
    except WebSocketDisconnect:
        return
    finally:
        hub.unsubscribe(sub)


async def _topics(websocket: WebSocket, sub: Any) -> None:
    while True:
        try:
            msg = await websocket.receive_json()
        except (WebSocketDisconnect, ValueError, KeyError, RuntimeError):
            return
        topics = msg.get("topics") if isinstance(msg, dict) else None
        if isinstance(topics, list):
            sub.topics = frozenset(str(t) for t in topics)

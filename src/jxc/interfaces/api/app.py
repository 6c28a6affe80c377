"""HTTP 接口 — the FastAPI application: JSON API under /api/v1, health, web pages, one error shape.

Routes call services and queries of the `App` they are given; they never open
a database session themselves. Every /api/v1 route but login needs a session
cookie (+ CSRF token) or a bearer token; every POST honours Idempotency-Key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from jxc import __version__
from jxc.bootstrap import App
from jxc.interfaces.api import (
    errors,
    routes_admin,
    routes_auth,
    routes_chat_orders,
    routes_counting,
    routes_documents,
    routes_ingest,
    routes_live,
    routes_masterdata,
    routes_money,
    routes_ops,
    routes_reservations,
    routes_stock,
    routes_trade,
)
from jxc.interfaces.api.errors import PROBLEM, problem
from jxc.interfaces.api.idempotency import IdempotencyMiddleware
from jxc.interfaces.api.metrics import MetricsMiddleware, RequestMetrics
from jxc.interfaces.api.push import PushHub
from jxc.interfaces.web import routes as web
from jxc.interfaces.worker import start_in_process

__all__ = ["PROBLEM", "create_app", "problem"]


def create_app(app: App, run_worker: bool = False) -> FastAPI:
    """The ASGI app; with ``run_worker`` the outbox worker runs in-process (the embedded default)."""
    hub = PushHub(app)

    @asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        stop = start_in_process(app, on_delivered=hub.wake)[1] if run_worker else None
        try:
            yield
        finally:
            if stop is not None:
                stop.set()
            hub.close()

    api = FastAPI(title="进销存 jxc", version=__version__, openapi_url="/api/v1/openapi.json",
                  docs_url="/api/v1/docs", redoc_url=None, lifespan=lifespan)
    api.state.jxc = app
    api.state.push_hub = hub

    errors.install(api)
    api.add_middleware(IdempotencyMiddleware, jxc_app=app)
    api.state.metrics = RequestMetrics()
    api.add_middleware(MetricsMiddleware, metrics=api.state.metrics)  # per-route latency for /ops, /metrics
    for router in (routes_auth.router, routes_documents.router, routes_stock.router, routes_live.router,
                   routes_ops.router, routes_reservations.router, routes_trade.router,
                   *routes_masterdata.routers(), routes_money.router):
        api.include_router(router)
    api.include_router(routes_chat_orders.router)
    api.include_router(routes_ingest.router)
    api.include_router(routes_counting.router)
    api.include_router(routes_admin.router)

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, Any]:
        """健康检查 — the process is up and the database answers with the current schema."""
        return {"status": "ok", "version": __version__, "database": app.engine.dialect.name,
                "schema": app.schema_revision()}

    web.install(api)  # the pages: /login, /, /stock, /documents (Jinja2 + HTMX) and /static

    return api

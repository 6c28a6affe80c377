"""首页看板 — the dashboard and the detail page behind each of its numbers.

Guarantees:
- Every tile is a link to the rows behind its number (the same `services.dashboard`
  functions compute both, so they always agree).
- Values (¥) show only to holders of `price.view_cost`; counts show to everyone.
- Everything is narrowed to the viewer's warehouses.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import views
from jxc.interfaces.web.routes import Page, _render
from jxc.services import book, dashboard
from jxc.services.posting import Actor

router = APIRouter(include_in_schema=False)
WINDOW_DAYS = 30


def _scope(actor: Actor) -> list[int] | None:
    return None if actor.warehouses is None else sorted(actor.warehouses)


def _board(app: Any, actor: Actor, docs: list[dict[str, Any]] | None = None) -> dashboard.Board:
    docs = views.open_documents(app, actor) if docs is None else docs
    return dashboard.board(app.web, docs, book.get_settings(app.uow_factory), app.clock.now(), app.settings.zone,
                           _scope(actor), WINDOW_DAYS)


def _chart_json(board: dashboard.Board, cost: bool) -> str:
    data = {"days": [d.isoformat()[5:] for d in board.days],
            "stock": [float(v) for v in board.stock_series] if cost else [],
            "sales": [float(v) for v in board.sales_series] if cost else []}
    return json.dumps(data)


@router.get("/")
def home(request: Request, v: Page) -> Response:
    """首页 — the KPIs of the seed's 供需协同看板, each a link to its detail, and two charts."""
    app = jxc(request)
    docs = views.open_documents(app, v.actor)
    board = _board(app, v.actor, docs)
    cost = views.can_see_cost(v.actor)
    return _render(request, "home.html", viewer=v, board=board, cost=cost, chart=_chart_json(board, cost),
                   drafts=sum(1 for d in docs if d["state"] == "draft"),
                   pending=sum(1 for d in docs if d["state"] == "pending_approval"),
                   updated=views.local(app.clock.now(), app.settings.zone), window=WINDOW_DAYS)


@router.get("/kpi/purchase")
def kpi_purchase(request: Request, v: Page) -> Response:
    """待入库采购 — open purchase-order lines and what is still to arrive."""
    app = jxc(request)
    rows = dashboard.open_purchase(app.web, _scope(v.actor))
    return _render(request, "kpi_purchase.html", viewer=v, rows=rows, cost=views.can_see_cost(v.actor),
                   total=sum((r["value"] for r in rows), dashboard.ZERO))


@router.get("/kpi/outbound")
def kpi_outbound(request: Request, v: Page) -> Response:
    """未来 7 天预计出库 — sales-order lines due and reservations of channel/chat-group orders."""
    app = jxc(request)
    rows = dashboard.expected_outbound(app.web, _scope(v.actor), app.clock.now())
    return _render(request, "kpi_outbound.html", viewer=v, rows=rows, cost=views.can_see_cost(v.actor),
                   total=sum((r["value"] for r in rows), dashboard.ZERO))


@router.get("/kpi/health")
def kpi_health(request: Request, v: Page) -> Response:
    """库存健康评分 — the score, each rule that took points and its inputs, and turnover."""
    app = jxc(request)
    board = _board(app, v.actor)
    cost = views.can_see_cost(v.actor)
    return _render(request, "kpi_health.html", viewer=v, board=board, cost=cost, window=WINDOW_DAYS,
                   chart=_chart_json(board, cost))

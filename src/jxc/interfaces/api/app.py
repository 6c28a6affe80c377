"""HTTP 接口 — the FastAPI application: health, home page, stock queries, one error shape.

Routes call services and queries of the `App` they are given; they never open
a database session themselves.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from jxc import __version__
from jxc.bootstrap import App
from jxc.domain.errors import DomainError, NotFound

PROBLEM = "application/problem+json"


def problem(exc: DomainError, instance: str) -> JSONResponse:
    """RFC 9457 problem details plus our code, field and zh/en messages."""
    body: dict[str, Any] = {
        "type": f"https://jxc.dev/errors/{exc.code.lower().replace('_', '-')}",
        "title": exc.message_en,
        "status": exc.status,
        "detail": exc.message_zh,
        "instance": instance,
        **exc.as_dict(),
    }
    return JSONResponse(body, status_code=exc.status, media_type=PROBLEM)


def create_app(app: App) -> FastAPI:
    api = FastAPI(title="进销存 jxc", version=__version__, openapi_url="/api/v1/openapi.json",
                  docs_url="/api/v1/docs", redoc_url=None)
    api.state.jxc = app

    @api.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem(exc, request.url.path)

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, Any]:
        """健康检查 — the process is up and the database answers with the current schema."""
        return {"status": "ok", "version": __version__, "database": app.engine.dialect.name,
                "schema": app.schema_revision()}

    @api.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        rows = app.queries.describe(app.queries.balances())
        body = "".join(
            f"<tr><td>{escape(r.product_code)}</td><td>{escape(r.product_name)}</td>"
            f"<td>{escape(r.warehouse_code or '')}</td><td>{escape(r.location_code)}</td>"
            f"<td>{escape(r.lot_number or '')}</td><td>{escape(r.status)}</td><td>{r.qty.normalize():f}</td></tr>"
            for r in rows[:200])
        return (
            "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>进销存 jxc</title></head><body>"
            f"<h1>进销存 jxc <small>{__version__}</small></h1>"
            "<p>库存余额 / Stock on hand — <a href='/api/v1/docs'>API 文档 / API docs</a></p>"
            "<table border='1' cellpadding='4'><thead><tr><th>编码</th><th>商品</th><th>仓库</th>"
            "<th>库位</th><th>批次</th><th>状态</th><th>数量</th></tr></thead>"
            f"<tbody>{body or '<tr><td colspan=7>暂无库存 / no stock yet</td></tr>'}</tbody></table>"
            "</body></html>")

    @api.get("/api/v1/stock", tags=["stock"])
    def stock(
        product: Annotated[str | None, Query(description="product code 商品编码")] = None,
        warehouse: Annotated[str | None, Query(description="warehouse code 仓库编码")] = None,
        at: Annotated[datetime | None, Query(description="as-of time, ISO 8601 with zone")] = None,
    ) -> list[dict[str, Any]]:
        """库存查询 — balances now, or as of a time (period snapshot + entries since)."""
        pid, wid = app.queries.lookup_ids(product, warehouse)
        for code, found, field in ((product, pid, "product"), (warehouse, wid, "warehouse")):
            if code and found is None:
                raise NotFound("NOT_FOUND", f"编码 {code} 不存在", f"no {field} with code {code}",
                                  field=field)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=app.settings.zone)
        buckets = (app.queries.stock_at(at, pid, wid) if at else app.queries.balances(pid, wid))
        return [{"product": r.product_code, "name": r.product_name, "warehouse": r.warehouse_code,
                 "location": r.location_code, "lot": r.lot_number, "status": r.status,
                 "qty": str(r.qty), "value": str(r.value)} for r in app.queries.describe(buckets)]

    return api

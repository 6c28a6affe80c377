"""库存 — balances, as-of (time travel), ledger entries with filters, audit log, a stock-value report;
all scoped to the caller's warehouses, values only for holders of `price.view_cost`."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query

from jxc.domain.errors import NotFound
from jxc.domain.permissions import holds
from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp
from jxc.interfaces.api.render import plain
from jxc.services import auth
from jxc.services.documents import Forbidden
from jxc.services.posting import Actor

router = APIRouter(prefix="/api/v1", tags=["stock"])
OptId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def _scope(actor: Actor, warehouse_id: int | None) -> None:
    if warehouse_id is not None and actor.warehouses is not None and warehouse_id not in actor.warehouses:
        raise Forbidden("WAREHOUSE_NOT_PERMITTED", f"{actor.name} 无权查看该仓库/门店", f"{actor.name} may not see this warehouse",
                        field="warehouse_id")


def _rows(app: Any, actor: Actor, buckets: Any) -> list[dict[str, Any]]:
    allowed = None
    if actor.warehouses is not None:
        codes = app.queries.page_records("warehouses", None, 10_000)
        allowed = {w["code"] for w in codes if w["id"] in actor.warehouses}
    cost = holds(actor.permissions, "price.view_cost")
    out = []
    for r in app.queries.describe(buckets):
        if allowed is not None and r.warehouse_code not in allowed:
            continue
        row = {"product_id": r.product_id, "product": r.product_code, "name": r.product_name,
               "warehouse": r.warehouse_code, "location_id": r.location_id, "location": r.location_code,
               "lot_id": r.lot_id, "lot": r.lot_number, "status": r.status, "qty": str(r.qty)}
        if cost:
            row["value"] = str(r.value)
        out.append(row)
    return out


def _aware(app: Any, at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=app.settings.zone) if at is not None and at.tzinfo is None else at


@router.get("/stock")
def stock(
    actor: CurrentActor, app: JxcApp,
    product: Annotated[str | None, Query(max_length=64, description="product code 商品编码")] = None,
    warehouse: Annotated[str | None, Query(max_length=64, description="warehouse code 仓库编码")] = None,
    at: Annotated[datetime | None, Query(description="as-of time, ISO 8601 (no zone: business zone)")] = None,
) -> list[dict[str, Any]]:
    """库存查询（按编码） — balances now, or as of a time (period snapshot + entries since)."""
    pid, wid = app.queries.lookup_ids(product, warehouse)
    for code, found, field in ((product, pid, "product"), (warehouse, wid, "warehouse")):
        if code and found is None:
            raise NotFound("NOT_FOUND", f"编码 {code} 不存在", f"no {field} with code {code}", field=field)
    _scope(actor, wid)
    at = _aware(app, at)
    buckets = app.queries.stock_at(at, pid, wid) if at else app.queries.balances(pid, wid)
    return _rows(app, actor, buckets)


@router.get("/stock/balances")
def balances(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
             product_id: OptId = None, warehouse_id: OptId = None, lot_id: OptId = None,
             status: Annotated[str | None, Query(max_length=16)] = None,
             include_virtual: bool = False) -> dict[str, Any]:
    """库存余额 — per location, product, lot and status; cursor pages over the sorted rows."""
    _scope(actor, warehouse_id)
    rows = _rows(app, actor, app.queries.balances(product_id, warehouse_id, lot_id, not include_virtual))
    return pg.by_offset([r for r in rows if status is None or r["status"] == status], cursor, limit)


@router.get("/stock/as-of")
def as_of(at: datetime, actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None,
          limit: pg.Limit = pg.DEFAULT_LIMIT, product_id: OptId = None, warehouse_id: OptId = None,
          lot_id: OptId = None) -> dict[str, Any]:
    """时点库存 — stock as of `at` (I8: equals the replay of entries effective ≤ at)."""
    _scope(actor, warehouse_id)
    when = _aware(app, at)
    assert when is not None
    rows = _rows(app, actor, app.queries.stock_at(when, product_id, warehouse_id, lot_id))
    return pg.by_offset(rows, cursor, limit)


@router.get("/stock/ledger")
def ledger(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
           product_id: OptId = None, lot_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
           location_id: OptId = None, warehouse_id: OptId = None, posting_id: OptId = None,
           status: Annotated[str | None, Query(max_length=16)] = None,
           since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """库存流水 — entries by id with their posting's kind, reference (单号) and who posted it."""
    _scope(actor, warehouse_id)
    cost = holds(actor.permissions, "price.view_cost")
    rows = app.queries.page_ledger(
        pg.decode(cursor, "id"), limit + 1, product_id=product_id, lot_id=lot_id, location_id=location_id,
        warehouse_id=warehouse_id, posting_id=posting_id, status=status, since=_aware(app, since),
        until=_aware(app, until), warehouse_ids=None if actor.warehouses is None else sorted(actor.warehouses))
    hidden = set() if cost else {"unit_cost", "value"}
    return pg.by_id(rows, limit, lambda r: plain({k: v for k, v in r.items() if k not in hidden}))


@router.get("/audit", tags=["audit"])
def audit(actor: CurrentActor, app: JxcApp, limit: pg.Limit = pg.DEFAULT_LIMIT, cursor: pg.Cursor = None,
          username: Annotated[str | None, Query(max_length=64)] = None,
          action: Annotated[str | None, Query(max_length=64)] = None,
          product_id: OptId = None, document_id: OptId = None,
          since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """操作日志 — newest first; needs audit.view."""
    auth.require_permission(actor, "audit.view")
    before = pg.decode(cursor, "seq")
    rows = app.queries.audit(username=username, action=action, product_id=product_id, document_id=document_id,
                             since=_aware(app, since), until=_aware(app, until), before_seq=before,
                             limit=limit + 1)
    nxt = pg.encode("seq", rows[limit - 1]["seq"]) if len(rows) > limit else None
    return {"items": plain(rows[:limit]), "next_cursor": nxt}


@router.get("/reports/stock-value", tags=["reports"])
def stock_value(actor: CurrentActor, app: JxcApp, warehouse_id: OptId = None) -> dict[str, Any]:
    """库存金额汇总 — quantity and value per warehouse and product (report.view + price.view_cost)."""
    auth.require_permission(actor, "report.view")
    auth.require_permission(actor, "price.view_cost")
    _scope(actor, warehouse_id)
    totals: dict[tuple[str | None, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in _rows(app, actor, app.queries.balances(None, warehouse_id)):
        t = totals[(r["warehouse"], r["product"])]
        t[0] += Decimal(r["qty"])
        t[1] += Decimal(r["value"])
    items = [{"warehouse": w, "product": p, "qty": str(q), "value": str(v)}
             for (w, p), (q, v) in sorted(totals.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))]
    return {"items": items, "total_value": str(sum((Decimal(i["value"]) for i in items), Decimal(0)))}



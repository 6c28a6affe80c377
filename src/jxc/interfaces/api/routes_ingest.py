"""POS 与渠道导入 — batches of sale / return / channel-order events; per-event results; the record.

Each event carries the source's own id; (source, source_id) applies once whatever the retries or
overlapping batches (services.ingest). The answer is 200 with one result per event, in order:
`applied`, `held` (recorded; stock exception raised), `duplicate` (the first result), `refused`
(with its problem in the error envelope's fields) — one bad event never loses the others.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from jxc.domain.permissions import holds
from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp
from jxc.interfaces.api.render import plain
from jxc.services import ingest
from jxc.services.documents import Forbidden
from jxc.services.posting import Actor

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])
Text = Annotated[str | None, Field(max_length=500)]
Num = Annotated[str | None, Field(max_length=30, description="decimal as text, e.g. '12.5'")]


class LineIn(BaseModel):
    product: Annotated[str | None, Field(max_length=64, description="product code or barcode 商品编码/条码")] = None
    qty: Annotated[str, Field(max_length=30, description="quantity 数量 (0 allowed: recorded, no stock move)")] = "0"
    unit: Annotated[str | None, Field(max_length=16)] = None
    unit_price: Num = None
    amount: Num = None
    kind: Literal["item", "discount"] = "item"
    inventory_change: bool | None = Field(None, description="recorded as sent; never decides a stock move")
    lot: Annotated[str | None, Field(max_length=64)] = None


class EventIn(BaseModel):
    source_id: str = Field(min_length=1, max_length=128, description="the event's id in the source system")
    warehouse: Annotated[str | None, Field(max_length=64, description="store / warehouse code 门店编码")] = None
    warehouse_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None
    occurred_at: datetime = Field(description="when it happened, with a time zone")
    lines: list[LineIn] = Field(default_factory=list, max_length=500)
    order_id: Annotated[str | None, Field(max_length=128, description="channel order id 渠道订单号")] = None
    reason: Text = None
    remark: Text = None


class PosEvent(EventIn):
    type: Literal["sale", "return"]


class ChannelEvent(EventIn):
    type: Literal["order", "cancel", "ship", "sale", "return"]


class PosBatch(BaseModel):
    source: str = Field(min_length=1, max_length=64, description="the sending system, e.g. pos:store-01")
    events: list[PosEvent] = Field(min_length=1, max_length=ingest.MAX_BATCH)


class ChannelBatch(BaseModel):
    source: str = Field(min_length=1, max_length=64, description="the sending system, e.g. meituan")
    channel: str = Field(min_length=1, max_length=32, description="channel code 渠道编码 (its warehouses, TTL)")
    events: list[ChannelEvent] = Field(min_length=1, max_length=ingest.MAX_BATCH)


def _event(ev: PosEvent | ChannelEvent) -> ingest.IngestEvent:
    where: str | int = ev.warehouse_id if ev.warehouse_id is not None else (ev.warehouse or "")
    lines = tuple(ingest.IngestLine(ln.product, ln.qty, ln.unit, ln.unit_price, ln.amount, ln.kind,
                                    ln.inventory_change, ln.lot) for ln in ev.lines)
    return ingest.IngestEvent(ev.source_id, ev.type, where, ev.occurred_at, lines,
                              ev.order_id, ev.reason, ev.remark, ev.model_dump(mode="json"))


def _answer(outcomes: list[ingest.Outcome]) -> dict[str, Any]:
    results = [{"source_id": o.source_id, "result": o.result, "event_id": o.event_id, "status": o.status,
                "document_id": o.document_id, "document_number": o.document_number,
                "reservations": o.reservations, "problem": plain(o.problem), "notes": list(o.notes)}
               for o in outcomes]
    counts = {k: sum(1 for o in outcomes if o.result == k) for k in ("applied", "held", "duplicate", "refused")}
    return {"results": results, **counts}


@router.post("/pos")
def ingest_pos(body: PosBatch, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """POS 导入 — sales and returns of a till; each event applied once by (source, source_id)."""
    outcomes = ingest.ingest(app.uow_factory, "pos", body.source, [_event(e) for e in body.events], actor,
                             app.clock.now())
    return _answer(outcomes)


@router.post("/channel")
def ingest_channel(body: ChannelBatch, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """渠道导入 — orders (reserve), cancels (release), shipments (deliver), sales and returns."""
    outcomes = ingest.ingest(app.uow_factory, "channel", body.source, [_event(e) for e in body.events], actor,
                             app.clock.now(), channel=body.channel)
    return _answer(outcomes)


def _scope(actor: Actor) -> list[int] | None:
    """Who may read the record: sellers (their stores) and report readers; warehouses as scoped."""
    if not (holds(actor.permissions, "document.create.sales_delivery") or holds(actor.permissions, "report.view")):
        raise Forbidden("PERMISSION_DENIED", f"{actor.name} 没有权限查看导入记录（需销售或报表权限）",
                        f"{actor.name} may not read ingested events (needs sales or report.view)", field=None,
                        details={"permission": "report.view"})
    return None if actor.warehouses is None else sorted(actor.warehouses)


@router.get("/events")
def events(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
           source: Annotated[str | None, Query(max_length=64)] = None,
           status: Literal["applied", "held"] | None = None, feed: Literal["pos", "channel"] | None = None,
           type: Annotated[str | None, Query(max_length=16)] = None) -> dict[str, Any]:  # noqa: A002 (the field's name)
    """导入记录 — every recorded event with every line (zero-quantity and discount lines too);
    `status=held` is the stock-exception list (its draft's `document_state` says whether it is resolved)."""
    rows = app.queries.page_ingest(pg.decode(cursor, "id"), limit + 1, source=source, status=status, feed=feed,
                                   event_type=type, warehouse_ids=_scope(actor))
    return pg.by_id(rows, limit, plain)


@router.get("/events/{event_id}")
def event(event_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """导入事件详情 — the event as sent, its lines, result, document and reservations."""
    _scope(actor)
    row = ingest.get_event(app.uow_factory, event_id)
    if actor.warehouses is not None and row["warehouse_id"] not in actor.warehouses:
        raise Forbidden("WAREHOUSE_NOT_PERMITTED", f"{actor.name} 无权查看该仓库/门店", f"{actor.name} may not see this warehouse",
                        field="warehouse_id")
    rows = app.queries.page_ingest(event_id - 1, 1)
    return plain(rows[0])

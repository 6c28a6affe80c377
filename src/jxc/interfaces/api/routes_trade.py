"""采购与销售 — orders (create, confirm, deliver, receive, close, get, list), quick sale, returns,
price resolution and price lists, supplier terms, purchase suggestions, supplier scorecard, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field

from jxc.domain.errors import DomainError, Forbidden
from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp, caller_key
from jxc.interfaces.api.render import plain
from jxc.services import documents as docs
from jxc.services import pricing, purchasing, reports, trade
from jxc.services.posting import Actor

router = APIRouter(prefix="/api/v1", tags=["trade"])
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
QId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
Qty = Annotated[str, Field(min_length=1, max_length=30, description="decimal as text 数量")]
Price = Annotated[str | None, Field(max_length=30, description="decimal as text; empty: from the price list")]
Text = Annotated[str | None, Field(max_length=2000)]
Quantities = Annotated[dict[Annotated[int, Field(ge=1, le=100_000)], Qty] | None,
                       Field(description="{line_no: qty in base units}; null = everything outstanding")]


class OrderLineIn(BaseModel):
    product_id: DbId
    qty: Qty
    unit: Annotated[str | None, Field(max_length=16)] = None
    unit_price: Price = None


class OrderIn(BaseModel):
    kind: Literal["purchase", "sales"]
    partner_id: DbId
    warehouse_id: DbId
    lines: list[OrderLineIn] = Field(max_length=2000)
    needed_on: datetime | None = None
    remark: Text = None


class FulfilIn(BaseModel):
    quantities: Quantities = None


class ReceiveIn(FulfilIn):
    freight: Annotated[str | None, Field(max_length=30)] = Field(
        None, description="运费 — freight in 元 (≥ 0, whole 分), split over the receipt's lines and owed to the supplier")
    freight_basis: Literal["amount", "qty"] | None = Field(
        None, description="分摊方式 — split by line amount (default) or by base quantity")


class CloseIn(BaseModel):
    reason: Text = None


class QuickSaleIn(BaseModel):
    warehouse_id: DbId
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    partner_id: DbId | None = None
    channel: Annotated[str | None, Field(max_length=32)] = "store"
    member: bool = False
    remark: Text = None


class ReturnIn(BaseModel):
    source_document_id: DbId
    quantities: dict[Annotated[int, Field(ge=1, le=100_000)], Qty] = Field(min_length=1)
    reason_code: Annotated[str | None, Field(max_length=32)] = None
    reason_text: Text = None


class PriceIn(BaseModel):
    product_id: DbId
    tier: Literal["default", "customer", "channel", "member"]
    unit_price: Qty
    unit: Annotated[str | None, Field(max_length=16)] = None
    partner_id: DbId | None = None
    channel: Annotated[str | None, Field(max_length=32)] = None


class TermsIn(BaseModel):
    partner_id: DbId
    product_id: DbId
    unit_price: Price = None
    pack_unit: Annotated[str | None, Field(max_length=16)] = None
    lead_time_days: Annotated[int | None, Field(ge=0, le=365)] = None
    preferred: bool = False


class ConvertIn(BaseModel):
    suggestion_ids: list[DbId] | None = Field(None, max_length=1000, description="null: every open suggestion")


def _aware(at: datetime | None, field: str) -> datetime | None:
    if at is not None and at.tzinfo is None:
        raise DomainError("VALUE_INVALID", f"{field} 必须带时区，例如 2026-11-01T09:00:00+08:00",
                          f"{field} must carry a time zone, e.g. 2026-11-01T09:00:00+08:00", field=field)
    return at


def _order(app: Any, order_id: int, actor: Actor) -> dict[str, Any]:
    order = trade.get_order(app.uow_factory, order_id)
    if actor.warehouses is not None and order["warehouse_id"] not in actor.warehouses:
        raise Forbidden("WAREHOUSE_NOT_PERMITTED", f"{actor.name} 无权查看该仓库/门店的订单",
                        f"{actor.name} may not see orders of this warehouse or store", field="warehouse_id")
    return plain(order)


def _lines(body: list[OrderLineIn]) -> list[trade.OrderLineInput]:
    return [trade.OrderLineInput(ln.product_id, ln.qty, ln.unit, ln.unit_price) for ln in body]


@router.get("/orders", tags=["orders"])
def list_orders(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
                kind: Literal["purchase", "sales"] | None = None,
                state: Literal["draft", "confirmed", "partial", "done", "closed", "cancelled"] | None = None,
                partner_id: QId = None, warehouse_id: QId = None,
                number: Annotated[str | None, Query(max_length=40)] = None) -> dict[str, Any]:
    """订单列表 — by id, filtered, only the caller's warehouses."""
    rows = trade.list_orders(app.uow_factory, actor, pg.decode(cursor, "id"), limit + 1, kind=kind, state=state,
                             partner_id=partner_id, warehouse_id=warehouse_id, number=number)
    return pg.by_id(rows, limit, plain)


@router.post("/orders", status_code=201, tags=["orders"])
def create_order(body: OrderIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """新建订单 — a draft; a line without a price takes the price list / supplier terms price."""
    oid = trade.create_order(app.uow_factory, body.kind, body.partner_id, body.warehouse_id, _lines(body.lines),
                             actor, app.clock.now(), _aware(body.needed_on, "needed_on"), body.remark)
    return _order(app, oid, actor)


@router.get("/orders/{order_id}", tags=["orders"])
def get_order(order_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """订单详情 — header and lines with delivered / received quantities."""
    return _order(app, order_id, actor)


@router.post("/orders/{order_id}/confirm", tags=["orders"])
def confirm(order_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """确认 — a sales order reserves stock; shortfalls become purchase suggestions (returned)."""
    _order(app, order_id, actor)
    suggestions = trade.confirm_order(app.uow_factory, order_id, actor, app.clock.now())
    return {**_order(app, order_id, actor), "suggestions": plain(suggestions)}


@router.post("/orders/{order_id}/deliver", status_code=201, tags=["orders"])
def deliver(order_id: pg.Id, body: FulfilIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """按订单出库 — a sales delivery for the given lines (consumes their reservations); returns the document."""
    _order(app, order_id, actor)
    doc = trade.deliver(app.uow_factory, order_id, body.quantities, actor, app.clock.now())
    return plain(docs.get(app.uow_factory, doc))


@router.post("/orders/{order_id}/receive", status_code=201, tags=["orders"])
def receive(order_id: pg.Id, body: ReceiveIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """按订单入库 — a purchase receipt (with optional freight 运费); beyond the over-receipt tolerance it waits
    for approval."""
    _order(app, order_id, actor)
    doc = trade.receive(app.uow_factory, order_id, body.quantities, actor, app.clock.now(),
                        freight=body.freight, freight_basis=body.freight_basis)
    return plain(docs.get(app.uow_factory, doc))


@router.post("/orders/{order_id}/close", tags=["orders"])
def close(order_id: pg.Id, body: CloseIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """关闭 — nothing more will come or go; reservations still held are released."""
    _order(app, order_id, actor)
    trade.close_order(app.uow_factory, order_id, actor, app.clock.now(), body.reason)
    return _order(app, order_id, actor)


@router.post("/quick-sales", status_code=201, tags=["orders"])
def quick_sale(body: QuickSaleIn, request: Request, actor: CurrentActor, app: JxcApp,
               idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> dict[str, Any]:
    """开单 — priced, delivered and posted in one transaction (counter trade); returns the delivery with
    price sources, or `pending_approval` when a rule asks for it. Send `Idempotency-Key` from a till: a
    retry returns the first sale, even when the first answer never arrived."""
    key = caller_key(request, actor, idempotency_key)
    inp = trade.QuickSaleInput(body.warehouse_id, tuple(_lines(body.lines)), body.partner_id, body.channel,
                               body.member, idempotency_key=key, remark=body.remark)
    return plain(trade.quick_sale(app.uow_factory, inp, actor, app.clock.now()))


@router.post("/returns", status_code=201, tags=["orders"])
def create_return(body: ReturnIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """退货 — against a posted purchase receipt or sales delivery, at its cost; a reason is required."""
    doc = trade.return_goods(app.uow_factory, body.source_document_id, body.quantities, actor, app.clock.now(),
                             body.reason_code, body.reason_text)
    return plain(docs.get(app.uow_factory, doc))


@router.get("/prices/resolve", tags=["prices"])
def resolve_price(actor: CurrentActor, app: JxcApp, product_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
                  unit: Annotated[str | None, Query(max_length=16)] = None, partner_id: QId = None,
                  channel: Annotated[str | None, Query(max_length=32)] = None, member: bool = False,
                  side: Literal["sales", "purchase"] = "sales") -> dict[str, Any]:
    """取价 — the price that applies to this customer / channel / unit, with its source (客户价 / 渠道价 …)."""
    q = pricing.PriceQuery(product_id, unit, partner_id, channel, member, side)
    return plain(pricing.resolve(app.uow_factory, q, app.clock.now()))


@router.get("/prices/{product_id}", tags=["prices"])
def price_list(product_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """价格表 — every price row and supplier terms of a product."""
    return plain(pricing.price_list(app.uow_factory, product_id))


@router.put("/prices", tags=["prices"])
def set_price(body: PriceIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """定价 — save one price (needs price.edit)."""
    pid = pricing.set_price(app.uow_factory, body.product_id, body.tier, body.unit_price, actor, app.clock.now(),
                            body.unit, body.partner_id, body.channel)
    return {"id": pid}


@router.put("/supplier-terms", tags=["prices"])
def set_terms(body: TermsIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """供货条件 — default purchase price, pack size (箱规), lead time, preferred supplier."""
    tid = pricing.set_supplier_terms(app.uow_factory, body.partner_id, body.product_id, actor, app.clock.now(),
                                     body.unit_price, body.pack_unit, body.lead_time_days, body.preferred)
    return {"id": tid}


@router.get("/purchase-suggestions", tags=["purchasing"])
def list_suggestions(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
                     state: Literal["open", "converted", "fulfilled", "obsolete"] | None = "open") -> dict[str, Any]:
    """以销定购建议 — shortfall, preferred supplier, needed and order-by dates, source order line."""
    rows = purchasing.list_suggestions(app.uow_factory, state, pg.decode(cursor, "id"), limit + 1)
    if actor.warehouses is not None:
        rows = [r for r in rows if r["warehouse_id"] in actor.warehouses]
    return pg.by_id(rows, limit, plain)


@router.post("/purchase-suggestions/convert", status_code=201, tags=["purchasing"])
def convert(body: ConvertIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """一键生成采购订单 — open suggestions → draft purchase orders, one per supplier and warehouse."""
    made = purchasing.convert(app.uow_factory, body.suggestion_ids, actor, app.clock.now())
    return {"orders": [_order(app, oid, actor) for oid in made]}


@router.get("/suppliers/scorecard", tags=["purchasing"])
def scorecard(actor: CurrentActor, app: JxcApp, supplier_id: QId = None,
              months: Annotated[int, Query(ge=1, le=24)] = 3) -> dict[str, Any]:
    """供应商考核 — on-time, fill and return rates over the last months (return rate > 15 % flagged)."""
    return {"items": plain(purchasing.scorecard(app.uow_factory, actor, app.clock.now(), supplier_id, months))}


@router.get("/reports/{name}", tags=["reports"])
def report(name: Literal["purchase_summary", "sales_summary", "gross_profit", "purchase_fulfilment",
                         "sales_fill_rate"],
           actor: CurrentActor, app: JxcApp, by: Annotated[str, Query(max_length=16)] = "product",
           since: datetime | None = None, until: datetime | None = None, warehouse_id: QId = None,
           partner_id: QId = None, product_id: QId = None, cursor: pg.Cursor = None,
           limit: pg.Limit = pg.DEFAULT_LIMIT) -> dict[str, Any]:
    """报表 — grouped by `by`, filtered, paged (`next_cursor`)."""
    now = app.clock.now()
    offset = now.astimezone(app.settings.zone).utcoffset()
    flt = reports.ReportFilter(_aware(since, "since"), _aware(until, "until"), warehouse_id, partner_id, product_id,
                               int(offset.total_seconds() // 60) if offset else 0)
    page = reports.run(app.queries, actor, name, by, flt, pg.decode(cursor, "offset") or 0, limit)
    nxt = None if page["next_offset"] is None else pg.encode("offset", page["next_offset"])
    return {"report": name, "by": page["by"], "items": plain(page["items"]), "next_cursor": nxt}

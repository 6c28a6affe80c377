"""可用量与预占 — available with its why, shippable lots (FEFO), reserve and release over HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp
from jxc.interfaces.api.routes_stock import _scope
from jxc.services import reserving

router = APIRouter(prefix="/api/v1", tags=["reservations"])
Id = Annotated[int, Query(ge=1, le=2**31 - 1)]


@router.get("/stock/available")
def available(product_id: Id, warehouse_id: Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """可用量 — on hand, reserved, available, and every part of the rest with its reason and holder."""
    _scope(actor, warehouse_id)
    today = app.clock.now().astimezone(app.settings.zone).date()
    e = reserving.availability(app.uow_factory, product_id, warehouse_id, today)
    return {"on_hand": str(e.on_hand), "reserved": str(e.reserved), "available": str(e.available),
            "parts": [{"reason": p.reason, "qty": str(p.qty), "location": p.location, "lot": p.lot,
                       "holder": p.holder, "message_zh": p.zh, "message_en": p.en} for p in e.parts]}


@router.get("/stock/shippable-lots")
def shippable_lots(product_id: Id, warehouse_id: Id, actor: CurrentActor, app: JxcApp) -> list[dict[str, Any]]:
    """可发批次 — sellable lots in the order they would ship (FEFO for lot-tracked products)."""
    _scope(actor, warehouse_id)
    today = app.clock.now().astimezone(app.settings.zone).date()
    return [{"lot_id": lot.lot_id, "lot": lot.lot_number or None, "expires_on": lot.expires_on,
             "qty": str(lot.qty)} for lot in reserving.shippable_lots(app.uow_factory, product_id, warehouse_id, today)]


class ReserveIn(BaseModel):
    product_id: int = Field(ge=1, le=2**31 - 1)
    warehouse_id: int = Field(ge=1, le=2**31 - 1)
    qty: Decimal = Field(gt=0, max_digits=18, decimal_places=4)
    holder: str = Field(min_length=1, max_length=128, description="who holds it, e.g. sales_order:XSDD-…")
    channel: str | None = Field(None, max_length=32)
    lot_id: int = Field(0, ge=0, le=2**31 - 1)
    ttl_s: int | None = Field(None, ge=1, le=30 * 86400)
    allow_partial: bool = False


class ReleaseIn(BaseModel):
    reason: str | None = Field(None, max_length=200)


@router.post("/reservations", status_code=201)
def reserve(body: ReserveIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """预占 — all of it, or with `allow_partial` what there is plus the shortage; 409 STOCK_INSUFFICIENT
    with the available figure otherwise. Retries are safe with an Idempotency-Key header."""
    r = reserving.reserve(app.uow_factory, reserving.ReserveRequest(
        body.product_id, body.warehouse_id, body.qty, body.holder, body.channel, body.lot_id, body.ttl_s,
        body.allow_partial), actor, app.clock.now())
    return {"reservation_id": r.reservation_id, "qty": str(r.qty), "shortage": str(r.shortage),
            "available_before": str(r.available_before), "expires_at": r.expires_at}


@router.post("/reservations/{reservation_id}/release")
def release(reservation_id: pg.Id, body: ReleaseIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """释放 — the rest of a pending reservation is free again."""
    left = reserving.release(app.uow_factory, reservation_id, actor, app.clock.now(), body.reason)
    return {"reservation_id": reservation_id, "released": str(left)}

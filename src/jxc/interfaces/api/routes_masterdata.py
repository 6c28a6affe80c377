"""主数据 — products, partners, warehouses, locations, lots: list (cursor + filters), get, create,
change (with the version read), deactivate; barcodes, unit conversions and lots of a product."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from jxc.domain.errors import DomainError, NotFound
from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp
from jxc.interfaces.api.render import plain
from jxc.services import auth, masterdata

router = APIRouter(prefix="/api/v1", tags=["master data"])
EDIT = "masterdata.edit"


class Resource(StrEnum):
    products = "products"
    partners = "partners"
    warehouses = "warehouses"
    locations = "locations"
    lots = "lots"


# filter -> the resources it applies to (anything else is refused, so typos do not return everything)
FILTERS = {"code": {"products", "partners", "warehouses", "locations"},
           "active": {"products", "partners", "warehouses", "locations"},
           "category": {"products"}, "tracking": {"products"}, "role": {"partners"},
           "kind": {"warehouses", "locations"}, "warehouse_id": {"locations"}, "product_id": {"lots"},
           "lot_number": {"lots"}}

Record = Annotated[dict[str, Any], Body(description="fields of the record 字段", examples=[{"code": "P001"}])]


class Change(BaseModel):
    version: int = Field(ge=1, description="the version you read 读取时的版本号")
    changes: dict[str, Any] = Field(description="fields to change 要修改的字段")


class BarcodeIn(BaseModel):
    barcode: str = Field(min_length=1, max_length=64)


class UnitIn(BaseModel):
    unit: str = Field(min_length=1, max_length=16)
    factor: str = Field(min_length=1, max_length=30, description="base units per unit, e.g. '12'")


class LotIn(BaseModel):
    lot_number: str = Field(min_length=1, max_length=64)
    produced_on: date | None = None
    expires_on: date | None = None


def _register(res: Resource) -> APIRouter:
    """The routes of one resource (explicit paths: an unknown resource is a 404, not a 422)."""
    r = APIRouter(prefix="/api/v1", tags=["master data"])

    @r.get(f"/{res.value}")
    def list_records(
        actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
        q: Annotated[str | None, Query(max_length=100, description="code or name contains 编码/名称包含")] = None,
        code: Annotated[str | None, Query(max_length=64)] = None, active: bool | None = None,
        category: Annotated[str | None, Query(max_length=100)] = None,
        tracking: Annotated[str | None, Query(max_length=16)] = None,
        role: Annotated[str | None, Query(max_length=16)] = None, kind: Annotated[str | None, Query(max_length=16)] = None,
        warehouse_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
        product_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
        lot_number: Annotated[str | None, Query(max_length=64)] = None,
    ) -> dict[str, Any]:
        """列表 — ordered by id; `next_cursor` fetches the next page."""
        given = {"code": code, "active": active, "category": category, "tracking": tracking, "role": role,
                 "kind": kind, "warehouse_id": warehouse_id, "product_id": product_id, "lot_number": lot_number}
        for name, value in given.items():
            if value is not None and res.value not in FILTERS[name]:
                raise DomainError("VALUE_INVALID", f"{res.value} 不支持筛选条件 {name}",
                                  f"{res.value} cannot be filtered by {name}", field=name)
        rows = app.queries.page_records(res.value, pg.decode(cursor, "id"), limit + 1, q=q,
                                        **{k: v for k, v in given.items() if v is not None})
        return pg.by_id(rows, limit, plain)


    @r.get(f"/{res.value}/{{record_id}}")
    def get_record(record_id: pg.Id,
                   actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
        """详情."""
        rows = app.queries.page_records(res.value, None, 1, id=record_id)
        if not rows or rows[0]["id"] != record_id:
            raise NotFound("NOT_FOUND", f"{res.value} {record_id} 不存在", f"{res.value} {record_id} does not exist",
                           field="id")
        return plain(rows[0])


    @r.post(f"/{res.value}", status_code=201)
    def create_record(body: Record, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
        """新建 — every problem with the fields is reported at once (422)."""
        auth.require_permission(actor, EDIT)
        now = app.clock.now()
        if res is Resource.lots:
            data = dict(body)
            rid = masterdata.create_lot(app.uow_factory, _int(data.get("product_id"), "product_id"),
                                        str(data.get("lot_number") or ""), actor, now,
                                        _date(data.get("produced_on"), "produced_on"),
                                        _date(data.get("expires_on"), "expires_on"))
        else:
            rid = masterdata.create(app.uow_factory, res.value, body, actor, now)
        return get_record(rid, actor, app)


    @r.patch(f"/{res.value}/{{record_id}}")
    def change_record(record_id: pg.Id, body: Change, actor: CurrentActor,
                      app: JxcApp) -> dict[str, Any]:
        """修改 — refused with 409 VERSION_CONFLICT when someone changed the record since `version`."""
        auth.require_permission(actor, EDIT)
        if res is Resource.lots:
            raise DomainError("VALUE_INVALID", "批次不能修改", "lots cannot be changed", field="resource")
        return plain(masterdata.update(app.uow_factory, res.value, record_id, body.changes, body.version,
                                       actor, app.clock.now()))


    @r.post(f"/{res.value}/{{record_id}}/deactivate")
    def deactivate_record(record_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
        """停用 — nothing is deleted; the record stays in history."""
        auth.require_permission(actor, EDIT)
        if res is Resource.lots:
            raise DomainError("VALUE_INVALID", "批次不能停用", "lots cannot be deactivated", field="resource")
        return plain(masterdata.deactivate(app.uow_factory, res.value, record_id, actor, app.clock.now()))

    return r


@router.post("/products/{product_id}/barcodes", status_code=201)
def add_barcode(product_id: pg.Id, body: BarcodeIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """条码 — one more barcode for the product."""
    auth.require_permission(actor, EDIT)
    rid = masterdata.add_barcode(app.uow_factory, product_id, body.barcode, actor, app.clock.now())
    return {"id": rid, "product_id": product_id, "barcode": body.barcode}


@router.post("/products/{product_id}/units", status_code=201)
def add_unit(product_id: pg.Id, body: UnitIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """单位换算 — 1 unit = factor base units."""
    auth.require_permission(actor, EDIT)
    rid = masterdata.add_unit_conversion(app.uow_factory, product_id, body.unit, body.factor, actor, app.clock.now())
    return {"id": rid, "product_id": product_id, "unit": body.unit, "factor": body.factor}


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("VALUE_REQUIRED", f"{field} 必须是整数", f"{field} must be an integer", field=field)
    return value


def _date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise DomainError("VALUE_INVALID", f"{field} 日期格式应为 YYYY-MM-DD", f"{field} must be YYYY-MM-DD",
                          field=field) from exc


def routers() -> list[APIRouter]:
    return [router, *(_register(res) for res in Resource)]

"""盘点 — count plans, tasks, counted lines (offline-safe), recount, close and KPIs over HTTP.

The same services as `jxc count …` (services.counting, services.counting_close): a count never
edits stock; closing proposes the 盘盈盘亏 document and submits it to approval. Blind tasks
never show book quantities or variances to people who cannot approve count adjustments.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from jxc.domain.documents import DocumentKind
from jxc.domain.errors import DomainError
from jxc.domain.permissions import doc_permission, holds
from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp
from jxc.interfaces.api.render import plain
from jxc.interfaces.api.routes_stock import _scope
from jxc.services import auth
from jxc.services import counting as cnt
from jxc.services import counting_close as cc
from jxc.services.counting_scope import recompute_abc
from jxc.services.documents import Forbidden
from jxc.services.posting import Actor

K = DocumentKind

router = APIRouter(prefix="/api/v1/counts", tags=["counting"])
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Name = Annotated[str, Field(min_length=1, max_length=64)]
OptId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class PlanIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    warehouse_id: DbId
    kind: Literal["full", "cycle"] = "cycle"
    location_ids: list[DbId] = Field(default_factory=list, max_length=2000)
    categories: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=200)
    abc_classes: list[Literal["A", "B", "C"]] = Field(default_factory=list, max_length=3)
    rotation_by: Literal["category", "product"] | None = None
    period_days: int = Field(28, ge=1, le=366)
    interval_days: int = Field(7, ge=1, le=366)
    blind: bool = False


class TaskIn(BaseModel):
    assignees: list[Name] = Field(default_factory=list, max_length=100)


class AssignIn(BaseModel):
    assignees: list[Name] = Field(min_length=1, max_length=100)


class EntryIn(BaseModel):
    location: str = Field(min_length=1, max_length=64, description="shelf code (QR) 货架码")
    product: str = Field(min_length=1, max_length=64, description="product code or barcode 商品编码/条码")
    qty: str = Field(min_length=1, max_length=30, description="counted quantity 实盘数量 (0: empty shelf)")
    unit: Annotated[str | None, Field(max_length=16)] = None
    lot: Annotated[str | None, Field(max_length=64)] = None
    condition: Literal["good", "damaged", "near_expiry"] = "good"
    photo_ref: Annotated[str | None, Field(max_length=300)] = None
    counted_at: datetime | None = Field(None, description="when it was counted, with a zone (offline phones)")
    idempotency_key: Annotated[str | None, Field(max_length=128)] = None
    remark: Annotated[str | None, Field(max_length=500)] = None


class PlaceIn(BaseModel):
    location_id: DbId
    product_id: DbId
    lot_id: int = Field(0, ge=0, le=2**31 - 1)


class RecountIn(BaseModel):
    places: list[PlaceIn] = Field(min_length=1, max_length=500)
    comment: str = Field("复盘", min_length=1, max_length=500)


class CloseIn(BaseModel):
    reason_code: str = Field("difference", min_length=1, max_length=32)
    zero_uncounted: bool = Field(False, description="full count: places nobody counted are empty")


def _warehouses(actor: Actor) -> list[int] | None:
    return None if actor.warehouses is None else sorted(actor.warehouses)


@router.get("/plans")
def list_plans(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
               warehouse_id: OptId = None) -> dict[str, Any]:
    """盘点计划 — of the caller's warehouses."""
    auth.require_permission(actor, doc_permission("create", K.COUNT_ADJUSTMENT))
    _scope(actor, warehouse_id)
    rows = app.queries.page_scoped("count_plans", pg.decode(cursor, "id"), limit + 1, _warehouses(actor),
                                   warehouse_id=warehouse_id)
    return pg.by_id(rows, limit, plain)


@router.post("/plans", status_code=201)
def create_plan(body: PlanIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """新建盘点计划 — full or cycle; by shelves, categories, ABC classes or a rotation."""
    inp = cnt.PlanInput(body.name, body.warehouse_id, body.kind, tuple(body.location_ids), tuple(body.categories),
                        tuple(body.abc_classes), body.rotation_by, body.period_days, body.interval_days, body.blind)
    plan_id = cnt.create_plan(app.uow_factory, inp, actor, app.clock.now())
    return plain(app.queries.page_scoped("count_plans", plan_id - 1, 1)[0])


@router.post("/plans/{plan_id}/tasks", status_code=201)
def start_task(plan_id: pg.Id, body: TaskIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """下达盘点任务 — lists what to count where as of now; answers with the count sheet."""
    task_id = cnt.create_task(app.uow_factory, plan_id, actor, app.clock.now(), body.assignees)
    return plain(cc.sheet(app.uow_factory, task_id, actor, app.clock.now()))


@router.get("/tasks")
def list_tasks(actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
               warehouse_id: OptId = None, plan_id: OptId = None,
               state: Literal["open", "counting", "closed", "cancelled"] | None = None) -> dict[str, Any]:
    """盘点任务 — headers, filtered by warehouse, plan and state."""
    auth.require_permission(actor, doc_permission("create", K.COUNT_ADJUSTMENT))
    _scope(actor, warehouse_id)
    rows = app.queries.page_scoped("count_tasks", pg.decode(cursor, "id"), limit + 1, _warehouses(actor),
                                   warehouse_id=warehouse_id, plan_id=plan_id, state=state)
    return pg.by_id(rows, limit, plain)


@router.get("/tasks/{task_id}")
def task_sheet(task_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """盘点表 — what to count where and what was counted; book and variance unless blind."""
    return plain(cc.sheet(app.uow_factory, task_id, actor, app.clock.now()))


@router.put("/tasks/{task_id}/assignees")
def assign(task_id: pg.Id, body: AssignIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """分配盘点人 — replaces the task's counters."""
    cnt.assign(app.uow_factory, task_id, body.assignees, actor, app.clock.now())
    return plain(cc.sheet(app.uow_factory, task_id, actor, app.clock.now()))


@router.post("/tasks/{task_id}/entries", status_code=201)
def enter(task_id: pg.Id, body: EntryIn, response: Response, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """录入盘点行 — any unit; a phone resending with the same `idempotency_key` is stored once
    (200, `created: false`); the same key with other content is 422 IDEMPOTENCY_MISMATCH."""
    if body.counted_at is not None and body.counted_at.tzinfo is None:
        raise DomainError("VALUE_INVALID", "盘点时间必须带时区，例如 2026-11-01T09:00:00+08:00",
                          "counted_at must carry a time zone, e.g. 2026-11-01T09:00:00+08:00", field="counted_at")
    line = cnt.CountLine(body.location, body.product, body.qty, body.unit, body.lot, body.condition,
                         body.photo_ref, body.counted_at, body.idempotency_key, body.remark)
    entry_id, created = cnt.enter_line(app.uow_factory, task_id, line, actor, app.clock.now())
    if not created:
        response.status_code = 200
    return {"entry_id": entry_id, "created": created}


@router.post("/tasks/{task_id}/recount")
def recount(task_id: pg.Id, body: RecountIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """复盘 — count these places again (withdraws a pending adjustment)."""
    refs = [(p.location_id, p.product_id, p.lot_id) for p in body.places]
    cc.recount(app.uow_factory, task_id, refs, actor, app.clock.now(), body.comment)
    return plain(cc.sheet(app.uow_factory, task_id, actor, app.clock.now()))


@router.post("/tasks/{task_id}/close")
def close(task_id: pg.Id, body: CloseIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """结束盘点 — proposes the 盘盈盘亏 document for every variance and submits it to approval."""
    r = cc.close(app.uow_factory, task_id, actor, app.clock.now(), body.reason_code, body.zero_uncounted)
    with_book = holds(actor.permissions, doc_permission("approve", K.COUNT_ADJUSTMENT))
    lines = []
    for ln in r.lines:
        row = {"location_id": ln.ref[0], "product_id": ln.ref[1], "lot_id": ln.ref[2],
               "counted_qty": ln.counted_qty, "counted_at": ln.counted_at, "counted_by": ln.counted_by,
               "counters": list(ln.counters), "conditions": list(ln.conditions)}
        if with_book:
            row |= {"book_qty": ln.book_qty, "variance": ln.variance}
        lines.append(row)
    return plain({"task_id": r.task_id, "document_id": r.document_id, "document_state": r.document_state,
                  "lines": lines, "uncounted": [list(u) for u in r.uncounted]})


@router.get("/kpis", tags=["reports"])
def kpis(actor: CurrentActor, app: JxcApp, warehouse_id: OptId = None,
         since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """盘点准确率 — per task and month; adjustment value by reason, category and counter (report.view)."""
    auth.require_permission(actor, "report.view")
    if warehouse_id is None and actor.warehouses is not None:
        raise Forbidden("WAREHOUSE_NOT_PERMITTED", "请选择您负责的仓库", "choose one of your warehouses",
                        field="warehouse_id")
    _scope(actor, warehouse_id)
    for name, at in (("since", since), ("until", until)):
        if at is not None and at.tzinfo is None:
            raise DomainError("VALUE_INVALID", f"{name} 必须带时区", f"{name} must carry a time zone", field=name)
    return plain(cc.kpis(app.uow_factory, since, until, warehouse_id))


@router.post("/abc")
def abc(actor: CurrentActor, app: JxcApp,
        days: Annotated[int, Query(ge=1, le=3650, description="usage window in days")] = 90) -> dict[str, Any]:
    """ABC 重算 — classify every product by value of usage (run monthly); counts per class."""
    return recompute_abc(app.uow_factory, actor, app.clock.now(), days)

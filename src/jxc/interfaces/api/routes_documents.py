"""单据 — create draft, edit, submit (= post when no approval is needed), approve, reject, cancel,
reverse, transfer receipt; list with filters, scoped to the caller's warehouses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field

from jxc.domain import documents as d
from jxc.domain.errors import DomainError
from jxc.domain.permissions import holds
from jxc.interfaces.api import pagination as pg
from jxc.interfaces.api.deps import CurrentActor, JxcApp, caller_key
from jxc.interfaces.api.render import plain
from jxc.services import documents, transfers, users
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.documents import Forbidden
from jxc.services.posting import Actor

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])
Text = Annotated[str | None, Field(max_length=2000)]
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class LineIn(BaseModel):
    product_id: DbId
    qty: str = Field(min_length=1, max_length=30, description="decimal as text 数量, e.g. '12.5'")
    unit: Annotated[str | None, Field(max_length=16)] = None
    lot_id: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    unit_price: Annotated[str | None, Field(max_length=30)] = None
    location_id: DbId | None = None
    role: Annotated[str, Field(max_length=16)] = ""
    from_status: Annotated[str, Field(max_length=16)] = "available"
    to_status: Annotated[str | None, Field(max_length=16)] = None
    remark: Text = None


class DraftIn(BaseModel):
    kind: d.DocumentKind
    warehouse_id: DbId
    lines: list[LineIn] = Field(max_length=2000)
    effective_at: datetime | None = None
    partner_id: DbId | None = None
    to_warehouse_id: DbId | None = None
    remark: Text = None
    reason_code: Annotated[str | None, Field(max_length=32)] = None
    reason_text: Text = None
    freight: Annotated[str | None, Field(max_length=30)] = Field(
        None, description="运费 — purchase receipts only: freight in 元 (≥ 0, whole 分), split over the lines "
                          "into their cost and owed to the supplier")
    freight_basis: Annotated[str | None, Field(max_length=8)] = Field(
        None, description="分摊方式 — 'amount' (by line amount, default) or 'qty' (by base quantity)")


class EditIn(DraftIn):
    version: int = Field(ge=1, le=2**31 - 1, description="the version you read 读取时的版本号")


class ApproveIn(BaseModel):
    password: str = Field(min_length=1, max_length=200, description="your password again 再次输入密码")
    comment: Text = None


class CommentIn(BaseModel):
    comment: str = Field(min_length=1, max_length=2000)


class ReasonIn(BaseModel):
    reason: Text = None


class ReverseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    effective_at: datetime | None = None


class ReceiptIn(BaseModel):
    received: dict[int, str] | None = Field(None, description="{line_no: qty in base units}; null = everything")
    final: bool = True
    remark: Text = None


def _draft(body: DraftIn, key: str | None) -> DraftInput:
    lines = tuple(LineInput(ln.product_id, ln.qty, ln.unit, ln.lot_id, ln.unit_price, ln.location_id, ln.role,
                            ln.from_status, ln.to_status, ln.remark) for ln in body.lines)
    if body.effective_at is not None and body.effective_at.tzinfo is None:
        raise DomainError("VALUE_INVALID", "业务时间必须带时区，例如 2026-11-01T09:00:00+08:00",
                          "effective_at must carry a time zone, e.g. 2026-11-01T09:00:00+08:00", field="effective_at")
    return DraftInput(body.kind, body.warehouse_id, lines, body.effective_at, body.partner_id, body.to_warehouse_id,
                      body.remark, body.reason_code, body.reason_text, idempotency_key=key,
                      freight=body.freight, freight_basis=body.freight_basis)


def _visible(actor: Actor, doc: dict[str, Any]) -> None:
    wids = {doc["warehouse_id"], doc.get("to_warehouse_id")} - {None}
    if actor.warehouses is not None and not wids & actor.warehouses:
        raise Forbidden("WAREHOUSE_NOT_PERMITTED", f"{actor.name} 无权查看该仓库/门店的单据",
                        f"{actor.name} may not see documents of this warehouse or store", field="warehouse_id")
    if not holds(actor.permissions, "document.view_all") and doc["created_by"] != actor.name:
        raise Forbidden("PERMISSION_DENIED", "只能查看自己的单据（需“查看他人单据”权限）",
                        "you may only see your own documents (document.view_all)", field=None,
                        details={"permission": "document.view_all"})


def _doc(app: Any, doc_id: int, actor: Actor) -> dict[str, Any]:
    doc = documents.get(app.uow_factory, doc_id)
    _visible(actor, doc)
    return plain(doc)


@router.get("")
def list_documents(
    actor: CurrentActor, app: JxcApp, cursor: pg.Cursor = None, limit: pg.Limit = pg.DEFAULT_LIMIT,
    kind: d.DocumentKind | None = None, state: d.DocumentState | None = None,
    warehouse_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    partner_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    created_by: Annotated[str | None, Query(max_length=64)] = None,
    number: Annotated[str | None, Query(max_length=40)] = None,
    since: datetime | None = None, until: datetime | None = None,
) -> dict[str, Any]:
    """单据列表 — headers by id, only the caller's warehouses (and own documents without view_all)."""
    if warehouse_id is not None and actor.warehouses is not None and warehouse_id not in actor.warehouses:
        raise Forbidden("WAREHOUSE_NOT_PERMITTED", f"{actor.name} 无权查看该仓库/门店", f"{actor.name} may not see this warehouse",
                        field="warehouse_id")
    if not holds(actor.permissions, "document.view_all"):
        created_by = actor.name if created_by in (None, actor.name) else "\x00nobody"
    rows = app.queries.page_documents(
        pg.decode(cursor, "id"), limit + 1, kind=kind and kind.value, state=state and state.value,
        warehouse_id=warehouse_id, partner_id=partner_id, created_by=created_by, number=number,
        since=_aware(since, "since"), until=_aware(until, "until"),
        warehouse_ids=None if actor.warehouses is None else sorted(actor.warehouses))
    return pg.by_id(rows, limit, plain)


@router.get("/open")
def open_documents(actor: CurrentActor, app: JxcApp,
                   warehouse_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> dict[str, Any]:
    """未生效单据 — drafts and pending approvals, oldest first (they are not stock yet)."""
    rows = app.queries.open_documents(warehouse_id, limit=500)
    if actor.warehouses is not None:
        rows = [r for r in rows if r["warehouse_id"] in actor.warehouses]
    return {"items": plain(rows), "next_cursor": None}


@router.get("/{doc_id}")
def get_document(doc_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """单据详情 — header, lines, approvals and the approval plan with its reasons."""
    return _doc(app, doc_id, actor)


@router.post("", status_code=201)
def create_document(body: DraftIn, request: Request, actor: CurrentActor, app: JxcApp,
                    idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> dict[str, Any]:
    """新建草稿 — moves no stock until it is submitted."""
    key = caller_key(request, actor, idempotency_key)
    doc_id = documents.create_draft(app.uow_factory, _draft(body, key), actor, app.clock.now())
    return _doc(app, doc_id, actor)


@router.put("/{doc_id}")
def edit_document(doc_id: pg.Id, body: EditIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """修改草稿 — 409 VERSION_CONFLICT when someone changed it since `version`."""
    documents.update_draft(app.uow_factory, doc_id, _draft(body, None), body.version, actor, app.clock.now())
    return _doc(app, doc_id, actor)


@router.post("/{doc_id}/submit")
def submit(doc_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """提交 — posts now, or waits for the approvals the rules ask for (`approval_plan` says why)."""
    documents.submit(app.uow_factory, doc_id, actor, app.clock.now())
    return _doc(app, doc_id, actor)


@router.post("/{doc_id}/post")
def post(doc_id: pg.Id, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """过账 — the same as submit: a document posts as soon as no approval is outstanding."""
    return submit(doc_id, actor, app)


@router.post("/{doc_id}/approve")
def approve(doc_id: pg.Id, body: ApproveIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """审批通过 — needs the password again; the last level posts the document."""
    now = app.clock.now()
    if not users.verify_password(app.uow_factory, actor.name, body.password, now, actor.ip, actor.device):
        raise Forbidden("REAUTH_REQUIRED", "密码不正确，请再次输入密码确认", "wrong password; confirm with your password",
                        field="password")
    from dataclasses import replace

    documents.approve(app.uow_factory, doc_id, replace(actor, reauthenticated=True), now, body.comment)
    return _doc(app, doc_id, actor)


@router.post("/{doc_id}/reject")
def reject(doc_id: pg.Id, body: CommentIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """驳回 — back to draft with the comment."""
    documents.reject(app.uow_factory, doc_id, actor, app.clock.now(), body.comment)
    return _doc(app, doc_id, actor)


@router.post("/{doc_id}/cancel")
def cancel(doc_id: pg.Id, body: ReasonIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """作废草稿."""
    documents.cancel_draft(app.uow_factory, doc_id, actor, app.clock.now(), body.reason)
    return _doc(app, doc_id, actor)


@router.post("/{doc_id}/reverse")
def reverse(doc_id: pg.Id, body: ReverseIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """红冲 — posts the exact negative; the document becomes `reversed`."""
    documents.reverse(app.uow_factory, doc_id, actor, app.clock.now(), body.reason,
                      _aware(body.effective_at, "effective_at"))
    return _doc(app, doc_id, actor)


@router.post("/{doc_id}/receipts", status_code=201)
def receive_transfer(doc_id: pg.Id, body: ReceiptIn, actor: CurrentActor, app: JxcApp) -> dict[str, Any]:
    """调拨签收 — receive what arrived; a final receipt writes the shortfall off as a discrepancy."""
    receipt_id = transfers.confirm_receipt(app.uow_factory, doc_id, body.received, actor, app.clock.now(),
                                           final=body.final, remark=body.remark)
    return _doc(app, receipt_id, actor)


def _aware(at: datetime | None, field: str) -> datetime | None:
    if at is not None and at.tzinfo is None:
        raise DomainError("VALUE_INVALID", f"{field} 必须带时区，例如 2026-11-01T09:00:00+08:00",
                          f"{field} must carry a time zone, e.g. 2026-11-01T09:00:00+08:00", field=field)
    return at

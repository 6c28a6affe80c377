"""流水、预警与日志 — the stock ledger (库存流水) with export, the alerts list, and the audit-log search.

Guarantees:
- The ledger page filters and paginates in SQL, by cursor (keyset on effective time and id); the export (.csv / .xlsx) writes the
  same filtered rows, oldest first, at most `EXPORT_MAX`, with zh-CN or English headers.
- Unit costs and values show (and export) only for holders of `price.view_cost`.
- The audit log needs `audit.view`; others get a refusal page that names it.
- Dates are read in the business zone: `since` from its midnight, `until` through its end.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from jxc.domain.errors import Forbidden
from jxc.domain.permissions import holds
from jxc.interfaces.api import pagination
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import views
from jxc.interfaces.web.i18n import gettext_for
from jxc.interfaces.web.routes import Page, _render
from jxc.services import book, dashboard
from jxc.services.posting import Actor

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
CURSOR_PARAMS = ("after", "before", "page")  # paging, not filters: left out of export links


def _scope(actor: Actor) -> list[int] | None:
    return None if actor.warehouses is None else sorted(actor.warehouses)


def _page_no(raw: str) -> int:
    return max(1, int(raw)) if raw.isdigit() else 1


def _day(raw: str, zone: Any, end: bool = False) -> datetime | None:
    try:
        d = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return datetime.combine(d + timedelta(days=1) if end else d, time(0), tzinfo=zone)


def _ledger_filters(request: Request, actor: Actor) -> tuple[dict[str, Any], dict[str, str]]:
    """The ledger's filters from the query string: (service filters, the raw values for the form)."""
    app = jxc(request)
    qp = request.query_params
    raw = {k: qp.get(k, "").strip()[:64] for k in ("product", "warehouse_id", "kind", "lot", "since", "until")}
    product_id = None
    if raw["product"]:
        hits = app.web.product_page(q=raw["product"], limit=2).rows
        exact = [p for p in hits if p["code"].upper() == raw["product"].upper()]
        product_id = (exact or hits or [{"id": -1}])[0]["id"]  # -1: nothing matches, so no rows
    wid = int(raw["warehouse_id"]) if raw["warehouse_id"].isdigit() else None
    if wid is not None and not views.visible_warehouse(actor, wid):
        wid = -1
    zone = app.settings.zone
    filters = {"product_id": product_id, "warehouse_id": wid, "kind": raw["kind"] or None,
               "lot": raw["lot"] or None, "since": _day(raw["since"], zone),
               "until": _day(raw["until"], zone, end=True), "warehouse_ids": _scope(actor)}
    return filters, raw


@router.get("/ledger")
def ledger(request: Request, v: Page, after: str = "", before: str = "") -> Response:
    """库存流水 — every movement, newest first, with filters; export the same rows.

    Paged by cursor (keyset, like the API): ``after`` = the last row of the page being left, so
    postings made while someone pages through never repeat or skip a row."""
    app = jxc(request)
    filters, raw = _ledger_filters(request, v.actor)
    result = app.web.ledger_keyset(after_id=pagination.decode(after[:200], "ledger"),
                                   before_id=None if after else pagination.decode(before[:200], "ledger"),
                                   limit=PAGE_SIZE, **filters)
    older = pagination.encode("ledger", result.last_id) if result.has_older and result.last_id else None
    newer = pagination.encode("ledger", result.first_id) if result.has_newer and result.first_id else None
    export = urlencode([(k, val) for k, val in request.query_params.multi_items() if k not in CURSOR_PARAMS])
    return _render(request, "ledger.html", viewer=v, ledger=result, f=raw, cost=views.can_see_cost(v.actor),
                   warehouses=app.web.warehouse_list(_scope(v.actor)), kinds=views.KIND_ZH,
                   query=export, older=older, newer=newer)


def _export_columns(request: Request, cost: bool) -> list[tuple[str, str]]:
    _ = gettext_for(request)
    cols = [("effective_at", _("生效时间")), ("kind", _("类型")), ("document", _("单据")), ("code", _("商品编码")),
            ("name", _("商品名称")), ("warehouse", _("仓库")), ("location", _("库位")), ("lot_number", _("批次")),
            ("status", _("状态")), ("qty", _("数量")), ("base_unit", _("单位"))]
    if cost:
        cols += [("unit_cost", _("单位成本")), ("value", _("金额"))]
    return cols + [("actor", _("操作人")), ("posted_at", _("过账时间"))]


def _cell(request: Request, key: str, row: dict[str, Any], zone: Any) -> Any:
    _ = gettext_for(request)
    value = row.get(key)
    if key in ("effective_at", "posted_at"):
        return views.local(value, zone)
    if key == "kind":
        return _(views.KIND_ZH.get(value, value))
    if key == "document":
        return value or row.get("reference") or f"#{row['posting_id']}"
    if key in ("qty", "unit_cost", "value"):
        return views.number(value)
    return "" if value is None else value


@router.get("/ledger/export")
def ledger_export(request: Request, v: Page, format: str = "xlsx") -> Response:  # noqa: A002 — the query name
    """导出库存流水 — the filtered rows as .xlsx (openpyxl) or .csv (UTF-8 with BOM, opens in Excel)."""
    app = jxc(request)
    filters, _raw = _ledger_filters(request, v.actor)
    cols = _export_columns(request, views.can_see_cost(v.actor))
    zone = app.settings.zone
    rows = ([_cell(request, k, r, zone) for k, _h in cols] for r in app.web.ledger_rows(**filters))
    stamp = app.clock.now().astimezone(zone).strftime("%Y%m%d-%H%M")
    if format == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")
        w = csv.writer(buf)
        w.writerow([h for _k, h in cols])
        w.writerows(rows)
        return Response(buf.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="ledger-{stamp}.csv"'})
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(gettext_for(request)("库存流水"))
    ws.append([h for _k, h in cols])
    for r in rows:
        ws.append([_number_or_text(c) for c in r])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return StreamingResponse(out, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             headers={"Content-Disposition": f'attachment; filename="ledger-{stamp}.xlsx"'})


def _number_or_text(cell: Any) -> Any:
    """Quantities and money as numbers in the sheet (so Excel can sum them), the rest as text."""
    if isinstance(cell, str) and cell and cell.lstrip("-").replace(".", "", 1).isdigit():
        return float(cell) if "." in cell else int(cell)
    return cell


@router.get("/alerts")
def alerts(request: Request, v: Page, kind: str = "") -> Response:
    """预警 — SKUs under safety stock, near-expiry and expired lots, overdue drafts and approvals."""
    app = jxc(request)
    scope = _scope(v.actor)
    settings = book.get_settings(app.uow_factory)
    now = app.clock.now()
    total, below = dashboard.below_safety(app.web, scope)
    near, expired = dashboard.expiry_rows(app.web, scope, now.astimezone(app.settings.zone).date(),
                                          dashboard.expiry_policy(settings))
    late = dashboard.overdue_documents(views.open_documents(app, v.actor), now,
                                       int(settings["overdue.first_minutes"]))
    return _render(request, "alerts.html", viewer=v, kind=kind, below=below, total=total, near=near,
                   expired=expired, late=late, cost=views.can_see_cost(v.actor),
                   warn_days=settings["expiry.warn_days"])


@router.get("/audit")
def audit(request: Request, v: Page, page: str = "1") -> Response:
    """操作日志 — who did what, when, from where; filter by user, action, object and date."""
    app = jxc(request)
    if not holds(v.actor.permissions, "audit.view"):
        raise Forbidden("PERMISSION_DENIED", f"{v.actor.name} 没有查看操作日志的权限（audit.view）",
                          f"{v.actor.name} lacks the permission audit.view")
    qp = request.query_params
    raw = {k: qp.get(k, "").strip()[:64] for k in ("actor", "action", "object_type", "object_id", "document",
                                                   "since", "until")}
    object_type, object_id = raw["object_type"] or None, raw["object_id"] or None
    if raw["document"]:
        ids = app.web.document_ids(raw["document"])
        object_type, object_id = "document", str(ids[0]) if ids else "-1"
    zone = app.settings.zone
    n = _page_no(page)
    result = app.web.audit_page(actor=raw["actor"] or None, action=raw["action"] or None, object_type=object_type,
                                object_id=object_id, since=_day(raw["since"], zone),
                                until=_day(raw["until"], zone, end=True), offset=(n - 1) * PAGE_SIZE,
                                limit=PAGE_SIZE)
    return _render(request, "audit.html", viewer=v, page=result, f=raw)

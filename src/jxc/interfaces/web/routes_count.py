"""货架盘点（手机）— start a one-shelf count, scan what is there, save, close into 盘盈盘亏.

Guarantees:
- Count lines go through `counting.enter_line`, each with an idempotency key made when the page
  was rendered, so a double tap or a retried submit stores a line once.
- Closing calls `counting_close.close`: the variance becomes a count-adjustment document that
  the approval rules decide; nothing here changes stock.
- A refused line is shown next to its quantity (or the shelf), in the viewer's language.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jxc.domain.errors import DomainError
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import doc_views as dv
from jxc.interfaces.web import views
from jxc.interfaces.web.i18n import gettext_for
from jxc.interfaces.web.routes import Form, Page
from jxc.interfaces.web.web_common import csrf_ok, csrf_refused, error_text, field_errors, render
from jxc.services import counting, counting_close
from jxc.services.counting import CountLine, PlanInput

router = APIRouter(include_in_schema=False)


# ── count a shelf ─────────────────────────────────────────────────────────────

@router.get("/m/count")
def count_list(request: Request, v: Page) -> Response:
    """盘点 — open tasks of my warehouses, and a form to start counting one shelf now."""
    app = jxc(request)
    tasks = [t for state in ("open", "counting") for t in app.queries.page_records("count_tasks", None, 200, state=state)
             if views.visible_warehouse(v.actor, t["warehouse_id"])]
    shelves = [loc for loc in app.queries.page_records("locations", None, 5000, kind="physical", active=True)
               if views.visible_warehouse(v.actor, loc["warehouse_id"])]
    return render(request, "m_counts.html", viewer=v, tasks=sorted(tasks, key=lambda t: t["id"]), shelves=shelves,
                  errors={})


@router.post("/m/count")
def count_start(request: Request, data: Form, v: Page) -> Response:
    """开始盘点货架 — a one-shelf plan and its task, counted now."""
    app = jxc(request)
    _ = gettext_for(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    loc_id = int(data["location_id"]) if data.get("location_id", "").isdigit() else 0
    shelf = (app.queries.page_records("locations", None, 1, id=loc_id) or [None])[0]
    now = app.clock.now()
    try:
        if shelf is None or shelf["kind"] != "physical":
            raise DomainError("VALUE_REQUIRED", "请选择要盘点的货架", "choose the shelf to count", field="location_id")
        plan = counting.create_plan(app.uow_factory, PlanInput(f"{shelf['code']} {now:%Y-%m-%d %H:%M}",
                                                                shelf["warehouse_id"], "cycle", (shelf["id"],)),
                                    v.actor, now)
        task = counting.create_task(app.uow_factory, plan, v.actor, now, assignees=(v.actor.name,))
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        shelves = [loc for loc in app.queries.page_records("locations", None, 5000, kind="physical", active=True)
                   if views.visible_warehouse(v.actor, loc["warehouse_id"])]
        return render(request, "m_counts.html", exc.status if exc.status != 400 else 422, viewer=v, tasks=[],
                      shelves=shelves, errors=errors | ({"location_id": general[0]} if general else {}))
    return RedirectResponse(f"/m/count/{task}?shelf={shelf['id']}", status_code=303)


def _count_page(request: Request, v: Any, task_id: int, status: int = 200, **extra: Any) -> Response:
    app = jxc(request)
    try:
        sheet = counting_close.sheet(app.uow_factory, task_id, v.actor, app.clock.now())
    except DomainError as exc:
        return render(request, "error.html", exc.status, viewer=v, message=error_text(request, exc))
    shelves = [loc for loc in app.queries.page_records("locations", None, 5000, warehouse_id=sheet["warehouse_id"],
                                                       kind="physical", active=True)]
    shelf = request.query_params.get("shelf") or (str(sheet["lines"][0]["location_id"]) if sheet["lines"] else "")
    extra.setdefault("errors", {})
    extra.setdefault("general", [])
    extra.setdefault("lines", [])
    return render(request, "m_count.html", status, viewer=v, sheet=sheet, shelves=shelves, shelf=shelf,
                  nonce=uuid.uuid4().hex, **extra)


@router.get("/m/count/{task_id:int}")
def count_page(request: Request, task_id: int, v: Page) -> Response:
    """盘点一个货架 — pick the shelf, scan each item (a second scan adds one), then send."""
    return _count_page(request, v, task_id)


@router.get("/m/count/line")
def count_line(request: Request, v: Page, product_id: int) -> Response:
    """One count row for a product scanned that is not on the sheet yet (scan.js)."""
    app = jxc(request)
    p = dv.product(app, product_id)
    if p is None:
        return render(request, "_message.html", 404, kind="error", message=gettext_for(request)("商品不存在"))
    lots = dv.all_lots(app, product_id)[:50] if p["tracking"] != "none" else []
    return render(request, "_count_line.html", line={"product": p, "qty": "1", "lots": lots, "lot_id": ""}, i=0,
                  errors={})


def _count_rows(data: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for i in range(500):
        if f"lines-{i}-product_id" not in data:
            break
        rows.append({k: data.get(f"lines-{i}-{k}", "").strip() for k in ("product_id", "qty", "lot_id")})
    return rows


@router.post("/m/count/{task_id:int}")
def count_post(request: Request, task_id: int, data: Form, v: Page) -> Response:
    """录入盘点行 (and, with `close=1`, 结束盘点: the 盘盈盘亏 document goes to approval)."""
    app = jxc(request)
    _ = gettext_for(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    now = app.clock.now()
    shelf = int(data["shelf"]) if data.get("shelf", "").isdigit() else 0
    rows = _count_rows(data)
    nonce = data.get("nonce", "")[:40] or uuid.uuid4().hex
    errors: dict[str, str] = {}
    general: list[str] = []
    saved = 0
    for i, r in enumerate(rows):
        if not r["qty"]:
            continue
        line = CountLine(shelf, int(r["product_id"]) if r["product_id"].isdigit() else 0, r["qty"],
                         lot=int(r["lot_id"]) if r["lot_id"].isdigit() else None,
                         idempotency_key=f"web:{task_id}:{nonce}:{shelf}:{r['product_id']}:{r['lot_id']}:{i}")
        try:
            counting.enter_line(app.uow_factory, task_id, line, v.actor, now)
            saved += 1
        except DomainError as exc:
            fields, gen = field_errors(request, exc)
            where = {"product": f"lines-{i}-product_id", "lot": f"lines-{i}-lot_id", "qty": f"lines-{i}-qty",
                     "unit": f"lines-{i}-qty", "location": "shelf"}
            for k, t in fields.items():
                errors[where.get(k, f"lines-{i}-qty")] = t
            general += gen
    if errors or general:
        return _count_page(request, v, task_id, 422, errors=errors, general=general,
                           lines=[_typed_count_line(app, r) for r in rows])
    if data.get("close") == "1":
        try:
            result = counting_close.close(app.uow_factory, task_id, v.actor, now)
        except DomainError as exc:
            return _count_page(request, v, task_id, exc.status if exc.status != 400 else 422,
                               general=[error_text(request, exc)])
        if result.document_id:
            done = "posted" if result.document_state == "posted" else "pending"
            return RedirectResponse(f"/documents/{result.document_id}?done={done}", status_code=303)
        return render(request, "m_count_done.html", viewer=v, message=_("盘点结束：账实相符，没有差异"))
    return RedirectResponse(f"/m/count/{task_id}?shelf={shelf}&saved={saved}", status_code=303)


def _typed_count_line(app: Any, r: dict[str, str]) -> dict[str, Any]:
    p = dv.product(app, int(r["product_id"])) if r["product_id"].isdigit() else None
    p = p or {"id": 0, "code": "?", "name": "?", "tracking": "none"}
    lots = dv.all_lots(app, p["id"])[:50] if p["tracking"] != "none" else []
    return {"product": p, "qty": r["qty"], "lots": lots, "lot_id": r["lot_id"]}

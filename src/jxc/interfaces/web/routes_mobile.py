"""手机仓库页面 — 360 px first: receive against a purchase order, pick and deliver a sales order,
transfer and confirm its receipt, count a shelf. Every quantity field takes a scanner.

Guarantees:
- Each page calls one service use case (trade.receive / trade.deliver / transfers.confirm_receipt /
  counting.enter_line + counting_close.close); the services check permissions and stock.
- A refused submit re-renders the page with what was typed and each message next to its line.
- Count lines carry an idempotency key made when the page was rendered, so a double tap or a
  retried submit stores each line once.
- Numbers of stock on these pages update live (live.js, data-live-* attributes).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jxc.domain import documents as d
from jxc.domain.errors import DomainError, Problems
from jxc.domain.permissions import doc_permission, holds
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import doc_views as dv
from jxc.interfaces.web import views
from jxc.interfaces.web.i18n import gettext_for
from jxc.interfaces.web.routes import Form, Page
from jxc.interfaces.web.web_common import csrf_ok, error_text, field_errors, render
from jxc.services import counting, counting_close, masterdata, trade, transfers
from jxc.services.counting import CountLine, PlanInput

router = APIRouter(include_in_schema=False)
K = d.DocumentKind


def _today(app: Any) -> date:
    return app.clock.now().astimezone(app.settings.zone).date()


def _scope(v: Any) -> list[int] | None:
    return None if v.actor.warehouses is None else sorted(v.actor.warehouses)


def _csrf_refused(request: Request, v: Any) -> Response:
    return render(request, "error.html", 403, viewer=v,
                  message=gettext_for(request)("页面已过期（CSRF 校验失败），请刷新页面后重试"))


@router.get("/m")
def mobile_home(request: Request, v: Page) -> Response:
    """手机首页 — the four warehouse jobs, with how many wait."""
    app = jxc(request)
    p = v.actor.permissions
    tiles = {
        "receive": holds(p, doc_permission("create", K.PURCHASE_RECEIPT)),
        "deliver": holds(p, doc_permission("create", K.SALES_DELIVERY)),
        "transfer": holds(p, doc_permission("create", K.TRANSFER)),
        "count": holds(p, doc_permission("create", K.COUNT_ADJUSTMENT)),
    }
    waiting = {"receive": len(app.queries.open_orders("purchase", _scope(v))),
               "deliver": len(app.queries.open_orders("sales", _scope(v)))}
    return render(request, "m_home.html", viewer=v, tiles=tiles, waiting=waiting)


# ── receive against a purchase order / deliver a sales order ────────────────

def _order_view(app: Any, order: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    rows = []
    today = _today(app)
    for ln in order["lines"]:
        p = dv.product(app, ln["product_id"]) or {}
        left = ln["qty_base"] - ln["qty_done"]
        row = {"line_no": ln["line_no"], "product": p, "ordered": ln["qty_base"], "done": ln["qty_done"],
               "left": left if left > 0 else 0, "on_hand": dv.on_hand(app, ln["product_id"], order["warehouse_id"]),
               "lots": []}
        if kind == "sales" and p.get("tracking", "none") != "none":
            row["lots"] = dv.lot_choices(app, ln["product_id"], order["warehouse_id"], today)
        rows.append(row)
    return rows


@router.get("/m/receive")
def receive_list(request: Request, v: Page) -> Response:
    """待收货 — confirmed purchase orders of the viewer's warehouses."""
    orders = jxc(request).queries.open_orders("purchase", _scope(v))
    return render(request, "m_orders.html", viewer=v, orders=orders, kind="purchase")


@router.get("/m/deliver")
def deliver_list(request: Request, v: Page) -> Response:
    """待发货 — confirmed sales orders of the viewer's warehouses."""
    orders = jxc(request).queries.open_orders("sales", _scope(v))
    return render(request, "m_orders.html", viewer=v, orders=orders, kind="sales")


def _order_page(request: Request, v: Any, order_id: int, kind: str, status: int = 200,
                **extra: Any) -> Response:
    app = jxc(request)
    _ = gettext_for(request)
    try:
        order = trade.get_order(app.uow_factory, order_id)
    except DomainError as exc:
        return render(request, "error.html", exc.status, viewer=v, message=error_text(request, exc))
    if order["kind"] != kind or not views.visible_warehouse(v.actor, order["warehouse_id"]):
        return render(request, "error.html", 404, viewer=v, message=_("没有这个订单"))
    partner = (app.queries.page_records("partners", None, 1, id=order["partner_id"]) or [{}])[0]
    extra.setdefault("typed", {})
    extra.setdefault("errors", {})
    extra.setdefault("general", [])
    return render(request, "m_order.html", status, viewer=v, order=order, partner=partner, kind=kind,
                  rows=_order_view(app, order, kind), **extra)


@router.get("/m/receive/{order_id:int}")
def receive_page(request: Request, order_id: int, v: Page) -> Response:
    """按采购订单收货 — scan each carton: the line's quantity counts up."""
    return _order_page(request, v, order_id, "purchase")


@router.get("/m/deliver/{order_id:int}")
def deliver_page(request: Request, order_id: int, v: Page) -> Response:
    """按销售订单拣货发货 — lots go out nearest expiry first (FEFO), as listed."""
    return _order_page(request, v, order_id, "sales")


def _quantities(data: dict[str, str], prefix: str) -> dict[int, str]:
    out = {}
    for key, value in data.items():
        if key.startswith(prefix) and key[len(prefix):].isdigit() and value.strip() not in ("", "0"):
            out[int(key[len(prefix):])] = value.strip()
    return out


@router.post("/m/receive/{order_id:int}")
def receive_post(request: Request, order_id: int, data: Form, v: Page) -> Response:
    """收货 — a purchase receipt for what was scanned; lot-tracked lines name their lot."""
    return _fulfil(request, order_id, data, v, "purchase")


@router.post("/m/deliver/{order_id:int}")
def deliver_post(request: Request, order_id: int, data: Form, v: Page) -> Response:
    """发货 — a sales delivery for what was picked; the order's reservation is consumed."""
    return _fulfil(request, order_id, data, v, "sales")


def _fulfil(request: Request, order_id: int, data: dict[str, str], v: Any, kind: str) -> Response:
    app = jxc(request)
    _ = gettext_for(request)
    if not csrf_ok(request, data, v):
        return _csrf_refused(request, v)
    now = app.clock.now()
    quantities = _quantities(data, "qty-")
    try:
        if not quantities:
            raise DomainError("POSTING_EMPTY", "请先扫码或输入数量", "scan or enter a quantity first", field="lines")
        if kind == "purchase":
            lots = _receipt_lots(app, v, order_id, quantities, data, now)
            doc_id = trade.receive(app.uow_factory, order_id, quantities, v.actor, now, lots=lots)
        else:
            doc_id = trade.deliver(app.uow_factory, order_id, quantities, v.actor, now)
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        errors = {k.replace("quantities-", "qty-"): t for k, t in errors.items()}
        return _order_page(request, v, order_id, kind, exc.status if exc.status != 400 else 422,
                           typed=data, errors=errors, general=general)
    state = "posted" if trade_state(app, doc_id) == "posted" else "pending"
    return RedirectResponse(f"/documents/{doc_id}?done={state}", status_code=303)


def trade_state(app: Any, doc_id: int) -> str:
    rows = app.queries.page_documents(doc_id - 1, 1)
    return rows[0]["state"] if rows else ""


def _receipt_lots(app: Any, v: Any, order_id: int, quantities: dict[int, str], data: dict[str, str],
                  now: Any) -> dict[int, int]:
    """收货批次 — a typed (or scanned) lot number per lot-tracked line: found, or created with its dates."""
    order = trade.get_order(app.uow_factory, order_id)
    p = Problems()
    out: dict[int, int] = {}
    for ln in order["lines"]:
        no = ln["line_no"]
        if no not in quantities:
            continue
        product = dv.product(app, ln["product_id"]) or {}
        if product.get("tracking", "none") == "none":
            continue
        number = data.get(f"lot-{no}", "").strip()[:64]
        if not number:
            p.add("LOT_REQUIRED", f"lot-{no}", f"第{no}行商品 {product.get('code')} 需要批次，请填写或扫描批次号",
                  f"line {no}: {product.get('code')} is lot-tracked; enter or scan its lot")
            continue
        found = app.queries.page_records("lots", None, 1, product_id=ln["product_id"], lot_number=number)
        if found:
            out[no] = found[0]["id"]
            continue
        produced = _date(data.get(f"produced-{no}", "")) or _today(app)
        try:
            out[no] = masterdata.create_lot(app.uow_factory, ln["product_id"], number, v.actor, now,
                                            produced_on=produced)
        except DomainError as exc:
            p.add(exc.code, f"lot-{no}", exc.message_zh, exc.message_en)
    p.raise_if_any()
    return out


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


# ── transfer receipt (签收) ───────────────────────────────────────────────────

@router.get("/m/transfer")
def transfer_list(request: Request, v: Page) -> Response:
    """调拨 — start one (the document form), or confirm receipt of one in transit to my warehouses."""
    app = jxc(request)
    rows, _total = app.queries.search_documents(0, 100, kinds=["transfer"], state="posted")
    incoming = []
    for r in rows:
        if not views.visible_warehouse(v.actor, r["to_warehouse_id"]):
            continue
        left = transfers.outstanding(app.uow_factory, r["id"])
        if any(q > 0 for q in left.values()):
            incoming.append(dict(r, to_warehouse=_wh_name(app, r["to_warehouse_id"])))
    may_send = holds(v.actor.permissions, doc_permission("create", K.TRANSFER))
    return render(request, "m_transfers.html", viewer=v, incoming=incoming, may_send=may_send)


def _wh_name(app: Any, wid: int | None) -> str:
    rows = app.queries.page_records("warehouses", None, 1, id=wid) if wid else []
    return rows[0]["name"] if rows else ""


def _transfer_page(request: Request, v: Any, doc_id: int, status: int = 200, **extra: Any) -> Response:
    app = jxc(request)
    _ = gettext_for(request)
    try:
        doc = dv_document(app, doc_id)
        left = transfers.outstanding(app.uow_factory, doc_id)
    except DomainError as exc:
        return render(request, "error.html", exc.status, viewer=v, message=error_text(request, exc))
    if not views.visible_warehouse(v.actor, doc["to_warehouse_id"]):
        return render(request, "error.html", 403, viewer=v, message=_("%(name)s 无权查看该单据", name=v.actor.name))
    rows = []
    for ln in doc["lines"]:
        p = dv.product(app, ln["product_id"]) or {}
        lot = (app.queries.page_records("lots", None, 1, id=ln["lot_id"]) or [{}])[0] if ln["lot_id"] else {}
        rows.append({"line_no": ln["line_no"], "product": p, "sent": ln["qty_base"], "left": left.get(ln["line_no"], 0),
                     "lot": lot.get("lot_number") or ""})
    extra.setdefault("typed", {})
    extra.setdefault("errors", {})
    extra.setdefault("general", [])
    return render(request, "m_transfer.html", status, viewer=v, doc=doc, rows=rows,
                  from_name=_wh_name(app, doc["warehouse_id"]), to_name=_wh_name(app, doc["to_warehouse_id"]),
                  **extra)


def dv_document(app: Any, doc_id: int) -> dict[str, Any]:
    from jxc.services import documents

    doc = documents.get(app.uow_factory, doc_id)
    if doc["kind"] != K.TRANSFER:
        raise DomainError("NOT_FOUND", f"调拨单 {doc_id} 不存在", f"transfer {doc_id} does not exist",
                          field="transfer_id")
    return doc


@router.get("/m/transfer/{doc_id:int}")
def transfer_page(request: Request, doc_id: int, v: Page) -> Response:
    """签收 — scan what arrived; the rest can stay in transit or be written off as short."""
    return _transfer_page(request, v, doc_id)


@router.post("/m/transfer/{doc_id:int}")
def transfer_post(request: Request, doc_id: int, data: Form, v: Page) -> Response:
    app = jxc(request)
    if not csrf_ok(request, data, v):
        return _csrf_refused(request, v)
    received = _quantities(data, "qty-")
    try:
        if not received:
            raise DomainError("POSTING_EMPTY", "请先扫码或输入签收数量", "scan or enter what arrived first",
                              field="received")
        receipt = transfers.confirm_receipt(app.uow_factory, doc_id, received, v.actor, app.clock.now(),
                                            final=data.get("final") == "1")
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        errors = {k.replace("received-", "qty-"): t for k, t in errors.items() if k != "received"}
        if exc.field == "received":
            general.append(error_text(request, exc))
        return _transfer_page(request, v, doc_id, exc.status if exc.status != 400 else 422, typed=data,
                              errors=errors, general=general)
    return RedirectResponse(f"/documents/{receipt}?done=posted", status_code=303)


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
        return _csrf_refused(request, v)
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
        return _csrf_refused(request, v)
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

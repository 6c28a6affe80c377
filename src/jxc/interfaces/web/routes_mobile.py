"""手机仓库页面 — 360 px first: receive against a purchase order, pick and deliver a sales order,
transfer and confirm its receipt (counting a shelf: routes_count.py). Every quantity field takes a scanner.

Guarantees:
- Each page calls one service use case (trade.receive / trade.deliver / transfers.confirm_receipt /
  counting.enter_line + counting_close.close); the services check permissions and stock.
- A refused submit re-renders the page with what was typed and each message next to its line.
- Count lines carry an idempotency key made when the page was rendered, so a double tap or a
  retried submit stores each line once.
- Numbers of stock on these pages update live (live.js, data-live-* attributes).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jxc.domain import documents as d
from jxc.domain.errors import DomainError
from jxc.domain.permissions import doc_permission, holds
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import doc_views as dv
from jxc.interfaces.web import lot_entry, views
from jxc.interfaces.web.i18n import gettext_for
from jxc.interfaces.web.routes import Form, Page
from jxc.interfaces.web.web_common import csrf_ok, csrf_refused, error_text, field_errors, render
from jxc.services import documents, trade, transfers

router = APIRouter(include_in_schema=False)
K = d.DocumentKind


def _today(app: Any) -> date:
    return app.clock.now().astimezone(app.settings.zone).date()


def _scope(v: Any) -> list[int] | None:
    return None if v.actor.warehouses is None else sorted(v.actor.warehouses)


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
        return csrf_refused(request, v)
    now = app.clock.now()
    quantities = _quantities(data, "qty-")
    try:
        if not quantities:
            raise DomainError("POSTING_EMPTY", "请先扫码或输入数量", "scan or enter a quantity first", field="lines")
        if kind == "purchase":
            lots = lot_entry.receipt_lots(app, v.actor, order_id, quantities, data, now, _today(app))
            doc_id = trade.receive(app.uow_factory, order_id, quantities, v.actor, now, lots=lots)
        else:
            doc_id = trade.deliver(app.uow_factory, order_id, quantities, v.actor, now)
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        errors = {k.replace("quantities-", "qty-"): t for k, t in errors.items()}
        return _order_page(request, v, order_id, kind, exc.status if exc.status != 400 else 422,
                           typed=data, errors=errors, general=general)
    state = "posted" if documents.get(app.uow_factory, doc_id)["state"] == "posted" else "pending"
    return RedirectResponse(f"/documents/{doc_id}?done={state}", status_code=303)


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
        return csrf_refused(request, v)
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

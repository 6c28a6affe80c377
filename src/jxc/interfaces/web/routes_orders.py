"""订单页面 — sales orders (销售订单) and purchase orders (采购订单): list, form, confirm, deliver /
receive, close, the credit-limit override, and the purchase suggestions page (以销定购).

Guarantees:
- Pages call `services.trade`, `services.money` (credit override) and `services.purchasing`,
  the same services as /api/v1/orders; a button the viewer may not use is not rendered and
  the service refuses it anyway (its reason shows on the page).
- Every POST checks the session's CSRF token.
- The order list pages in the database (newest first, keyset by id), never in Python.
- A refused save re-renders the form with what was typed and each message next to its field.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jxc.domain.errors import DomainError
from jxc.domain.permissions import holds
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import doc_views as dv
from jxc.interfaces.web import lot_entry
from jxc.interfaces.web.i18n import N_, gettext_for
from jxc.interfaces.web.routes import Form, Page
from jxc.interfaces.web.web_common import (
    csrf_ok,
    csrf_refused,
    error_text,
    field_errors,
    pick,
    render,
)
from jxc.services import money, pricing, purchasing, trade

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_LINES = 200
LINE_FIELDS = ("product_id", "qty", "unit", "unit_price", "source")
KIND_LABELS = {"sales": N_("销售订单"), "purchase": N_("采购订单")}
ORDER_STATES = {"draft": N_("草稿"), "confirmed": N_("已确认"), "partial": N_("部分完成"), "done": N_("已完成"),
                "closed": N_("已关闭"), "cancelled": N_("已作废")}


def may_work(actor: Any, kind: str, warehouse_id: int | None = None) -> bool:
    """Create / confirm / fulfil / close an order of this kind (the service's own permission)."""
    if actor.warehouses is not None and warehouse_id is not None and warehouse_id not in actor.warehouses:
        return False
    return holds(actor.permissions, trade.PERMISSION[kind])


def may_view(actor: Any, kind: str) -> bool:
    return may_work(actor, kind) or holds(actor.permissions, "document.view_all")


def _zone_start(app: Any, day: str, plus: int = 0) -> datetime | None:
    try:
        d = date.fromisoformat(day)
    except ValueError:
        return None
    return datetime.combine(d + timedelta(days=plus), datetime.min.time(), tzinfo=app.settings.zone)


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


# ── list ─────────────────────────────────────────────────────────────────────

@router.get("/orders")
def order_list(request: Request, v: Page) -> Response:
    """订单列表 — filters (kind, state, partner, dates), newest first, 50 a page (keyset by id)."""
    app = jxc(request)
    _ = gettext_for(request)
    qp = request.query_params
    kinds = [k for k in KIND_LABELS if may_view(v.actor, k)]
    if not kinds:
        return render(request, "error.html", 403, viewer=v, message=_("%(name)s 无权查看订单", name=v.actor.name))
    f = {"kind": qp.get("kind") if qp.get("kind") in kinds else "",
         "state": qp.get("state") if qp.get("state") in ORDER_STATES else "",
         "partner_id": _int(qp.get("partner_id")), "on": qp.get("on", "")[:10], "to": qp.get("to", "")[:10]}
    before = _int(qp.get("before"))
    rows = trade.list_orders(app.uow_factory, v.actor, before, PAGE_SIZE + 1, newest=True,
                             kind=f["kind"] or (kinds[0] if len(kinds) == 1 else None), state=f["state"] or None,
                             partner_id=f["partner_id"], since=_zone_start(app, f["on"]),
                             until=_zone_start(app, f["to"], 1))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    partners, whs = dv.by_id(app, "partners"), dv.by_id(app, "warehouses")
    for r in rows:
        r["partner"] = partners.get(r["partner_id"], {}).get("name", "")
        r["warehouse"] = whs.get(r["warehouse_id"], {}).get("name", "")
    return render(request, "orders.html", viewer=v, rows=rows, f=f, kinds=kinds, states=ORDER_STATES,
                  creatable=[k for k in kinds if may_work(v.actor, k)],
                  kind_labels=KIND_LABELS, partners=list(partners.values()),
                  next_before=rows[-1]["id"] if more else None, first_page=before is None)


# ── form ─────────────────────────────────────────────────────────────────────

def _price_of(app: Any, kind: str, product_id: int, unit: str | None, partner_id: int | None) -> dict[str, Any]:
    """The resolved price with its source label; None when the product has no known price."""
    with_source: dict[str, Any] = {"unit_price": "", "source": None}
    try:
        found = pricing.resolve(app.uow_factory, pricing.PriceQuery(product_id, unit, partner_id, side=kind),
                                app.clock.now())
    except DomainError:
        return with_source
    tier = found["source"]["tier"]
    return {"unit_price": f"{Decimal(found['unit_price']).normalize():f}", "source": tier}


def _line_view(app: Any, kind: str, partner_id: int | None, raw: dict[str, str],
               priced: bool = False) -> dict[str, Any]:
    p, row = dv.line_product(app, raw.get("product_id"))
    pid = row["id"]
    line = {"product": row, "qty": raw.get("qty", ""), "unit": raw.get("unit", ""),
            "unit_price": raw.get("unit_price", ""), "source": raw.get("source") or None, "history": None}
    if p and priced and not line["unit_price"]:
        line.update(_price_of(app, kind, pid, line["unit"] or None, partner_id))
    if p and kind == "purchase":
        line["history"] = trade.price_history(app.uow_factory, pid, partner_id, app.clock.now())
    return line


def _form(request: Request, v: Any, kind: str, header: dict[str, Any], lines: list[dict[str, Any]],
          **extra: Any) -> dict[str, Any]:
    app = jxc(request)
    role = trade.ROLE[kind]
    ch = dv.choices(app, v.actor)
    return {"viewer": v, "kind": kind, "header": header, "lines": lines, "errors": {}, "general": [],
            "partners": [p for p in ch["partners"] if p["role"] in (role, "both")], "warehouses": ch["warehouses"],
            "kind_labels": KIND_LABELS, "tier_labels": {k: pick(request, *v_) for k, v_ in pricing.TIER_LABELS.items()},
            "chat": None, **extra}


@router.get("/orders/new")
def new_order(request: Request, v: Page, kind: str = "sales") -> Response:
    """新建订单 — partner, warehouse, lines by scan or search; prices come from the price list."""
    _ = gettext_for(request)
    if kind not in KIND_LABELS or not may_work(v.actor, kind):
        return render(request, "error.html", 403, viewer=v, message=_("%(name)s 无权新建这种单据", name=v.actor.name))
    whs = dv.choices(jxc(request), v.actor)["warehouses"]
    header = {"warehouse_id": whs[0]["id"] if whs else None, "partner_id": None, "remark": ""}
    return render(request, "order_form.html", **_form(request, v, kind, header, []))


@router.get("/orders/line")
def order_line(request: Request, v: Page, product_id: int, kind: str = "sales", line_context: str = "") -> Response:
    """One new order line (scan.js appends it): the resolved price and its source; price history for purchases."""
    app = jxc(request)
    kind = kind if kind in KIND_LABELS else "sales"
    line = _line_view(app, kind, _int(line_context), {"product_id": str(product_id), "qty": "1"}, priced=True)
    if not line["product"].get("units"):
        return render(request, "_message.html", 404, kind="error", message=gettext_for(request)("商品不存在"))
    return render(request, "_order_line.html", line=line, i=0, kind=kind, errors={},
                  tier_labels={k: pick(request, *t) for k, t in pricing.TIER_LABELS.items()})


@router.post("/orders/new")
def create_order(request: Request, data: Form, v: Page) -> Response:
    """保存订单草稿 — a line without a price takes the resolved one (shown with its source)."""
    app = jxc(request)
    _ = gettext_for(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    kind = data.get("kind", "")
    if kind not in KIND_LABELS:
        return render(request, "error.html", 422, viewer=v, message=_("单据类型无效"))
    header = {"warehouse_id": _int(data.get("warehouse_id")), "partner_id": _int(data.get("partner_id")),
              "remark": data.get("remark", "").strip()[:500]}
    raw = dv.form_lines(data, LINE_FIELDS, MAX_LINES)
    try:
        lines = [trade.OrderLineInput(_int(ln["product_id"]) or 0, ln["qty"], ln["unit"] or None,
                                      ln["unit_price"] or None) for ln in raw]
        oid = trade.create_order(app.uow_factory, kind, header["partner_id"] or 0, header["warehouse_id"] or 0,
                                 lines, v.actor, app.clock.now(), remark=header["remark"] or None)
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        views = [_line_view(app, kind, header["partner_id"], ln) for ln in raw]
        return render(request, "order_form.html", exc.status if exc.status != 400 else 422,
                      **_form(request, v, kind, header, views, errors=errors, general=general))
    return RedirectResponse(f"/orders/{oid}?done=saved", status_code=303)


# ── one order ────────────────────────────────────────────────────────────────

def order_view(app: Any, order: dict[str, Any]) -> dict[str, Any]:
    """An order with names, each line's outstanding and still-reserved quantity, and its value."""
    partner = (app.queries.page_records("partners", None, 1, id=order["partner_id"]) or [{}])[0]
    wh = (app.queries.page_records("warehouses", None, 1, id=order["warehouse_id"]) or [{}])[0]
    lines = []
    for ln in order["lines"]:
        held = Decimal(0)
        if ln["reservation_id"]:
            r = (app.queries.page_records("reservations", None, 1, id=ln["reservation_id"]) or [None])[0]
            if r and r["state"] == "pending":
                held = r["qty"] - r["qty_consumed"]
        product = dv.product(app, ln["product_id"]) or {}
        lines.append(dict(ln, product=product, reserved=held, left=ln["qty_base"] - ln["qty_done"],
                          amount=None if ln["unit_price"] is None else ln["unit_price"] * ln["qty_base"]))
    return dict(order, lines=lines, partner=partner, warehouse=wh.get("name", ""), value=money.order_value(order))


def _show(request: Request, v: Any, order_id: int, status: int = 200, **extra: Any) -> Response:
    app = jxc(request)
    _ = gettext_for(request)
    try:
        order = trade.get_order(app.uow_factory, order_id)
    except DomainError as exc:
        return render(request, "error.html", exc.status, viewer=v, message=error_text(request, exc))
    if not may_view(v.actor, order["kind"]) or (v.actor.warehouses is not None
                                                 and order["warehouse_id"] not in v.actor.warehouses):
        return render(request, "error.html", 403, viewer=v, message=_("%(name)s 无权查看订单", name=v.actor.name))
    o = order_view(app, order)
    ctx = {"viewer": v, "o": o, "kind_labels": KIND_LABELS, "states": ORDER_STATES, "done": "", "error": None,
           "errors": {}, "credit": None, "suggestions": [], "typed": {},
           "may_work": may_work(v.actor, order["kind"], order["warehouse_id"]),
           "may_override": holds(v.actor.permissions, money.PERM_CREDIT),
           "tier_labels": {k: pick(request, *t) for k, t in pricing.TIER_LABELS.items()}}
    ctx.update(extra)
    return render(request, "order_detail.html", status, **ctx)


@router.get("/orders/{order_id:int}")
def show_order(request: Request, order_id: int, v: Page, done: str = "") -> Response:
    """订单详情 — lines with done / outstanding / reserved, and the actions the viewer may take."""
    return _show(request, v, order_id, done=done[:20])


def _quantities(data: dict[str, str]) -> dict[int, str]:
    """`qty-<line_no>` fields → {line_no: qty} for the non-empty, non-zero ones."""
    out: dict[int, str] = {}
    for key, value in data.items():
        if key.startswith("qty-") and key[4:].isdigit() and value.strip():
            try:
                if Decimal(value.strip()) == 0:
                    continue
            except InvalidOperation:
                pass
            out[int(key[4:])] = value.strip()
    return out


@router.post("/orders/{order_id:int}/act")
def act(request: Request, order_id: int, data: Form, v: Page) -> Response:
    """确认 / 出库 / 入库 / 关闭 / 信用超额审批 — refusals show their reason (and field) on the page."""
    app = jxc(request)
    _ = gettext_for(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    action, now = data.get("action", ""), app.clock.now()
    extra: dict[str, Any] = {}
    try:
        if action == "confirm":
            extra["suggestions"] = trade.confirm_order(app.uow_factory, order_id, v.actor, now)
            extra["done"] = "confirmed"
        elif action in ("deliver", "receive"):
            qty = _quantities(data)
            if not qty:
                raise DomainError("VALUE_REQUIRED", "请填写本次数量", "enter the quantities of this delivery",
                                  field="quantities")
            if action == "deliver":
                doc = trade.deliver(app.uow_factory, order_id, qty, v.actor, now)
            else:  # lot-tracked lines name their lot: typed, found or made (as on the phone page)
                today = now.astimezone(app.settings.zone).date()
                lots = lot_entry.receipt_lots(app, v.actor, order_id, qty, data, now, today)
                doc = trade.receive(app.uow_factory, order_id, qty, v.actor, now, lots=lots,
                                    freight=data.get("freight", "").strip() or None,
                                    freight_basis=data.get("freight_basis") or None)
            return RedirectResponse(f"/orders/{order_id}?done={action}&doc={doc}", status_code=303)
        elif action == "close":
            trade.close_order(app.uow_factory, order_id, v.actor, now, data.get("reason") or None)
            return RedirectResponse(f"/orders/{order_id}?done=closed", status_code=303)
        elif action == "override":
            money.override_credit(app.uow_factory, order_id, data.get("reason", "").strip(), v.actor, now)
            extra["done"] = "override"
        else:
            return _show(request, v, order_id, 422, error=_("未知操作"))
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        status = exc.status if exc.status != 400 else 422
        if exc.code == "CREDIT_LIMIT_EXCEEDED":
            return _show(request, v, order_id, status, credit=dict(exc.details or {}, message=error_text(request, exc)))
        return _show(request, v, order_id, status, errors=errors, typed=data,
                     error="；".join(general) if general else None)
    return _show(request, v, order_id, **extra)


# ── purchase suggestions ─────────────────────────────────────────────────────

@router.get("/orders/suggestions")
def suggestions(request: Request, v: Page, done: str = "") -> Response:
    """采购建议 — open shortfalls from confirmed sales orders, with supplier and order-by date."""
    app = jxc(request)
    _ = gettext_for(request)
    if not may_view(v.actor, "purchase"):
        return render(request, "error.html", 403, viewer=v, message=_("%(name)s 无权查看订单", name=v.actor.name))
    rows = purchasing.list_suggestions(app.uow_factory, "open", limit=500)
    return render(request, "suggestions.html", viewer=v, **_suggestion_context(app, rows), done=done[:40],
                  may_convert=may_work(v.actor, "purchase"), errors={}, general=[])


def _suggestion_context(app: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    partners, whs = dv.by_id(app, "partners"), dv.by_id(app, "warehouses")
    out = []
    for r in rows:
        p = dv.product(app, r["product_id"]) or {}
        out.append(dict(r, product=p, supplier=partners.get(r["supplier_id"] or 0, {}).get("name", ""),
                        warehouse=whs.get(r["warehouse_id"], {}).get("name", "")))
    return {"rows": out}


@router.post("/orders/suggestions/convert")
def convert(request: Request, data: Form, v: Page) -> Response:
    """一键生成采购订单 — the ticked suggestions (or all) become draft purchase orders, one per supplier."""
    app = jxc(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    ids = [int(k[2:]) for k, val in data.items() if k.startswith("s-") and k[2:].isdigit() and val]
    try:
        made = purchasing.convert(app.uow_factory, ids or None, v.actor, app.clock.now())
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        rows = purchasing.list_suggestions(app.uow_factory, "open", limit=500)
        return render(request, "suggestions.html", exc.status if exc.status != 400 else 422, viewer=v,
                      **_suggestion_context(app, rows), done="", may_convert=may_work(v.actor, "purchase"),
                      errors=errors, general=general)
    return RedirectResponse("/orders/suggestions?done=" + ",".join(str(m) for m in made), status_code=303)

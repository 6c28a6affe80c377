"""扫码与实时数字 — product search (HTMX), barcode lookup and linking (scan.js), live stock numbers (live.js).

Guarantees:
- Lookups read only; linking a barcode goes through `masterdata.add_barcode`, which requires
  `masterdata.edit` (the refusal is shown, never a silent failure), with the CSRF token.
- /live/qty answers on-hand buckets of the viewer's warehouses only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from jxc.domain.errors import DomainError
from jxc.domain.permissions import holds
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import doc_views as dv
from jxc.interfaces.web import views
from jxc.interfaces.web.i18n import gettext_for
from jxc.interfaces.web.routes import Form, Page
from jxc.interfaces.web.web_common import csrf_ok, error_text, render
from jxc.services import masterdata

router = APIRouter(include_in_schema=False)


@router.get("/products/search")
def product_search(request: Request, v: Page, q: str = "") -> Response:
    """商品搜索 — code, name, pinyin initials (tdou → 土豆 needs tdo… : 'td'), or barcode."""
    found = dv.search_products(jxc(request), q[:40])
    return render(request, "_product_results.html", products=found, q=q[:40])


@router.get("/scan/lookup")
def scan_lookup(request: Request, v: Page, code: str = "") -> Response:
    """扫码查找 — a barcode or product code → the product (JSON for scan.js); 404 when unknown."""
    p = dv.lookup(jxc(request), code[:64])
    if p is None:
        return JSONResponse({"product_id": None, "code": code[:64]}, status_code=404)
    return JSONResponse({"product_id": p["id"], "code": p["code"], "name": p["name"], "tracking": p["tracking"]})


@router.post("/scan/link")
def scan_link(request: Request, data: Form, v: Page) -> Response:
    """关联条码 — link an unknown barcode to a product (masterdata.edit); answers a fragment."""
    app = jxc(request)
    _ = gettext_for(request)
    if not csrf_ok(request, data, v):
        return render(request, "_message.html", 403, kind="error", message=_("页面已过期（CSRF 校验失败），请刷新页面后重试"))
    barcode = data.get("barcode", "").strip()[:64]
    product = dv.lookup(app, data.get("product", "").strip()[:64])
    if product is None:
        return render(request, "_scan_link.html", 422, barcode=barcode, may_link=True, viewer=v,
                      error=_("没有这个商品编码，请输入商品编码"))
    try:
        masterdata.add_barcode(app.uow_factory, product["id"], barcode, v.actor, app.clock.now())
    except DomainError as exc:
        return render(request, "_scan_link.html", exc.status if exc.status != 400 else 422, barcode=barcode,
                      may_link=holds(v.actor.permissions, "masterdata.edit"), viewer=v,
                      error=error_text(request, exc))
    return render(request, "_scan_link.html", barcode=barcode, may_link=True, viewer=v, linked=product)


@router.get("/live/qty")
def live_qty(request: Request, v: Page) -> Response:
    """实时库存数字 — on-hand buckets of the asked products in the viewer's warehouses (live.js)."""
    app = jxc(request)
    ids = [int(x) for x in request.query_params.getlist("product_id") if x.isdigit() and int(x) < 2**31][:50]
    whs = {w["code"]: w["id"] for w in app.queries.page_records("warehouses", None, 10_000)}
    items: list[dict[str, Any]] = []
    for pid in ids:
        for r in app.queries.describe(app.queries.balances(product_id=pid)):
            wid = whs.get(r.warehouse_code or "")
            if views.visible_warehouse(v.actor, wid):
                items.append({"product_id": pid, "warehouse": wid, "location_id": r.location_id,
                              "location": r.location_code, "lot_id": r.lot_id, "lot": r.lot_number or "",
                              "status": r.status, "qty": views.number(r.qty)})
    return JSONResponse({"items": items, "at": app.clock.now().isoformat()})

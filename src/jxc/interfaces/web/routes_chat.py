"""社群订单页面 — paste a customer's WeChat message on the new sales-order page: parsed lines with
confidence, evidence and availability, decisions for flagged lines, the customer guess, then a draft order.

Guarantees:
- Parsing writes nothing (`chat_intake.parse_message`); "create draft order" calls
  `chat_intake.draft_order`, the same service as POST /api/v1/chat-orders.
- A line below the confidence threshold never goes on the order by itself: the clerk
  ticks "accept" or picks an alternative; a pick is remembered as an alias (corrections).
- Every POST checks the session's CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jxc.domain.errors import DomainError
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import doc_views as dv
from jxc.interfaces.web import i18n
from jxc.interfaces.web.i18n import gettext_for
from jxc.interfaces.web.routes import Form, Page
from jxc.interfaces.web.routes_orders import _form, _int, may_work
from jxc.interfaces.web.web_common import csrf_ok, csrf_refused, field_errors, render
from jxc.services import chat_intake as ci

router = APIRouter(include_in_schema=False)


def _today(app: Any) -> Any:
    return app.clock.now().astimezone(app.settings.zone).date()


def chat_view(request: Request, app: Any, parse: ci.ChatParse) -> dict[str, Any]:
    """The parse shaped for the page: lines with their product, review notes in the viewer's language."""
    en = i18n.lang_of(request) == i18n.EN
    lines = []
    for v in parse.lines:
        data = v.to_json()
        product = dv.product(app, v.product_id) or {}
        notes = [r["en"] if en else r["zh"] for r in data["review"]]
        lines.append(dict(data, product=product, notes=notes,
                          alternatives=[a for a in data["alternatives"] if a.get("product_id")]))
    result = parse.result.to_json()
    reason = (result.get("reason_en") if en else result.get("reason_zh")) if parse.result.unparseable else None
    return {"lines": lines, "unparseable": parse.result.unparseable, "reason": reason,
            "customer": parse.customer.to_json(), "contacts": parse.contacts}


def _page(request: Request, v: Any, text: str, warehouse_id: int | None, status: int = 200,
          chat: dict[str, Any] | None = None, chat_errors: dict[str, str] | None = None,
          chat_general: list[str] | None = None, customer_id: int | None = None) -> Response:
    header = {"warehouse_id": warehouse_id, "partner_id": None, "remark": ""}
    ctx = _form(request, v, "sales", header, [])
    ctx.update(chat=chat, chat_text=text, chat_errors=chat_errors or {}, chat_general=chat_general or [],
               chat_customer=customer_id)
    return render(request, "order_form.html", status, **ctx)


@router.post("/orders/chat")
def parse(request: Request, data: Form, v: Page) -> Response:
    """解析消息 — shows the lines, their evidence and availability; nothing is written."""
    app = jxc(request)
    _ = gettext_for(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    if not may_work(v.actor, "sales"):
        return render(request, "error.html", 403, viewer=v, message=_("%(name)s 无权新建这种单据", name=v.actor.name))
    text, wid = data.get("text", ""), _int(data.get("warehouse_id"))
    try:
        result = ci.parse_message(app.uow_factory, app.chat_catalog, text, v.actor, app.clock.now(), wid,
                                  _today(app))
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        return _page(request, v, text, wid, 422 if exc.status == 400 else exc.status, None, errors, general)
    return _page(request, v, text, wid, chat=chat_view(request, app, result))


@router.post("/orders/chat/draft")
def draft(request: Request, data: Form, v: Page) -> Response:
    """生成草稿订单 — the sure lines, the accepted ones and the corrected ones; then the order page."""
    app = jxc(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    text, wid = data.get("text", ""), _int(data.get("warehouse_id"))
    accept = tuple(int(k[7:]) for k, val in data.items() if k.startswith("accept-") and k[7:].isdigit() and val)
    corrections = tuple((int(k[8:]), int(val)) for k, val in data.items()
                        if k.startswith("correct-") and k[8:].isdigit() and val.isdigit() and int(val) < 2**31)
    customer = _int(data.get("customer_id"))
    req = ci.ChatOrderInput(text, wid or 0, customer, tuple(i for i in accept if i not in dict(corrections)),
                            corrections=corrections)
    try:
        made = ci.draft_order(app.uow_factory, app.chat_catalog, req, v.actor, app.clock.now(), _today(app))
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        try:
            again = ci.parse_message(app.uow_factory, app.chat_catalog, text, v.actor, app.clock.now(), wid,
                                     _today(app))
            chat = chat_view(request, app, again)
        except DomainError:
            chat = None
        return _page(request, v, text, wid, 422 if exc.status == 400 else exc.status, chat, errors, general,
                     customer)
    if made.order_id is None:
        en = i18n.lang_of(request) == i18n.EN
        return _page(request, v, text, wid, 422, chat_view(request, app, made.parse), {},
                     [(made.reason_en if en else made.reason_zh) or ""], customer)
    return RedirectResponse(f"/orders/{made.order_id}?done=saved", status_code=303)

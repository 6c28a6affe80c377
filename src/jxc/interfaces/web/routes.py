"""网页 — server-rendered pages (Jinja2) with HTMX partials: login, dashboard, stock, open documents.

Guarantees:
- Every page but /login needs the session cookie the JSON API's login sets;
  without one a page redirects to /login (an HTMX request gets `HX-Redirect`).
- Every unsafe request carries the session's CSRF token: the form field
  `csrf_token`, or the `X-CSRF-Token` header that base.html makes HTMX send.
- Routes call services and `App.queries` only — the same ones as the JSON API.
- Approving asks for the password again (`users.verify_password`), as the API
  does; a wrong password changes nothing and says so next to the field.
- Texts are zh-CN first, English per user (`i18n`): every render gets `_`; route code
  takes `_ = gettext_for(request)`; refusals show `message_zh` or `message_en`.
- A DomainError escaping a page route renders in the viewer's language: an HTMX
  request gets a fragment aimed at the field's `#err-<field>` slot (or `#flash`),
  any other request a full error page; /api paths keep the JSON problem shape.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from jxc import __version__
from jxc.domain.availability import STATUS_ZH
from jxc.domain.errors import DomainError
from jxc.interfaces.api.deps import CSRF_HEADER, SESSION_COOKIE, client, jxc
from jxc.interfaces.api.routes_auth import policy
from jxc.interfaces.web import i18n, views
from jxc.interfaces.web.i18n import gettext_for
from jxc.services import auth, documents, preferences, reserving, users
from jxc.services.posting import Actor

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.add_extension("jinja2.ext.i18n")
templates.env.filters["num"] = views.number
templates.env.filters["money"] = views.money
templates.env.filters["line_price"] = views.line_price  # stored per base unit, shown per the line's unit
templates.env.globals.update(kind_zh=views.KIND_ZH, state_zh=views.STATE_ZH, status_zh=STATUS_ZH)
templates.env.install_null_translations(newstyle=True)  # per request, `_` comes from the render context
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Viewer:
    """当前登录用户 — the session's actor and its CSRF token (rendered into every page)."""

    actor: Actor
    csrf: str


class LoginRequired(Exception):
    """No (valid) session: the handler redirects to /login."""


def _viewer(request: Request) -> Viewer | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    app = jxc(request)
    ip, device = client(request)
    try:
        actor, csrf = auth.session_actor(app.uow_factory, cookie, app.clock.now(), ip, device)
    except DomainError:
        return None
    setattr(request.state, i18n.STATE_KEY, preferences.language(app.uow_factory, actor.name))
    return Viewer(actor, csrf)


def viewer(request: Request) -> Viewer:
    found = _viewer(request)
    if found is None:
        raise LoginRequired
    return found


async def form(request: Request) -> dict[str, str]:
    """The url-encoded form body (what browsers and HTMX send); no multipart parser needed."""
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


Page = Annotated[Viewer, Depends(viewer)]
Form = Annotated[dict[str, str], Depends(form)]


def _csrf_ok(request: Request, data: dict[str, str], v: Viewer) -> bool:
    sent = request.headers.get(CSRF_HEADER) or data.get("csrf_token", "")
    return hmac.compare_digest(sent, v.csrf)


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    app = jxc(request)
    context.setdefault("viewer", None)
    context.update(version=__version__, zone=app.settings.zone, local=views.local, url_with=views.url_with(request),
                   **i18n.template_context(request))
    return templates.TemplateResponse(request, name, context, status_code=status)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never `//evil.example` or `https://…`."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # `next`: the query name people see
    if _viewer(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    _ = gettext_for(request)
    return _render(request, "login.html", next=_safe_next(next), username="", errors={},
                   notice=request.query_params.get("bye") and _("已退出登录"))


@router.post("/login")
def login(request: Request, data: Form) -> Response:
    """登录 — the same service and session cookie as POST /api/v1/auth/login."""
    app = jxc(request)
    _ = gettext_for(request)
    username, password = data.get("username", "").strip(), data.get("password", "")
    target = _safe_next(data.get("next"))
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _("请输入用户名")
    if not password:
        errors["password"] = _("请输入密码")
    status = 422
    if not errors:
        ip, device = client(request)
        try:
            s = auth.login(app.uow_factory, username, password, app.clock.now(), policy(app), ip, device)
        except DomainError as exc:
            errors[exc.field or "password"] = i18n.error_text(request, exc)
            status = 429 if exc.code == "LOGIN_LOCKED" else 401
        else:
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(SESSION_COOKIE, s.secret, httponly=True, samesite="lax",
                                secure=request.url.scheme == "https", max_age=app.settings.session_ttl_s)
            stored = preferences.language(app.uow_factory, username)
            if stored:  # the user's own choice follows them to this browser
                _set_lang_cookie(request, response, stored)
            return response
    return _render(request, "login.html", status, next=target, username=username, errors=errors, notice=None)


def _set_lang_cookie(request: Request, response: Response, lang: str) -> None:
    response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86_400, samesite="lax",
                        secure=request.url.scheme == "https")


def _csrf_refused(request: Request, v: Viewer | None, fragment: bool = False) -> Response:
    _ = gettext_for(request)
    message = _("页面已过期（CSRF 校验失败），请刷新页面后重试")
    if fragment:
        return _render(request, "_message.html", 403, kind="error", message=message)
    return _render(request, "error.html", 403, viewer=v, message=message)


@router.post("/lang")
def switch_language(request: Request, data: Form) -> Response:
    """切换语言 — zh-CN ↔ English: a cookie for this browser, stored for the user when logged in."""
    lang = i18n.normalize(data.get("lang")) or i18n.ZH
    v = _viewer(request)
    if v is not None:
        if not _csrf_ok(request, data, v):
            return _csrf_refused(request, v)
        app = jxc(request)
        preferences.set_language(app.uow_factory, lang, v.actor, app.clock.now())
    response = RedirectResponse(_safe_next(data.get("next")),
                                status_code=303)
    _set_lang_cookie(request, response, lang)
    return response


@router.post("/logout")
def logout(request: Request, data: Form, v: Page) -> Response:
    """退出登录."""
    if not _csrf_ok(request, data, v):
        return _csrf_refused(request, v)
    app = jxc(request)
    auth.logout(app.uow_factory, request.cookies.get(SESSION_COOKIE, ""), app.clock.now(), v.actor.ip)
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/stock")
def stock(request: Request, v: Page, q: str = "") -> Response:
    """库存查询 — on hand by warehouse, location, lot and status; a row opens the availability breakdown."""
    rows = views.stock_lines(jxc(request), v.actor, q[:64])
    return _render(request, "stock.html", viewer=v, q=q[:64], rows=rows, cost=views.can_see_cost(v.actor),
                   limit=views.MAX_ROWS)


@router.get("/stock/why")
def why(request: Request, v: Page, product_id: int, warehouse_id: int) -> Response:
    """为什么不可用 — on hand → available, part by part (status, expiry, reservations and their holders)."""
    app = jxc(request)
    _ = gettext_for(request)
    if not views.visible_warehouse(v.actor, warehouse_id):
        return _render(request, "_message.html", 403, kind="error",
                       message=_("%(name)s 无权查看该仓库/门店", name=v.actor.name))
    today = app.clock.now().astimezone(app.settings.zone).date()
    ex = reserving.availability(app.uow_factory, product_id, warehouse_id, today)
    product = next(iter(app.queries.page_records("products", None, 1, id=product_id)), None)
    return _render(request, "_why.html", ex=ex, product=product, today=today)


@router.get("/documents")
def open_documents(request: Request, v: Page) -> Response:
    """未生效单据 — drafts and pending approvals: staged work that is not stock yet."""
    return _render(request, "documents.html", viewer=v, docs=views.open_documents(jxc(request), v.actor))


@router.post("/documents/{doc_id}/approve")
def approve(request: Request, doc_id: int, data: Form, v: Page) -> Response:
    """审批通过 — needs the password again; answers the document's card with the result or the error."""
    app = jxc(request)
    _ = gettext_for(request)
    if not _csrf_ok(request, data, v):
        return _csrf_refused(request, v, fragment=True)
    now, actor = app.clock.now(), v.actor
    error, status, message = None, 200, None
    password = data.get("password", "")
    if not password:
        error, status = _("请输入密码确认"), 422
    elif not users.verify_password(app.uow_factory, actor.name, password, now, actor.ip, actor.device):
        error, status = _("密码不正确，请再次输入密码确认"), 403
    else:
        try:
            state = documents.approve(app.uow_factory, doc_id, replace(actor, reauthenticated=True), now,
                                      data.get("comment") or None)
        except DomainError as exc:
            error, status = i18n.error_text(request, exc), exc.status
        else:
            message = (_("审批通过，单据已生效，已计入库存") if state == "posted"
                       else _("已审批，等待下一级审批（仍未生效）"))
    if not request.headers.get("HX-Request"):  # a plain form post (no JavaScript): the whole page
        return _render(request, "documents.html", status, viewer=v, docs=views.open_documents(app, actor),
                       flash=error or message, flash_kind="error" if error else "ok")
    try:
        doc = documents.get(app.uow_factory, doc_id)
    except DomainError as exc:
        return _render(request, "_message.html", exc.status, kind="error", message=i18n.error_text(request, exc))
    if not views.visible_warehouse(actor, doc["warehouse_id"]):
        return _render(request, "_message.html", 403, kind="error",
                       message=_("%(name)s 无权查看该仓库/门店的单据", name=actor.name))
    return _render(request, "_document.html", status, viewer=v, doc=views.card_of(app, doc), error=error,
                   message=message)


async def _login_required(request: Request, _exc: Exception) -> Response:
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": "/login"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith(("/api/", "/static/")) or path in ("/api", "/healthz", "/metrics"))


def page_error(request: Request, exc: DomainError) -> Response:
    """A refusal on a page: an HTMX fragment for the field's slot, or the whole error page.

    The fragment goes to `#err-<field>` (templates put `{{ field_error("qty") }}`-style slots,
    `<p id="err-qty">`, next to inputs) or to `#flash` in base.html when the error names no field.
    """
    message = i18n.error_text(request, exc)
    if request.headers.get("HX-Request"):
        target = f"#err-{exc.field}" if exc.field else "#flash"
        response = _render(request, "_field_error.html", exc.status, field=exc.field, code=exc.code,
                           message=message)
        response.headers["HX-Retarget"] = target
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return _render(request, "error.html", exc.status, viewer=_viewer(request), message=message, code=exc.code)


def install(api: FastAPI) -> None:
    """Mount the pages and /static on the app (called once by `create_app`, after the API's handlers)."""
    api.state.jxc_i18n = i18n.load()  # every .po under locale/, merged; a conflict refuses to start
    from jxc.interfaces.web import pages_admin, pages_dashboard, pages_ledger, pages_masterdata

    for module in (pages_dashboard, pages_masterdata, pages_ledger, pages_admin):  # they import this module
        api.include_router(module.router)
    api.include_router(router)
    from jxc.interfaces.web import (  # they import this module
        routes_count,
        routes_documents,
        routes_mobile,
        routes_scan,
    )

    api.include_router(routes_documents.router)
    api.include_router(routes_mobile.router)
    api.include_router(routes_count.router)
    api.include_router(routes_scan.router)
    from jxc.interfaces.web import (  # they import this module
        routes_chat,
        routes_money,
        routes_orders,
        routes_reports,
    )

    for module in (routes_orders, routes_chat, routes_money, routes_reports):  # orders, money owed, reports
        api.include_router(module.router)
    api.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    api.add_exception_handler(LoginRequired, _login_required)
    json_domain = api.exception_handlers.get(DomainError)

    async def _domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if _is_page(request) or json_domain is None:
            return page_error(request, exc)
        return await json_domain(request, exc)

    api.add_exception_handler(DomainError, _domain)
    from jxc.interfaces.web import setup  # noqa: PLC0415 — first-run wizard (it imports this module)
    setup.install(api)

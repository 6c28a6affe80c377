"""开户向导 — the first-run pages of an empty (non-demo) book.

Guarantees:
- While the book has no user, `/` and `/login` lead to `/setup`; once a user
  exists, step one (`/setup`) is refused (SETUP_DONE) and the later steps need
  the owner's session, like every other page.
- Step one has no session yet, so it carries its own CSRF token (a cookie and a
  matching form field); the later steps use the session's token.
- Every step calls services only (`first_run`, `masterdata`, `users`).
- Pages, messages and refusals are in the viewer's language (`i18n`: the
  `jxc_lang` cookie before login); the English is in locale/en/LC_MESSAGES/setup.po.
Steps: 1 business name + first owner · 2 warehouses · 3 products (CSV / xlsx /
paste from Excel, or typed) · 4 opening stock · 5 more users · done.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jxc.domain.errors import DomainError
from jxc.interfaces.api.deps import SESSION_COOKIE, client, jxc
from jxc.interfaces.api.routes_auth import policy
from jxc.interfaces.web import i18n
from jxc.interfaces.web import routes as web
from jxc.interfaces.web.i18n import N_, gettext_for
from jxc.services import auth, first_run, masterdata, users

router = APIRouter(include_in_schema=False)
SETUP_COOKIE = "jxc_setup"
STEPS = (("owner", N_("老板账号")), ("warehouses", N_("仓库 / 门店")), ("products", N_("商品")),
         ("stock", N_("期初库存")), ("users", N_("员工账号")), ("done", N_("完成")))
ROLES = (("manager", N_("主管")), ("purchaser", N_("采购")), ("keeper", N_("仓管")), ("sales", N_("销售/收银")),
         ("finance", N_("财务")))
MAX_UPLOAD = 5 * 1024 * 1024


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a wizard page; `web._render` adds `_` in the request's language (i18n.template_context)."""
    context.setdefault("steps", STEPS)
    context.setdefault("errors", {})
    context.setdefault("flash", None)
    return web._render(request, name, status, **context)


def _owner(request: Request) -> web.Viewer | None:
    v = web._viewer(request)
    return v if v is not None and "*" in v.actor.permissions else None


def _done(request: Request) -> bool:
    """Cached once true: users are never deleted, only deactivated."""
    state = request.app.state
    if not getattr(state, "setup_done", False):
        state.setup_done = not first_run.needs_setup(jxc(request).uow_factory)
    return state.setup_done


@router.get("/setup")
def owner_form(request: Request) -> Response:
    """第一步 — business name and the first owner; refused once any user exists."""
    if _done(request):
        return _refused(request)
    token = request.cookies.get(SETUP_COOKIE) or secrets.token_urlsafe(24)
    response = _page(request, "setup_owner.html", step="owner", token=token, form={})
    response.set_cookie(SETUP_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


def _refused(request: Request) -> Response:
    if _owner(request) is not None:
        return RedirectResponse("/setup/warehouses", status_code=303)
    return _page(request, "setup_refused.html", 409, step=None)


@router.post("/setup")
async def create_owner(request: Request) -> Response:
    data = await web.form(request)
    return await run_in_threadpool(_create_owner, request, data)


def _create_owner(request: Request, data: dict[str, str]) -> Response:
    app = jxc(request)
    if _done(request):
        return _refused(request)
    _ = gettext_for(request)
    token = request.cookies.get(SETUP_COOKIE, "")
    if not token or not hmac.compare_digest(token, data.get("setup_token", "")):
        return _page(request, "error.html", 403, message=_("页面已过期，请刷新开户向导后重试"))
    form = {k: data.get(k, "").strip() for k in ("business_name", "username", "display_name")}
    errors = {}
    if not form["business_name"]:
        errors["business_name"] = _("请填写店铺/企业名称")
    if data.get("password", "") != data.get("password2", ""):
        errors["password2"] = _("两次输入的密码不一致")
    ip, device = client(request)
    if not errors:
        try:
            first_run.create_owner(app.uow_factory, form["business_name"], form["username"], data.get("password", ""),
                                   form["display_name"], app.clock.now(), ip, device)
        except DomainError as exc:
            for p in getattr(exc, "problems", None) or (exc,):
                errors[p.field or "username"] = i18n.pick(request, p.message_zh, p.message_en)
    if errors:
        return _page(request, "setup_owner.html", 422, step="owner", token=token, form=form, errors=errors)
    request.app.state.setup_done = True
    s = auth.login(app.uow_factory, form["username"], data["password"], app.clock.now(), policy(app), ip, device)
    response = RedirectResponse("/setup/warehouses", status_code=303)
    response.set_cookie(SESSION_COOKIE, s.secret, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", max_age=app.settings.session_ttl_s)
    response.delete_cookie(SETUP_COOKIE)
    return response


def _step(request: Request, step: str, status: int = 200, **context: Any) -> Response:
    v = _owner(request)
    if v is None:
        return _refused(request) if _done(request) else RedirectResponse("/setup", status_code=303)
    app = jxc(request)
    context.update(viewer=v, step=step, warehouses=app.queries.page_records("warehouses", None, 50),
                   products=app.queries.page_records("products", None, 200),
                   people=app.queries.page_records("users", None, 50), roles=ROLES)
    return _page(request, f"setup_{step}.html", status, **context)


@router.get("/setup/{step}")
def step_page(request: Request, step: str) -> Response:
    if step not in {s for s, _label in STEPS[1:]}:
        return _page(request, "error.html", 404, message=gettext_for(request)("没有这一步"))
    return _step(request, step)


@router.post("/setup/{step}")
async def step_post(request: Request, step: str) -> Response:
    raw = await request.body()
    if len(raw) > MAX_UPLOAD:
        return _page(request, "error.html", 413, message=gettext_for(request)("文件太大（最多 5 MB）"))
    kind = request.headers.get("content-type", "")
    data = {} if not kind.startswith("application/x-www-form-urlencoded") else await web.form(request)
    return await run_in_threadpool(_step_post, request, step, data, raw, kind)


def _step_post(request: Request, step: str, data: dict[str, str], raw: bytes, kind: str) -> Response:
    v = _owner(request)
    if v is None:
        return _refused(request) if _done(request) else RedirectResponse("/setup", status_code=303)
    _ = gettext_for(request)
    if not web._csrf_ok(request, data, v):
        return _page(request, "error.html", 403, message=_("页面已过期（CSRF 校验失败），请刷新页面后重试"))
    handler = {"warehouses": _warehouse, "products": _products, "stock": _stock, "users": _user}.get(step)
    if handler is None:
        return _page(request, "error.html", 404, message=_("没有这一步"))
    return handler(request, v, data, raw, kind)


def _warehouse(request: Request, v: web.Viewer, data: dict[str, str], raw: bytes, kind: str) -> Response:
    app = jxc(request)
    form = {k: data.get(k, "").strip() for k in ("code", "name", "kind")}
    try:
        masterdata.create(app.uow_factory, "warehouses", {**form, "kind": form["kind"] or "warehouse"},
                          v.actor, app.clock.now())
    except DomainError as exc:
        return _step(request, "warehouses", 422, form=form, errors=_fields(request, exc))
    return _step(request, "warehouses", flash=gettext_for(request)("已添加：%(name)s", name=form["name"]))


def _products(request: Request, v: web.Viewer, data: dict[str, str], raw: bytes, kind: str) -> Response:
    app, _ = jxc(request), gettext_for(request)
    if "form-urlencoded" in kind:
        if data.get("table", "").strip():
            rows = first_run.read_table(data["table"].encode())
        else:
            rows = [{k: data.get(k, "").strip() for k in ("code", "name", "spec", "base_unit", "barcode",
                                                          "shelf_life_days") if data.get(k, "").strip()}]
    else:  # the file itself as the body (the page's small script sends it, no multipart needed)
        try:
            rows = first_run.read_table(raw, request.query_params.get("filename", ""))
        except Exception as exc:  # noqa: BLE001 — any unreadable file is the user's to fix, said plainly
            return _step(request, "products", 422, flash=_("无法读取文件（%(kind)s），请上传 CSV 或 xlsx",
                                                          kind=type(exc).__name__), flash_kind="error")
    created, problems = first_run.import_products(app.uow_factory, rows, v.actor, app.clock.now())
    status = 422 if problems and not created else 200
    flash = (_("已导入 %(n)s 个商品，%(problems)s 处问题", n=created, problems=len(problems)) if problems
             else _("已导入 %(n)s 个商品", n=created))
    return _step(request, "products", status, flash=flash, flash_kind="error" if problems else "ok",
                 problems=problems[:50])


def _stock(request: Request, v: web.Viewer, data: dict[str, str], raw: bytes, kind: str) -> Response:
    app, _ = jxc(request), gettext_for(request)
    lines = []
    for row in first_run.read_table(("code,qty,cost\n" + data.get("lines", "")).encode()) if data.get("lines") else []:
        lines.append(first_run.OpeningLine(row.get("code", ""), row.get("qty", ""), row.get("cost")))
    try:
        warehouse_id = int(data.get("warehouse_id", "0"))
        if not lines:
            raise DomainError("POSTING_EMPTY", "请每行填写：商品编码,数量,单位成本", "one line each: code,qty,cost",
                              field="lines")
        first_run.post_opening(app.uow_factory, warehouse_id, lines, v.actor, app.clock.now())
    except (DomainError, ValueError) as exc:
        message = i18n.error_text(request, exc) if isinstance(exc, DomainError) else _("请选择仓库")
        return _step(request, "stock", 422, flash=message, flash_kind="error", lines=data.get("lines", ""))
    return _step(request, "stock", flash=_("期初库存已入账：%(n)s 行", n=len(lines)))


def _user(request: Request, v: web.Viewer, data: dict[str, str], raw: bytes, kind: str) -> Response:
    app = jxc(request)
    form = {k: data.get(k, "").strip() for k in ("username", "display_name", "role")}
    try:
        users.create_user(app.uow_factory, form["username"], data.get("password", ""), form["role"], v.actor,
                          app.clock.now(), display_name=form["display_name"] or None)
    except DomainError as exc:
        return _step(request, "users", 422, form=form, errors=_fields(request, exc))
    return _step(request, "users", flash=gettext_for(request)("已添加员工：%(name)s", name=form["username"]))


def _fields(request: Request, exc: DomainError) -> dict[str, str]:
    return {p.field or "form": i18n.pick(request, p.message_zh, p.message_en)
            for p in getattr(exc, "problems", None) or (exc,)}


async def _first_run_redirect(request: Request, call_next: Any) -> Response:
    """An empty book has no login yet: `/` and `/login` lead to the wizard."""
    if request.method == "GET" and request.url.path in ("/", "/login") and not getattr(
            request.app.state, "setup_done", False):
        if not await run_in_threadpool(_done, request):
            return RedirectResponse("/setup", status_code=303)
    return await call_next(request)


def install(api: FastAPI) -> None:
    """Mount the wizard and its redirect (one line in `web.routes.install`)."""
    api.include_router(router)
    api.middleware("http")(_first_run_redirect)

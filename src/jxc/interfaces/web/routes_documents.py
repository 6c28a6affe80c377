"""单据页面 — every document kind: list with filters, draft form with scan / search line entry,
FEFO lot picker, the lifecycle buttons the viewer may use, and the approvals inbox.

Guarantees:
- The pages call the same services as the JSON API (`services.documents`); a button the
  viewer may not use is not rendered, and the service refuses it anyway (the reason shows).
- Every POST checks the session's CSRF token.
- Approving asks for the password again (`users.verify_password`), like /documents and the API.
- A refused save re-renders the form with what was typed and each message next to its field,
  in the viewer's language (DomainError.message_zh / message_en).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jxc.domain import documents as d
from jxc.domain.errors import DomainError, Problems
from jxc.domain.permissions import holds
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import doc_views as dv
from jxc.interfaces.web import lot_entry, views
from jxc.interfaces.web.i18n import gettext_for
from jxc.interfaces.web.routes import Form, Page
from jxc.interfaces.web.web_common import (
    csrf_ok,
    csrf_refused,
    error_text,
    field_errors,
    pick,
    render,
)
from jxc.services import documents, users
from jxc.services.doc_rules import REASON_GROUP, RETURNS, DraftInput, LineInput

router = APIRouter(include_in_schema=False)
MAX_LINES = 500
LINE_FIELDS = ("product_id", "qty", "unit", "lot_id", "unit_price", "location_id", "role", "to_status", "remark",
               "lot_number", "lot_produced", "source_line_no")
HEADER_FIELDS = ("warehouse_id", "to_warehouse_id", "partner_id", "reason_code", "reason_text", "remark", "version",
                 "source_document_id", "freight", "freight_basis")
IDS = ("warehouse_id", "to_warehouse_id", "partner_id", "version", "source_document_id")


def _today(app: Any) -> Any:
    return app.clock.now().astimezone(app.settings.zone).date()


# ── list and inbox ───────────────────────────────────────────────────────────

@router.get("/documents/list")
def document_list(request: Request, v: Page) -> Response:
    """单据列表 — filters (kind, state, warehouse, partner, dates, text), status chips, pages of 50."""
    app = jxc(request)
    f = dv.Filters.parse(request.query_params)
    rows, total = dv.search(app, v.actor, f, app.settings.zone)
    pages = max(1, (total + dv.PAGE_SIZE - 1) // dv.PAGE_SIZE)
    name = "_doc_rows.html" if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "doc-rows" \
        else "doc_list.html"
    return render(request, name, viewer=v, rows=rows, total=total, f=f, pages=pages,
                  creatable=dv.creatable_kinds(v.actor), **dv.choices(app, v.actor))


@router.get("/approvals")
def approvals(request: Request, v: Page) -> Response:
    """审批中心 — pending documents the viewer may approve (not their own), oldest first."""
    app = jxc(request)
    rows = [r for r in app.queries.open_documents(None, limit=views.MAX_ROWS) if r["state"] == "pending_approval"]
    mine = []
    for r in rows:
        doc = documents.get(app.uow_factory, r["id"])
        if "approve" in dv.doc_buttons(v.actor, doc):
            mine.append(_detail(app, doc))
    return render(request, "approvals.html", viewer=v, docs=mine)


# ── one document ─────────────────────────────────────────────────────────────

def _detail(app: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """A document with product, lot, location and partner names for its page or card."""
    pids = {ln["product_id"] for ln in doc["lines"]}
    products = {pid: dv.product(app, pid) or {} for pid in pids}
    lots = {ln["lot_id"]: (app.queries.page_records("lots", None, 1, id=ln["lot_id"]) or [{}])[0]
            for ln in doc["lines"] if ln["lot_id"]}
    whs = dv.by_id(app, "warehouses")
    partner = (app.queries.page_records("partners", None, 1, id=doc["partner_id"]) or [{}])[0] \
        if doc.get("partner_id") else {}
    lines = [dict(ln, product=products.get(ln["product_id"], {}), lot=lots.get(ln["lot_id"], {}))
             for ln in doc["lines"]]
    return dict(doc, lines=lines, warehouse=whs.get(doc["warehouse_id"], {}).get("name", ""),
                to_warehouse=whs.get(doc.get("to_warehouse_id") or 0, {}).get("name", ""),
                partner=partner.get("name", ""))


def _form_context(request: Request, v: Any, kind: d.DocumentKind, header: dict[str, Any],
                  lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    app = jxc(request)
    group = REASON_GROUP.get(kind)
    reasons = [dict(r, label=pick(request, r["label_zh"], r.get("label_en")))
               for r in app.queries.page_records("reasons", None, 200, kind=group, active=True)] if group else []
    info = d.KINDS[kind]
    partners = [p for p in dv.choices(app, v.actor)["partners"]
                if info.partner and p["role"] in (info.partner, "both")]
    wid = header.get("warehouse_id")
    locations = [loc for loc in app.queries.page_records("locations", None, 2000, warehouse_id=wid, active=True)
                 if loc["kind"] == "physical"] if wid else []
    return {"viewer": v, "kind": kind, "info": info, "header": header, "lines": lines, "reasons": reasons,
            "partners": partners, "warehouses": dv.choices(app, v.actor)["warehouses"], "locations": locations,
            "may_link": holds(v.actor.permissions, "masterdata.edit"), "errors": {}, "general": [],
            "roles": _roles(kind), "may_post": dv.may(v.actor, "post", kind, wid),
            **_source(app, header.get("source_document_id")), **extra}


def _source(app: Any, source_id: int | None) -> dict[str, Any]:
    """退货原单 — the original a return is tied to and its lines, for each line's "original line" choice."""
    if not source_id:
        return {"source": None, "source_lines": []}
    try:
        doc = documents.get(app.uow_factory, source_id)
    except DomainError:
        return {"source": None, "source_lines": []}
    products = {pid: dv.product(app, pid) or {} for pid in {ln["product_id"] for ln in doc["lines"]}}
    lines = [{"no": ln["line_no"], "product_id": ln["product_id"], "qty": ln["qty_base"],
              "code": products[ln["product_id"]].get("code", ""), "name": products[ln["product_id"]].get("name", ""),
              "unit": products[ln["product_id"]].get("base_unit", "")} for ln in doc["lines"]]
    return {"source": {"id": doc["id"], "number": doc["number"]}, "source_lines": lines}


def _roles(kind: d.DocumentKind) -> tuple[str, ...]:
    if kind is d.DocumentKind.COUNT_ADJUSTMENT:
        return ("gain", "loss")
    if kind in (d.DocumentKind.ASSEMBLY, d.DocumentKind.DISASSEMBLY):
        return ("component", "output")
    return ()


def _line_view(app: Any, kind: d.DocumentKind, warehouse_id: int | None, raw: dict[str, Any]) -> dict[str, Any]:
    """A line for the form: what was typed plus the product, its units and its lots (FEFO when outgoing)."""
    p, row = dv.line_product(app, raw.get("product_id"))
    pid = row["id"]
    lots: list[Any] = []
    outgoing = kind in (d.DocumentKind.SALES_DELIVERY, d.DocumentKind.TRANSFER, d.DocumentKind.SCRAP,
                        d.DocumentKind.PURCHASE_RETURN, d.DocumentKind.PRODUCTION_ISSUE)
    if p and p["tracking"] != "none":
        if outgoing and warehouse_id:
            lots = [{"id": x.lot_id, "number": x.lot_number, "expires_on": x.expires_on, "qty": x.qty,
                     "first": x.first} for x in dv.lot_choices(app, pid, warehouse_id, _today(app))]
        else:
            lots = [{"id": x["id"], "number": x["lot_number"], "expires_on": x.get("expires_on"), "qty": None,
                     "first": False} for x in dv.all_lots(app, pid)[:50]]
    return {"product": row, "lots": lots, "outgoing": outgoing,
            **{k: raw.get(k, "") for k in LINE_FIELDS if k != "product_id"}, "product_id": pid}


@router.get("/documents/new")
def new_document(request: Request, v: Page, kind: str = "") -> Response:
    """新建单据 — pick a kind, then the form."""
    app = jxc(request)
    _ = gettext_for(request)
    allowed = dv.creatable_kinds(v.actor)
    if kind not in d.DocumentKind._value2member_map_ or d.DocumentKind(kind) not in allowed:
        if kind:
            return render(request, "error.html", 403, viewer=v,
                          message=_("%(name)s 无权新建这种单据", name=v.actor.name))
        return render(request, "doc_kinds.html", viewer=v, creatable=allowed)
    k = d.DocumentKind(kind)
    whs = dv.choices(app, v.actor)["warehouses"]
    header = {"warehouse_id": whs[0]["id"] if whs else None, "version": 0}
    return render(request, "doc_form.html", **_form_context(request, v, k, header, []))


def _parse(data: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    header = {k: data.get(k, "").strip() for k in HEADER_FIELDS}
    for k in IDS:
        header[k] = int(header[k]) if header[k].isdigit() and int(header[k]) < 2**31 else None
    return header, dv.form_lines(data, LINE_FIELDS, MAX_LINES)


def _draft(kind: d.DocumentKind, header: dict[str, Any], lines: list[dict[str, Any]]) -> DraftInput:
    def num(v: str) -> int | None:
        return int(v) if v.isdigit() and int(v) < 2**31 else None

    out = tuple(LineInput(num(ln["product_id"]) or 0, ln["qty"], ln["unit"] or None, num(ln["lot_id"]) or 0,
                          ln["unit_price"] or None, num(ln["location_id"]), ln["role"],
                          to_status=ln["to_status"] or None, remark=ln["remark"] or None,
                          source_line_no=num(ln["source_line_no"]))
                for ln in lines)
    return DraftInput(kind, header["warehouse_id"] or 0, out, partner_id=header["partner_id"],
                      to_warehouse_id=header["to_warehouse_id"], remark=header["remark"] or None,
                      reason_code=header["reason_code"] or None, reason_text=header["reason_text"] or None,
                      source_document_id=header["source_document_id"] if kind in RETURNS else None,
                      freight=header["freight"] or None, freight_basis=header["freight_basis"] or None)


def _new_lots(app: Any, actor: Any, lines: list[dict[str, Any]], now: Any) -> None:
    """A lot number typed on an incoming line: the product's lot of that number, or a new one
    (expiry from its production date and shelf life). Fills `lot_id` in place; problems raise once."""
    p = Problems()
    for i, ln in enumerate(lines):
        number, produced = ln.get("lot_number", "")[:64], ln.get("lot_produced", "")
        if ln.get("lot_id") or not number or not ln["product_id"].isdigit():
            continue
        if produced and lot_entry.day(produced) is None:
            p.add("VALUE_INVALID", f"lines[{i}].lot_id", f"第{i + 1}行生产日期无效", f"line {i + 1}: bad production date")
            continue
        try:
            ln["lot_id"] = str(lot_entry.lot_for(app, actor, int(ln["product_id"]), number, now, lot_entry.day(produced)))
            ln["lot_number"] = ""
        except DomainError as exc:
            p.add(exc.code, f"lines[{i}].lot_id", f"第{i + 1}行：{exc.message_zh}", f"line {i + 1}: {exc.message_en}")
    p.raise_if_any()


@router.post("/documents/new")
def create_document(request: Request, data: Form, v: Page) -> Response:
    """保存草稿 — or, with `then=submit`, save and submit in one go."""
    return _save(request, data, v, None)


@router.post("/documents/{doc_id:int}")
def save_document(request: Request, doc_id: int, data: Form, v: Page) -> Response:
    """修改草稿 — the version read travels with the form; a stale save is refused (who changed it)."""
    return _save(request, data, v, doc_id)


def _save(request: Request, data: dict[str, str], v: Any, doc_id: int | None) -> Response:
    app = jxc(request)
    _ = gettext_for(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    kind_value = data.get("kind", "")
    if kind_value not in d.DocumentKind._value2member_map_:
        return render(request, "error.html", 422, viewer=v, message=_("单据类型无效"))
    kind = d.DocumentKind(kind_value)
    header, raw_lines = _parse(data)
    now = app.clock.now()
    saved_now = False
    try:
        _new_lots(app, v.actor, raw_lines, now)
        inp = _draft(kind, header, raw_lines)
        if doc_id is None:
            doc_id = documents.create_draft(app.uow_factory, inp, v.actor, now)
        else:
            documents.update_draft(app.uow_factory, doc_id, inp, header["version"] or 0, v.actor, now)
        saved_now = True
        if data.get("then") == "submit":
            state = documents.submit(app.uow_factory, doc_id, v.actor, now)
            flash = "posted" if state == d.DocumentState.POSTED else "pending"
        else:
            flash = "saved"
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        lines = [_line_view(app, kind, header["warehouse_id"], ln) for ln in raw_lines]
        if saved_now and doc_id is not None:  # saved, but the submit was refused: the form now edits that draft
            saved = documents.get(app.uow_factory, doc_id)
            header = dict(header, version=saved["version"], number=saved["number"])
        ctx = _form_context(request, v, kind, dict(header, id=doc_id), lines, errors=errors, general=general)
        return render(request, "doc_form.html", exc.status if exc.status != 400 else 422, **ctx)
    return RedirectResponse(f"/documents/{doc_id}?done={flash}", status_code=303)


@router.get("/documents/{doc_id:int}")
def show_document(request: Request, doc_id: int, v: Page, done: str = "", edit: int = 0) -> Response:
    """单据详情 — header, lines, approvals and the buttons the viewer may use; a draft opens as a form."""
    app = jxc(request)
    _ = gettext_for(request)
    try:
        doc = documents.get(app.uow_factory, doc_id)
    except DomainError as exc:
        return render(request, "error.html", exc.status, viewer=v, message=error_text(request, exc))
    if not dv.visible(v.actor, doc):
        return render(request, "error.html", 403, viewer=v, message=_("%(name)s 无权查看该单据", name=v.actor.name))
    buttons = dv.doc_buttons(v.actor, doc)
    if edit and "edit" in buttons:
        kind = d.DocumentKind(doc["kind"])
        lines = [_line_view(app, kind, doc["warehouse_id"], {k: str(ln.get(k) or "") for k in LINE_FIELDS}
                            | {"product_id": str(ln["product_id"]), "qty": views.number(ln["qty"]),
                               "unit_price": views.line_price(ln),
                               "lot_id": str(ln["lot_id"] or "")})
                 for ln in doc["lines"]]
        header = {k: doc.get(k) for k in HEADER_FIELDS} | {"id": doc_id, "number": doc["number"]}
        return render(request, "doc_form.html", **_form_context(request, v, kind, header, lines))
    return render(request, "doc_detail.html", viewer=v, doc=_detail(app, doc), buttons=buttons, done=done,
                  error=None, field_error={})


@router.post("/documents/{doc_id:int}/act")
def act(request: Request, doc_id: int, data: Form, v: Page) -> Response:
    """提交 / 审批 / 驳回 / 红冲 / 作废 — one form per button; refusals show their reason on the page."""
    app = jxc(request)
    _ = gettext_for(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    action, now, actor = data.get("action", ""), app.clock.now(), v.actor
    field_error: dict[str, str] = {}
    error: str | None = None
    status = 200
    done = ""
    try:
        if action == "submit":
            state = documents.submit(app.uow_factory, doc_id, actor, now)
            done = "posted" if state == d.DocumentState.POSTED else "pending"
        elif action == "approve":
            password = data.get("password", "")
            if not password:
                field_error["password"], status = _("请输入密码确认"), 422
            elif not users.verify_password(app.uow_factory, actor.name, password, now, actor.ip, actor.device):
                field_error["password"], status = _("密码不正确，请再次输入密码确认"), 403
            else:
                state = documents.approve(app.uow_factory, doc_id, replace(actor, reauthenticated=True), now,
                                          data.get("comment") or None)
                done = "posted" if state == d.DocumentState.POSTED else "advanced"
        elif action == "reject":
            documents.reject(app.uow_factory, doc_id, actor, now, data.get("comment", ""))
            done = "rejected"
        elif action == "reverse":
            documents.reverse(app.uow_factory, doc_id, actor, now, data.get("reason", ""))
            done = "reversed"
        elif action == "cancel":
            documents.cancel_draft(app.uow_factory, doc_id, actor, now, data.get("reason") or None)
            done = "cancelled"
        else:
            error, status = _("未知操作"), 422
    except DomainError as exc:
        fields, general = field_errors(request, exc)
        field_error.update(fields)
        error = "；".join(general) if general else None
        status = exc.status if exc.status != 400 else 422
    if done and not request.headers.get("HX-Request"):
        back = data.get("back", "")
        target = back if back.startswith("/") and not back.startswith("//") else f"/documents/{doc_id}"
        sep = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{sep}done={done}", status_code=303)
    try:
        doc = documents.get(app.uow_factory, doc_id)
    except DomainError as exc:
        return render(request, "error.html", exc.status, viewer=v, message=error_text(request, exc))
    if not dv.visible(actor, doc):
        return render(request, "error.html", 403, viewer=v, message=_("%(name)s 无权查看该单据", name=actor.name))
    return render(request, "doc_detail.html", status, viewer=v, doc=_detail(app, doc),
                  buttons=dv.doc_buttons(actor, doc), done=done, error=error, field_error=field_error,
                  action=action)


# ── line entry helpers (HTMX / scan.js) ──────────────────────────────────────

@router.get("/documents/line")
def line_row(request: Request, v: Page, product_id: int, kind: str = "", warehouse_id: int = 0) -> Response:
    """One new line row for the form (scan.js appends it); lots in FEFO order when the line goes out."""
    app = jxc(request)
    k = d.DocumentKind(kind) if kind in d.DocumentKind._value2member_map_ else d.DocumentKind.PURCHASE_RECEIPT
    line = _line_view(app, k, warehouse_id or None, {"product_id": str(product_id), "qty": "1"})
    if not line["product"].get("units"):
        return render(request, "_message.html", 404, kind="error", message=gettext_for(request)("商品不存在"))
    return render(request, "_doc_line.html", line=line, i=0, kind=k, errors={}, roles=_roles(k))

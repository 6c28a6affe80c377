"""主数据页面 — products (search, detail), partners, warehouses and locations, with create/edit forms.

Guarantees:
- Lists paginate and filter in SQL (`WebReads`); the page size is capped.
- Product search matches code (any case), name, a barcode exactly, or the pinyin
  initials of the name (`dnmm` finds 东北大米), server-side.
- Create/edit go through `services.masterdata` (the API's service): permission
  `masterdata.edit`, validation, version check, audit. Refusals show next to their
  field in the user's language; the buttons show only to those who may use them.
- A keeper scoped to some warehouses sees only those warehouses and their stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jxc.domain.errors import DomainError, ValidationFailed
from jxc.domain.permissions import holds
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import i18n, views
from jxc.interfaces.web.i18n import N_, gettext_for
from jxc.interfaces.web.routes import Form, Page, _csrf_ok, _render
from jxc.services import masterdata
from jxc.services.posting import Actor

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@dataclass(frozen=True)
class Field:
    """表单字段 — name, zh label (a message id), input kind, choices (value, zh label)."""

    name: str
    label: str
    kind: str = "text"  # text / number / select / bool
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False


FIELDS: dict[str, tuple[Field, ...]] = {
    "products": (
        Field("code", N_("编码"), required=True), Field("name", N_("名称"), required=True),
        Field("spec", N_("规格")), Field("category", N_("分类")), Field("base_unit", N_("基本单位"), required=True),
        Field("tracking", N_("批次管理"), "select", (("none", N_("不管批次")), ("lot", N_("按批次")),
                                                 ("serial", N_("按序列号")))),
        Field("shelf_life_days", N_("保质期天数"), "number"), Field("safety_stock", N_("安全库存"), "number"),
        Field("expiry_warn_days", N_("临期预警天数"), "number"), Field("expiry_block_days", N_("临期禁售天数"), "number"),
        Field("active", N_("启用"), "bool"),
    ),
    "partners": (
        Field("code", N_("编码"), required=True), Field("name", N_("名称"), required=True),
        Field("role", N_("类型"), "select", (("supplier", N_("供应商")), ("customer", N_("客户")),
                                          ("both", N_("供应商兼客户"))), required=True),
        Field("lead_time_days", N_("交货周期天数"), "number"), Field("credit_limit", N_("信用额度"), "number"),
        Field("phone", N_("电话")), Field("address", N_("地址")), Field("active", N_("启用"), "bool"),
    ),
    "warehouses": (
        Field("code", N_("编码"), required=True), Field("name", N_("名称"), required=True),
        Field("kind", N_("类型"), "select", (("warehouse", N_("仓库")), ("store", N_("门店")))),
        Field("active", N_("启用"), "bool"),
    ),
    "locations": (
        Field("code", N_("编码"), required=True), Field("name", N_("名称"), required=True),
        Field("warehouse_id", N_("仓库"), "select", required=True), Field("active", N_("启用"), "bool"),
    ),
}
NOUN = {"products": N_("商品"), "partners": N_("往来单位"), "warehouses": N_("仓库"), "locations": N_("库位")}
LIST_URL = {"products": "/products", "partners": "/partners", "warehouses": "/warehouses", "locations": "/locations"}


def _page_no(raw: str | int | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def _scope(actor: Actor) -> list[int] | None:
    return None if actor.warehouses is None else sorted(actor.warehouses)


def can_edit(actor: Actor) -> bool:
    return holds(actor.permissions, "masterdata.edit")


# ── products ────────────────────────────────────────────────────────────────
@router.get("/products")
def products(request: Request, v: Page, q: str = "", category: str = "", tracking: str = "",
             status: str = "active", page: str = "1") -> Response:
    """商品 — search by code / name / pinyin initials / barcode; filter by category, tracking, status."""
    app = jxc(request)
    q = q.strip()[:64]
    extra = app.catalog_index.current(app.web).initials_match(q) if q else []
    active = {"active": True, "inactive": False}.get(status)
    n = _page_no(page)
    result = app.web.product_page(q=q, extra_ids=extra, category=category or None, tracking=tracking or None,
                                  active=active, offset=(n - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    stock = app.web.stock_by_product(_scope(v.actor)) if result.rows else {}
    return _render(request, "products.html", viewer=v, page=result, q=q, category=category, tracking=tracking,
                   st=status, categories=app.web.categories(), stock=stock, edit=can_edit(v.actor),
                   saved=request.query_params.get("saved"))


@router.get("/products/{product_id:int}")
def product_detail(request: Request, product_id: int, v: Page) -> Response:
    """商品详情 — stock by warehouse and lot, purchase price history, latest ledger entries."""
    app = jxc(request)
    product = app.web.product(product_id)
    if product is None:
        raise DomainError("NOT_FOUND", f"商品 {product_id} 不存在", f"product {product_id} does not exist")
    scope = _scope(v.actor)
    cost = views.can_see_cost(v.actor)
    ledger = app.web.ledger_page(product_id=product_id, warehouse_id=None, kind=None, lot=None, since=None,
                                 until=None, warehouse_ids=scope, offset=0, limit=20)
    return _render(request, "product_detail.html", viewer=v, p=product, cost=cost, edit=can_edit(v.actor),
                   stock=app.web.product_stock(product_id, scope),
                   prices=app.web.price_history(product_id) if cost else [], ledger=ledger)


# ── partners, warehouses, locations ────────────────────────────────────────
@router.get("/partners")
def partners(request: Request, v: Page, q: str = "", role: str = "", status: str = "active",
             page: str = "1") -> Response:
    """往来单位 — suppliers and customers, searched by code, name or phone."""
    app = jxc(request)
    n = _page_no(page)
    result = app.web.partner_page(q=q.strip()[:64], role=role or None,
                                  active={"active": True, "inactive": False}.get(status),
                                  offset=(n - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return _render(request, "partners.html", viewer=v, page=result, q=q, role=role, st=status,
                   edit=can_edit(v.actor), saved=request.query_params.get("saved"))


@router.get("/warehouses")
def warehouses(request: Request, v: Page) -> Response:
    """仓库与门店 — each with its number of shelves (库位)."""
    app = jxc(request)
    return _render(request, "warehouses.html", viewer=v, rows=app.web.warehouse_list(_scope(v.actor)),
                   edit=can_edit(v.actor), saved=request.query_params.get("saved"))


@router.get("/locations")
def locations(request: Request, v: Page, warehouse_id: str = "", q: str = "", page: str = "1") -> Response:
    """库位 — the shelves of a warehouse (or all the viewer may see)."""
    app = jxc(request)
    n = _page_no(page)
    wid = int(warehouse_id) if warehouse_id.isdigit() else None
    result = app.web.location_page(warehouse_id=wid, q=q.strip()[:64], offset=(n - 1) * PAGE_SIZE,
                                   limit=PAGE_SIZE, warehouse_ids=_scope(v.actor))
    return _render(request, "locations.html", viewer=v, page=result, q=q, warehouse_id=wid,
                   warehouses=app.web.warehouse_list(_scope(v.actor)), edit=can_edit(v.actor),
                   saved=request.query_params.get("saved"))


# ── create / edit forms (one template for every kind) ──────────────────────
def _choices(app: Any, actor: Actor, table: str) -> dict[str, tuple[tuple[str, str], ...]]:
    if table != "locations":
        return {}
    return {"warehouse_id": tuple((str(w["id"]), w["name"]) for w in app.web.warehouse_list(_scope(actor)))}


def _form_page(request: Request, v: Any, table: str, record: dict[str, Any] | None, values: dict[str, Any],
               errors: dict[str, str], status: int = 200) -> Response:
    app = jxc(request)
    return _render(request, "record_form.html", status, viewer=v, table=table, noun=NOUN[table],
                   fields=FIELDS[table], record=record, values=values, errors=errors,
                   choices=_choices(app, v.actor, table), back=LIST_URL[table])


def _refused(request: Request, v: Any) -> Response:
    _ = gettext_for(request)
    return _render(request, "error.html", 403, viewer=v,
                   message=_("%(name)s 没有维护主数据的权限（masterdata.edit），请联系老板", name=v.actor.name))


def _known(table: str) -> None:
    if table not in FIELDS:
        raise DomainError("NOT_FOUND", "地址不存在", "no such address")


@router.get("/md/{table}/new")
def new_record(request: Request, table: str, v: Page) -> Response:
    _known(table)
    if not can_edit(v.actor):
        return _refused(request, v)
    defaults = {"active": True, "tracking": "none", "kind": "warehouse", "role": "supplier"}
    if table == "locations" and request.query_params.get("warehouse_id"):
        defaults["warehouse_id"] = request.query_params["warehouse_id"]
    return _form_page(request, v, table, None, defaults, {})


@router.get("/md/{table}/{record_id}/edit")
def edit_record(request: Request, table: str, record_id: int, v: Page) -> Response:
    _known(table)
    if not can_edit(v.actor):
        return _refused(request, v)
    record = jxc(request).web.record(table, record_id)
    if record is None:
        raise DomainError("NOT_FOUND", f"记录 {record_id} 不存在", f"record {record_id} does not exist")
    values = {k: ("" if val is None else val) for k, val in record.items()}
    return _form_page(request, v, table, record, values, {})


def _values(table: str, data: dict[str, str], record: dict[str, Any] | None) -> dict[str, Any]:
    """The form's fields as the service takes them: empty optional fields are left out (create)
    or unchanged (edit); checkboxes are booleans."""
    out: dict[str, Any] = {}
    for f in FIELDS[table]:
        if f.kind == "bool":
            value: Any = data.get(f.name) in ("on", "true", "1")
        else:
            value = data.get(f.name, "").strip()
            if value == "":
                if f.required:
                    out[f.name] = ""
                continue
            if f.name == "warehouse_id":
                value = int(value) if value.isdigit() else value
        if record is None or str(record.get(f.name) if record.get(f.name) is not None else "") != str(value):
            out[f.name] = value
    return out


def _slot(table: str, field: str | None) -> str:
    """Where a message shows: next to its field when the form has it, else above the form."""
    return field if field and any(f.name == field for f in FIELDS[table]) else "_"


@router.post("/md/{table}/save")
def save_record(request: Request, table: str, data: Form, v: Page) -> Response:
    """保存 — create (no id) or update (id + version) through `services.masterdata`."""
    _known(table)
    app = jxc(request)
    if not _csrf_ok(request, data, v):
        return _render(request, "error.html", 403, viewer=v,
                       message=gettext_for(request)("页面已过期（CSRF 校验失败），请刷新页面后重试"))
    if not can_edit(v.actor):
        return _refused(request, v)
    rid = int(data["id"]) if data.get("id", "").isdigit() else None
    record = app.web.record(table, rid) if rid else None
    values = _values(table, data, record)
    try:
        if rid is None:
            rid = masterdata.create(app.uow_factory, table, values, v.actor, app.clock.now())
        elif values:
            version = int(data["version"]) if data.get("version", "").isdigit() else None
            masterdata.update(app.uow_factory, table, rid, values, version, v.actor, app.clock.now())
    except ValidationFailed as exc:
        en = i18n.lang_of(request) == i18n.EN
        errors: dict[str, str] = {}
        for p in exc.problems:
            errors.setdefault(_slot(table, p.field), p.message_en if en else p.message_zh)
        return _form_page(request, v, table, record, {**(record or {}), **data}, errors, 422)
    except DomainError as exc:  # a version conflict, a refusal: above the form unless it names a field
        return _form_page(request, v, table, record, {**(record or {}), **data},
                          {_slot(table, exc.field): i18n.error_text(request, exc)}, exc.status)
    code = values.get("code") or (record or {}).get("code", "")
    return RedirectResponse(f"{LIST_URL[table]}?saved={code}", status_code=303)

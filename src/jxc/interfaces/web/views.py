"""页面数据 — what the pages show, shaped from `App.queries` and the services, scoped to the viewer.

Pure reads: nothing here writes. Every function narrows to the actor's
warehouses (`Actor.warehouses`, None = every warehouse) and shows values only
to holders of `price.view_cost`, exactly as the JSON API does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from jxc.domain.availability import STATUS_ZH
from jxc.domain.permissions import holds
from jxc.domain.quantities import price_per_unit
from jxc.interfaces.web.i18n import N_
from jxc.services.posting import Actor

MAX_ROWS = 500  # a page is for people: more than this is a search that should be narrower
MAX_PRODUCTS = 50

# Labels are zh-CN message ids, marked with N_ for extraction; templates show `_(label)`.
KIND_ZH = {
    "opening_balance": N_("期初"), "purchase_receipt": N_("采购入库"), "purchase_return": N_("采购退货"),
    "sales_delivery": N_("销售出库"), "sales_return": N_("销售退货"), "transfer": N_("调拨"),
    "transfer_receipt": N_("调拨签收"), "scrap": N_("报损"), "count_adjustment": N_("盘盈盘亏"),
    "status_change": N_("状态变更"), "production_issue": N_("生产领料"), "production_receipt": N_("完工入库"),
    "assembly": N_("组装"), "disassembly": N_("拆卸"),
}
STATE_ZH = {"draft": N_("草稿"), "pending_approval": N_("审核中"), "posted": N_("已生效"), "reversed": N_("已红冲"),
            "cancelled": N_("已作废")}
# domain.availability.STATUS_ZH's labels, marked here (the domain imports nothing of ours)
STATUS_LABELS = (N_("冻结"), N_("质检中"), N_("待上架"), N_("可用"))


@dataclass(frozen=True)
class StockLine:
    """库存行 — one bucket as a person reads it."""

    product_id: int
    product_code: str
    product_name: str
    warehouse_id: int | None
    warehouse: str
    location: str
    lot: str
    status: str
    status_zh: str
    qty: Decimal
    value: Decimal | None  # None: the viewer may not see costs


def can_see_cost(actor: Actor) -> bool:
    return holds(actor.permissions, "price.view_cost")


def visible_warehouse(actor: Actor, warehouse_id: int | None) -> bool:
    return actor.warehouses is None or warehouse_id in actor.warehouses


def _warehouses(app: Any) -> dict[str, dict[str, Any]]:
    return {w["code"]: w for w in app.queries.page_records("warehouses", None, 10_000)}


def _product_ids(app: Any, q: str) -> list[int]:
    """Products whose code or name contains ``q`` (codes also upper-cased: PostgreSQL LIKE minds case)."""
    found: dict[int, None] = {}
    for term in dict.fromkeys((q, q.upper())):
        for p in app.queries.page_records("products", None, MAX_PRODUCTS, q=term):
            found[p["id"]] = None
    return list(found)[:MAX_PRODUCTS]


def stock_lines(app: Any, actor: Actor, q: str = "", limit: int | None = MAX_ROWS) -> list[StockLine]:
    """库存查询 — on hand per warehouse, location, lot and status; ``q`` searches product code and name."""
    q = q.strip()
    if q:
        buckets: dict[Any, Any] = {}
        for pid in _product_ids(app, q):
            buckets.update(app.queries.balances(product_id=pid))
    else:
        buckets = app.queries.balances()
    whs = _warehouses(app)
    cost = can_see_cost(actor)
    out: list[StockLine] = []
    for r in app.queries.describe(buckets):
        wh = whs.get(r.warehouse_code or "")
        wid = wh["id"] if wh else None
        if not visible_warehouse(actor, wid) or r.qty == 0:
            continue
        out.append(StockLine(r.product_id, r.product_code, r.product_name, wid,
                             wh["name"] if wh else (r.warehouse_code or ""), r.location_code, r.lot_number or "",
                             r.status, STATUS_ZH.get(r.status, r.status), r.qty, r.value if cost else None))
        if limit is not None and len(out) >= limit:
            break
    return out


def open_documents(app: Any, actor: Actor) -> list[dict[str, Any]]:
    """未生效单据 — drafts and pending approvals of the viewer's warehouses, oldest first."""
    rows = app.queries.open_documents(None, limit=MAX_ROWS)
    names = _warehouse_names(app)
    return [document_card(r, names) for r in rows if visible_warehouse(actor, r["warehouse_id"])]


def _warehouse_names(app: Any) -> dict[int, str]:
    return {w["id"]: w["name"] for w in _warehouses(app).values()}


def document_card(doc: dict[str, Any], warehouse_names: dict[int, str]) -> dict[str, Any]:
    """One document header for a card: kind and state labels, its warehouse's name."""
    return dict(doc, kind_zh=KIND_ZH.get(doc["kind"], doc["kind"]), state_zh=STATE_ZH.get(doc["state"], doc["state"]),
                warehouse=warehouse_names.get(doc["warehouse_id"], ""))


def card_of(app: Any, doc: dict[str, Any]) -> dict[str, Any]:
    return document_card(doc, _warehouse_names(app))


def local(at: datetime | None, zone: Any) -> str:
    """A time in the business zone, to the minute (naive times are read as UTC, as SQLite returns them)."""
    if at is None:
        return ""
    if at.tzinfo is None:
        from datetime import UTC

        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def line_price(ln: Any) -> str:
    """A document line's price per its own unit (元/箱), from the per-base-unit price it stores."""
    if ln.get("unit_price") is None:
        return ""
    return number(price_per_unit(ln["unit_price"], ln["qty"], ln["qty_base"]))


def money(value: Decimal | None) -> str:
    """1234.5 → ¥1,234.50; None (may not see costs) → —."""
    if value is None:
        return "—"
    return f"-¥{-value:,.2f}" if value < 0 else f"¥{value:,.2f}"


def url_with(request: Any) -> Any:
    """For templates: ``url_with(page=2)`` → this page's URL with ``page`` replaced (None drops it)."""
    from urllib.parse import urlencode

    def build(**changes: Any) -> str:
        params = dict(request.query_params)
        for k, v in changes.items():
            if v is None or v == "":
                params.pop(k, None)
            else:
                params[k] = str(v)
        return request.url.path + ("?" + urlencode(params) if params else "")

    return build


def number(value: Decimal | None) -> str:
    """12.5000 → 12.5; 10 → 10 (never 1E+1)."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"

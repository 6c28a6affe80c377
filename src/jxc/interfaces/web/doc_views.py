"""单据页面数据 — product lookup (code, name, pinyin initials, barcode), units, FEFO lots, list filters,
and which buttons a viewer may see. Pure reads over `App.queries` and the services; nothing writes.

Guarantees:
- A button appears only when `doc_buttons` says the viewer holds the permission for that kind
  and warehouse; the service checks again on every action, so a hidden button is never the
  only guard.
- Lots are offered in the order the system would ship them (FEFO; expired / blocked lots never).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from jxc.domain import documents as d
from jxc.domain.errors import DomainError
from jxc.domain.permissions import doc_permission, holds
from jxc.services import reserving
from jxc.services.posting import Actor

PAGE_SIZE = 50
SEARCH_LIMIT = 20
# kinds a person enters by hand on the document form (receipts of transfers come from 签收)
FORM_KINDS = tuple(k for k in d.DocumentKind if k is not d.DocumentKind.TRANSFER_RECEIPT)


def product_row(app: Any, p: dict[str, Any]) -> dict[str, Any]:
    """A product with the units a line may use: base first, then its conversions."""
    convs = app.queries.page_records("unit_conversions", None, 50, product_id=p["id"])
    return {"id": p["id"], "code": p["code"], "name": p["name"], "spec": p.get("spec") or "",
            "tracking": p["tracking"], "base_unit": p["base_unit"],
            "units": [p["base_unit"], *(c["unit"] for c in convs)],
            "factors": {c["unit"]: c["factor"] for c in convs}}


def line_product(app: Any, product_id: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """A form line's product as typed (an id in text): the product, and its row with units —
    a "?" row without units when there is no such product (the form shows it; saving refuses it)."""
    text = str(product_id or "").strip()
    pid = int(text) if text.isdigit() and int(text) < 2**31 else 0
    p = product(app, pid) if pid else None
    if p is None:
        return None, {"id": pid, "code": "?", "name": "?", "spec": "", "units": [], "tracking": "none"}
    return p, product_row(app, p)


def form_lines(data: Mapping[str, str], fields: Iterable[str], limit: int) -> list[dict[str, str]]:
    """明细行表单 — the `lines-<i>-<field>` inputs of a line form (scan.js numbers them from 0 without
    gaps) as one dict of stripped texts per line, at most ``limit`` lines."""
    names = tuple(fields)
    lines = []
    for i in range(limit):
        if f"lines-{i}-product_id" not in data:
            break
        lines.append({k: data.get(f"lines-{i}-{k}", "").strip() for k in names})
    return lines


def by_id(app: Any, table: str) -> dict[int, dict[str, Any]]:
    """Every row of a small master table (warehouses, partners) by id, for names on a page."""
    return {r["id"]: r for r in app.queries.page_records(table, None, 20_000)}


def search_products(app: Any, q: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """商品搜索 — exact barcode or code first, then code / name contains, then pinyin initials.

    Matching runs over the cached `CatalogIndex` (keys and initials per catalogue revision);
    only the hits' rows are read."""
    q = q.strip()
    if not q:
        return []
    exact = lookup(app, q)
    found = [exact] if exact is not None else []
    ids = [i for i in app.catalog_index.current(app.web).find(q, limit) if exact is None or i != exact["id"]]
    return (found + app.web.products_by_ids(ids))[:limit]


def lookup(app: Any, code: str) -> dict[str, Any] | None:
    """扫码 — a barcode (any of the product's) or a product code, exactly; None when unknown."""
    code = code.strip()
    if not code:
        return None
    hit = app.queries.page_records("product_barcodes", None, 1, barcode=code)
    if hit:
        rows = app.queries.page_records("products", None, 1, id=hit[0]["product_id"])
        return rows[0] if rows else None
    for term in dict.fromkeys((code, code.upper())):
        rows = app.queries.page_records("products", None, 1, code=term)
        if rows:
            return rows[0]
    return None


def product(app: Any, product_id: int) -> dict[str, Any] | None:
    rows = app.queries.page_records("products", None, 1, id=product_id)
    return rows[0] if rows else None


@dataclass(frozen=True)
class LotChoice:
    """可选批次 — in FEFO order: the first one is what the system would pick."""

    lot_id: int
    lot_number: str
    expires_on: date | None
    qty: Decimal
    first: bool


def lot_choices(app: Any, product_id: int, warehouse_id: int, today: date) -> list[LotChoice]:
    lots = reserving.shippable_lots(app.uow_factory, product_id, warehouse_id, today)
    return [LotChoice(x.lot_id, x.lot_number or "", x.expires_on, x.qty, i == 0)
            for i, x in enumerate(lots) if x.lot_id]


def all_lots(app: Any, product_id: int) -> list[dict[str, Any]]:
    """For receipts: the product's known lots, newest first (a receipt may also name a new one)."""
    rows = app.queries.page_records("lots", None, 500, product_id=product_id)
    return sorted(rows, key=lambda r: r["id"], reverse=True)


def may(actor: Actor, action: str, kind: d.DocumentKind, warehouse_id: int | None) -> bool:
    if actor.warehouses is not None and warehouse_id is not None and warehouse_id not in actor.warehouses:
        return False
    return holds(actor.permissions, doc_permission(action, kind))


def creatable_kinds(actor: Actor) -> list[d.DocumentKind]:
    return [k for k in FORM_KINDS if holds(actor.permissions, doc_permission("create", k))]


def doc_buttons(actor: Actor, doc: dict[str, Any]) -> set[str]:
    """Which actions the viewer may take on this document now (state × permission × warehouse)."""
    kind, state, wid = d.DocumentKind(doc["kind"]), doc["state"], doc["warehouse_id"]
    out: set[str] = set()
    if state == d.DocumentState.DRAFT:
        if may(actor, "create", kind, wid):
            out.add("edit")
        if may(actor, "post", kind, wid):
            out.add("submit")
        if holds(actor.permissions, "document.cancel") and (actor.warehouses is None or wid in actor.warehouses):
            out.add("cancel")
    elif state == d.DocumentState.PENDING_APPROVAL:
        if may(actor, "approve", kind, wid) and actor.name not in (doc["created_by"], doc.get("updated_by")):
            out |= {"approve", "reject"}
    elif state == d.DocumentState.POSTED and kind is not d.DocumentKind.TRANSFER_RECEIPT:
        if may(actor, "reverse", kind, wid):
            out.add("reverse")
        if kind is d.DocumentKind.TRANSFER and may(actor, "post", d.DocumentKind.TRANSFER_RECEIPT,
                                                    doc.get("to_warehouse_id")):
            out.add("receive")
    return out


def visible(actor: Actor, doc: dict[str, Any]) -> bool:
    """The JSON API's rule: own warehouses, and others' documents only with document.view_all."""
    wids = {doc["warehouse_id"], doc.get("to_warehouse_id")} - {None}
    if actor.warehouses is not None and not wids & actor.warehouses:
        return False
    return holds(actor.permissions, "document.view_all") or doc["created_by"] == actor.name or \
        may(actor, "approve", d.DocumentKind(doc["kind"]), doc["warehouse_id"])


@dataclass(frozen=True)
class Filters:
    """单据筛选 — from the query string; bad values are dropped, never an error page."""

    kind: str = ""
    state: str = ""
    warehouse_id: int | None = None
    partner_id: int | None = None
    on: str = ""  # from date, YYYY-MM-DD
    to: str = ""  # to date, inclusive
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, params: Any) -> Filters:
        def num(name: str) -> int | None:
            v = params.get(name, "")
            return int(v) if v.isdigit() and 0 < int(v) < 2**31 else None

        def day(name: str) -> str:
            v = params.get(name, "")
            try:
                return date.fromisoformat(v).isoformat()
            except ValueError:
                return ""
        kind = params.get("kind", "")
        state = params.get("state", "")
        return cls(kind if kind in d.DocumentKind._value2member_map_ else "",
                   state if state in d.DocumentState._value2member_map_ else "",
                   num("warehouse_id"), num("partner_id"), day("on"), day("to"), params.get("q", "").strip()[:40],
                   max(1, min(num("page") or 1, 10_000)))

    def query(self, **change: Any) -> str:
        from urllib.parse import urlencode

        values = {"kind": self.kind, "state": self.state, "warehouse_id": self.warehouse_id or "",
                  "partner_id": self.partner_id or "", "on": self.on, "to": self.to, "q": self.q,
                  "page": self.page} | change
        return urlencode({k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)})


def search(app: Any, actor: Actor, f: Filters, zone: Any) -> tuple[list[dict[str, Any]], int]:
    """A page of documents the viewer may see, newest first, and how many match."""
    if f.warehouse_id is not None and actor.warehouses is not None and f.warehouse_id not in actor.warehouses:
        return [], 0

    def at(day: str, plus: int = 0) -> datetime | None:
        return datetime.combine(date.fromisoformat(day) + timedelta(days=plus), datetime.min.time(),
                                tzinfo=zone) if day else None
    own = None if holds(actor.permissions, "document.view_all") else actor.name
    return app.queries.search_documents(
        (f.page - 1) * PAGE_SIZE, PAGE_SIZE, kinds=[f.kind] if f.kind else None, state=f.state or None,
        warehouse_id=f.warehouse_id, partner_id=f.partner_id, created_by=own, text=f.q or None,
        since=at(f.on), until=at(f.to, 1),
        warehouse_ids=None if actor.warehouses is None else sorted(actor.warehouses))


def choices(app: Any, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    """Warehouses (the viewer's), partners, for the filter bar and the form."""
    whs = [w for w in app.queries.page_records("warehouses", None, 1000, active=True)
           if actor.warehouses is None or w["id"] in actor.warehouses]
    partners = app.queries.page_records("partners", None, 5000, active=True)
    return {"warehouses": whs, "partners": partners}


def error_text(exc: DomainError, lang: str) -> str:
    """The error in the viewer's language (DomainError carries both)."""
    return exc.message_en if lang.startswith("en") else exc.message_zh


def on_hand(app: Any, product_id: int, warehouse_id: int) -> Decimal:
    """现存量 — physical on hand of a product in a warehouse, every status and lot."""
    return sum((a.qty for a in app.queries.balances(product_id=product_id, warehouse_id=warehouse_id).values()),
               Decimal(0))

"""开户向导 — the first run of an empty book: business name and first owner, then warehouses,
products (imported from CSV / xlsx or typed), opening stock and more users.

Guarantees:
- The first owner is created only while the book has no user at all: the check
  and the insert run in one transaction holding the book head lock, so two
  browsers racing through the wizard cannot both become owner (SETUP_DONE).
- Everything after that goes through the ordinary services with the owner as
  the actor: master data, an opening-balance document (期初) per warehouse,
  users — audited like any other change.
- An import reports every bad row (row number, field, message) and creates the
  good ones; nothing is half-created within a row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import Conflict, DomainError
from jxc.services import book, masterdata, users
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.ports import UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]

# column headers people use, zh and en, → product field
COLUMNS = {"编码": "code", "商品编码": "code", "code": "code", "名称": "name", "商品名称": "name", "name": "name",
           "规格": "spec", "spec": "spec", "分类": "category", "category": "category", "单位": "base_unit",
           "基本单位": "base_unit", "unit": "base_unit", "base_unit": "base_unit", "条码": "barcode",
           "barcode": "barcode", "保质期天数": "shelf_life_days", "保质期": "shelf_life_days",
           "shelf_life_days": "shelf_life_days", "批次管理": "tracking", "tracking": "tracking",
           "安全库存": "safety_stock", "safety_stock": "safety_stock",
           "数量": "qty", "期初数量": "qty", "qty": "qty", "成本": "cost", "单位成本": "cost", "cost": "cost"}
_YES = {"是", "y", "yes", "lot", "true", "1", "批次"}


class _Within:
    """Run another service inside this unit of work: its commit is the caller's commit."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def __enter__(self) -> _Within:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        return None


def needs_setup(f: UowFactory) -> bool:
    """No user yet: the web app shows the wizard instead of the login page."""
    with f() as uow:
        return uow.records.find("users") is None


def owner_actor(username: str, ip: str | None = None, device: str | None = None) -> Actor:
    return Actor(username, frozenset({"*"}), ip, device, role="owner", reauthenticated=True)


def create_owner(f: UowFactory, business_name: str, username: str, password: str, display_name: str | None,
                 now: datetime, ip: str | None = None, device: str | None = None) -> int:
    """第一步 — the business name and the first owner, only while the book has no user."""
    with f() as uow:
        uow.book.lock_head()  # serialises racing wizards (FOR UPDATE on PostgreSQL; SQLite writes one at a time)
        if uow.records.find("users") is not None:
            raise Conflict("SETUP_DONE", "系统已完成开户（已有用户），请直接登录；新增用户请由老板在系统内添加",
                           "the system is already set up (a user exists); log in, and have the owner add users",
                           field=None)
        inner: Any = _Within(uow)
        actor = owner_actor(username.strip() or "owner", ip, device)
        uid = users.create_user(lambda: inner, username, password, "owner", actor, now,
                                display_name=display_name or None)
        if (business_name or "").strip():
            book.set_setting(lambda: inner, "business.name", business_name.strip(), actor, now)
        uow.commit()
        return uid


def read_table(data: bytes, filename: str = "", columns: Mapping[str, str] = COLUMNS) -> list[dict[str, str]]:
    """CSV (comma or tab: a paste from Excel), or an .xlsx workbook's first sheet → rows by header
    (``columns`` maps the headers people use to field names; the product import's by default)."""
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        grid = [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        text = data.decode("utf-8-sig", "replace")
        first = text.strip().splitlines()[0] if text.strip() else ""
        dialect = "excel-tab" if "\t" in first else "excel"
        grid = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    grid = [row for row in grid if any(row)]
    if not grid:
        return []
    header = [columns.get(h.strip().lower(), columns.get(h.strip(), "")) for h in grid[0]]
    return [{k: v for k, v in zip(header, row, strict=False) if k and v} for row in grid[1:]]


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based, the header is row 1
    field: str | None
    message_zh: str
    message_en: str


def import_products(f: UowFactory, rows: Iterable[Mapping[str, str]], actor: Actor,
                    now: datetime) -> tuple[int, list[RowProblem]]:
    """导入商品 — create each good row (with its barcode); report each bad one."""
    created, problems = 0, []
    for n, row in enumerate(rows, start=2):
        values: dict[str, Any] = {k: row[k] for k in ("code", "name", "spec", "category", "base_unit",
                                                      "shelf_life_days", "safety_stock") if row.get(k)}
        if row.get("tracking"):
            values["tracking"] = "lot" if row["tracking"].strip().lower() in _YES else "none"
        elif values.get("shelf_life_days"):
            values["tracking"] = "lot"
        try:
            pid = masterdata.create(f, "products", values, actor, now)
            if row.get("barcode"):
                masterdata.add_barcode(f, pid, row["barcode"], actor, now)
            created += 1
        except DomainError as exc:
            for p in getattr(exc, "problems", None) or (exc,):
                problems.append(RowProblem(n, p.field, p.message_zh, p.message_en))
    return created, problems


@dataclass(frozen=True)
class OpeningLine:
    product_code: str
    qty: str
    unit_cost: str | None = None


def post_opening(f: UowFactory, warehouse_id: int, lines: list[OpeningLine], actor: Actor, now: datetime) -> int:
    """期初库存 — one opening-balance document for the warehouse, posted (its lines name products by code)."""
    with f() as uow:
        ids = {ln.product_code: (row["id"] if (row := uow.records.find("products", code=ln.product_code)) else None)
               for ln in lines}
    missing = [c for c, i in ids.items() if i is None]
    if missing:
        raise DomainError("NOT_FOUND", f"找不到商品编码：{'、'.join(missing)}", f"no such product code: {', '.join(missing)}",
                          field="lines")
    doc = docs.create_draft(f, DraftInput(K.OPENING_BALANCE, warehouse_id, tuple(
        LineInput(ids[ln.product_code] or 0, ln.qty, unit_price=ln.unit_cost or None) for ln in lines),
        effective_at=now, remark="开户向导：期初库存"), actor, now)
    docs.submit(f, doc, actor, now)
    return doc

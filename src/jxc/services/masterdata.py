"""主数据 — create, update and deactivate products, partners, warehouses, locations, lots.

Guarantees:
- Every problem with the input is reported at once, each naming its field,
  with zh + en text (ValidationFailed); nothing is written then.
- Codes are unique per kind; an update carries the version it was read at and
  is refused (VERSION_CONFLICT) when someone changed the record since.
- Every change writes an audit record with before / after, in the same
  transaction. Nothing is ever deleted: records are deactivated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from jxc.domain.catalog import LocationKind, PartnerRole, Tracking, WarehouseKind
from jxc.domain.errors import DomainError, Forbidden, NotFound, Problems
from jxc.domain.permissions import holds
from jxc.domain.quantities import to_decimal
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class FieldSpec:
    """字段 — label for messages, whether required, and a converter that may raise ValueError."""

    zh: str
    required: bool = False
    convert: Callable[[Any], Any] = str


def _text(v: Any) -> str:
    s = str(v).strip()
    if not s:
        raise ValueError("empty")
    return s


def _enum(enum: type) -> Callable[[Any], Any]:
    def conv(v: Any) -> Any:
        return enum(str(v)).value

    return conv


def _nonneg_int(v: Any) -> int:
    i = int(v)
    if i < 0 or str(i) != str(v).strip():
        raise ValueError("not a non-negative integer")
    return i


def _nonneg_decimal(v: Any) -> Decimal:
    d = to_decimal(v, "value")
    if d < 0:
        raise ValueError("negative")
    return d


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    raise ValueError("not a boolean")


def _date(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v))


SPECS: dict[str, dict[str, FieldSpec]] = {
    "products": {
        "code": FieldSpec("编码", True, _text), "name": FieldSpec("名称", True, _text),
        "spec": FieldSpec("规格"), "category": FieldSpec("分类"),
        "base_unit": FieldSpec("基本单位", True, _text),
        "tracking": FieldSpec("批次管理", False, _enum(Tracking)),
        "shelf_life_days": FieldSpec("保质期天数", False, _nonneg_int),
        "safety_stock": FieldSpec("安全库存", False, _nonneg_decimal),
        "expiry_warn_days": FieldSpec("临期预警天数", False, _nonneg_int),
        "expiry_block_days": FieldSpec("临期禁售天数", False, _nonneg_int),
        "active": FieldSpec("启用", False, _bool),
    },
    "partners": {
        "code": FieldSpec("编码", True, _text), "name": FieldSpec("名称", True, _text),
        "role": FieldSpec("类型", True, _enum(PartnerRole)),
        "lead_time_days": FieldSpec("交货周期天数", False, _nonneg_int),
        "credit_limit": FieldSpec("信用额度", False, _nonneg_decimal),
        "payment_terms_days": FieldSpec("账期天数", False, _nonneg_int),
        "phone": FieldSpec("电话"), "address": FieldSpec("地址"),
        "active": FieldSpec("启用", False, _bool),
    },
    "warehouses": {
        "code": FieldSpec("编码", True, _text), "name": FieldSpec("名称", True, _text),
        "kind": FieldSpec("类型", False, _enum(WarehouseKind)),
        "active": FieldSpec("启用", False, _bool),
    },
    "locations": {
        "code": FieldSpec("编码", True, _text), "name": FieldSpec("名称", True, _text),
        "kind": FieldSpec("类型", False, _enum(LocationKind)),
        "warehouse_id": FieldSpec("仓库", False, int),
        "active": FieldSpec("启用", False, _bool),
    },
}

_DEFAULTS = {"products": {"tracking": "none", "active": True},
             "partners": {"active": True},
             "warehouses": {"kind": "warehouse", "active": True},
             "locations": {"kind": "physical", "active": True}}
_NOUN = {"products": ("商品", "product"), "partners": ("往来单位", "partner"),
         "warehouses": ("仓库", "warehouse"), "locations": ("库位", "location"),
         "lots": ("批次", "lot")}


def _may_edit(actor: Actor) -> None:
    if not holds(actor.permissions, "masterdata.edit"):
        raise Forbidden("PERMISSION_DENIED", f"{actor.name} 没有维护主数据的权限（masterdata.edit），请联系老板",
                        f"{actor.name} lacks the permission masterdata.edit; ask the owner")


def _clean(table: str, data: Mapping[str, Any], problems: Problems, creating: bool) -> dict[str, Any]:
    spec = SPECS[table]
    out: dict[str, Any] = {}
    for name in data:
        if name not in spec:
            problems.add("VALUE_INVALID", name, f"未知字段“{name}”，请删除", f"unknown field '{name}'; remove it")
    for name, fs in spec.items():
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if fs.required and (creating or name in data):
                problems.add("VALUE_REQUIRED", name, f"{fs.zh}不能为空，请填写", f"{name} is required; fill it in")
            elif name in data:
                out[name] = None
            continue
        try:
            out[name] = fs.convert(raw)
        except (ValueError, TypeError, ArithmeticError, DomainError):
            problems.add("VALUE_INVALID", name, f"{fs.zh}的值“{raw}”无效，请检查格式",
                         f"{name} has an invalid value {raw!r}; check its format")
    return out


def _unique_code(uow: UnitOfWork, table: str, code: str | None, problems: Problems,
                 own_id: int | None = None) -> None:
    if not code:
        return
    row = uow.records.find(table, code=code)
    if row is not None and row["id"] != own_id:
        zh, en = _NOUN[table]
        problems.add("CODE_TAKEN", "code", f"{zh}编码“{code}”已被占用（{row['name']}），请换一个编码",
                     f"{en} code '{code}' is already used by '{row['name']}'; choose another code")


def _audit(uow: UnitOfWork, action: str, table: str, rid: int, actor: Actor, now: datetime,
           before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
    uow.audit.append(AuditEntry(action, table.rstrip("s"), str(rid), actor.name, now,
                                _jsonable(before), _jsonable(after), actor.ip, actor.device))


def _jsonable(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: (str(v) if isinstance(v, Decimal | date | datetime) else v) for k, v in row.items()
            if k not in ("password_hash",)}


def create(uow_factory: UowFactory, table: str, data: Mapping[str, Any], actor: Actor,
           now: datetime) -> int:
    """新建 — create a master-data record of ``table`` (products, partners, warehouses, locations)."""
    _may_edit(actor)
    problems = Problems()
    values = {**_DEFAULTS[table], **_clean(table, data, problems, creating=True)}
    with uow_factory() as uow:
        _unique_code(uow, table, values.get("code"), problems)
        extra = _check_relations(uow, table, values, problems)
        problems.raise_if_any()
        values["updated_at"] = now
        rid = uow.records.insert(table, values)
        _audit(uow, f"{table.rstrip('s')}.create", table, rid, actor, now, None, values)
        extra(uow, rid)
        uow.commit()
        return rid


def _check_relations(uow: UnitOfWork, table: str, values: dict[str, Any],
                     problems: Problems) -> Callable[[UnitOfWork, int], None]:
    if table == "locations":
        kind = values.get("kind", "physical")
        wid = values.get("warehouse_id")
        if kind == "physical" and wid is None:
            problems.add("VALUE_REQUIRED", "warehouse_id", "实体库位必须属于一个仓库，请选择仓库",
                         "a physical location belongs to a warehouse; choose one")
        elif wid is not None and uow.records.get("warehouses", wid) is None:
            problems.add("NOT_FOUND", "warehouse_id", f"仓库 {wid} 不存在", f"warehouse {wid} does not exist")
    if table == "warehouses":
        def default_location(u: UnitOfWork, wid: int) -> None:
            code = f"{values['code']}-01"
            u.records.insert("locations", {"code": code, "name": f"{values['name']}默认库位",
                                           "kind": "physical", "warehouse_id": wid, "active": True,
                                           "updated_at": values["updated_at"]})
        return default_location
    return lambda u, rid: None


def update(uow_factory: UowFactory, table: str, record_id: int, changes: Mapping[str, Any],
           expected_version: int | None, actor: Actor, now: datetime) -> dict[str, Any]:
    """修改 — change fields of a record; the version must be the one the editor read."""
    _may_edit(actor)
    problems = Problems()
    values = _clean(table, changes, problems, creating=False)
    with uow_factory() as uow:
        before = uow.records.get(table, record_id)
        if before is None:
            zh, en = _NOUN[table]
            raise NotFound("NOT_FOUND", f"{zh} {record_id} 不存在", f"{en} {record_id} does not exist",
                           field="id")
        if "code" in values:
            _unique_code(uow, table, values["code"], problems, own_id=record_id)
        if table == "products" and "base_unit" in values and values["base_unit"] != before["base_unit"]:
            if uow.records.find("unit_conversions", product_id=record_id) is not None or uow.balances.has_history(record_id):
                problems.add("VALUE_INVALID", "base_unit", "商品已有换算或库存流水，不能修改基本单位",
                             "the product has conversions or stock history; its base unit cannot change")
        if table == "locations" and any(k in values and values[k] != before[k] for k in ("kind", "warehouse_id")):
            if uow.balances.location_has_history(record_id):
                problems.add("VALUE_INVALID", "kind", "库位已有库存流水，不能修改类型或所属仓库；请新建库位并调拨",
                             "the location has stock history; its kind and warehouse cannot change — "
                             "create a new location and transfer the stock")
        problems.raise_if_any()
        after = uow.records.update(table, record_id, {**values, "updated_at": now}, expected_version)
        _audit(uow, f"{table.rstrip('s')}.update", table, record_id, actor, now,
               {k: before[k] for k in values}, {k: after[k] for k in values})
        uow.commit()
        return after


def deactivate(uow_factory: UowFactory, table: str, record_id: int, actor: Actor,
               now: datetime, expected_version: int | None = None) -> dict[str, Any]:
    """停用 — deactivate (never delete) a record; it stays in history and reports."""
    return update(uow_factory, table, record_id, {"active": False}, expected_version, actor, now)


def add_unit_conversion(uow_factory: UowFactory, product_id: int, unit: str, factor: Any,
                        actor: Actor, now: datetime) -> int:
    """单位换算 — 1 ``unit`` = ``factor`` base units of the product."""
    _may_edit(actor)
    problems = Problems()
    unit = (unit or "").strip()
    if not unit:
        problems.add("VALUE_REQUIRED", "unit", "单位不能为空", "unit is required")
    try:
        f = to_decimal(factor, "factor")
    except DomainError:
        f = Decimal(0)  # reported as a field problem below
    if f <= 0:
        problems.add("VALUE_INVALID", "factor", f"换算系数必须大于 0（现为 {factor}）",
                     f"factor must be greater than 0 (got {factor})")
    with uow_factory() as uow:
        product = _require(uow, "products", product_id, "product_id")
        if unit and unit == product["base_unit"]:
            problems.add("VALUE_INVALID", "unit", "换算单位不能与基本单位相同", "the unit equals the base unit")
        if unit and uow.records.find("unit_conversions", product_id=product_id, unit=unit):
            problems.add("CODE_TAKEN", "unit", f"单位“{unit}”已有换算", f"unit '{unit}' already has a conversion")
        problems.raise_if_any()
        rid = uow.records.insert("unit_conversions", {"product_id": product_id, "unit": unit, "factor": f})
        _audit(uow, "unit_conversion.create", "unit_conversions", rid, actor, now, None,
               {"product_id": product_id, "unit": unit, "factor": f})
        uow.commit()
        return rid


def add_barcode(uow_factory: UowFactory, product_id: int, barcode: str, actor: Actor,
                now: datetime) -> int:
    """条码 — link one more barcode to a product (a product may have several)."""
    _may_edit(actor)
    problems = Problems()
    code = (barcode or "").strip()
    if not code:
        problems.add("VALUE_REQUIRED", "barcode", "条码不能为空", "barcode is required")
    with uow_factory() as uow:
        _require(uow, "products", product_id, "product_id")
        taken = uow.records.find("product_barcodes", barcode=code) if code else None
        if taken is not None:
            other = uow.records.get("products", taken["product_id"])
            problems.add("CODE_TAKEN", "barcode", f"条码 {code} 已关联商品 {other and other['code']}",
                         f"barcode {code} is already linked to product {other and other['code']}")
        problems.raise_if_any()
        rid = uow.records.insert("product_barcodes", {"product_id": product_id, "barcode": code})
        _audit(uow, "barcode.create", "product_barcodes", rid, actor, now, None,
               {"product_id": product_id, "barcode": code})
        uow.commit()
        return rid


def create_lot(uow_factory: UowFactory, product_id: int, lot_number: str, actor: Actor,
               now: datetime, produced_on: date | None = None, expires_on: date | None = None) -> int:
    """批次 — a lot of a product; expiry is entered, or computed from shelf-life days."""
    if not (holds(actor.permissions, "masterdata.edit") or holds(actor.permissions, "document.create.purchase_receipt")
            or holds(actor.permissions, "document.create.production_receipt")):
        _may_edit(actor)  # refuses, naming the permission
    problems = Problems()
    number = (lot_number or "").strip()
    if not number:
        problems.add("VALUE_REQUIRED", "lot_number", "批次号不能为空", "lot number is required")
    with uow_factory() as uow:
        product = _require(uow, "products", product_id, "product_id")
        if product["tracking"] == Tracking.NONE:
            problems.add("LOT_NOT_ALLOWED", "product_id", f"商品 {product['code']} 未启用批次管理",
                         f"product {product['code']} is not lot-tracked")
        if number and uow.records.find("lots", product_id=product_id, lot_number=number):
            problems.add("CODE_TAKEN", "lot_number", f"批次号 {number} 已存在", f"lot {number} already exists")
        if expires_on is None and produced_on is not None and product["shelf_life_days"] is not None:
            expires_on = produced_on + timedelta(days=product["shelf_life_days"])
        if produced_on and expires_on and expires_on < produced_on:
            problems.add("VALUE_INVALID", "expires_on", "到期日不能早于生产日期",
                         "expiry date cannot be before the production date")
        problems.raise_if_any()
        values = {"product_id": product_id, "lot_number": number, "produced_on": produced_on,
                  "expires_on": expires_on, "created_at": now}
        rid = uow.records.insert("lots", values)
        _audit(uow, "lot.create", "lots", rid, actor, now, None, values)
        uow.commit()
        return rid


def _require(uow: UnitOfWork, table: str, record_id: int, field: str) -> dict[str, Any]:
    row = uow.records.get(table, record_id)
    if row is None:
        zh, en = _NOUN[table]
        raise NotFound("NOT_FOUND", f"{zh} {record_id} 不存在", f"{en} {record_id} does not exist", field=field)
    return row

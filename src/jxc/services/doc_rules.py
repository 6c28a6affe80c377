"""单据校验与过账准备 — validate a draft, resolve lines to movements, compute approval facts.

Pure helpers over a unit of work's reads; they write nothing. Validation
collects every problem (field named per line) and raises once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jxc.domain import availability as av
from jxc.domain import documents as d
from jxc.domain import freight
from jxc.domain.allocation import LotStock, PickStrategy, pick_lots
from jxc.domain.approvals import Facts
from jxc.domain.catalog import StockStatus
from jxc.domain.errors import DomainError, Problems
from jxc.domain.freight import FreightBasis
from jxc.domain.ledger import NO_LOT, BucketKey, Movement
from jxc.domain.permissions import holds
from jxc.domain.quantities import ZERO, cost, money, price_per_base, to_base, to_decimal
from jxc.domain.settings import with_defaults
from jxc.services.ports import UnitOfWork


@dataclass(frozen=True)
class LineInput:
    """明细输入 — as a person enters it: any unit, optional lot, price and location."""

    product_id: int
    qty: Any
    unit: str | None = None  # None: the product's base unit
    lot_id: int = NO_LOT
    unit_price: Any = None  # per the line's unit (元/箱); stored per base unit
    location_id: int | None = None  # None: the warehouse's default location
    role: str = ""
    from_status: str = StockStatus.AVAILABLE
    to_status: str | None = None
    remark: str | None = None
    order_line_id: int | None = None  # the purchase/sales order line this fulfils
    reservation_id: int | None = None  # consumed when the document posts
    source_line_no: int | None = None  # a return: the line of the receipt / delivery it returns


@dataclass(frozen=True)
class DraftInput:
    """单据输入 — the header and lines of a new or edited draft."""

    kind: d.DocumentKind
    warehouse_id: int
    lines: tuple[LineInput, ...]
    effective_at: datetime | None = None  # None: now
    partner_id: int | None = None
    to_warehouse_id: int | None = None
    remark: str | None = None
    reason_code: str | None = None
    reason_text: str | None = None
    idempotency_key: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    source_document_id: int | None = None  # a return: the receipt / delivery it returns (退货原单)
    freight: Any = None  # 运费: a purchase receipt's freight, money ≥ 0 in whole 分; None/"": none
    freight_basis: str | None = None  # 分摊方式: "amount" (按金额, default) or "qty" (按数量, base units)


REASON_GROUP = {d.DocumentKind.SCRAP: "scrap", d.DocumentKind.COUNT_ADJUSTMENT: "count",
                d.DocumentKind.SALES_RETURN: "return", d.DocumentKind.PURCHASE_RETURN: "return"}
_ROLES = {d.DocumentKind.COUNT_ADJUSTMENT: (d.LineRole.GAIN, d.LineRole.LOSS),
          d.DocumentKind.ASSEMBLY: (d.LineRole.COMPONENT, d.LineRole.OUTPUT),
          d.DocumentKind.DISASSEMBLY: (d.LineRole.COMPONENT, d.LineRole.OUTPUT)}


def validate_draft(uow: UnitOfWork, inp: DraftInput, permissions: frozenset[str],
                   editing: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Check header and lines; return the line rows to store (qty converted to base units).

    ``editing``: the stored draft an edit replaces (a return's own lines do not count against it)."""
    p = Problems()
    info = d.KINDS[inp.kind]
    if uow.records.get("warehouses", inp.warehouse_id) is None:
        p.add("NOT_FOUND", "warehouse_id", f"仓库 {inp.warehouse_id} 不存在", f"warehouse {inp.warehouse_id} does not exist")
    if info.to_warehouse:
        if inp.to_warehouse_id is None or inp.to_warehouse_id == inp.warehouse_id:
            p.add("VALUE_REQUIRED", "to_warehouse_id", "调拨需选择另一个调入仓库",
                  "a transfer needs a different destination warehouse")
        elif uow.records.get("warehouses", inp.to_warehouse_id) is None:
            p.add("NOT_FOUND", "to_warehouse_id", "调入仓库不存在", "destination warehouse does not exist")
    if inp.partner_id is not None:
        partner = uow.records.get("partners", inp.partner_id)
        if partner is None:
            p.add("NOT_FOUND", "partner_id", f"往来单位 {inp.partner_id} 不存在", f"partner {inp.partner_id} does not exist")
        elif info.partner and partner["role"] not in (info.partner, "both"):
            p.add("VALUE_INVALID", "partner_id", f"{partner['name']} 不是{'供应商' if info.partner == 'supplier' else '客户'}",
                  f"{partner['name']} is not a {info.partner}")
    if info.reason_required and not (inp.reason_code or (inp.reason_text or "").strip()):
        p.add("REASON_REQUIRED", "reason_code", f"{info.zh}必须填写原因（选择原因或填写说明）",
              f"a {info.en} needs a reason: choose one or write it")
    group = REASON_GROUP.get(inp.kind)
    if inp.reason_code and group and inp.reason_code not in {r["code"] for r in uow.documents.reasons(group)}:
        choices = "、".join(f"{r['code']}({r['label_zh']})" for r in uow.documents.reasons(group))
        p.add("VALUE_INVALID", "reason_code", f"原因“{inp.reason_code}”不在原因列表中，可选：{choices}",
              f"reason '{inp.reason_code}' is not in the list; choose one of: {choices}")
    if not inp.lines:
        p.add("POSTING_EMPTY", "lines", "单据没有明细行，请至少添加一行", "the document has no lines; add at least one")
    units = uow.documents.units({ln.product_id for ln in inp.lines})
    loc_wh = uow.documents.location_warehouses({ln.location_id for ln in inp.lines if ln.location_id})
    rows = []
    for i, ln in enumerate(inp.lines):
        rows.append(_line(p, i, ln, inp, units, loc_wh, permissions))
    if inp.source_document_id is not None:
        _check_return(uow, inp, rows, p, editing)
    _freight(p, inp, rows)
    p.raise_if_any()
    return rows


def freight_header(inp: DraftInput) -> dict[str, Any]:
    """运费 / 分摊方式 as the document header stores them (after `validate_draft` accepted them)."""
    raw = inp.freight
    amount = ZERO if raw in (None, "") else to_decimal(raw, "freight")
    return {"freight": amount, "freight_basis": inp.freight_basis or FreightBasis.AMOUNT.value}


def _freight(p: Problems, inp: DraftInput, rows: list[dict[str, Any]]) -> None:
    """运费分摊 — check the freight and basis, and give each line of a receipt its share (domain/freight.py)."""
    amount = ZERO
    try:
        amount = freight_header(inp)["freight"]
    except DomainError as exc:
        p.add(exc.code, "freight", "运费不是有效金额，请输入如 30 或 12.50 的数字",
              "freight is not a valid amount; enter a number such as 30 or 12.50")
        return
    for code, zh, en in freight.check(amount):
        p.add(code, "freight", zh, en)
    basis = inp.freight_basis or FreightBasis.AMOUNT.value
    if basis not in FreightBasis._value2member_map_:
        p.add("VALUE_INVALID", "freight_basis", f"运费分摊方式“{basis}”无效，可选：amount（按金额）、qty（按数量）",
              f"unknown freight basis '{basis}'; choose amount or qty")
        return
    if amount != ZERO and inp.kind is not d.DocumentKind.PURCHASE_RECEIPT:
        p.add("FREIGHT_NOT_ALLOWED", "freight", f"只有采购入库单可以填写运费，{d.KINDS[inp.kind].zh}单请不要填写",
              f"only a purchase receipt carries freight; leave it empty on a {d.KINDS[inp.kind].en}")
        return
    if inp.kind is not d.DocumentKind.PURCHASE_RECEIPT or p.items:
        return
    weights = [money(r["qty_base"] * (r["unit_price"] or ZERO)) if basis == FreightBasis.AMOUNT else r["qty_base"]
               for r in rows]
    try:
        shares = freight.split(amount, weights)
    except DomainError as exc:
        p.add(exc.code, exc.field, exc.message_zh, exc.message_en)
        return
    for row, share in zip(rows, shares, strict=True):
        row["freight_share"] = share if amount != ZERO else None


RETURNS = {d.DocumentKind.PURCHASE_RETURN: d.DocumentKind.PURCHASE_RECEIPT,
           d.DocumentKind.SALES_RETURN: d.DocumentKind.SALES_DELIVERY}


def same_source(doc: Mapping[str, Any], inp: DraftInput) -> DraftInput:
    """退货原单 — an edited return stays a return of the same original (an edit form need not send it)."""
    source = doc.get("source_document_id")
    if source is None or d.DocumentKind(doc["kind"]) not in RETURNS:
        return inp
    if inp.source_document_id not in (None, source):
        raise DomainError("VALUE_INVALID", "退货单的原单不能修改；请作废后对另一张原单重新退货",
                          "a return's original cannot change; cancel it and return against the other document",
                          field="source_document_id")
    return replace(inp, source_document_id=source)


def _check_return(uow: UnitOfWork, inp: DraftInput, rows: list[dict[str, Any]], p: Problems,
                  editing: Mapping[str, Any] | None = None) -> None:
    """退货上限 — per original line: returned (drafts, pending, posted) + this ≤ what the original moved.

    Each line is tied to its original line (`source_line_no`): a line that names none is tied to the
    original's only line of that product; the lot and price the original moved with fill a line that
    has none (cost comes from the original's posting). An edit does not count the draft's own old lines."""
    source = uow.documents.get(inp.source_document_id, lock=True)  # serialises returns of one original
    if source is None or RETURNS.get(inp.kind) != source["kind"] or source["state"] != "posted":
        p.add("VALUE_INVALID", "source_document_id", "退货原单须为已生效的采购入库单 / 销售出库单",
              "a return's original must be a posted purchase receipt / sales delivery")
        return
    if inp.warehouse_id != source["warehouse_id"]:
        p.add("VALUE_INVALID", "warehouse_id", f"退货仓库须与原单 {source['number']} 相同",
              f"a return goes through the warehouse of its original {source['number']}")
    if source["partner_id"] is not None and inp.partner_id != source["partner_id"]:
        p.add("VALUE_INVALID", "partner_id", f"退货往来单位须与原单 {source['number']} 相同",
              f"a return goes to the partner of its original {source['number']}")
    by_no = {ln["line_no"]: ln for ln in source["lines"]}
    done = dict(uow.purchasing.returned(source["id"]))
    for ln in (editing or {}).get("lines", ()):
        if ln.get("source_line_no") in done:
            done[ln["source_line_no"]] -= ln["qty_base"]
    asked: dict[int, Decimal] = {}
    for i, row in enumerate(rows):
        orig = _source_line(p, i, row, source, by_no)
        if orig is None:
            continue
        no = row["source_line_no"] = orig["line_no"]
        if orig["lot_id"] and row["lot_id"] not in (NO_LOT, orig["lot_id"]):
            p.add("VALUE_INVALID", f"lines[{i}].lot_id", f"第{i + 1}行批次与原单第{no}行不同",
                  f"line {i + 1}: the lot differs from line {no} of the original")
        row["lot_id"] = row["lot_id"] or orig["lot_id"]
        if row["unit_price"] is None:
            row["unit_price"] = orig["unit_price"]
        asked[no] = asked.get(no, ZERO) + row["qty_base"]
        left = orig["qty_base"] - done.get(no, ZERO)
        if asked[no] > left:
            p.add("RETURN_EXCEEDS_MOVED", f"lines[{i}].qty",
                  f"第{i + 1}行退货 {asked[no].normalize()} 超过可退数量 {left.normalize()}"
                  f"（原单 {orig['qty_base'].normalize()}，已退 {done.get(no, ZERO).normalize()}）",
                  f"line {i + 1}: returning {asked[no].normalize()} exceeds the {left.normalize()} left to return",
                  returnable=str(left))


def _source_line(p: Problems, i: int, row: Mapping[str, Any], source: Mapping[str, Any],
                 by_no: Mapping[int, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The original's line a return line returns: the one it names, else its only line of that product."""
    no = row["source_line_no"]
    if no is not None:
        orig = by_no.get(no)
        if orig is not None and orig["product_id"] == row["product_id"]:
            return orig
        p.add("VALUE_INVALID", f"lines[{i}].source_line_no", f"第{i + 1}行不对应原单 {source['number']} 的第{no}行商品",
              f"line {i + 1} does not match line {no} of the original {source['number']}")
        return None
    same = [ln for ln in source["lines"] if ln["product_id"] == row["product_id"] and ln["qty_base"] > 0]
    if len(same) == 1:
        return same[0]
    if not same:
        p.add("VALUE_INVALID", f"lines[{i}].product_id", f"第{i + 1}行商品不在原单 {source['number']} 上，不能退货",
              f"line {i + 1}: the product is not on the original {source['number']}; it cannot be returned")
    else:
        nos = "、".join(str(ln["line_no"]) for ln in same)
        p.add("VALUE_REQUIRED", f"lines[{i}].source_line_no", f"第{i + 1}行商品在原单第{nos}行都有，请选择退哪一行",
              f"line {i + 1}: the product is on lines {nos} of the original; choose the line returned")
    return None


def _line(p: Problems, i: int, ln: LineInput, inp: DraftInput, units: Mapping[int, Any],
          loc_wh: Mapping[int, int | None], permissions: frozenset[str]) -> dict[str, Any]:
    f, n = f"lines[{i}]", i + 1
    qty, price, qty_base = ZERO, None, ZERO
    try:
        qty = to_decimal(ln.qty, f"{f}.qty")
        price = None if ln.unit_price in (None, "") else to_decimal(ln.unit_price, f"{f}.unit_price")
    except DomainError as exc:
        p.add(exc.code, exc.field, exc.message_zh, exc.message_en)
    if qty < 0 and inp.kind is d.DocumentKind.SALES_DELIVERY and not holds(permissions, "sales.negative_qty"):
        p.add("NEGATIVE_LINE_NOT_PERMITTED", f"{f}.qty", f"第{n}行为负数销售，请改开销售退货单（需“负数销售”权限）",
              f"line {n}: a negative sales line needs the sales.negative_qty permission; use a sales return")
    elif qty <= 0 and not (qty < 0 and inp.kind is d.DocumentKind.SALES_DELIVERY):
        p.add("QTY_NOT_POSITIVE", f"{f}.qty", f"第{n}行数量必须大于 0", f"line {n}: quantity must be greater than 0")
    if price is not None and price < 0:
        p.add("VALUE_INVALID", f"{f}.unit_price", f"第{n}行单价不能为负", f"line {n}: price cannot be negative")
    unit = ln.unit
    if ln.product_id not in units:
        p.add("NOT_FOUND", f"{f}.product_id", f"第{n}行商品不存在（ID {ln.product_id}）", f"line {n}: product {ln.product_id} does not exist")
    else:
        base, convs = units[ln.product_id]
        unit = unit or base
        try:
            qty_base = to_base(qty, unit, base, convs, f"{f}.unit")
        except DomainError as exc:
            p.add(exc.code, exc.field, f"第{n}行：{exc.message_zh}", f"line {n}: {exc.message_en}")
        if price is not None and unit != base:
            price = price_per_base(price, qty, qty_base)  # entered per 箱, stored per base unit
    if ln.location_id is not None and loc_wh.get(ln.location_id) != inp.warehouse_id:
        p.add("VALUE_INVALID", f"{f}.location_id", f"第{n}行库位不属于本单仓库", f"line {n}: the location is not in this warehouse")
    roles = _ROLES.get(inp.kind)
    if roles and ln.role not in roles:
        p.add("VALUE_REQUIRED", f"{f}.role", f"第{n}行请选择方向：{' / '.join(roles)}", f"line {n}: choose one of {', '.join(roles)}")
    if inp.kind is d.DocumentKind.STATUS_CHANGE and (ln.to_status is None or ln.to_status == ln.from_status):
        p.add("VALUE_REQUIRED", f"{f}.to_status", f"第{n}行请选择新的库存状态", f"line {n}: choose the new stock status")
    for name, value in (("from_status", ln.from_status), ("to_status", ln.to_status)):
        if value is not None and value not in StockStatus._value2member_map_:
            p.add("VALUE_INVALID", f"{f}.{name}", f"第{n}行库存状态“{value}”无效", f"line {n}: unknown stock status '{value}'")
    return {"product_id": ln.product_id, "unit": unit or "", "qty": qty, "qty_base": qty_base,
            "lot_id": ln.lot_id, "unit_price": price, "location_id": ln.location_id, "role": ln.role,
            "from_status": ln.from_status, "to_status": ln.to_status, "remark": ln.remark,
            "order_line_id": ln.order_line_id, "reservation_id": ln.reservation_id,
            "source_line_no": ln.source_line_no}


PICKED_KINDS = {d.DocumentKind.SALES_DELIVERY, d.DocumentKind.TRANSFER, d.DocumentKind.PRODUCTION_ISSUE,
                d.DocumentKind.SCRAP, d.DocumentKind.PURCHASE_RETURN, d.DocumentKind.ASSEMBLY}
SELLABLE_ONLY = {d.DocumentKind.SALES_DELIVERY, d.DocumentKind.TRANSFER, d.DocumentKind.PRODUCTION_ISSUE}


def resolve_movements(uow: UnitOfWork, doc: Mapping[str, Any], today: date | None = None) -> tuple[Movement, ...]:
    """Lines → movements: default locations filled, negative sales lines turned into returns,
    and lot-tracked lines without a lot split over lots FEFO (sellable lots only when selling)."""
    kind = d.DocumentKind(doc["kind"])
    wids = {doc["warehouse_id"]} | ({doc["to_warehouse_id"]} if doc.get("to_warehouse_id") else set())
    defaults = uow.documents.default_locations(wids)
    if doc["warehouse_id"] not in defaults:
        raise DomainError("NOT_FOUND", "该仓库没有可用库位，请先添加库位", "the warehouse has no active location; add one",
                          field="warehouse_id")
    places = uow.documents.places()
    policy: av.AvailabilityPolicy | None = None  # read once per document, only if a line is picked
    out: list[Movement] = []
    for ln in doc["lines"]:
        qty = ln["qty_base"]
        line_kind = kind
        if qty < 0 and kind is d.DocumentKind.SALES_DELIVERY:
            line_kind, qty = d.DocumentKind.SALES_RETURN, -qty
        default = defaults[doc["warehouse_id"]]
        takes = [(ln["location_id"] or default, ln["lot_id"], qty)]
        outgoing = line_kind in PICKED_KINDS and (line_kind is not d.DocumentKind.ASSEMBLY or ln["role"] == "component")
        if outgoing and not (ln["lot_id"] and ln["location_id"]):
            policy = policy or av.AvailabilityPolicy.from_settings(with_defaults(uow.settings.all()))
            takes = _pick(uow, ln, doc["warehouse_id"], default, qty, line_kind in SELLABLE_ONLY,
                          today or doc["effective_at"].date(), policy)
        for location, lot_id, q in takes:
            line = d.Line(ln["product_id"], q, location, lot_id, ln["unit_price"], d.LineRole(ln["role"] or ""),
                          StockStatus(ln["from_status"]), StockStatus(ln["to_status"]) if ln["to_status"] else None,
                          ln.get("to_location_id"))
            moved = d.movements_for(line_kind, (line,), places)
            if ln.get("freight_share") and kind is d.DocumentKind.PURCHASE_RECEIPT:
                moved = tuple(_landed(m, ln) for m in moved)
            out.extend(moved)
    if doc.get("source_document_id") and kind in (d.DocumentKind.SALES_RETURN, d.DocumentKind.PURCHASE_RETURN):
        out = _at_original_cost(uow, doc, kind, places, out)
    return tuple(out)


def _landed(m: Movement, ln: Mapping[str, Any]) -> Movement:
    """入库成本含运费 — a receipt line comes in at its amount plus its freight share, to the 0.0001."""
    value = money(m.qty * (ln["unit_price"] or ZERO)) + ln["freight_share"]
    return replace(m, unit_cost=cost(value / m.qty), value=value)


def _at_original_cost(uow: UnitOfWork, doc: Mapping[str, Any], kind: d.DocumentKind, places: d.Places,
                      movements: list[Movement]) -> list[Movement]:
    """退货按原成本 — a return against a receipt / delivery moves at the cost that document posted with."""
    source = uow.documents.get(doc["source_document_id"])
    if source is None or not source.get("posting_id"):
        return movements
    where = places.customer if kind is d.DocumentKind.SALES_RETURN else places.supplier
    totals = uow.purchasing.posting_totals(source["posting_id"], where)
    by_product: dict[int, Decimal] = {}
    for (pid, _lot), (qty, value) in totals.items():
        by_product.setdefault(pid, value / qty)
    out = []
    for m in movements:
        moved = totals.get((m.product_id, m.lot_id))
        if moved is not None:  # its share of what the original moved: a full return takes out exactly that
            qty, value = moved
            out.append(replace(m, unit_cost=cost(value / qty), value=money(value * m.qty / qty)))
        elif m.product_id in by_product:
            out.append(replace(m, unit_cost=by_product[m.product_id]))
        else:
            out.append(m)
    return out


def _pick(uow: UnitOfWork, ln: Mapping[str, Any], warehouse_id: int, default: int, qty: Decimal,
          sellable_only: bool, today: date, policy: av.AvailabilityPolicy) -> list[tuple[int, int, Decimal]]:
    """取货 — (location, lot, qty) to take a line from, when the clerk named no location or no lot.

    Stock may sit on any shelf of the warehouse, not only its default location: lot-tracked
    products are picked FEFO over every (shelf, lot) holding them (sellable lots only when
    selling); untracked products take from the shelves holding them, default shelf first.
    A named location or lot narrows the search to it.
    """
    product_id, status = ln["product_id"], StockStatus(ln["from_status"])
    tracking, block, warn, life = uow.reservations.product_expiry(product_id)
    lines = [x for x in uow.reservations.stock_lines(product_id, warehouse_id)
             if x.status == status and x.qty > 0 and (not ln["location_id"] or x.location_id == ln["location_id"])
             and (not ln["lot_id"] or x.lot_id == ln["lot_id"])]
    if tracking == "none":
        lines.sort(key=lambda x: (x.location_id != default, x.location_id))
        takes, left = [], qty
        for x in lines:
            if left <= 0:
                break
            q = min(x.qty, left)
            takes.append((x.location_id, NO_LOT, q))
            left -= q
        if left > 0:  # what no shelf holds: the posting's own check refuses it (or an approved negative)
            takes.append((ln["location_id"] or default, NO_LOT, left))
        return takes
    by_key = {(x.location_id, x.lot_id): x for x in lines
              if x.lot_id and (not sellable_only
                               or av.sellable(av.lot_health(x.expires_on, today, policy, block, warn, life)))}
    keys = list(by_key)
    candidates = [LotStock(i, by_key[k].qty, by_key[k].expires_on, by_key[k].lot_id) for i, k in enumerate(keys)]
    alloc = pick_lots(PickStrategy.FEFO, qty, candidates)
    if alloc.shortage > 0:
        raise DomainError("STOCK_INSUFFICIENT",
                          f"可发批次不足：需要 {qty.normalize()}，可用批次合计 {alloc.picked.normalize()}"
                          f"{'（过期/临期批次不可销售）' if sellable_only else ''}",
                          f"not enough stock in sellable lots: {qty.normalize()} needed, "
                          f"{alloc.picked.normalize()} in lots", field="lines",
                          details={"product_id": product_id, "available": str(alloc.picked)})
    return [(keys[p.lot_id][0], keys[p.lot_id][1], p.qty) for p in alloc.picks]


def facts(uow: UnitOfWork, doc: Mapping[str, Any], movements: tuple[Movement, ...],
          now: datetime) -> Facts:
    """审批依据 — amount, biggest line, count difference value, negative stock, back-dating."""
    kind = d.DocumentKind(doc["kind"])
    amount = sum((abs(ln["qty_base"]) * (ln["unit_price"] or ZERO) for ln in doc["lines"]), ZERO)
    amount += doc.get("freight") or ZERO  # 运费 counts towards a receipt's amount for approval rules
    max_qty = max((abs(ln["qty_base"]) for ln in doc["lines"]), default=ZERO)
    loc_wh = uow.documents.location_warehouses({m.from_location_id for m in movements})
    pairs = {(m.product_id, loc_wh.get(m.from_location_id)) for m in movements}
    avg = uow.balances.average_costs(pairs) if pairs else {}
    count_value = ZERO
    below_cost = False
    for m in movements:
        unit_cost = avg.get((m.product_id, loc_wh.get(m.from_location_id)), ZERO)
        if kind is d.DocumentKind.COUNT_ADJUSTMENT:
            count_value += m.qty * (m.unit_cost if m.unit_cost is not None else unit_cost)
    if kind is d.DocumentKind.SALES_DELIVERY:
        below_cost = any(ln["unit_price"] is not None and ln["unit_price"] < avg.get((ln["product_id"], doc["warehouse_id"]), ZERO)
                         for ln in doc["lines"])
    outgoing: dict[BucketKey, Decimal] = {}
    for m in movements:
        if m.from_location_id in loc_wh and loc_wh[m.from_location_id] is not None:
            key = BucketKey(m.from_location_id, m.product_id, m.lot_id, m.from_status)
            outgoing[key] = outgoing.get(key, ZERO) + m.qty
    have = uow.documents.on_hand(outgoing)
    negative = any(have.get(k, ZERO) < q for k, q in outgoing.items())
    hours = max(ZERO, Decimal((now - doc["effective_at"]).total_seconds()) / 3600).quantize(Decimal("0.1"))
    between_stores = False
    if kind is d.DocumentKind.TRANSFER and doc.get("to_warehouse_id"):
        kinds = {uow.records.get("warehouses", w)["kind"] for w in (doc["warehouse_id"], doc["to_warehouse_id"])}
        between_stores = kinds == {"store"}
    over = kind is d.DocumentKind.PURCHASE_RECEIPT and _over_receipt(uow, doc)
    return Facts(kind, amount, max_qty, abs(count_value), negative, hours, below_cost, between_stores, over)


def _over_receipt(uow: UnitOfWork, doc: Mapping[str, Any]) -> bool:
    """超收 — a receipt line takes its order line past ordered × (1 + `purchase.over_receipt_pct` %)."""
    per_line: dict[int, Decimal] = {}
    for ln in doc["lines"]:
        if ln.get("order_line_id"):
            per_line[ln["order_line_id"]] = per_line.get(ln["order_line_id"], ZERO) + ln["qty_base"]
    if not per_line:
        return False
    pct = Decimal(str(with_defaults(uow.settings.all())["purchase.over_receipt_pct"]))
    for line_id, qty in per_line.items():
        ol = uow.trade.line(line_id)
        if ol is not None and ol["qty_done"] + qty > ol["qty_base"] * (1 + pct / 100):
            return True
    return False

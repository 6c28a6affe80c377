"""盘点 — count plans, tasks, counting lines (offline-tolerant), recount, and closing into 盘盈盘亏.

Guarantees:
- A count never edits stock. Closing a task creates a COUNT_ADJUSTMENT draft
  through `services.documents.create_draft` and submits it, so the approval
  rules decide (the default rule needs a manager) and only posting it moves stock.
- The variance of a line is counted − book at the moment it was counted
  (`domain.counting.book_at` over the `book_moves` port); the adjustment posts
  exactly that variance, so stock that moved after counting is not counted twice.
- A line sent twice with the same idempotency key is stored once; the same key
  with different content is refused (IDEMPOTENCY_MISMATCH).
- Counters who disagree (different variances for one bucket) block the close
  with COUNT_CONFLICT until the bucket is recounted; only the latest round counts.
- A blind task never shows expected quantities or variances to people who cannot
  approve count adjustments.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from jxc.domain import counting as c
from jxc.domain.documents import DocumentKind, number
from jxc.domain.errors import Conflict, DomainError, NotFound, Problems
from jxc.domain.ledger import NO_LOT
from jxc.domain.permissions import doc_permission, holds
from jxc.domain.quantities import ZERO, money, to_base, to_decimal
from jxc.services import documents as docs
from jxc.services.counting_scope import resolve_scope
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.ports import AuditEntry, OutboxMessage, UnitOfWork
from jxc.services.posting import Actor, utc

UowFactory = Callable[[], UnitOfWork]
K = DocumentKind.COUNT_ADJUSTMENT
CLOCK_SKEW = timedelta(minutes=5)  # a phone's clock may run this far ahead


@dataclass(frozen=True)
class PlanInput:
    """盘点计划 — what a task of this plan counts. Empty filters mean "everything in the warehouse"."""

    name: str
    warehouse_id: int
    kind: str = "cycle"  # full / cycle
    location_ids: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()
    abc_classes: tuple[str, ...] = ()
    rotation_by: str | None = None  # "category" / "product": count one slice per interval
    period_days: int = 28
    interval_days: int = 7
    blind: bool = False


@dataclass(frozen=True)
class CountLine:
    """盘点行 — as a phone sends it: scanned shelf and product codes, any unit, its own time."""

    location: str | int  # shelf QR content (location code) or id
    product: str | int  # product code, barcode or id
    qty: Any
    unit: str | None = None
    lot: str | int | None = None  # lot number or id
    condition: str = c.Condition.GOOD
    photo_ref: str | None = None
    counted_at: datetime | None = None  # None: when the server receives it
    idempotency_key: str | None = None
    remark: str | None = None


@dataclass(frozen=True)
class CloseResult:
    """结束盘点 — the adjustment proposed (None: no variance) and the lines behind it."""

    task_id: int
    document_id: int | None
    document_state: str | None
    lines: tuple[c.CombinedLine, ...]
    uncounted: tuple[c.BucketRef, ...] = field(default_factory=tuple)


def _require_counting(actor: Actor, warehouse_id: int | None = None) -> None:
    docs.require(actor, doc_permission("create", K), warehouse_id)


def _can_see_book(actor: Actor) -> bool:
    return holds(actor.permissions, doc_permission("approve", K))


def _audit(uow: UnitOfWork, action: str, task_id: int, actor: Actor, now: datetime,
           after: Mapping[str, Any]) -> None:
    uow.audit.append(AuditEntry(f"count.{action}", "count_task", str(task_id), actor.name, now, None,
                                {k: (str(v) if isinstance(v, Decimal | datetime) else v) for k, v in after.items()},
                                actor.ip, actor.device))


def create_plan(f: UowFactory, inp: PlanInput, actor: Actor, now: datetime) -> int:
    """新建盘点计划 — full or cycle, by location, category, ABC class or rotation."""
    _require_counting(actor, inp.warehouse_id)
    p = Problems()
    if inp.kind not in ("full", "cycle"):
        p.add("VALUE_INVALID", "kind", "盘点类型应为 full（全盘）或 cycle（循环盘点）", "kind must be full or cycle")
    if inp.rotation_by not in (None, "category", "product"):
        p.add("VALUE_INVALID", "rotation_by", "轮盘维度应为 category 或 product", "rotation_by must be category or product")
    if inp.rotation_by and not 1 <= inp.interval_days <= inp.period_days:
        p.add("VALUE_INVALID", "interval_days", "轮盘间隔须在 1 天与轮盘周期之间",
              "the interval must be between 1 day and the rotation period")
    if set(inp.abc_classes) - {"A", "B", "C"}:
        p.add("VALUE_INVALID", "abc_classes", "ABC 分类只能是 A、B、C", "ABC classes are A, B and C")
    if not inp.name.strip():
        p.add("VALUE_REQUIRED", "name", "请填写计划名称", "the plan needs a name")
    p.raise_if_any()
    scope = {"location_ids": list(inp.location_ids), "categories": list(inp.categories),
             "abc": list(inp.abc_classes), "rotation": None if not inp.rotation_by else {
                 "by": inp.rotation_by, "period_days": inp.period_days, "interval_days": inp.interval_days,
                 "started_at": utc(now).isoformat()}}
    with f() as uow:
        if uow.records.get("warehouses", inp.warehouse_id) is None:
            raise NotFound("NOT_FOUND", f"仓库 {inp.warehouse_id} 不存在", f"warehouse {inp.warehouse_id} does not exist",
                           field="warehouse_id")
        plan_id = uow.counting.add_plan({"name": inp.name.strip(), "warehouse_id": inp.warehouse_id, "kind": inp.kind,
                                         "scope": json.dumps(scope), "blind": inp.blind, "active": True,
                                         "created_by": actor.name, "created_at": now})
        uow.audit.append(AuditEntry("count.plan", "count_plan", str(plan_id), actor.name, now, None,
                                    {"name": inp.name, **scope}, actor.ip, actor.device))
        uow.commit()
        return plan_id


def create_task(f: UowFactory, plan_id: int, actor: Actor, now: datetime,
                assignees: Iterable[str] = ()) -> int:
    """下达盘点任务 — list what to count where (as of now), assign counters."""
    with f() as uow:
        plan = uow.counting.plan(plan_id)
        if plan is None:
            raise NotFound("NOT_FOUND", f"盘点计划 {plan_id} 不存在", f"count plan {plan_id} does not exist",
                           field="plan_id")
        _require_counting(actor, plan["warehouse_id"])
        scope = json.loads(plan["scope"])
        items, resolved = resolve_scope(uow, plan["warehouse_id"], plan["kind"], scope, now)
        seq = uow.documents.next_number("PD", f"{now:%Y%m%d}")
        values = {"number": number("PD", now.date(), seq), "plan_id": plan_id, "warehouse_id": plan["warehouse_id"],
                  "state": c.TaskState.OPEN.value, "blind": plan["blind"], "scope": json.dumps(resolved),
                  "created_by": actor.name, "created_at": now, "close_seq": 0, "version": 1}
        task_id = uow.counting.add_task(values, items, assignees)
        _audit(uow, "create", task_id, actor, now, {"number": values["number"], "items": len(items),
                                                      "assignees": ",".join(sorted(set(assignees)))})
        uow.commit()
        return task_id


def assign(f: UowFactory, task_id: int, usernames: Iterable[str], actor: Actor, now: datetime) -> None:
    """分配盘点人 — several counters may share one task."""
    with f() as uow:
        task = _task(uow, task_id, lock=True)
        _require_counting(actor, task["warehouse_id"])
        _state(task, c.TaskState.OPEN, c.TaskState.COUNTING)
        uow.counting.set_assignees(task_id, usernames)
        uow.counting.update_task(task_id, {})
        _audit(uow, "assign", task_id, actor, now, {"assignees": ",".join(sorted(set(usernames)))})
        uow.commit()


def _task(uow: UnitOfWork, task_id: int, lock: bool = False) -> dict[str, Any]:
    task = uow.counting.task(task_id, lock=lock)
    if task is None:
        raise NotFound("NOT_FOUND", f"盘点任务 {task_id} 不存在", f"count task {task_id} does not exist",
                       field="task_id")
    return task


def _state(task: Mapping[str, Any], *allowed: c.TaskState) -> None:
    if task["state"] not in allowed:
        raise Conflict("COUNT_TASK_STATE", f"盘点任务 {task['number']} 当前状态为 {task['state']}，不能进行此操作",
                       f"count task {task['number']} is {task['state']}; this action is not allowed now",
                       field="task_id", details={"state": task["state"]})


def enter_line(f: UowFactory, task_id: int, line: CountLine, actor: Actor, now: datetime) -> tuple[int, bool]:
    """录入盘点行 — returns (entry id, created). A retry with the same idempotency key is a no-op."""
    with f() as uow:
        task = _task(uow, task_id, lock=True)
        _require_counting(actor, task["warehouse_id"])
        values = _validate_line(uow, task, line, actor, now)
        if line.idempotency_key:
            first = uow.counting.entry_by_key(line.idempotency_key)
            if first is not None:
                return _replayed(first, values, server_time=line.counted_at is None)
        _state(task, c.TaskState.OPEN, c.TaskState.COUNTING)
        if task["assignees"] and actor.name not in task["assignees"] and not _can_see_book(actor):
            raise docs.Forbidden("COUNT_NOT_ASSIGNED", f"{actor.name} 未被分配到盘点任务 {task['number']}",
                                 f"{actor.name} is not assigned to count task {task['number']}", field="task_id")
        ref = (values["location_id"], values["product_id"], values["lot_id"])
        item = next((i for i in task["items"] if (i["location_id"], i["product_id"], i["lot_id"]) == ref), None)
        if item is None:
            uow.counting.add_item(task_id, ref)
        values["round"] = item["round"] if item else 1
        entry_id = uow.counting.add_entry(values)
        uow.counting.update_task(task_id, {"state": c.TaskState.COUNTING.value})
        _audit(uow, "enter", task_id, actor, now, {"entry_id": entry_id, "product_id": ref[1], "location_id": ref[0],
                                                   "qty_base": values["qty_base"], "counted_at": values["counted_at"]})
        uow.commit()
        return entry_id, True


_SAME = ("location_id", "product_id", "lot_id", "qty_base", "condition", "counted_by", "counted_at")


def _replayed(first: Mapping[str, Any], values: Mapping[str, Any], server_time: bool) -> tuple[int, bool]:
    """A retry must say the same thing; a time the server stamped (none sent) cannot differ by design."""
    if any(first[k] != values[k] for k in _SAME if not (server_time and k == "counted_at")):
        raise DomainError("IDEMPOTENCY_MISMATCH", f"幂等键 {values['idempotency_key']} 已用于另一条盘点行，请换一个新的键",
                          f"idempotency key {values['idempotency_key']} was used for a different count line",
                          field="idempotency_key", details={"entry_id": first["id"]})
    return int(first["id"]), False


def _validate_line(uow: UnitOfWork, task: Mapping[str, Any], line: CountLine, actor: Actor,
                   now: datetime) -> dict[str, Any]:
    p = Problems()
    loc = _find(uow, "locations", line.location)
    if loc is None or loc["kind"] != "physical" or loc["warehouse_id"] != task["warehouse_id"]:
        p.add("NOT_FOUND", "location", f"库位 {line.location} 不在本盘点仓库中，请扫描本仓货架码",
              f"location {line.location} is not a shelf of this warehouse; scan a shelf of this warehouse")
    product = _find(uow, "products", line.product)
    if product is None and isinstance(line.product, str):
        code = uow.records.find("product_barcodes", barcode=line.product)
        product = uow.records.get("products", code["product_id"]) if code else None
    qty_base, lot_id = ZERO, NO_LOT
    if product is None:
        p.add("NOT_FOUND", "product", f"商品 {line.product} 不存在（编码或条码）",
              f"product {line.product} does not exist (code or barcode)")
    else:
        lot_id = _lot(uow, p, product, line.lot)
        qty_base = _qty(uow, p, product, line)
    if line.condition not in c.Condition._value2member_map_:
        p.add("VALUE_INVALID", "condition", "标记应为 good / damaged / near_expiry",
              "condition must be good, damaged or near_expiry")
    at = utc(line.counted_at) if line.counted_at else now
    if at > now + CLOCK_SKEW or at < task["created_at"]:
        p.add("VALUE_INVALID", "counted_at", "盘点时间不能晚于现在，也不能早于任务下达时间，请检查手机时间",
              "counted_at cannot be in the future or before the task was created; check the phone's clock")
    p.raise_if_any()
    assert loc is not None and product is not None
    return {"task_id": task["id"], "location_id": loc["id"], "product_id": product["id"], "lot_id": lot_id,
            "unit": line.unit or product["base_unit"], "qty": to_decimal(line.qty, "qty"), "qty_base": qty_base,
            "condition": line.condition, "photo_ref": line.photo_ref, "counted_by": actor.name,
            "counted_at": at, "received_at": now, "device": actor.device,
            "idempotency_key": line.idempotency_key, "remark": line.remark}


def _find(uow: UnitOfWork, table: str, key: str | int) -> dict[str, Any] | None:
    if isinstance(key, int):
        return uow.records.get(table, key)
    return uow.records.find(table, code=key)


def _lot(uow: UnitOfWork, p: Problems, product: Mapping[str, Any], lot: str | int | None) -> int:
    if product["tracking"] == "none":
        if lot not in (None, "", NO_LOT):
            p.add("LOT_NOT_ALLOWED", "lot", f"商品 {product['code']} 不做批次管理", f"{product['code']} is not lot-tracked")
        return NO_LOT
    row = (uow.records.get("lots", lot) if isinstance(lot, int) and lot != NO_LOT
           else uow.records.find("lots", product_id=product["id"], lot_number=lot) if lot else None)
    if row is None or row["product_id"] != product["id"]:
        p.add("LOT_REQUIRED", "lot", f"商品 {product['code']} 需要批次，请扫描批次号",
              f"{product['code']} is lot-tracked; scan its lot")
        return NO_LOT
    return int(row["id"])


def _qty(uow: UnitOfWork, p: Problems, product: Mapping[str, Any], line: CountLine) -> Decimal:
    try:
        qty = to_decimal(line.qty, "qty")
        base, convs = uow.documents.units([product["id"]])[product["id"]]
        qty_base = to_base(qty, line.unit or base, base, convs, "unit")
    except DomainError as exc:
        p.add(exc.code, exc.field, exc.message_zh, exc.message_en)
        return ZERO
    if qty_base < 0:
        p.add("VALUE_INVALID", "qty", "盘点数量不能为负（空货架请录 0）", "a counted quantity cannot be negative (enter 0)")
    return qty_base


def combined_lines(uow: UnitOfWork, task: Mapping[str, Any], until: datetime | None = None
                   ) -> list[c.CombinedLine]:
    """The task's lines after combining counters, each with the book at its counted moment."""
    rows = uow.counting.entries(task["id"])
    if not rows:
        return []
    start = min(r["counted_at"] for r in rows)
    end = max([r["counted_at"] for r in rows] + ([until] if until else []))
    opening, moves = uow.counting.book_moves(task["warehouse_id"], start, end)
    by_ref: dict[c.BucketRef, list[c.Move]] = {}
    for m in moves:
        by_ref.setdefault(m.ref, []).append(m)
    entries = [c.CountEntry(r["id"], ref, r["counted_by"], c.Condition(r["condition"]), r["qty_base"],
                            r["counted_at"], r["round"], c.book_at(opening, by_ref.get(ref, ()), ref, r["counted_at"]))
               for r in rows if (ref := (r["location_id"], r["product_id"], r["lot_id"]))]
    rounds = {(i["location_id"], i["product_id"], i["lot_id"]): i["round"] for i in task["items"]}
    return c.combine(entries, rounds)


def tolerance(uow: UnitOfWork) -> Decimal:
    from jxc.domain.settings import with_defaults

    return Decimal(str(with_defaults(uow.settings.all())["count.tolerance_pct"]))


def unit_costs(uow: UnitOfWork, warehouse_id: int, product_ids: Iterable[int]) -> dict[int, Decimal]:
    pairs = {(pid, warehouse_id) for pid in product_ids}
    avg = uow.balances.average_costs(pairs) if pairs else {}
    return {pid: avg.get((pid, warehouse_id), ZERO) for pid in product_ids}


def adjustment_lines(lines: Iterable[c.CombinedLine], costs: Mapping[int, Decimal], task_number: str
                     ) -> tuple[LineInput, ...]:
    """盘盈盘亏明细 — one line per bucket with a variance, priced at the current average cost."""
    out = []
    for ln in lines:
        if ln.variance == 0:
            continue
        loc, pid, lot = ln.ref
        out.append(LineInput(pid, abs(ln.variance), lot_id=lot, unit_price=costs.get(pid, ZERO), location_id=loc,
                             role="gain" if ln.variance > 0 else "loss",
                             remark=f"{task_number} 实盘 {ln.counted_qty.normalize():f} 账面 {ln.book_qty.normalize():f}"
                                    f" @ {ln.counted_at:%Y-%m-%d %H:%M} {ln.counted_by}"))
    return tuple(out)


def draft_input(task: Mapping[str, Any], lines: tuple[LineInput, ...], reason_code: str, seq: int) -> DraftInput:
    return DraftInput(K, task["warehouse_id"], lines, reason_code=reason_code,
                      remark=f"盘点任务 {task['number']} 结束生成 / from count task {task['number']}",
                      idempotency_key=f"count-task:{task['id']}:close:{seq}")


def value_of(ln: c.CombinedLine, costs: Mapping[int, Decimal]) -> Decimal:
    return money(ln.variance * costs.get(ln.ref[1], ZERO))


def event(uow: UnitOfWork, name: str, task: Mapping[str, Any], now: datetime, **extra: Any) -> None:
    uow.outbox.add(OutboxMessage(f"count.{name}", "count_task", str(task["id"]),
                                 {"task_id": task["id"], "number": task["number"], **extra}, now))


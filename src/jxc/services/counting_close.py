"""结束盘点 — the count sheet, recount, closing into a 盘盈盘亏 draft, and accuracy KPIs.

Guarantees:
- `close` proposes the adjustment through `documents.create_draft` (idempotency
  key per task and close) and `documents.submit`: approval rules decide, and
  nothing but posting that document changes stock.
- A close refuses while counters disagree (COUNT_CONFLICT, listing the places)
  and when lines arrived between reading and closing (VERSION_CONFLICT).
- `recount` of chosen places raises their round (earlier rounds stop counting);
  on a closed task whose adjustment has not posted yet it withdraws that
  adjustment (rejected, then cancelled) and reopens the task.
- KPIs read the stored results of each task's latest close.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from jxc.domain import counting as c
from jxc.domain.documents import DocumentState
from jxc.domain.errors import Conflict, DomainError
from jxc.domain.quantities import ZERO, money
from jxc.services import counting as cs
from jxc.services import documents as docs
from jxc.services.ports import UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
S = c.TaskState


def sheet(f: UowFactory, task_id: int, actor: Actor, now: datetime) -> dict[str, Any]:
    """盘点表 — what to count where; expected and variance only for people who may see the book (blind)."""
    with f() as uow:
        task = cs._task(uow, task_id)
        cs._require_counting(actor, task["warehouse_id"])
        show = not task["blind"] or cs._can_see_book(actor)
        lines = {ln.ref: ln for ln in cs.combined_lines(uow, task)}
        book, _ = uow.counting.book_moves(task["warehouse_id"], now, now)
        products = uow.counting.products({i["product_id"] for i in task["items"]})
        rows = []
        for i in task["items"]:
            ref = (i["location_id"], i["product_id"], i["lot_id"])
            ln = lines.get(ref)
            loc = uow.records.get("locations", ref[0]) or {}
            lot = uow.records.get("lots", ref[2]) if ref[2] else None
            row = {"location_id": ref[0], "location": loc.get("code"), "product_id": ref[1],
                   "product": products[ref[1]]["code"], "name": products[ref[1]]["name"], "lot_id": ref[2],
                   "lot": lot["lot_number"] if lot else None, "listed": i["listed"], "round": i["round"],
                   "counted_qty": ln.counted_qty if ln else None, "counters": list(ln.counters) if ln else [],
                   "conflict": bool(ln and ln.conflict)}
            if show:
                row |= {"book_qty_now": book.get(ref, ZERO), "book_qty_at_count": ln.book_qty if ln else None,
                        "variance": ln.variance if ln else None}
            rows.append(row)
        return {"id": task["id"], "number": task["number"], "state": task["state"], "blind": task["blind"],
                "assignees": task["assignees"], "warehouse_id": task["warehouse_id"], "shows_book": show,
                "adjustment_document_id": task["adjustment_document_id"], "lines": rows}


def recount(f: UowFactory, task_id: int, refs: Iterable[c.BucketRef], actor: Actor, now: datetime,
            comment: str = "复盘") -> None:
    """复盘 — count chosen places again before the adjustment posts."""
    refs = sorted(set(refs))
    with f() as uow:
        task = cs._task(uow, task_id)
        cs._require_counting(actor, task["warehouse_id"])
    doc = docs.get(f, task["adjustment_document_id"]) if task["adjustment_document_id"] else None
    if task["state"] == S.CLOSED and doc is not None:
        if doc["state"] not in (DocumentState.DRAFT, DocumentState.PENDING_APPROVAL):
            raise Conflict("COUNT_TASK_STATE", "盘盈盘亏单已过账，不能复盘；请新开盘点任务",
                           "the count adjustment has posted; start a new count task instead", field="task_id")
        if doc["state"] == DocumentState.PENDING_APPROVAL:
            docs.reject(f, doc["id"], actor, now, comment=f"复盘 / recount: {comment}")
        docs.cancel_draft(f, doc["id"], actor, now, reason=f"复盘 / recount: {comment}")
    elif task["state"] not in (S.OPEN, S.COUNTING, S.CLOSED):
        cs._state(task, S.OPEN, S.COUNTING)
    with f() as uow:
        task = cs._task(uow, task_id, lock=True)
        known = {(i["location_id"], i["product_id"], i["lot_id"]) for i in task["items"]}
        unknown = [r for r in refs if r not in known]
        if unknown or not refs:
            raise DomainError("NOT_FOUND", f"盘点任务中没有这些位置：{unknown}", f"the task has no such places: {unknown}",
                              field="refs")
        uow.counting.bump_rounds(task_id, refs)
        uow.counting.update_task(task_id, {"state": S.COUNTING.value, "adjustment_document_id": None})
        cs._audit(uow, "recount", task_id, actor, now, {"refs": str(refs), "comment": comment})
        cs.event(uow, "recount_requested", task, now, refs=[list(r) for r in refs])
        uow.commit()


def close(f: UowFactory, task_id: int, actor: Actor, now: datetime, reason_code: str = "difference",
          zero_uncounted: bool = False) -> cs.CloseResult:
    """结束盘点 — propose the 盘盈盘亏 document for every variance and submit it to approval."""
    with f() as uow:
        task = cs._task(uow, task_id)
        cs._require_counting(actor, task["warehouse_id"])
        lines = cs.combined_lines(uow, task, until=now)
        retried = task["state"] == S.CLOSED
        uncounted: list[c.BucketRef] = []
        costs: dict[int, Decimal] | None = None
        seq = task["close_seq"]
        if not retried:
            lines, uncounted, costs, seq = _prepare(uow, task, lines, actor, now, zero_uncounted)
        tol = cs.tolerance(uow)
        products = uow.counting.products({ln.ref[1] for ln in lines})
        version = task["version"]
    if retried:
        return _resubmit(f, task, lines, actor, now)
    assert costs is not None
    adj = cs.adjustment_lines(lines, costs, task["number"])
    doc_id = docs.create_draft(f, cs.draft_input(task, adj, reason_code, seq), actor, now) if adj else None
    with f() as uow:
        stale = cs._task(uow, task_id, lock=True)["version"] != version
        if not stale:
            uow.counting.add_results([_result(task, seq, ln, costs, products, tol, reason_code, now)
                                      for ln in lines])
            uow.counting.update_task(task_id, {"state": S.CLOSED.value, "close_seq": seq,
                                               "closed_by": actor.name, "closed_at": now,
                                               "adjustment_document_id": doc_id})
            cs._audit(uow, "close", task_id, actor, now, {"lines": len(lines), "variances": len(adj),
                                                          "document_id": doc_id, "uncounted": len(uncounted)})
            cs.event(uow, "closed", task, now, document_id=doc_id)
            uow.commit()
    if stale:
        if doc_id:
            docs.cancel_draft(f, doc_id, actor, now, reason="盘点行有更新 / count lines changed")
        raise Conflict("VERSION_CONFLICT", "结束盘点期间又收到了盘点行，请重新结束",
                       "count lines arrived while closing; close again", field="task_id")
    state = docs.submit(f, doc_id, actor, now).value if doc_id else None
    return cs.CloseResult(task_id, doc_id, state, tuple(lines), tuple(uncounted))


def _prepare(uow: UnitOfWork, task: Mapping[str, Any], lines: list[c.CombinedLine], actor: Actor,
             now: datetime, zero_uncounted: bool
             ) -> tuple[list[c.CombinedLine], list[c.BucketRef], dict[int, Decimal], int]:
    cs._state(task, S.OPEN, S.COUNTING)
    conflicts = [ln.ref for ln in lines if ln.conflict]
    if conflicts:
        raise Conflict("COUNT_CONFLICT", f"{len(conflicts)} 个位置的盘点人结果不一致，请先复盘：{conflicts}",
                       f"counters disagree on {len(conflicts)} place(s); recount them first: {conflicts}",
                       field="task_id", details={"refs": [list(r) for r in conflicts]})
    uncounted = _uncounted(task, lines)
    if zero_uncounted and uncounted:
        lines = lines + _zero_lines(uow, task, uncounted, now, actor)
        uncounted = []
    costs = cs.unit_costs(uow, task["warehouse_id"], {ln.ref[1] for ln in lines})
    return lines, uncounted, costs, task["close_seq"] + 1


def _resubmit(f: UowFactory, task: Mapping[str, Any], lines: list[c.CombinedLine], actor: Actor,
              now: datetime) -> cs.CloseResult:
    """A close retried after it stored the draft but before submitting it finishes the job."""
    doc_id = task["adjustment_document_id"]
    if doc_id is None:
        return cs.CloseResult(task["id"], None, None, tuple(lines))
    state = docs.get(f, doc_id)["state"]
    if state == DocumentState.DRAFT:
        state = docs.submit(f, doc_id, actor, now).value
    return cs.CloseResult(task["id"], doc_id, state, tuple(lines))


def _uncounted(task: Mapping[str, Any], lines: list[c.CombinedLine]) -> list[c.BucketRef]:
    seen = {ln.ref for ln in lines}
    return [r for i in task["items"] if i["listed"]
            and (r := (i["location_id"], i["product_id"], i["lot_id"])) not in seen]


def _zero_lines(uow: UnitOfWork, task: Mapping[str, Any], refs: list[c.BucketRef], now: datetime,
                actor: Actor) -> list[c.CombinedLine]:
    """全盘未盘到 — listed places nobody counted are taken as empty (counted 0 now)."""
    book, _ = uow.counting.book_moves(task["warehouse_id"], now, now)
    return [c.CombinedLine(r, ZERO, book.get(r, ZERO), now, actor.name, (actor.name,), ("good",), False)
            for r in refs]


def _result(task: Mapping[str, Any], seq: int, ln: c.CombinedLine, costs: Mapping[int, Decimal],
            products: Mapping[int, Mapping[str, Any]], tol: Decimal, reason: str, now: datetime) -> dict[str, Any]:
    return {"task_id": task["id"], "close_seq": seq, "location_id": ln.ref[0], "product_id": ln.ref[1],
            "lot_id": ln.ref[2], "counted_qty": ln.counted_qty, "book_qty": ln.book_qty, "variance": ln.variance,
            "unit_cost": costs.get(ln.ref[1], ZERO), "value": cs.value_of(ln, costs), "counted_at": ln.counted_at,
            "counted_by": ln.counted_by, "category": (products.get(ln.ref[1]) or {}).get("category"),
            "conditions": ",".join(ln.conditions), "within_tolerance": c.within_tolerance(ln, tol),
            "reason_code": reason if ln.variance else None, "closed_at": now}


def kpis(f: UowFactory, since: datetime | None = None, until: datetime | None = None,
         warehouse_id: int | None = None) -> dict[str, Any]:
    """库存记录准确率 — per task and per month; adjustment value by reason, category and counter."""
    with f() as uow:
        rows = uow.counting.results(since, until, warehouse_id)
    per_task: dict[str, list[dict[str, Any]]] = {}
    per_month: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        per_task.setdefault(r["task_number"], []).append(r)
        per_month.setdefault(f"{r['closed_at']:%Y-%m}", []).append(r)

    def acc(group: list[dict[str, Any]]) -> dict[str, Any]:
        a = c.Accuracy(len(group), sum(1 for r in group if r["within_tolerance"]))
        return {"lines": a.counted, "accurate": a.accurate, "rate": a.rate}

    adjusted = [r for r in rows if r["variance"] != 0]
    posted = [r for r in adjusted if r["document_state"] == DocumentState.POSTED]
    return {"overall": acc(rows), "tasks": {k: acc(v) for k, v in per_task.items()},
            "trend": {k: acc(v) for k, v in sorted(per_month.items())},
            "value_by_reason": c.value_by(adjusted, "reason_code"),
            "value_by_category": c.value_by(adjusted, "category"),
            "value_by_person": c.value_by(adjusted, "counted_by"),
            "gain_value": money(sum((r["value"] for r in adjusted if r["value"] > 0), ZERO)),
            "loss_value": money(sum((-r["value"] for r in adjusted if r["value"] < 0), ZERO)),
            "posted_value": money(sum((abs(r["value"]) for r in posted), ZERO))}

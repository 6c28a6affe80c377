"""盘点范围 — what a task counts: full, by shelf, category, ABC class or rotation; and the monthly ABC run.

Guarantees:
- A task lists the (shelf, product, lot) places that hold stock now and match
  every filter of its plan; counters may still add places not on the sheet.
- A rotation counts slice ``i`` of the sorted categories (or products) in the
  ``i``-th interval since the plan started, so every one is counted once per
  period (`domain.counting.rotation_slice`).
- ABC classes come from the value of usage (stock that left to customers,
  production or scrap) over the last ``days``; each run replaces the last.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from jxc.domain import counting as c
from jxc.domain.documents import DocumentKind
from jxc.domain.permissions import doc_permission
from jxc.services import documents as docs
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
UNCATEGORISED = "(未分类)"


def resolve_scope(uow: UnitOfWork, warehouse_id: int, kind: str, scope: Mapping[str, Any],
                  now: datetime) -> tuple[list[c.BucketRef], dict[str, Any]]:
    """The places to count now, and the scope as resolved (which rotation slice, which classes)."""
    stock, _ = uow.counting.book_moves(warehouse_id, now, now)
    refs = sorted(ref for ref, qty in stock.items() if qty != 0)
    resolved: dict[str, Any] = {"kind": kind}
    if kind == "full":
        return refs, resolved
    products = uow.counting.products({r[1] for r in refs})
    if scope.get("location_ids"):
        wanted = set(scope["location_ids"])
        refs = [r for r in refs if r[0] in wanted]
        resolved["location_ids"] = sorted(wanted)
    if scope.get("categories"):
        cats = set(scope["categories"])
        refs = [r for r in refs if _category(products, r[1]) in cats]
        resolved["categories"] = sorted(cats)
    if scope.get("abc"):
        classes, abc = set(scope["abc"]), uow.counting.abc()
        refs = [r for r in refs if abc.get(r[1], c.AbcClass.C.value) in classes]
        resolved["abc"] = sorted(classes)
    rotation = scope.get("rotation")
    if rotation:
        refs, resolved["rotation"] = _rotate(refs, products, rotation, now)
    return refs, resolved


def _category(products: Mapping[int, Mapping[str, Any]], pid: int) -> str:
    return (products.get(pid) or {}).get("category") or UNCATEGORISED


def _rotate(refs: list[c.BucketRef], products: Mapping[int, Mapping[str, Any]], rotation: Mapping[str, Any],
            now: datetime) -> tuple[list[c.BucketRef], dict[str, Any]]:
    by_category = rotation["by"] == "category"

    def key(pid: int) -> str:
        return _category(products, pid) if by_category else str(products[pid]["code"])

    slots = c.rotation_slots(rotation["period_days"], rotation["interval_days"])
    index = c.rotation_index(datetime.fromisoformat(rotation["started_at"]), now, rotation["interval_days"])
    chosen = set(c.rotation_slice({key(r[1]) for r in refs}, slots, index))
    return ([r for r in refs if key(r[1]) in chosen],
            {**rotation, "slot": index % slots + 1, "slots": slots, "keys": sorted(chosen)})


def recompute_abc(f: UowFactory, actor: Actor, now: datetime, days: int = 90) -> dict[str, int]:
    """ABC 重算 — classify every product by value of usage over the last ``days`` (run monthly)."""
    docs.require(actor, doc_permission("create", DocumentKind.COUNT_ADJUSTMENT))
    with f() as uow:
        usage = uow.counting.usage_values(now - timedelta(days=days), now)
        everyone = {pid: usage.get(pid, 0) for pid in uow.counting.products()}
        classes = c.classify_abc({pid: -v if v < 0 else v for pid, v in everyone.items()})
        uow.counting.save_abc({pid: k.value for pid, k in classes.items()},
                              {pid: abs(v) for pid, v in everyone.items()}, now)
        counts = {k.value: sum(1 for v in classes.values() if v is k) for k in c.AbcClass}
        uow.audit.append(AuditEntry("count.abc", "product_abc", "all", actor.name, now, None,
                                    {"days": days, **counts}, actor.ip, actor.device))
        uow.commit()
        return counts

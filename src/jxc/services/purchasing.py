"""以销定购与供应商考核 — purchase suggestions from sales shortfalls; the supplier scorecard.

Guarantees:
- A confirmed sales order line that cannot be met from available stock leaves a
  suggestion row (product, warehouse, shortfall, preferred supplier, needed date,
  order-by date = needed − lead time, the source order line) in the same
  transaction as the confirmation; the `purchase.suggested` event still goes out.
- `convert` turns open suggestions into draft purchase orders, one per supplier
  and warehouse, in one transaction; quantities round up to whole packs (箱规)
  and take the supplier's default price. A suggestion without a supplier is
  refused by name, never silently skipped.
- Suggestions close: `fulfilled` when their purchase order is done, `obsolete`
  when their sales order is closed before anything was ordered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from jxc.domain.errors import DomainError, Problems
from jxc.domain.quantities import ZERO
from jxc.services.access import require
from jxc.services.ports import AuditEntry, OutboxMessage, UnitOfWork
from jxc.services.posting import Actor
from jxc.services.pricing import pack_factor

UowFactory = Callable[[], UnitOfWork]
RETURN_RATE_FLAG = Decimal("0.15")


def suggest_in(uow: UnitOfWork, order: dict[str, Any], line: dict[str, Any], shortage: Decimal,
               now: datetime) -> dict[str, Any]:
    """Record one shortfall of a sales order line; returns the row (with its why) for the event."""
    terms = uow.purchasing.terms(line["product_id"])
    best = next((t for t in terms if t["preferred"]), terms[0] if terms else None)
    lead = (best["lead_time_days"] if best and best["lead_time_days"] is not None
            else (best or {}).get("partner_lead_time_days") or 0)
    needed = order["needed_on"] or now
    row = {"product_id": line["product_id"], "warehouse_id": order["warehouse_id"], "qty": shortage,
           "supplier_id": best["partner_id"] if best else None, "needed_on": needed,
           "order_by": needed - timedelta(days=lead), "source_order_id": order["id"], "source_line_id": line["id"],
           "state": "open", "created_at": now}
    sid = uow.purchasing.add_suggestion(row)
    return {"suggestion_id": sid, "product_id": line["product_id"], "warehouse_id": order["warehouse_id"],
            "qty": str(shortage), "needed_on": needed.isoformat(), "order_by": row["order_by"].isoformat(),
            "supplier_id": row["supplier_id"], "lead_time_days": lead, "for_order": order["number"],
            "line_no": line["line_no"]}


def list_suggestions(f: UowFactory, state: str | None = "open", after: int | None = None,
                     limit: int = 50) -> list[dict[str, Any]]:
    with f() as uow:
        return uow.purchasing.suggestions(state=state, after=after, limit=limit)


def convert(f: UowFactory, suggestion_ids: Iterable[int] | None, actor: Actor, now: datetime) -> list[int]:
    """一键生成采购订单 — open suggestions (all, or the given ones) → draft purchase orders per supplier."""
    from jxc.services import trade  # trade imports this module for confirm_order

    with f() as uow:
        rows = uow.purchasing.suggestions(ids=None if suggestion_ids is None else list(suggestion_ids),
                                          state="open", limit=10_000, lock=True)
        p = Problems()
        if suggestion_ids is not None:
            missing = set(suggestion_ids) - {r["id"] for r in rows}
            for sid in sorted(missing):
                p.add("NOT_FOUND", f"suggestion_ids[{sid}]", f"建议 {sid} 不存在或已处理",
                      f"suggestion {sid} does not exist or is no longer open")
        for r in rows:
            if r["supplier_id"] is None:
                p.add("VALUE_REQUIRED", f"suggestion_ids[{r['id']}]", f"建议 {r['id']} 的商品没有供应商，请先设置供货条件",
                      f"suggestion {r['id']}: the product has no supplier; set supplier terms first")
        if not rows and not p.items:
            raise DomainError("VALUE_INVALID", "没有待处理的采购建议", "there are no open purchase suggestions",
                              field="suggestion_ids")
        p.raise_if_any()
        groups: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault((r["supplier_id"], r["warehouse_id"]), []).append(r)
        made = []
        for (supplier, warehouse), group in sorted(groups.items()):
            per_product: dict[int, Decimal] = {}
            for r in group:
                per_product[r["product_id"]] = per_product.get(r["product_id"], ZERO) + r["qty"]
            units = uow.documents.units(per_product)
            lines = []
            for pid, qty in per_product.items():
                terms = uow.purchasing.terms(pid, supplier)
                t = terms[0] if terms else {}
                pack = pack_factor(t, units[pid][1])
                packs = (qty / pack).to_integral_value(rounding=ROUND_CEILING)
                price = t.get("unit_price")
                lines.append(trade.OrderLineInput(pid, packs if pack != 1 else qty,
                                                  unit=t.get("pack_unit") if pack != 1 else None,
                                                  unit_price=None if price is None else price * pack))
            needed = min(r["needed_on"] for r in group)
            oid = trade.create_order_in(uow, "purchase", supplier, warehouse, lines, actor, now, needed_on=needed,
                                        remark="以销定购 " + ", ".join(f"#{r['id']}" for r in group))
            uow.purchasing.set_suggestions({"id": [r["id"] for r in group]},
                                           {"state": "converted", "purchase_order_id": oid})
            uow.outbox.add(OutboxMessage("purchase.suggestions_converted", "order", str(oid),
                                         {"order_id": oid, "suggestions": [r["id"] for r in group]}, now))
            made.append(oid)
        uow.audit.append(AuditEntry("suggestion.convert", "suggestion", ",".join(str(r["id"]) for r in rows),
                                    actor.name, now, None, {"orders": made}, actor.ip, actor.device))
        uow.commit()
        return made


def settle_in(uow: UnitOfWork, order: dict[str, Any], state: str, now: datetime) -> None:
    """An order reached ``state``: close the suggestions it fulfils or makes obsolete."""
    if order["kind"] == "purchase" and state == "done":
        uow.purchasing.set_suggestions({"purchase_order_id": order["id"], "state": "converted"},
                                       {"state": "fulfilled", "closed_at": now})
    elif order["kind"] == "sales" and state in ("closed", "cancelled", "done"):
        reason = "销售订单已关闭" if state != "done" else "销售订单已出库完成"
        uow.purchasing.set_suggestions({"source_order_id": order["id"], "state": "open"},
                                       {"state": "obsolete", "closed_at": now, "close_reason": reason})


def scorecard(f: UowFactory, actor: Actor, now: datetime, supplier_id: int | None = None,
              months: int = 3) -> list[dict[str, Any]]:
    """供应商考核 — on-time rate (receipt by needed date), fill rate (received ÷ ordered), return rate.

    Over the last ``months`` × 30 days. A return rate above 15 % is flagged.
    """
    require(actor, "report.view")
    since = now - timedelta(days=30 * months)
    with f() as uow:
        rows = uow.purchasing.scorecard(supplier_id, since, now)
    out = []
    for r in rows:
        on_time = _rate(Decimal(r["on_time_receipts"]), Decimal(r["receipts"]))
        fill = _rate(r["qty_received_against_orders"], r["qty_ordered"])
        returns = _rate(r["qty_returned"], r["qty_received"])
        out.append({**r, "since": since, "until": now, "on_time_rate": on_time, "fill_rate": fill,
                    "return_rate": returns, "return_rate_flag": returns is not None and returns > RETURN_RATE_FLAG})
    return out


def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if not whole else (part / whole).quantize(Decimal("0.0001"))

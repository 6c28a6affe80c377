"""调拨签收 — confirm receipt of a transfer: what arrived moves from transit into the destination.

Guarantees:
- A transfer posts out of the source into the in-transit location; only a
  receipt confirmation (签收) moves it into the destination warehouse.
- Receipts may be partial and several; a line never receives more than was
  sent minus what earlier receipts took.
- A final receipt writes any shortfall off from transit to the count-difference
  location as a discrepancy line (在途差异), so nothing stays in transit unseen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from jxc.domain import documents as d
from jxc.domain.errors import DomainError, Problems
from jxc.domain.permissions import doc_permission
from jxc.domain.quantities import ZERO, to_decimal
from jxc.services import documents as docs
from jxc.services.ports import UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]


def outstanding(f: UowFactory, transfer_id: int) -> dict[int, Decimal]:
    """在途数量 — per transfer line number, what was sent and not yet received or written off."""
    with f() as uow:
        return _outstanding(uow, _transfer(uow, transfer_id))


def _transfer(uow: UnitOfWork, transfer_id: int) -> dict[str, Any]:
    doc = uow.documents.get(transfer_id, lock=True)
    if doc is None or doc["kind"] != d.DocumentKind.TRANSFER:
        raise DomainError("NOT_FOUND", f"调拨单 {transfer_id} 不存在", f"transfer {transfer_id} does not exist",
                          field="transfer_id")
    if doc["state"] != d.DocumentState.POSTED:
        raise DomainError("INVALID_TRANSITION", "调拨单尚未过账或已红冲，不能签收",
                          "the transfer is not posted (or was reversed); it cannot be received", field="transfer_id")
    return doc


def _outstanding(uow: UnitOfWork, transfer: Mapping[str, Any]) -> dict[int, Decimal]:
    left = {ln["line_no"]: ln["qty_base"] for ln in transfer["lines"]}
    for receipt in uow.documents.receipts_of(transfer["id"]):
        for ln in receipt["lines"]:
            left[ln["source_line_no"]] -= ln["qty_base"]
    return left


def confirm_receipt(f: UowFactory, transfer_id: int, received: Mapping[int, Any] | None, actor: Actor,
                    now: datetime, final: bool = True, location_id: int | None = None,
                    remark: str | None = None) -> int:
    """签收 — receive ``received`` {line_no: qty in base units} (None: everything outstanding)."""
    with f() as uow:
        transfer = _transfer(uow, transfer_id)
        docs.require(actor, doc_permission("post", d.DocumentKind.TRANSFER_RECEIPT), transfer["to_warehouse_id"])
        left = _outstanding(uow, transfer)
        if all(q <= 0 for q in left.values()):
            raise DomainError("ALREADY_RECEIVED", "该调拨单已全部签收", "the transfer has been fully received",
                              field="transfer_id")
        wanted = dict(received) if received is not None else dict(left)
        dest = location_id or uow.documents.default_locations([transfer["to_warehouse_id"]]).get(
            transfer["to_warehouse_id"])
        p = Problems()
        lines: list[dict[str, Any]] = []
        by_no = {ln["line_no"]: ln for ln in transfer["lines"]}
        base = {pid: u[0] for pid, u in uow.documents.units({ln["product_id"] for ln in transfer["lines"]}).items()}
        for no, raw in sorted(wanted.items()):
            src = by_no.get(no)
            qty = to_decimal(raw, f"received[{no}]")
            if src is None:
                p.add("NOT_FOUND", f"received[{no}]", f"调拨单没有第{no}行", f"the transfer has no line {no}")
                continue
            if qty < 0 or qty > left[no]:
                p.add("QTY_EXCEEDS_OUTSTANDING", f"received[{no}]",
                      f"第{no}行签收 {qty} 超过在途数量 {left[no]}", f"line {no}: {qty} exceeds the {left[no]} in transit")
                continue
            if qty > 0:
                lines.append(_line(src, qty, dest, "签收", base))
        if final:
            for no, qty in sorted(left.items()):
                short = qty - (to_decimal(wanted.get(no, ZERO), "qty") if no in wanted else ZERO)
                if short > 0:
                    lines.append(_line(by_no[no], short, None, "在途差异：少到", base))
        if not lines:
            p.add("POSTING_EMPTY", "received", "没有可签收的数量", "nothing to receive")
        p.raise_if_any()
        number = docs.next_number(uow, d.DocumentKind.TRANSFER_RECEIPT, now)
        header = {"kind": d.DocumentKind.TRANSFER_RECEIPT.value, "number": number, "state": "draft",
                  "warehouse_id": transfer["to_warehouse_id"], "to_warehouse_id": None, "partner_id": None,
                  "effective_at": now, "remark": remark, "reason_code": None, "reason_text": None,
                  "source_document_id": transfer_id, "created_by": actor.name, "created_at": now,
                  "updated_by": actor.name, "updated_at": now, "version": 1, "approval_level": 0,
                  "allow_negative": False, "idempotency_key": None}
        doc_id = uow.documents.insert(header, lines)
        doc = uow.documents.get(doc_id, lock=True)
        assert doc is not None
        docs.post_document_in(uow, doc, actor, now)
        uow.commit()
        return doc_id


def _line(src: Mapping[str, Any], qty: Decimal, dest: int | None, remark: str,
          base: Mapping[int, str]) -> dict[str, Any]:
    return {"product_id": src["product_id"], "unit": base[src["product_id"]],
            "qty": qty, "qty_base": qty, "lot_id": src["lot_id"], "unit_price": None, "location_id": None,
            "to_location_id": dest, "role": "", "from_status": src["from_status"], "to_status": None,
            "source_line_no": src["line_no"], "remark": remark}

"""单据 — the document lifecycle: draft, edit, cancel, submit, approve, reject, post, reverse.

Guarantees:
- Only `TRANSITIONS` move a document; a posted document never changes except
  to `reversed`, by a reversal posting that references it (I5).
- A draft moves no stock: stock changes only when the document posts, in the
  same transaction as its state change, audit record and outbox event.
- Edits name the version they read; a stale edit is refused with who changed it.
- Approval follows the business's rules (`domain.approvals`); the approver
  must hold the level's role and may not approve their own document.
- Every action checks the actor's permission for that kind and warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from jxc.domain import documents as d
from jxc.domain.approvals import required_levels
from jxc.domain.errors import DomainError, Forbidden, NotFound
from jxc.domain.permissions import doc_permission, holds
from jxc.domain.settings import prefix_for
from jxc.services import money, posting, purchasing, reserving
from jxc.services.access import require, require_reauth
from jxc.services.doc_rules import (
    DraftInput,
    facts,
    freight_header,
    resolve_movements,
    same_source,
    validate_draft,
)
from jxc.services.ports import AuditEntry, OutboxMessage, UnitOfWork
from jxc.services.posting import Actor, PostingRequest

UowFactory = Callable[[], UnitOfWork]
A = d.Action


def _header(inp: DraftInput, now: datetime) -> dict[str, Any]:
    return {"kind": inp.kind.value, "warehouse_id": inp.warehouse_id, "to_warehouse_id": inp.to_warehouse_id,
            "partner_id": inp.partner_id, "effective_at": posting.utc(inp.effective_at or now),
            "remark": inp.remark, "reason_code": inp.reason_code, "reason_text": inp.reason_text,
            **freight_header(inp)}


def _audit(uow: UnitOfWork, action: str, doc_id: int, actor: Actor, now: datetime,
           before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
    uow.audit.append(AuditEntry(f"document.{action}", "document", str(doc_id), actor.name, now,
                                _plain(before), _plain(after), actor.ip, actor.device))


def _plain(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: (str(v) if isinstance(v, Decimal | datetime) else v) for k, v in row.items() if k != "lines"}


def _event(uow: UnitOfWork, kind: str, doc: Mapping[str, Any], now: datetime, **extra: Any) -> None:
    uow.outbox.add(OutboxMessage(f"document.{kind}", "document", str(doc["id"]),
                                 {"document_id": doc["id"], "number": doc["number"], "kind": doc["kind"],
                                  "warehouse_id": doc["warehouse_id"], "state": extra.pop("state", doc["state"]),
                                  **extra}, now))


def _movements(uow: UnitOfWork, doc: Mapping[str, Any]) -> Any:
    """The stock a document moves: none in no-stock trading mode (无库存版, services/money.py)."""
    return () if money.no_stock(uow, doc["kind"]) else resolve_movements(uow, doc)


def create_draft(f: UowFactory, inp: DraftInput, actor: Actor, now: datetime) -> int:
    """新建草稿 — validate, number, store; moves no stock."""
    with f() as uow:
        doc_id = create_draft_in(uow, inp, actor, now)
        uow.commit()
        return doc_id


def create_draft_in(uow: UnitOfWork, inp: DraftInput, actor: Actor, now: datetime) -> int:
    """新建草稿 inside an open unit of work (a use case that makes and submits a document in one go).

    With an idempotency key already used, the first document's id (nothing new is written)."""
    require(actor, doc_permission("create", inp.kind), inp.warehouse_id)
    if inp.idempotency_key:
        existing = uow.documents.find_by_key(inp.idempotency_key)
        if existing is not None:
            return existing
    lines = validate_draft(uow, inp, actor.permissions)
    number = next_number(uow, inp.kind, now)
    header = {**_header(inp, now), "number": number, "state": d.DocumentState.DRAFT.value,
              "source_document_id": inp.source_document_id,
              "idempotency_key": inp.idempotency_key, "created_by": actor.name, "created_at": now,
              "updated_by": actor.name, "updated_at": now, "version": 1, "approval_level": 0,
              "allow_negative": False}
    doc_id = uow.documents.insert(header, lines)
    _audit(uow, "create", doc_id, actor, now, None, {**header, "lines": len(lines)})
    _event(uow, "created", {**header, "id": doc_id}, now)
    return doc_id


def next_number(uow: UnitOfWork, kind: d.DocumentKind, now: datetime) -> str:
    """单号 — the business's prefix for the kind, the day, and a per-day sequence."""
    prefix = prefix_for(uow.settings.all(), kind)
    return d.number(prefix, now.date(), uow.documents.next_number(prefix, f"{now:%Y%m%d}"))


def _load(uow: UnitOfWork, doc_id: int) -> dict[str, Any]:
    doc = uow.documents.get(doc_id, lock=True)
    if doc is None:
        raise NotFound("NOT_FOUND", f"单据 {doc_id} 不存在", f"document {doc_id} does not exist", field="document_id")
    return doc


def update_draft(f: UowFactory, doc_id: int, inp: DraftInput, expected_version: int, actor: Actor,
                 now: datetime) -> None:
    """修改草稿 — replace header and lines; refused when someone changed it since ``expected_version``."""
    with f() as uow:
        doc = _load(uow, doc_id)
        require(actor, doc_permission("create", d.DocumentKind(doc["kind"])), doc["warehouse_id"])
        d.transition(d.DocumentState(doc["state"]), A.EDIT)
        if inp.kind.value != doc["kind"]:
            raise DomainError("VALUE_INVALID", "不能修改单据类型", "the document kind cannot change", field="kind")
        lines = validate_draft(uow, same_source(doc, inp), actor.permissions, editing=doc)
        values = {**_header(inp, now), "updated_by": actor.name, "updated_at": now}
        uow.documents.update(doc_id, values, expected_version)
        uow.documents.replace_lines(doc_id, lines)
        changed = {k: v for k, v in values.items() if doc.get(k) != v and k not in ("updated_at", "updated_by")}
        _audit(uow, "edit", doc_id, actor, now, {k: doc[k] for k in changed} | {"lines": len(doc["lines"])},
               changed | {"lines": len(lines)})
        uow.commit()


def cancel_draft(f: UowFactory, doc_id: int, actor: Actor, now: datetime, reason: str | None = None) -> None:
    """作废 — a draft (or a rejected one) is cancelled; it stays on record."""
    with f() as uow:
        doc = _load(uow, doc_id)
        require(actor, "document.cancel", doc["warehouse_id"])
        after = d.transition(d.DocumentState(doc["state"]), A.CANCEL)
        uow.documents.update(doc_id, {"state": after.value, "updated_by": actor.name, "updated_at": now}, None)
        _audit(uow, "cancel", doc_id, actor, now, {"state": doc["state"]}, {"state": after.value, "reason": reason})
        _event(uow, "cancelled", doc, now, state=after.value)
        uow.commit()


def submit(f: UowFactory, doc_id: int, actor: Actor, now: datetime) -> d.DocumentState:
    """提交 — post now, or wait for the approvals the rules ask for (and say why)."""
    with f() as uow:
        state = submit_in(uow, doc_id, actor, now)
        uow.commit()
        return state


def submit_in(uow: UnitOfWork, doc_id: int, actor: Actor, now: datetime) -> d.DocumentState:
    """提交 inside an open unit of work: posted, or pending approval with the plan and its reasons."""
    doc = _load(uow, doc_id)
    kind = d.DocumentKind(doc["kind"])
    require(actor, doc_permission("post", kind), doc["warehouse_id"])
    d.transition(d.DocumentState(doc["state"]), A.SUBMIT)
    movements = _movements(uow, doc)
    plan = required_levels(uow.documents.rules(), facts(uow, doc, movements, now))
    if not plan:
        return _post(uow, doc, movements, actor, now, allow_negative=False)
    state = d.DocumentState.PENDING_APPROVAL
    plan_json = json.dumps([{"level": r.level, "role": r.role, "reasons": list(r.reasons)} for r in plan],
                           ensure_ascii=False)
    uow.documents.update(doc_id, {"state": state.value, "approval_level": 1, "approval_plan": plan_json,
                                  "submitted_at": now, "updated_by": actor.name, "updated_at": now}, None)
    _audit(uow, "submit", doc_id, actor, now, {"state": doc["state"]},
           {"state": state.value, "approval_plan": plan_json})
    _event(uow, "submitted", doc, now, state=state.value, approver_role=plan[0].role)
    return state


def _post(uow: UnitOfWork, doc: dict[str, Any], movements: Any, actor: Actor, now: datetime,
          allow_negative: bool) -> d.DocumentState:
    uow.book.lock_head()  # lock order: the book head before partner (应收应付) and projection (汇总表) rows —
    # posting stock takes it anyway; no-stock trading would otherwise lock the partner first
    consumes = tuple((ln["reservation_id"], ln["qty_base"]) for ln in doc["lines"] if ln.get("reservation_id"))
    req = PostingRequest(doc["kind"], movements, doc["effective_at"], allow_negative=allow_negative,
                         reference=doc["number"], remark=doc.get("remark"), consumes=consumes)
    posting_id = None if money.no_stock(uow, doc["kind"]) else posting.post_in(uow, req, actor, now).posting_id
    money.raise_for_document(uow, doc, actor, now)  # 应收/应付 with the posting, never forgotten
    _orders_done(uow, doc, 1, now)
    reserving.publish_in(uow, {ln["product_id"] for ln in doc["lines"]}, now)  # channel sellable qty
    state = d.transition(d.DocumentState(doc["state"]), A.POST)
    uow.documents.update(doc["id"], {"state": state.value, "posting_id": posting_id,
                                     "allow_negative": allow_negative, "updated_by": actor.name,
                                     "updated_at": now}, None)
    uow.report_sums.record(doc, posting_id, 1)  # 汇总表, like balances: in the posting's transaction
    _audit(uow, "post", doc["id"], actor, now, {"state": doc["state"]},
           {"state": state.value, "posting_id": posting_id})
    _event(uow, "posted", doc, now, state=state.value, posting_id=posting_id)
    return state


def _orders_done(uow: UnitOfWork, doc: Mapping[str, Any], sign: int, now: datetime) -> None:
    """Posting (or reversing) a document moves its order lines' delivered/received quantity."""
    touched = set()
    for ln in doc["lines"]:
        if ln.get("order_line_id"):
            touched.add(uow.trade.add_done(ln["order_line_id"], sign * ln["qty_base"]))
    for order_id in touched:
        order = uow.trade.get(order_id)
        assert order is not None
        if order["state"] in ("confirmed", "partial", "done"):
            done = all(ln["qty_done"] >= ln["qty_base"] for ln in order["lines"])
            started = any(ln["qty_done"] > 0 for ln in order["lines"])
            state = "done" if done else ("partial" if started else "confirmed")
            if state != order["state"]:
                uow.trade.update(order_id, {"state": state, "updated_at": now})
                uow.outbox.add(OutboxMessage("order.progressed", "order", str(order_id),
                                             {"order_id": order_id, "number": order["number"], "state": state}, now))
                purchasing.settle_in(uow, order, state, now)  # 以销定购 suggestions fulfilled


def post_document_in(uow: UnitOfWork, doc: dict[str, Any], actor: Actor, now: datetime) -> d.DocumentState:
    """Post a loaded draft inside an open unit of work (documents the system makes itself)."""
    require(actor, doc_permission("post", d.DocumentKind(doc["kind"])), doc["warehouse_id"])
    return _post(uow, doc, _movements(uow, doc), actor, now, allow_negative=False)


def _plan(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return json.loads(doc["approval_plan"] or "[]")


def approve(f: UowFactory, doc_id: int, actor: Actor, now: datetime, comment: str | None = None) -> d.DocumentState:
    """审批通过 — this level is done; the last level posts the document."""
    with f() as uow:
        doc = _load(uow, doc_id)
        kind = d.DocumentKind(doc["kind"])
        d.transition(d.DocumentState(doc["state"]), A.APPROVE)
        require(actor, doc_permission("approve", kind), doc["warehouse_id"])
        require_reauth(actor)
        plan = _plan(doc)
        level = plan[doc["approval_level"] - 1]
        if actor.name in (doc["created_by"], doc["updated_by"]):
            raise Forbidden("SELF_APPROVAL", "不能审批自己提交的单据，请由其他人审批",
                            "you cannot approve a document you submitted; ask someone else", field=None)
        if actor.role != level["role"] and "*" not in actor.permissions:
            raise Forbidden("APPROVER_ROLE_REQUIRED", f"第{level['level']}级需要“{level['role']}”角色审批",
                            f"level {level['level']} needs approval by role '{level['role']}'", field=None,
                            details={"role": level["role"], "reasons": level["reasons"]})
        uow.documents.add_approval({"document_id": doc_id, "level": level["level"], "role": level["role"],
                                    "decision": "approved", "username": actor.name, "comment": comment, "at": now})
        _audit(uow, "approve", doc_id, actor, now, {"approval_level": doc["approval_level"]},
               {"level": level["level"], "comment": comment})
        if doc["approval_level"] < len(plan):
            uow.documents.update(doc_id, {"approval_level": doc["approval_level"] + 1, "updated_at": now}, None)
            _event(uow, "approval_advanced", doc, now, approver_role=plan[doc["approval_level"]]["role"])
            state = d.DocumentState.PENDING_APPROVAL
        else:
            movements = _movements(uow, doc)
            negative = facts(uow, doc, movements, now).would_go_negative
            state = _post(uow, doc, movements, actor, now,
                          allow_negative=negative and holds(actor.permissions, posting.PERMISSION_ALLOW_NEGATIVE))
        uow.commit()
        return state


def reject(f: UowFactory, doc_id: int, actor: Actor, now: datetime, comment: str) -> None:
    """驳回 — back to draft with the approver's comment; approvals start again on resubmit."""
    if not (comment or "").strip():
        raise DomainError("VALUE_REQUIRED", "驳回需填写原因", "a rejection needs a comment", field="comment")
    with f() as uow:
        doc = _load(uow, doc_id)
        after = d.transition(d.DocumentState(doc["state"]), A.REJECT)
        require(actor, doc_permission("approve", d.DocumentKind(doc["kind"])), doc["warehouse_id"])
        level = _plan(doc)[doc["approval_level"] - 1]
        uow.documents.add_approval({"document_id": doc_id, "level": level["level"], "role": level["role"],
                                    "decision": "rejected", "username": actor.name, "comment": comment, "at": now})
        uow.documents.update(doc_id, {"state": after.value, "approval_level": 0, "updated_at": now}, None)
        _audit(uow, "reject", doc_id, actor, now, {"state": doc["state"]}, {"state": after.value, "comment": comment})
        _event(uow, "rejected", doc, now, state=after.value, comment=comment)
        uow.commit()


def reverse(f: UowFactory, doc_id: int, actor: Actor, now: datetime, reason: str,
            effective_at: datetime | None = None) -> int | None:
    """红冲 — post the exact negative of a posted document; it becomes `reversed`."""
    if not (reason or "").strip():
        raise DomainError("REASON_REQUIRED", "红冲必须填写原因", "a reversal needs a reason", field="reason")
    with f() as uow:
        doc = _load(uow, doc_id)
        after = d.transition(d.DocumentState(doc["state"]), A.REVERSE)
        require(actor, doc_permission("reverse", d.DocumentKind(doc["kind"])), doc["warehouse_id"])
        if doc["kind"] == d.DocumentKind.TRANSFER and uow.documents.receipts_of(doc_id):
            raise DomainError("TRANSFER_RECEIVED", "调拨单已有签收，请先红冲签收单再红冲调拨单",
                              "the transfer has receipts; reverse the receipts first", field="document_id")
        uow.book.lock_head()  # lock order as at posting: the book head before partner and projection rows
        reversal_id = (posting.reverse_in(uow, doc["posting_id"], actor, now, effective_at, reason).posting_id
                       if doc["posting_id"] else None)  # no-stock trading documents moved no stock
        money.reverse_for_document(uow, doc, actor, now, effective_at)
        _orders_done(uow, doc, -1, now)
        uow.report_sums.record(doc, doc["posting_id"], -1)  # 汇总表: exactly what posting added, at its period
        reserving.publish_in(uow, {ln["product_id"] for ln in doc["lines"]}, now)
        uow.documents.update(doc_id, {"state": after.value, "reversal_posting_id": reversal_id,
                                      "updated_by": actor.name, "updated_at": now}, None)
        _audit(uow, "reverse", doc_id, actor, now, {"state": doc["state"]},
               {"state": after.value, "reversal_posting_id": reversal_id, "reason": reason})
        _event(uow, "reversed", doc, now, state=after.value, reversal_posting_id=reversal_id)
        uow.commit()
        return reversal_id


def get(f: UowFactory, doc_id: int) -> dict[str, Any]:
    """单据详情 — header, lines, approvals and the approval plan (with its reasons)."""
    with f() as uow:
        doc = uow.documents.get(doc_id)
        if doc is None:
            raise NotFound("NOT_FOUND", f"单据 {doc_id} 不存在", f"document {doc_id} does not exist", field="document_id")
        doc["approvals"] = uow.documents.approvals(doc_id)
        doc["approval_plan"] = _plan(doc)
        return doc

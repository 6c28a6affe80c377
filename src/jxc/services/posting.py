"""过账 — post a movement set to the ledger, reverse a posting, close a period.

Guarantees (each call is one unit of work: all of it commits, or none):
- I1: balance rows are incremented by SQL in the same transaction as the
  entries they project.
- I2: entries come from `ledger.build_entries`, balanced per product and lot.
- I3: a physical bucket that would end below zero refuses the posting with
  STOCK_INSUFFICIENT, unless the request allows negative stock AND the actor
  holds `stock.allow_negative`; the permission used is recorded on the posting.
- I5: a reversal posts the exact negative of the original and references it;
  a posting is reversed at most once, and a reversal is never reversed.
- I6: every posting writes one audit record to the hash chain.
- I7: the same idempotency key returns the first posting and never posts twice;
  the same key with a different request is refused.
- I9: nothing is posted with a business time before the closed period.
- I10: an outbox event is written in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from jxc.domain import ledger
from jxc.domain.catalog import LocationInfo, StockStatus
from jxc.domain.errors import Conflict, DomainError, NotFound
from jxc.domain.ledger import BucketKey, LedgerEntry, Movement
from jxc.services.ports import AuditEntry, NewPosting, OutboxMessage, PostingHeader, UnitOfWork

PERMISSION_ALLOW_NEGATIVE = "stock.allow_negative"


@dataclass(frozen=True)
class Actor:
    """操作人 — who acts, with what permissions, from where."""

    name: str
    permissions: frozenset[str] = frozenset()
    ip: str | None = None
    device: str | None = None
    role: str = ""
    warehouses: frozenset[int] | None = None  # None: every warehouse
    reauthenticated: bool = False  # the interface re-checked the password just now (敏感操作)

    def can(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions


SYSTEM = Actor("system", frozenset({"*"}))


@dataclass(frozen=True)
class PostingRequest:
    """过账请求 — a movement set with its business time and attribution."""

    kind: str
    movements: tuple[Movement, ...]
    effective_at: datetime
    idempotency_key: str | None = None
    allow_negative: bool = False
    reference: str | None = None
    remark: str | None = None
    consumes: tuple[tuple[int, Decimal], ...] = ()  # (reservation id, qty) this posting fulfils


@dataclass(frozen=True)
class PostingResult:
    """过账结果 — the posting, and whether this call created it."""

    posting_id: int
    created: bool
    entries: int


UowFactory = Callable[[], UnitOfWork]


def utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise DomainError("VALUE_INVALID", "业务时间必须带时区", "effective_at must carry a time zone",
                          field="effective_at")
    return at.astimezone(UTC)


def request_hash(req: PostingRequest) -> str:
    """A stable fingerprint of the request, to tell a retry from a key reuse."""
    body = {
        "kind": req.kind,
        "effective_at": utc(req.effective_at).isoformat(),
        "allow_negative": req.allow_negative,
        "reference": req.reference,
        "remark": req.remark,
        "movements": [
            [m.product_id, str(m.qty.normalize()), m.from_location_id, m.to_location_id, m.lot_id,
             str(m.from_status), str(m.dest_status),
             None if m.unit_cost is None else str(m.unit_cost.normalize())]
            + ([] if m.value is None else [str(m.value.normalize())])  # older requests hash as before
            for m in req.movements
        ],
        "consumes": [[rid, str(q.normalize())] for rid, q in req.consumes],
    }
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


def _replayed(existing: PostingHeader, digest: str) -> PostingResult:
    if existing.request_hash != digest:
        raise DomainError(
            "IDEMPOTENCY_MISMATCH",
            f"幂等键 {existing.idempotency_key} 已用于另一笔不同的过账（#{existing.id}），请换一个新的键",
            f"idempotency key {existing.idempotency_key} was used for a different posting "
            f"(#{existing.id}); use a new key",
            field="idempotency_key",
            details={"posting_id": existing.id},
        )
    return PostingResult(existing.id, created=False, entries=0)


def post(uow_factory: UowFactory, req: PostingRequest, actor: Actor, now: datetime) -> PostingResult:
    """过账 — validate, append balanced entries, update balances, audit, outbox; or nothing."""
    try:
        with uow_factory() as uow:
            result = post_in(uow, req, actor, now)
            if result.created:
                uow.commit()
            return result
    except Conflict:
        if not req.idempotency_key:
            raise
        with uow_factory() as uow:  # a concurrent retry won the race: return its result
            existing = uow.postings.find_by_key(req.idempotency_key)
        if existing is None:
            raise
        return _replayed(existing, request_hash(req))


def post_in(uow: UnitOfWork, req: PostingRequest, actor: Actor, now: datetime) -> PostingResult:
    """Post inside an open unit of work (documents post with their own state change); no commit."""
    effective_at = utc(req.effective_at)
    digest = request_hash(req) if req.idempotency_key else None
    if req.allow_negative and not actor.can(PERMISSION_ALLOW_NEGATIVE):
        raise DomainError(
            "NEGATIVE_NOT_PERMITTED",
            f"{actor.name} 没有“允许负库存”权限，请由老板审批后过账",
            f"{actor.name} lacks the permission {PERMISSION_ALLOW_NEGATIVE}; ask the owner to approve",
            field="allow_negative",
        )
    if req.idempotency_key:
        existing = uow.postings.find_by_key(req.idempotency_key)
        if existing is not None:
            return _replayed(existing, digest or "")
    md = uow.masterdata.load(
        {m.product_id for m in req.movements},
        {m.from_location_id for m in req.movements} | {m.to_location_id for m in req.movements},
        {m.lot_id for m in req.movements if m.lot_id != ledger.NO_LOT},
    )
    ledger.validate_movements(req.movements, md)
    keys = {k for m in req.movements if (k := ledger.cost_source(m, md.locations)) is not None}
    pairs = {k for k in keys if not isinstance(k, BucketKey)}
    buckets = {k for k in keys if isinstance(k, BucketKey)}
    costs: dict[Any, Decimal] = dict(uow.balances.average_costs(pairs)) if pairs else {}
    if buckets:
        costs.update(uow.balances.bucket_costs(buckets))
    entries = ledger.build_entries(req.movements, effective_at, costs, md.locations)
    header = NewPosting(req.kind, effective_at, now, actor.name, None, req.idempotency_key,
                        digest, req.allow_negative, req.reference, req.remark)
    posting_id = _append(uow, header, entries, actor, md.locations, req.consumes)
    return PostingResult(posting_id, created=True, entries=len(entries))


def _append(uow: UnitOfWork, header: NewPosting, entries: tuple[LedgerEntry, ...], actor: Actor,
            locations: Mapping[int, LocationInfo], consumes: tuple[tuple[int, Decimal], ...] = ()) -> int:
    """Write one posting: entries, balances (I3), reservations (I4), head lock (I9), audit, outbox."""
    posting_id = uow.postings.add(header, entries)
    physical = {i for i, loc in locations.items() if loc.kind.is_physical}
    watch = {e.bucket for e in entries if e.qty < 0 and e.location_id in physical}
    negative = uow.balances.increment(entries, watch)
    if negative and not header.allow_negative:
        raise _insufficient(negative)
    taken = {(e.product_id, locations[e.location_id].warehouse_id) for e in entries
             if e.qty < 0 and e.location_id in physical and e.status == StockStatus.AVAILABLE}
    if taken or consumes:
        reservation_guard(uow, taken, consumes, header.allow_negative, header.posted_at)
    head = uow.book.lock_head()
    ledger.check_period_open(header.effective_at, head.closed_until)
    after = {"kind": header.kind, "effective_at": header.effective_at.isoformat(),
             "lines": len(entries) // 2, "reverses_id": header.reverses_id,
             "allow_negative": header.allow_negative, "reference": header.reference}
    uow.audit.append(AuditEntry("posting.post", "posting", str(posting_id), actor.name,
                                header.posted_at, None, after, actor.ip, actor.device))
    uow.outbox.add(OutboxMessage(
        "stock.posted", "posting", str(posting_id),
        {"posting_id": posting_id, "kind": header.kind, "reverses_id": header.reverses_id,
         "effective_at": header.effective_at.isoformat(),
         "buckets": sorted({(e.location_id, e.product_id, e.lot_id, e.status) for e in entries})},
        header.posted_at))
    return posting_id


def reservation_guard(uow: UnitOfWork, taken: set[tuple[int, int | None]],
                      consumes: tuple[tuple[int, Decimal], ...], allow_negative: bool, now: datetime) -> None:
    """I4 — stock reserved for others stays; consumed reservations shrink first.

    Locks the products' reservation totals (the same row reservers lock first), applies
    this posting's consumption, then checks available on hand ≥ what is still reserved.
    """
    rows, consumed = [], {}
    for rid, qty in consumes:
        row = uow.reservations.get(rid)
        if row is None:
            raise NotFound("NOT_FOUND", f"预占 {rid} 不存在", f"reservation {rid} does not exist", field="consumes")
        pair = (row["product_id"], row["warehouse_id"])
        consumed[pair] = consumed.get(pair, Decimal(0)) + qty
        rows.append((rid, qty))
    totals = uow.reservations.lock_totals({p: -consumed.get(p, Decimal(0)) for p in taken | set(consumed)})
    for rid, qty in rows:
        row = uow.reservations.get(rid, lock=True)
        assert row is not None
        left = row["qty"] - row["qty_consumed"]
        if row["state"] != "pending" or qty > left:
            raise Conflict("RESERVATION_NOT_OPEN", f"预占 {rid} 只剩 {left if row['state'] == 'pending' else 0}，"
                           f"不能出库 {qty}（状态：{row['state']}）",
                           f"reservation {rid} has {left if row['state'] == 'pending' else 0} left "
                           f"({row['state']}); cannot deliver {qty}", field="consumes")
        done = row["qty_consumed"] + qty
        uow.reservations.close(rid, "consumed" if done == row["qty"] else "pending", done,
                               now if done == row["qty"] else None)
    if allow_negative:
        return
    held = {p: t for p, t in totals.items() if t > 0}
    have = uow.reservations.available_on_hand(held)
    short = {p: (have.get(p, Decimal(0)), t) for p, t in held.items() if have.get(p, Decimal(0)) < t}
    if short:
        (pid, wid), (on_hand, reserved) = min(short.items())
        raise Conflict("STOCK_RESERVED",
                       f"库存已被预占：商品 {pid} 在仓库 {wid} 过账后现存 {on_hand}，其中 {reserved} 已被订单预占；"
                       "请关联该订单出库或先释放预占",
                       f"stock is reserved: product {pid} in warehouse {wid} would have {on_hand} on hand with "
                       f"{reserved} reserved for orders; deliver against the order or release the reservation",
                       field="movements", details={"product_id": pid, "warehouse_id": wid,
                                                   "on_hand_after": str(on_hand), "reserved": str(reserved)})


def _insufficient(negative: dict[BucketKey, Decimal]) -> DomainError:
    key, qty = min(negative.items())
    return DomainError(
        "STOCK_INSUFFICIENT",
        f"库存不足：商品 {key.product_id} 在库位 {key.location_id} 过账后将为 {qty}，"
        "请先入库，或由有权限的人审批负库存",
        f"insufficient stock: product {key.product_id} at location {key.location_id} would be "
        f"{qty}; receive stock first or have an authorised user approve negative stock",
        field="movements",
        details={"buckets": [{"location_id": k.location_id, "product_id": k.product_id,
                              "lot_id": k.lot_id, "status": k.status, "qty_after": str(q)}
                             for k, q in sorted(negative.items())]},
    )


def reverse(uow_factory: UowFactory, posting_id: int, actor: Actor, now: datetime,
            effective_at: datetime | None = None, reason: str | None = None,
            idempotency_key: str | None = None) -> PostingResult:
    """红冲 — post the exact negative of a posting, referencing it (I5)."""
    with uow_factory() as uow:
        result = reverse_in(uow, posting_id, actor, now, effective_at, reason, idempotency_key)
        if result.created:
            uow.commit()
        return result


def reverse_in(uow: UnitOfWork, posting_id: int, actor: Actor, now: datetime,
               effective_at: datetime | None = None, reason: str | None = None,
               idempotency_key: str | None = None) -> PostingResult:
    """Reverse inside an open unit of work; no commit."""
    at = utc(effective_at) if effective_at else now
    if idempotency_key:
        existing = uow.postings.find_by_key(idempotency_key)
        if existing is not None:
            if existing.reverses_id != posting_id:
                raise DomainError("IDEMPOTENCY_MISMATCH", f"幂等键 {idempotency_key} 已用于另一笔过账",
                                  f"idempotency key {idempotency_key} was used for another posting",
                                  field="idempotency_key")
            return PostingResult(existing.id, created=False, entries=0)
    original = uow.postings.get(posting_id)
    if original is None:
        raise NotFound("NOT_FOUND", f"过账 #{posting_id} 不存在", f"posting #{posting_id} does not exist",
                       field="posting_id")
    if original.reverses_id is not None:
        raise Conflict("REVERSAL_OF_REVERSAL", f"#{posting_id} 本身是红冲单，不能再红冲；如需恢复请重新录单",
                       f"#{posting_id} is a reversal and cannot be reversed; post the document again",
                       field="posting_id")
    done = uow.postings.reversal_of(posting_id)
    if done is not None:
        raise Conflict("ALREADY_REVERSED", f"#{posting_id} 已被 #{done.id} 红冲",
                       f"#{posting_id} was already reversed by #{done.id}", field="posting_id",
                       details={"reversal_id": done.id})
    entries = ledger.reverse_entries(uow.postings.entries(posting_id), at)
    header = NewPosting("reversal", at, now, actor.name, posting_id, idempotency_key, None,
                        original.allow_negative and actor.can(PERMISSION_ALLOW_NEGATIVE),
                        original.reference, reason)
    md = uow.masterdata.load((), {e.location_id for e in entries}, ())
    new_id = _append(uow, header, entries, actor, md.locations)
    return PostingResult(new_id, created=True, entries=len(entries))


def close_period(uow_factory: UowFactory, until: datetime, actor: Actor, now: datetime) -> int:
    """月结 — snapshot stock before ``until`` and refuse earlier postings from now on (I9)."""
    until = utc(until)
    if until > now:
        raise DomainError("VALUE_INVALID", "结账日期不能晚于当前时间", "a period cannot be closed in the future",
                          field="until")
    with uow_factory() as uow:
        head = uow.book.lock_head()
        if head.closed_until is not None and until <= head.closed_until:
            raise DomainError(
                "PERIOD_NOT_ADVANCING",
                f"已结账至 {head.closed_until:%Y-%m-%d %H:%M}，新的结账日期必须更晚",
                f"already closed until {head.closed_until:%Y-%m-%d %H:%M}; close a later date",
                field="until")
        period_id, rows = uow.periods.close(until, now, actor.name)
        uow.book.set_closed_until(until)
        uow.audit.append(AuditEntry("period.close", "period", str(period_id), actor.name, now,
                                    {"closed_until": head.closed_until.isoformat()
                                     if head.closed_until else None},
                                    {"closed_until": until.isoformat(), "snapshot_rows": rows},
                                    actor.ip, actor.device))
        uow.outbox.add(OutboxMessage("period.closed", "period", str(period_id),
                                     {"period_id": period_id, "closed_until": until.isoformat()}, now))
        uow.commit()
        return period_id

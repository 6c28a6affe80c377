"""期初应收应付 — opening balances: what each customer owed and what was owed to each supplier when the
book started, entered as open items (one per partner, or one per open invoice with its own dates).

Guarantees:
- An opening is an open item of kind `opening`, dated by its invoice date, due by its due date
  (or the partner's payment terms): statements (it falls in the opening balance of any period
  starting after it), ageing, balances, the credit check and allocation treat it like a
  document's item. A positive amount is owed; a negative one is a credit (预收 / 预付).
- A batch is one unit of work: every entry is checked first (partner and side, amount, dates,
  closed period I9, reference already used) and every problem is reported with its entry
  (`entries[i].field`); nothing is written unless all entries are good.
- One posted opening per partner, side and reference (the database enforces it): an entry
  identical to the posted one returns it and writes nothing (re-running an import is safe);
  a different one is refused (OPENING_EXISTS). Reversing an opening frees its reference.
- Entering an opening allocates it against the partner's open items of the other sign, oldest
  first, like a posted document; reversing it (with a reason) releases its allocations and nets
  it with a reversal item. Both write an audit record and an outbox event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from jxc.domain import ledger
from jxc.domain import money as m
from jxc.domain.errors import Conflict, DomainError, NotFound, Problems
from jxc.domain.quantities import ZERO
from jxc.services.access import require
from jxc.services.money import (
    PERM_PAY,
    PERM_RECEIVE,
    PERM_VIEW,
    UowFactory,
    audit,
    check_partner,
    parse_amount,
    plain_values,
    reverse_item,
    settle,
)
from jxc.services.ports import OutboxMessage, UnitOfWork
from jxc.services.posting import Actor, utc

DEFAULT_REFERENCE = "期初"
MAX_ENTRIES = 5000
PERMISSION = {m.Side.RECEIVABLE: PERM_RECEIVE, m.Side.PAYABLE: PERM_PAY}
# column headers people use, zh and en → entry field (for `first_run.read_table`)
COLUMNS = {"往来单位编码": "partner", "往来单位": "partner", "客户编码": "partner", "供应商编码": "partner",
           "编码": "partner", "partner": "partner", "partner_code": "partner", "code": "partner",
           "单号": "reference", "发票号": "reference", "参考号": "reference", "reference": "reference",
           "金额": "amount", "期初金额": "amount", "余额": "amount", "未收金额": "amount", "未付金额": "amount",
           "amount": "amount", "日期": "on", "单据日期": "on", "date": "on", "on": "on",
           "到期日": "due_on", "due": "due_on", "due_on": "due_on", "方向": "side", "side": "side",
           "备注": "remark", "remark": "remark"}
SIDE_WORDS = {"应收": "receivable", "receivable": "receivable", "应付": "payable", "payable": "payable"}


@dataclass(frozen=True)
class OpeningInput:
    """一笔期初 — ``amount`` signed (> 0 owed, < 0 a credit); ``effective_at`` the invoice's date (its day in the
    book's zone decides the default due date); ``side`` defaults from the partner's role."""

    partner_id: int
    amount: Any
    effective_at: datetime
    reference: str | None = None
    due_on: date | None = None
    side: str | None = None
    remark: str | None = None


@dataclass(frozen=True)
class OpeningResult:
    id: int
    created: bool  # False: an identical opening was already posted (nothing written)


def _side(partner: Mapping[str, Any] | None, raw: str | None, field: str, p: Problems) -> m.Side | None:
    if raw:
        if raw not in m.Side._value2member_map_:
            p.add("VALUE_INVALID", field, "方向应为 receivable（应收）或 payable（应付）",
                  "side must be receivable or payable")
            return None
        return m.Side(raw)
    if partner is None:
        return None
    if partner["role"] == "both":
        p.add("VALUE_REQUIRED", field, f"{partner['name']} 既是客户又是供应商，请填写方向（应收/应付）",
              f"{partner['name']} is both customer and supplier; give the side (receivable / payable)")
        return None
    return m.Side.RECEIVABLE if partner["role"] == "customer" else m.Side.PAYABLE


def _check(uow: UnitOfWork, n: int, e: OpeningInput, closed: datetime | None, p: Problems) -> dict[str, Any] | None:
    """One entry → the opening row it would write (None when it has problems, which are added to ``p``)."""
    at, before = f"entries[{n}]", len(p.items)
    partner = uow.records.get("partners", e.partner_id)
    side = _side(partner, e.side, f"{at}.side", p)
    if side is not None:
        check_partner(uow, e.partner_id, side, p, f"{at}.partner_id")
    elif partner is None:
        p.add("NOT_FOUND", f"{at}.partner_id", f"往来单位 {e.partner_id} 不存在", f"partner {e.partner_id} does not exist")
    amount = parse_amount(e.amount, f"{at}.amount", p, "nonzero")
    reference = (e.reference or "").strip() or DEFAULT_REFERENCE
    if len(reference) > 64:
        p.add("VALUE_INVALID", f"{at}.reference", "单号最长 64 个字符", "a reference has at most 64 characters")
    if e.effective_at.tzinfo is None:
        p.add("VALUE_INVALID", f"{at}.effective_at", "期初日期必须带时区", "the opening's time must carry a time zone")
    elif closed is not None and utc(e.effective_at) < closed:
        p.add("PERIOD_CLOSED", f"{at}.effective_at",
              f"期初日期 {e.effective_at:%Y-%m-%d} 早于已结账期间（截至 {closed:%Y-%m-%d %H:%M}），请改用结账后的日期",
              f"the opening's date {e.effective_at:%Y-%m-%d} is in a closed period (closed until "
              f"{closed:%Y-%m-%d %H:%M}); use a later date", closed_until=closed.isoformat())
    day = e.effective_at.date()
    due = e.due_on if amount > 0 else None
    if due is None and amount > 0 and partner is not None:
        due = m.due_on(day, partner.get("payment_terms_days"))
    if due is not None and due < day:
        p.add("VALUE_INVALID", f"{at}.due_on", f"到期日 {due} 早于单据日期 {day}", f"the due date {due} is before the date {day}")
    if len(p.items) > before or side is None:
        return None
    return {"partner_id": e.partner_id, "side": side.value, "reference": reference, "amount": amount,
            "effective_at": utc(e.effective_at), "due_on": due, "remark": (e.remark or "").strip() or None}


def _same(row: Mapping[str, Any], done: Mapping[str, Any]) -> bool:
    return (done["amount"], done["effective_at"], done["due_on"]) == (row["amount"], row["effective_at"], row["due_on"])


def record_openings(f: UowFactory, entries: Sequence[OpeningInput], actor: Actor, now: datetime) -> list[OpeningResult]:
    """录入期初 — all entries in one transaction, or none; identical re-entries return the posted opening."""
    if not entries:
        raise DomainError("VALUE_REQUIRED", "没有期初明细", "no opening entries were given", field="entries")
    if len(entries) > MAX_ENTRIES:
        raise DomainError("VALUE_INVALID", f"一次最多录入 {MAX_ENTRIES} 笔期初", f"at most {MAX_ENTRIES} openings at once",
                          field="entries")
    p = Problems()
    with f() as uow:
        closed = uow.book.lock_head().closed_until
        rows = [_check(uow, n, e, closed, p) for n, e in enumerate(entries)]
        for side in {m.Side(r["side"]) for r in rows if r}:
            require(actor, PERMISSION[side])
        p.raise_if_any()
        good = [r for r in rows if r is not None]
        for pid in sorted({r["partner_id"] for r in good}):  # key order: no deadlock between two batches
            uow.money.lock_partner(pid)
        results: list[OpeningResult | None] = []
        seen: dict[tuple[int, str, str], int] = {}
        for n, row in enumerate(good):
            key = (row["partner_id"], row["side"], row["reference"])
            done = uow.money.opening(partner_id=key[0], side=key[1], reference=key[2])
            if key in seen:
                p.add("OPENING_EXISTS", f"entries[{n}].reference",
                      f"第 {seen[key] + 1} 笔已是该单位单号“{row['reference']}”的期初，同一单号只能录入一次",
                      f"entry {seen[key] + 1} already is this partner's opening '{row['reference']}'; "
                      "a reference is entered once", entry=seen[key])
            elif done is not None and not _same(row, done):
                p.add("OPENING_EXISTS", f"entries[{n}].reference",
                      f"该单位已有单号“{row['reference']}”的期初（#{done['id']}，金额 {done['amount']}）；"
                      "如需更正，请先红冲原期初再录入",
                      f"the partner already has opening '{row['reference']}' (#{done['id']}, amount "
                      f"{done['amount']}); to correct it, reverse that one first", opening_id=done["id"])
            seen.setdefault(key, n)
            results.append(OpeningResult(done["id"], False) if done is not None else None)
        p.raise_if_any()
        out = [r if r is not None else OpeningResult(_post(uow, row, actor, now), True)
               for row, r in zip(good, results, strict=True)]
        uow.commit()
        return out


def _post(uow: UnitOfWork, row: Mapping[str, Any], actor: Actor, now: datetime) -> int:
    item = {"partner_id": row["partner_id"], "side": row["side"], "kind": "opening", "reference": row["reference"],
            "effective_at": row["effective_at"], "amount": row["amount"], "due_on": row["due_on"],
            "created_by": actor.name, "created_at": now}
    item_id = uow.money.add_item(item)
    oid = uow.money.add_opening({**row, "live_reference": row["reference"], "state": "posted", "item_id": item_id,
                                 "created_by": actor.name, "created_at": now})
    settled = settle(uow, {**item, "id": item_id, "allocated": ZERO}, actor, now)
    audit(uow, "opening.record", "money_opening", oid, actor, now, None, {**row, "item_id": item_id, "settled": settled})
    uow.outbox.add(OutboxMessage(f"{row['side']}.opening_recorded", "money_opening", str(oid),
                                 plain_values({**row, "opening_id": oid, "item_id": item_id}) or {}, now))
    return oid


def reverse_opening(f: UowFactory, opening_id: int, reason: str, actor: Actor, now: datetime,
                    effective_at: datetime | None = None) -> int:
    """红冲期初 — dated like the opening unless told otherwise (so the corrected opening balance is clean);
    its allocations are released; its reference may be entered again."""
    if not (reason or "").strip():
        raise DomainError("REASON_REQUIRED", "红冲期初必须填写原因", "reversing an opening needs a reason", field="reason")
    with f() as uow:
        row = uow.money.opening(opening_id, lock=True)
        if row is None:
            raise NotFound("NOT_FOUND", f"期初 {opening_id} 不存在", f"opening {opening_id} does not exist",
                           field="opening_id")
        require(actor, PERMISSION[m.Side(row["side"])])
        if row["state"] != "posted":
            raise Conflict("ALREADY_REVERSED", f"期初 {row['reference']} 已红冲", f"opening {row['reference']} was already "
                           "reversed", field="opening_id")
        at = utc(effective_at) if effective_at else row["effective_at"]
        ledger.check_period_open(at, uow.book.lock_head().closed_until)
        uow.money.lock_partner(row["partner_id"])
        item = uow.money.item(row["item_id"])
        assert item is not None
        rid = reverse_item(uow, item, actor, now, max(at, item["effective_at"]), "reversal")
        uow.money.update_opening(opening_id, {"state": "reversed", "live_reference": None, "reversal_item_id": rid,
                                              "reason": reason, "reversed_by": actor.name, "reversed_at": now})
        audit(uow, "opening.reverse", "money_opening", opening_id, actor, now, {"state": "posted"},
              {"state": "reversed", "reason": reason, "reversal_item_id": rid})
        uow.outbox.add(OutboxMessage(f"{row['side']}.opening_reversed", "money_opening", str(opening_id),
                                     {"opening_id": opening_id, "reference": row["reference"], "reason": reason}, now))
        uow.commit()
        return rid


def page_openings(f: UowFactory, actor: Actor, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """期初列表 — by id, filtered by partner, side and state, with what is still open of each."""
    require(actor, PERM_VIEW)
    with f() as uow:
        rows = uow.money.page_openings(after, limit, **filters)
        names = uow.money.partner_names({r["partner_id"] for r in rows})
        return [{**r, "partner_code": names.get(r["partner_id"], ("", ""))[0],
                 "partner_name": names.get(r["partner_id"], ("", ""))[1]} for r in rows]


def entries_from_rows(f: UowFactory, rows: Iterable[Mapping[str, str]], zone: tzinfo, default_on: date | None = None,
                      side: str | None = None, remark: str | None = None) -> list[OpeningInput]:
    """A table (CSV / xlsx rows by header, see COLUMNS) → entries: partner codes, dates in the book's zone.

    Rows that cannot be read are refused together (`entries[i].field`, i = the data row, 0 first)."""
    p = Problems()
    out: list[OpeningInput] = []
    with f() as uow:
        for n, row in enumerate(rows):
            at = f"entries[{n}]"
            found = uow.records.find("partners", code=row.get("partner", "").strip()) if row.get("partner") else None
            if found is None:
                p.add("NOT_FOUND", f"{at}.partner_id", f"找不到往来单位编码“{row.get('partner', '')}”",
                      f"no partner with code '{row.get('partner', '')}'")
            day, due = _date(row.get("on"), f"{at}.effective_at", p), _date(row.get("due_on"), f"{at}.due_on", p)
            day = day or default_on
            if day is None:
                p.add("VALUE_REQUIRED", f"{at}.effective_at", "缺少日期（或用 --on 指定期初日期）",
                      "the date is missing (or give the opening date with --on)")
            row_side = SIDE_WORDS.get((row.get("side") or "").strip().lower(), row.get("side") or None) or side
            if found is not None and day is not None:
                out.append(OpeningInput(found["id"], row.get("amount", ""), datetime.combine(day, time(0), tzinfo=zone),
                                        row.get("reference"), due, row_side, row.get("remark") or remark))
    p.raise_if_any()
    return out


def _date(raw: str | None, field: str, p: Problems) -> date | None:
    if not (raw or "").strip():
        return None
    text = raw.strip()[:10].replace("/", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        p.add("VALUE_INVALID", field, f"日期“{raw}”格式应为 2026-10-31", f"the date '{raw}' should look like 2026-10-31")
        return None

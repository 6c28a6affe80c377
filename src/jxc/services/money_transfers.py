"""资金调拨 — moving money between the business's own accounts (cash into the bank, WeChat Pay withdrawn
to the bank), with an optional fee (手续费).

Guarantees:
- A transfer writes two account entries in one transaction: −amount on the account it leaves,
  +(amount − fee) on the account it reaches; `accounts()` includes them, so balances stay the
  sum of every movement (`jxc check` M5 verifies each transfer's legs).
- Append-only: reversing (with a reason) writes the two opposite entries, dated now or as told;
  balances as of an earlier time do not change. A closed period (I9) refuses both.
- Audit record and `transfer.*` outbox event in the same transaction; an idempotency key
  returns the first transfer, and a different request under the same key is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from jxc.domain import ledger
from jxc.domain import money as m
from jxc.domain.documents import number as doc_number
from jxc.domain.errors import Conflict, DomainError, NotFound, Problems
from jxc.domain.quantities import ZERO
from jxc.services.access import require
from jxc.services.money import PERM_PAY, PERM_VIEW, UowFactory, audit, parse_amount, plain_values
from jxc.services.ports import OutboxMessage, UnitOfWork
from jxc.services.posting import Actor, utc

PREFIX = "ZJ"


@dataclass(frozen=True)
class TransferInput:
    """调拨输入 — ``amount`` leaves ``from_account_id``; ``to_account_id`` receives amount − fee."""

    from_account_id: int
    to_account_id: int
    amount: Any
    fee: Any = "0"
    effective_at: datetime | None = None
    remark: str | None = None
    idempotency_key: str | None = None


def _hash(inp: TransferInput, amount: Decimal, fee: Decimal) -> str:
    at = utc(inp.effective_at).isoformat() if inp.effective_at else None
    body = [inp.from_account_id, inp.to_account_id, str(amount.normalize()), str(fee.normalize()), at, inp.remark]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()


def _account(uow: UnitOfWork, account_id: int, field: str, p: Problems) -> None:
    account = uow.money.account(account_id)
    if account is None:
        p.add("NOT_FOUND", field, f"资金账户 {account_id} 不存在", f"account {account_id} does not exist")
    elif not account["active"]:
        p.add("INACTIVE", field, f"资金账户 {account['name']} 已停用", f"account {account['name']} is deactivated")


def record_transfer(f: UowFactory, inp: TransferInput, actor: Actor, now: datetime) -> int:
    """资金调拨 — out of one account, into another, less the fee; money.pay (money leaves an account)."""
    require(actor, PERM_PAY)
    p = Problems()
    amount = parse_amount(inp.amount, "amount", p)
    fee = parse_amount(inp.fee if inp.fee not in (None, "") else "0", "fee", p, "nonnegative")
    at = utc(inp.effective_at or now)
    digest = _hash(inp, amount, fee)
    with f() as uow:
        if inp.idempotency_key:
            done = uow.money.transfer(key=inp.idempotency_key)
            if done is not None:
                if done["request_hash"] != digest:
                    raise DomainError("IDEMPOTENCY_MISMATCH", f"幂等键 {inp.idempotency_key} 已用于另一笔调拨",
                                      f"idempotency key {inp.idempotency_key} was used for a different transfer",
                                      field="idempotency_key", details={"transfer_id": done["id"]})
                return done["id"]
        _account(uow, inp.from_account_id, "from_account_id", p)
        _account(uow, inp.to_account_id, "to_account_id", p)
        p.raise_if_any()
        legs = m.transfer_legs(inp.from_account_id, inp.to_account_id, amount, fee)
        ledger.check_period_open(at, uow.book.lock_head().closed_until)
        number = doc_number(PREFIX, now.date(), uow.documents.next_number(PREFIX, f"{now:%Y%m%d}"))
        values = {"number": number, "from_account_id": inp.from_account_id, "to_account_id": inp.to_account_id,
                  "amount": amount, "fee": fee, "effective_at": at, "state": "posted",
                  "idempotency_key": inp.idempotency_key, "request_hash": digest, "remark": inp.remark,
                  "created_by": actor.name, "created_at": now}
        tid = uow.money.add_transfer(values)
        for account_id, delta in legs:
            uow.money.add_account_entry({"account_id": account_id, "transfer_id": tid, "amount": delta,
                                         "effective_at": at, "reversal": False, "created_at": now})
        after = {k: values[k] for k in ("number", "from_account_id", "to_account_id", "amount", "fee", "effective_at")}
        audit(uow, "transfer.record", "money_transfer", tid, actor, now, None, after)
        uow.outbox.add(OutboxMessage("transfer.recorded", "money_transfer", str(tid),
                                     plain_values({**after, "transfer_id": tid}) or {}, now))
        uow.commit()
        return tid


def reverse_transfer(f: UowFactory, transfer_id: int, reason: str, actor: Actor, now: datetime,
                     effective_at: datetime | None = None) -> None:
    """红冲调拨 — the money goes back (the fee too): two opposite entries, audited with the reason."""
    if not (reason or "").strip():
        raise DomainError("REASON_REQUIRED", "红冲调拨必须填写原因", "reversing a transfer needs a reason", field="reason")
    require(actor, PERM_PAY)
    with f() as uow:
        t = _transfer(uow, transfer_id, lock=True)
        if t["state"] != "posted":
            raise Conflict("ALREADY_REVERSED", f"调拨 {t['number']} 已红冲", f"transfer {t['number']} was already reversed",
                           field="transfer_id")
        at = max(utc(effective_at) if effective_at else now, t["effective_at"])
        ledger.check_period_open(at, uow.book.lock_head().closed_until)
        for account_id, delta in m.transfer_legs(t["from_account_id"], t["to_account_id"], t["amount"], t["fee"]):
            uow.money.add_account_entry({"account_id": account_id, "transfer_id": transfer_id, "amount": -delta,
                                         "effective_at": at, "reversal": True, "created_at": now})
        uow.money.update_transfer(transfer_id, {"state": "reversed", "reason": reason, "reversed_by": actor.name,
                                                "reversed_at": now})
        audit(uow, "transfer.reverse", "money_transfer", transfer_id, actor, now, {"state": "posted"},
              {"state": "reversed", "reason": reason, "effective_at": at})
        uow.outbox.add(OutboxMessage("transfer.reversed", "money_transfer", str(transfer_id),
                                     {"transfer_id": transfer_id, "number": t["number"], "reason": reason}, now))
        uow.commit()


def _transfer(uow: UnitOfWork, transfer_id: int, lock: bool = False) -> dict[str, Any]:
    t = uow.money.transfer(transfer_id, lock=lock)
    if t is None:
        raise NotFound("NOT_FOUND", f"调拨 {transfer_id} 不存在", f"transfer {transfer_id} does not exist",
                       field="transfer_id")
    return t


def get_transfer(f: UowFactory, transfer_id: int, actor: Actor) -> dict[str, Any]:
    require(actor, PERM_VIEW)
    with f() as uow:
        t = _transfer(uow, transfer_id)
        t["received"] = t["amount"] - t["fee"]
        return t


def page_transfers(f: UowFactory, actor: Actor, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
    require(actor, PERM_VIEW)
    with f() as uow:
        return [{**t, "received": t["amount"] - t["fee"]} for t in uow.money.page_transfers(after, limit, **filters)]


def account_statement(f: UowFactory, account_id: int, since: datetime, before: datetime,
                      actor: Actor) -> dict[str, Any]:
    """资金账户流水 — opening balance, every receipt, payment, refund and transfer leg in [since, before), closing."""
    require(actor, PERM_VIEW)
    with f() as uow:
        account = uow.money.account(account_id)
        if account is None:
            raise NotFound("NOT_FOUND", f"资金账户 {account_id} 不存在", f"account {account_id} does not exist",
                           field="account_id")
        bal = uow.money.account_balances(before=since)
        opening = bal.get(account_id, ZERO)
        running, rows = opening, []
        for r in uow.money.account_movements(account_id, since, before):
            running += r["amount"]
            rows.append({**r, "label_zh": m.ITEM_LABELS.get(r["kind"], (r["kind"],))[0] if r["kind"] != "transfer"
                         else "资金调拨", "balance": running})
        return {"account": account, "since": since, "before": before, "opening": opening, "movements": rows,
                "inflow": sum((r["amount"] for r in rows if r["amount"] > 0), ZERO),
                "outflow": -sum((r["amount"] for r in rows if r["amount"] < 0), ZERO), "closing": running}

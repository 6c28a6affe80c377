"""应收应付报表 — partner balances, open items, statements (对账单), ageing (账龄), trading profit.

Read-only use cases over the money books that `services/money.py` writes.

Guarantees:
- A statement's opening is every item dated before the period; opening + debits −
  credits = closing, and closing is the partner's balance at the end of the period.
- Ageing uses only the items and allocations dated by the as-of time; its five
  buckets plus the open credits equal each partner's balance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jxc.domain import money as m
from jxc.domain.errors import DomainError
from jxc.domain.quantities import ZERO
from jxc.services.access import require
from jxc.services.money import PERM_VIEW, UowFactory, partner_of, remaining
from jxc.services.posting import Actor


def side_of(partner: Mapping[str, Any], side: str | None) -> m.Side:
    if side:
        return m.Side(side)
    if partner["role"] == "both":
        raise DomainError("VALUE_REQUIRED", "该单位既是客户又是供应商，请指定 side（receivable/payable）",
                          "the partner is both customer and supplier; choose side receivable or payable", field="side")
    return m.Side.RECEIVABLE if partner["role"] == "customer" else m.Side.PAYABLE


def side_for(f: UowFactory, partner_id: int, side: str | None = None) -> str:
    """The side a partner's money is on (given, or from its role; a partner that is both must say)."""
    with f() as uow:
        return side_of(partner_of(uow, partner_id), side).value


def statement(f: UowFactory, partner_id: int, since: datetime, before: datetime, actor: Actor,
              side: str | None = None) -> dict[str, Any]:
    """对账单 — opening balance, every movement in [since, before) with its reference, closing balance."""
    require(actor, PERM_VIEW)
    with f() as uow:
        partner = partner_of(uow, partner_id)
        s = side_of(partner, side)
        opening = uow.money.balance(partner_id, s.value, before=since)
        running, rows = opening, []
        for it in uow.money.movements(partner_id, s.value, since, before):
            running += it["amount"]
            rows.append({"item_id": it["id"], "effective_at": it["effective_at"], "kind": it["kind"],
                         "label_zh": m.ITEM_LABELS.get(it["kind"], (it["kind"],))[0], "reference": it["reference"],
                         "document_id": it["document_id"], "payment_id": it["payment_id"],
                         "debit": it["amount"] if it["amount"] > 0 else ZERO,
                         "credit": -it["amount"] if it["amount"] < 0 else ZERO,
                         "due_on": it["due_on"], "balance": running})
        return {"partner_id": partner_id, "partner_code": partner["code"], "partner_name": partner["name"],
                "side": s.value, "since": since, "before": before, "opening": opening, "movements": rows,
                "debits": sum((r["debit"] for r in rows), ZERO), "credits": sum((r["credit"] for r in rows), ZERO),
                "closing": running}


def ageing(f: UowFactory, side: str, as_of: datetime, as_of_day: date, actor: Actor,
           partner_id: int | None = None) -> dict[str, Any]:
    """账龄 — open items as of ``as_of`` by days overdue on ``as_of_day``, per partner, with totals."""
    require(actor, PERM_VIEW)
    s = m.Side(side)
    with f() as uow:
        rows = uow.money.open_as_of(s.value, as_of, partner_id)
        aged = m.age([m.AgedItem(r["partner_id"], r["open"], r["due_on"]) for r in rows], as_of_day)
        names = uow.money.partner_names(aged)
    out = [{"partner_id": pid, "partner_code": names[pid][0], "partner_name": names[pid][1], **vals}
           for pid, vals in sorted(aged.items())]
    keys = (*m.BUCKETS, "credit", "balance")
    return {"side": s.value, "as_of": as_of, "partners": out,
            "totals": {k: sum((r[k] for r in out), ZERO) for k in keys}}


def balances(f: UowFactory, side: str, actor: Actor, partner_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """往来余额 — each partner's balance (Σ items), with credit limit and terms."""
    require(actor, PERM_VIEW)
    with f() as uow:
        bal = uow.money.partner_balances(m.Side(side).value, partner_ids)
        out = []
        for pid, amount in sorted(bal.items()):
            partner = uow.records.get("partners", pid) or {}
            out.append({"partner_id": pid, "partner_code": partner.get("code"), "partner_name": partner.get("name"),
                        "side": side, "balance": amount, "credit_limit": partner.get("credit_limit"),
                        "payment_terms_days": partner.get("payment_terms_days")})
        return out


def trading_profit(f: UowFactory, since: datetime, before: datetime, actor: Actor) -> dict[str, Decimal]:
    """贸易毛利 — billed sales − billed purchases (net of returns and reversals) in [since, before).

    The no-stock trader's profit (无库存版): it never holds stock, so what it bought in
    the period is what it sold. A stock-holding business uses cost of goods sold instead."""
    require(actor, PERM_VIEW)
    with f() as uow:
        totals = uow.money.document_totals(since, before)
    sales, purchases = totals.get("receivable", ZERO), totals.get("payable", ZERO)
    return {"sales": sales, "purchases": purchases, "profit": sales - purchases}


def open_items(f: UowFactory, actor: Actor, after: int | None, limit: int, partner_id: int | None = None,
               side: str | None = None, open_only: bool = True) -> list[dict[str, Any]]:
    require(actor, PERM_VIEW)
    with f() as uow:
        return [{**r, "open": (1 if r["amount"] > 0 else -1) * remaining(r)}
                for r in uow.money.page_items(after, limit, partner_id, side, open_only)]


def page_payments(f: UowFactory, actor: Actor, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
    require(actor, PERM_VIEW)
    with f() as uow:
        return uow.money.page_payments(after, limit, **filters)


def ids_by_code(f: UowFactory, partner_code: str | None = None,
                account_code: str | None = None) -> tuple[int | None, int | None]:
    """往来单位 / 资金账户 ids from their codes (interfaces take codes from people)."""
    with f() as uow:
        partner = uow.records.find("partners", code=partner_code) if partner_code else None
        account = uow.money.account(code=account_code) if account_code else None
        return (partner["id"] if partner else None), (account["id"] if account else None)


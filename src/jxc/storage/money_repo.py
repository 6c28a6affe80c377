"""应收应付仓储 — accounts, open items, allocations, payments; statements and ageing reads.

Writers lock the partner's open items (PostgreSQL `FOR UPDATE`, in id order;
SQLite holds the write lock from `BEGIN IMMEDIATE`) before allocating, and move
`allocated` with SQL increments, never read-modify-write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Integer, case, cast, func, null, or_, select, update

from jxc.storage.tables import partners
from jxc.storage.tables_money import (
    credit_overrides,
    money_account_entries,
    money_accounts,
    money_allocations,
    money_items,
    money_openings,
    money_transfers,
    payments,
)

MI, AL, P = money_items.c, money_allocations.c, payments.c
OP, TR, AE = money_openings.c, money_transfers.c, money_account_entries.c


class SqlMoneyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"

    # ── accounts (资金账户) ──
    def add_account(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(money_accounts.insert().returning(money_accounts.c.id), dict(values)).scalar_one()

    def account(self, account_id: int | None = None, code: str | None = None) -> dict[str, Any] | None:
        a = money_accounts.c
        q = select(money_accounts).where(a.id == account_id if account_id is not None else a.code == code)
        row = self.conn.execute(q).mappings().first()
        return None if row is None else dict(row)

    def accounts(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(select(money_accounts).order_by(money_accounts.c.id)).mappings()]

    def account_balances(self, at: datetime | None = None, before: datetime | None = None) -> dict[int, Decimal]:
        """Money in each account, effective ≤ ``at`` (or < ``before``): receipts and supplier refunds in, payments
        and customer refunds out (reversals included), plus the legs of transfers (资金调拨)."""
        delta = case((MI.side == "receivable", -MI.amount), else_=MI.amount)
        items = select(MI.account_id.label("account_id"), delta.label("amount")).where(MI.account_id.is_not(None))
        legs = select(AE.account_id, AE.amount)
        if at is not None:
            items, legs = items.where(MI.effective_at <= at), legs.where(AE.effective_at <= at)
        if before is not None:
            items, legs = items.where(MI.effective_at < before), legs.where(AE.effective_at < before)
        u = items.union_all(legs).subquery()
        q = select(u.c.account_id, func.sum(u.c.amount)).group_by(u.c.account_id)
        return {r[0]: r[1] or Decimal(0) for r in self.conn.execute(q)}

    def account_movements(self, account_id: int, since: datetime, before: datetime) -> list[dict[str, Any]]:
        """资金流水 — the account's money movements in [since, before): payment items and transfer legs."""
        delta = case((MI.side == "receivable", -MI.amount), else_=MI.amount)
        items = (select(MI.effective_at, delta.label("amount"), MI.kind, MI.reference, MI.payment_id,
                        MI.partner_id, cast(null(), Integer).label("transfer_id"), MI.id.label("row_id"))
                 .where(MI.account_id == account_id, MI.effective_at >= since, MI.effective_at < before))
        legs = (select(AE.effective_at, AE.amount, case((AE.reversal, "reversal"), else_="transfer"), TR.number,
                       cast(null(), Integer), cast(null(), Integer), AE.transfer_id, AE.id)
                .join(money_transfers, TR.id == AE.transfer_id)
                .where(AE.account_id == account_id, AE.effective_at >= since, AE.effective_at < before))
        u = items.union_all(legs).subquery()
        q = select(u).order_by(u.c.effective_at, u.c.transfer_id.is_not(None), u.c.row_id)
        return [dict(r) for r in self.conn.execute(q).mappings()]

    # ── open items ──
    def add_item(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(money_items.insert().returning(money_items.c.id),
                                 {"allocated": Decimal(0), **values}).scalar_one()

    def item(self, item_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(money_items).where(MI.id == item_id)).mappings().first()
        return None if row is None else dict(row)

    def item_of_document(self, document_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(money_items).where(MI.document_id == document_id, MI.reverses_id.is_(None))
                                .order_by(MI.id).limit(1)).mappings().first()
        return None if row is None else dict(row)

    def open_items(self, partner_id: int, side: str, lock: bool = False, sign: int = 0) -> list[dict[str, Any]]:
        """Items of the partner and side with something still open, oldest first (only debits: sign 1,
        only credits: sign -1)."""
        q = (select(money_items).where(MI.partner_id == partner_id, MI.side == side,
                                       func.abs(MI.amount) > MI.allocated)
             .order_by(MI.effective_at, MI.id))
        if sign:
            q = q.where(MI.amount > 0 if sign > 0 else MI.amount < 0)
        if lock and self._pg:
            q = q.with_for_update()
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def lock_partner(self, partner_id: int) -> None:
        """Serialise money writers of one partner (the partner row; SQLite: already serialised).

        FOR NO KEY UPDATE, not FOR UPDATE: money writers still queue on the row, but a transaction that
        only inserts a row referencing the partner (a document draft: the foreign key's KEY SHARE) and
        then appends to the audit chain no longer deadlocks with a posting that holds the book head."""
        if self._pg:
            self.conn.execute(select(partners.c.id).where(partners.c.id == partner_id)
                              .with_for_update(key_share=True))

    def allocate(self, debit_id: int, credit_id: int, amount: Decimal, effective_at: datetime, actor: str,
                 now: datetime) -> None:
        """One allocation row (negative: release) and both items' `allocated` moved by SQL increment."""
        self.conn.execute(money_allocations.insert(), {"debit_item_id": debit_id, "credit_item_id": credit_id,
                                                       "amount": amount, "effective_at": effective_at,
                                                       "created_by": actor, "created_at": now})
        self.conn.execute(update(money_items).where(MI.id.in_((debit_id, credit_id)))
                          .values(allocated=MI.allocated + amount))

    def allocations_of(self, item_id: int) -> list[dict[str, Any]]:
        """Net allocation per counterpart item (only pairs still > 0), with the pair's latest business time."""
        other = case((AL.debit_item_id == item_id, AL.credit_item_id), else_=AL.debit_item_id)
        q = (select(AL.debit_item_id, AL.credit_item_id, func.sum(AL.amount).label("amount"),
                    func.max(AL.effective_at).label("effective_at"), other.label("other_id"))
             .where(or_(AL.debit_item_id == item_id, AL.credit_item_id == item_id))
             .group_by(AL.debit_item_id, AL.credit_item_id).having(func.sum(AL.amount) > 0))
        return [dict(r) for r in self.conn.execute(q).mappings()]

    # ── payments ──
    def add_payment(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(payments.insert().returning(payments.c.id), dict(values)).scalar_one()

    def payment(self, payment_id: int | None = None, key: str | None = None,
                lock: bool = False) -> dict[str, Any] | None:
        q = select(payments).where(P.id == payment_id if payment_id is not None else P.idempotency_key == key)
        if lock and self._pg:
            q = q.with_for_update()
        row = self.conn.execute(q).mappings().first()
        return None if row is None else dict(row)

    def update_payment(self, payment_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(payments).where(P.id == payment_id).values(**values))

    def update_item(self, item_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(money_items).where(MI.id == item_id).values(**values))

    # ── reads ──
    def balance(self, partner_id: int, side: str, before: datetime | None = None,
                until: datetime | None = None) -> Decimal:
        """Σ item amounts of the partner and side (effective < before, or ≤ until)."""
        q = select(func.sum(MI.amount)).where(MI.partner_id == partner_id, MI.side == side)
        if before is not None:
            q = q.where(MI.effective_at < before)
        if until is not None:
            q = q.where(MI.effective_at <= until)
        return self.conn.execute(q).scalar() or Decimal(0)

    def movements(self, partner_id: int, side: str, since: datetime, before: datetime) -> list[dict[str, Any]]:
        q = (select(money_items).where(MI.partner_id == partner_id, MI.side == side, MI.effective_at >= since,
                                       MI.effective_at < before).order_by(MI.effective_at, MI.id))
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def open_as_of(self, side: str, until: datetime, partner_id: int | None = None) -> list[dict[str, Any]]:
        """Items effective ≤ ``until`` with their signed amount still open as of then (allocations ≤ until)."""
        alloc = (select(AL.debit_item_id.label("item_id"), AL.amount, AL.effective_at)
                 .union_all(select(AL.credit_item_id, AL.amount, AL.effective_at))).subquery()
        done = (select(alloc.c.item_id, func.sum(alloc.c.amount).label("done"))
                .where(alloc.c.effective_at <= until).group_by(alloc.c.item_id)).subquery()
        sign = case((MI.amount > 0, 1), else_=-1)
        q = (select(MI.id, MI.partner_id, MI.amount, MI.due_on, MI.reference, MI.kind, MI.effective_at,
                    (MI.amount - sign * func.coalesce(done.c.done, 0)).label("open"))
             .outerjoin(done, done.c.item_id == MI.id)
             .where(MI.side == side, MI.effective_at <= until))
        if partner_id is not None:
            q = q.where(MI.partner_id == partner_id)
        return [dict(r) for r in self.conn.execute(q.order_by(MI.partner_id, MI.effective_at, MI.id)).mappings()
                if r["open"] != 0]

    def document_totals(self, since: datetime, before: datetime) -> dict[str, Decimal]:
        """Σ document items (and their reversals) per side dated in [since, before): billed sales and purchases."""
        q = (select(MI.side, func.sum(MI.amount)).where(MI.document_id.is_not(None), MI.effective_at >= since,
                                                        MI.effective_at < before).group_by(MI.side))
        return {r[0]: r[1] or Decimal(0) for r in self.conn.execute(q)}

    def partner_balances(self, side: str, partner_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
        q = select(MI.partner_id, func.sum(MI.amount)).where(MI.side == side).group_by(MI.partner_id)
        if partner_ids is not None:
            q = q.where(MI.partner_id.in_(list(partner_ids)))
        return {r[0]: r[1] for r in self.conn.execute(q)}

    def page_payments(self, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
        q = select(payments)
        if after is not None:
            q = q.where(P.id > after)
        for name, value in filters.items():
            if value is not None:
                q = q.where(P[name] == value)
        return [dict(r) for r in self.conn.execute(q.order_by(P.id).limit(limit)).mappings()]

    def page_items(self, after: int | None, limit: int, partner_id: int | None, side: str | None,
                   open_only: bool) -> list[dict[str, Any]]:
        q = select(money_items)
        if after is not None:
            q = q.where(MI.id > after)
        if partner_id is not None:
            q = q.where(MI.partner_id == partner_id)
        if side is not None:
            q = q.where(MI.side == side)
        if open_only:
            q = q.where(func.abs(MI.amount) > MI.allocated)
        return [dict(r) for r in self.conn.execute(q.order_by(MI.id).limit(limit)).mappings()]

    def partner_names(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        q = select(partners.c.id, partners.c.code, partners.c.name).where(partners.c.id.in_(list(ids)))
        return {r[0]: (r[1], r[2]) for r in self.conn.execute(q)}


    # ── opening balances (期初) ──
    def add_opening(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(money_openings.insert().returning(OP.id), dict(values)).scalar_one()

    def opening(self, opening_id: int | None = None, lock: bool = False, *, partner_id: int | None = None,
                side: str | None = None, reference: str | None = None) -> dict[str, Any] | None:
        """By id, or the posted (not reversed) opening of a partner, side and reference."""
        if opening_id is not None:
            q = select(money_openings).where(OP.id == opening_id)
        else:
            q = select(money_openings).where(OP.partner_id == partner_id, OP.side == side,
                                             OP.live_reference == reference)
        if lock and self._pg:
            q = q.with_for_update()
        row = self.conn.execute(q).mappings().first()
        return None if row is None else dict(row)

    def update_opening(self, opening_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(money_openings).where(OP.id == opening_id).values(**values))

    def page_openings(self, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
        """Openings by id, each with its item's signed amount still open (``open``)."""
        left = (MI.amount - case((MI.amount > 0, 1), else_=-1) * MI.allocated).label("open")
        q = select(money_openings, left).outerjoin(money_items, MI.id == OP.item_id)
        if after is not None:
            q = q.where(OP.id > after)
        for name, value in filters.items():
            if value is not None:
                q = q.where(OP[name] == value)
        return [dict(r) for r in self.conn.execute(q.order_by(OP.id).limit(limit)).mappings()]

    # ── transfers between accounts (资金调拨) ──
    def add_transfer(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(money_transfers.insert().returning(TR.id), dict(values)).scalar_one()

    def transfer(self, transfer_id: int | None = None, key: str | None = None,
                 lock: bool = False) -> dict[str, Any] | None:
        q = select(money_transfers).where(TR.id == transfer_id if transfer_id is not None else TR.idempotency_key == key)
        if lock and self._pg:
            q = q.with_for_update()
        row = self.conn.execute(q).mappings().first()
        return None if row is None else dict(row)

    def update_transfer(self, transfer_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(money_transfers).where(TR.id == transfer_id).values(**values))

    def add_account_entry(self, values: Mapping[str, Any]) -> None:
        self.conn.execute(money_account_entries.insert(), dict(values))

    def page_transfers(self, after: int | None, limit: int, **filters: Any) -> list[dict[str, Any]]:
        q = select(money_transfers)
        if after is not None:
            q = q.where(TR.id > after)
        for name, value in filters.items():
            if value is not None:
                q = q.where(TR[name] == value)
        return [dict(r) for r in self.conn.execute(q.order_by(TR.id).limit(limit)).mappings()]

    # ── credit overrides (信用超额审批) ──
    def add_credit_override(self, values: Mapping[str, Any]) -> int:
        return self.conn.execute(credit_overrides.insert().returning(credit_overrides.c.id), dict(values)).scalar_one()

    def credit_override(self, order_id: int) -> dict[str, Any] | None:
        c = credit_overrides.c
        row = self.conn.execute(select(credit_overrides).where(c.order_id == order_id)
                                .order_by(c.id.desc()).limit(1)).mappings().first()
        return None if row is None else dict(row)

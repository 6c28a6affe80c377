"""应收 property — random deliveries, returns, receipts (allocated oldest first, explicitly, or not at
all), opening balances (期初, debit or credit) and their reversal, refunds of a credit (退款) and refunds
asked beyond it, transfers between accounts (资金调拨) with fees, later allocations and reversals of
documents, receipts and refunds, for two customers.

After every step, for each customer:
- the partner balance equals the model (Σ delivered − returned − received, reversals netted);
- the sum of the open items' signed remainders equals the balance;
- allocations never exceed either side (0 ≤ allocated ≤ |amount|, and `jxc check` M1–M6 are clean);
- a statement split at any moment ties out: opening + debits − credits = closing = balance;
- the ageing as of the end has the same balance, and its buckets + credits add up to it;
- every account's balance is the model's (receipts in, refunds out, transfer legs, reversals);
- a refund larger than the available credit is refused and changes nothing.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from jxc.bootstrap import build
from jxc.config import Settings
from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.domain.money import BUCKETS, PaymentKind
from jxc.domain.quantities import ZERO
from jxc.services import documents as docs
from jxc.services import masterdata, money, money_reads
from jxc.services import money_openings as op
from jxc.services import money_transfers as mt
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from jxc.storage.checks import m_money
from tests.conftest import NOW, _truncate, make_world

BOSS = Actor("boss", frozenset({"*"}), role="owner")
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
prices = st.decimals(places=2, min_value=Decimal("0.01"), max_value=Decimal("99"), allow_nan=False,
                     allow_infinity=False)
amounts = st.decimals(places=2, min_value=Decimal("0.01"), max_value=Decimal("800"), allow_nan=False,
                      allow_infinity=False)
qtys = st.integers(min_value=1, max_value=9)
ticks = st.integers(min_value=1, max_value=60 * 24 * 20)  # minutes
signed = amounts.flatmap(lambda a: st.sampled_from([a, -a]))
fractions = st.integers(min_value=1, max_value=100)  # percent of the available credit


class MoneyMachine(RuleBasedStateMachine):
    documents = Bundle("documents")
    payments = Bundle("payments")
    openings = Bundle("openings")
    transfers = Bundle("transfers")

    def __init__(self, pg_url: str | None = None) -> None:
        super().__init__()
        self.pg_url = pg_url
        if pg_url is None:
            self.app = build(Settings(database_url="sqlite://"))
            self.app.create_all()
        else:
            self.app = build(Settings(database_url=pg_url))
            _truncate(self.app)
        f = self.app.uow_factory
        self.w = make_world(self.app)
        self.customers = [masterdata.create(f, "partners", {"code": f"C{i}", "name": f"客户{i}", "role": "customer",
                                                            "payment_terms_days": 7 * i}, SYSTEM, NOW)
                          for i in (1, 2)]
        sup = masterdata.create(f, "partners", {"code": "S", "name": "供应商", "role": "supplier"}, SYSTEM, NOW)
        self.account = money.create_account(f, "CASH", "现金", "cash", BOSS, NOW)
        self.bank = money.create_account(f, "BANK", "银行", "bank", BOSS, NOW)
        self.cash = {self.account: ZERO, self.bank: ZERO}
        self.references = 0
        self.now = NOW
        self._doc(K.PURCHASE_RECEIPT, sup, 100000, Decimal(1))
        self.expected = {c: ZERO for c in self.customers}
        self.times = [NOW]

    def teardown(self) -> None:
        if self.pg_url is None:
            self.app.dispose()

    def _doc(self, kind: K, partner: int, qty: int, price: Decimal) -> int:
        f = self.app.uow_factory
        did = docs.create_draft(f, DraftInput(kind, self.w.wh, (LineInput(self.w.rice, qty, unit_price=price),),
                                              partner_id=partner, reason_text="退" if kind is K.SALES_RETURN else None),
                                BOSS, self.now)
        assert docs.submit(f, did, BOSS, self.now) == "posted"
        return did

    def _tick(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        self.times.append(self.now)

    @rule(target=documents, c=st.integers(0, 1), qty=qtys, price=prices, t=ticks)
    def deliver(self, c: int, qty: int, price: Decimal, t: int) -> tuple[int, int, Decimal]:
        self._tick(t)
        cus = self.customers[c]
        self.expected[cus] += qty * price
        return (self._doc(K.SALES_DELIVERY, cus, qty, price), cus, qty * price)

    @rule(target=documents, c=st.integers(0, 1), qty=qtys, price=prices, t=ticks)
    def sales_return(self, c: int, qty: int, price: Decimal, t: int) -> tuple[int, int, Decimal]:
        self._tick(t)
        cus = self.customers[c]
        self.expected[cus] -= qty * price
        return (self._doc(K.SALES_RETURN, cus, qty, price), cus, -qty * price)

    @rule(target=payments, c=st.integers(0, 1), amount=amounts, mode=st.sampled_from(["oldest", "none", "explicit"]),
          t=ticks)
    def receive(self, c: int, amount: Decimal, mode: str, t: int) -> tuple[int, int, Decimal]:
        self._tick(t)
        cus = self.customers[c]
        allocations = None if mode == "oldest" else []
        if mode == "explicit":
            opens = [i for i in self._items(cus) if i["open"] > 0]
            if opens:
                allocations = [(opens[-1]["id"], min(opens[-1]["open"], amount))]
        pid = money.record_payment(self.app.uow_factory, money.PaymentInput(
            PaymentKind.RECEIPT, cus, self.account, amount, self.now, allocations), BOSS, self.now)
        self.expected[cus] -= amount
        self.cash[self.account] += amount
        return (pid, cus, -amount)

    def _available(self, cus: int) -> Decimal:
        """What may go back: the open credits, net of what the customer still owes (the model, not the code)."""
        its = self._items(cus)
        credits = -sum((i["open"] for i in its if i["open"] < 0), ZERO)
        return max(ZERO, min(credits, -self.expected[cus]))

    @rule(target=payments, c=st.integers(0, 1), pct=fractions, t=ticks)
    def refund(self, c: int, pct: int, t: int) -> tuple[int, int, Decimal]:
        self._tick(t)
        cus = self.customers[c]
        available = self._available(cus)
        amount = max(Decimal("0.01"), (available * pct / 100).quantize(Decimal("0.01")))
        if amount > available:
            self.over_refund(c)
            return (0, cus, ZERO)
        pid = money.record_payment(self.app.uow_factory, money.PaymentInput(
            PaymentKind.CUSTOMER_REFUND, cus, self.account, amount, self.now), BOSS, self.now)
        self.expected[cus] += amount
        self.cash[self.account] -= amount
        return (pid, cus, amount)

    @rule(c=st.integers(0, 1))
    def over_refund(self, c: int) -> None:
        cus = self.customers[c]
        asked = self._available(cus) + Decimal("0.01")
        before = self._items(cus)
        with pytest.raises(DomainError) as err:
            money.record_payment(self.app.uow_factory, money.PaymentInput(
                PaymentKind.CUSTOMER_REFUND, cus, self.account, asked, self.now), BOSS, self.now)
        assert (err.value.code, err.value.field) == ("REFUND_EXCEEDS_CREDIT", "amount")
        assert self._items(cus) == before

    @rule(target=openings, c=st.integers(0, 1), amount=signed, t=ticks)
    def opening(self, c: int, amount: Decimal, t: int) -> tuple[int, int, Decimal]:
        self._tick(t)
        cus = self.customers[c]
        self.references += 1
        (done,) = op.record_openings(self.app.uow_factory, [op.OpeningInput(cus, amount, self.now,
                                                                            f"INV-{self.references}")], BOSS, self.now)
        self.expected[cus] += amount
        return (done.id, cus, amount)

    @rule(o=consumes(openings))
    def reverse_opening(self, o: tuple[int, int, Decimal]) -> None:
        op.reverse_opening(self.app.uow_factory, o[0], "期初录错", BOSS, self.now)  # dated like the opening
        self.expected[o[1]] -= o[2]

    @rule(target=transfers, amount=amounts, pct=st.integers(0, 99), out=st.booleans(), t=ticks)
    def transfer(self, amount: Decimal, pct: int, out: bool, t: int) -> tuple[int, int, int, Decimal, Decimal]:
        self._tick(t)
        fee = (amount * pct / 100).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
        src, dst = (self.account, self.bank) if out else (self.bank, self.account)
        tid = mt.record_transfer(self.app.uow_factory, mt.TransferInput(src, dst, amount, fee, self.now), BOSS,
                                 self.now)
        self.cash[src] -= amount
        self.cash[dst] += amount - fee
        return (tid, src, dst, amount, fee)

    @rule(tr=consumes(transfers), t=ticks)
    def reverse_transfer(self, tr: tuple[int, int, int, Decimal, Decimal], t: int) -> None:
        self._tick(t)
        mt.reverse_transfer(self.app.uow_factory, tr[0], "调错", BOSS, self.now)
        self.cash[tr[1]] += tr[3]
        self.cash[tr[2]] -= tr[3] - tr[4]

    @rule(p=payments)
    def allocate_rest(self, p: tuple[int, int, Decimal]) -> None:
        if not p[0]:
            return
        pay = money.get_payment(self.app.uow_factory, p[0], BOSS)
        if pay["state"] == "posted":
            money.allocate(self.app.uow_factory, p[0], None, BOSS, self.now)

    @rule(d=consumes(documents), t=ticks)
    def reverse_document(self, d: tuple[int, int, Decimal], t: int) -> None:
        self._tick(t)
        docs.reverse(self.app.uow_factory, d[0], BOSS, self.now, reason="红冲")
        self.expected[d[1]] -= d[2]

    @rule(p=consumes(payments), t=ticks)
    def reverse_payment(self, p: tuple[int, int, Decimal], t: int) -> None:
        if not p[0]:
            return
        self._tick(t)
        money.reverse_payment(self.app.uow_factory, p[0], "红冲", BOSS, self.now)
        self.expected[p[1]] -= p[2]
        self.cash[self.account] += p[2]  # a receipt's money leaves again, a refund's comes back

    def _items(self, cus: int) -> list[dict]:
        return money_reads.open_items(self.app.uow_factory, BOSS, None, 10000, partner_id=cus, open_only=False)

    @invariant()
    def books_tie_out(self) -> None:
        f = self.app.uow_factory
        bal = {r["partner_id"]: r["balance"] for r in money_reads.balances(f, "receivable", BOSS)}
        end = self.now + timedelta(days=1)
        aged = {r["partner_id"]: r for r in money_reads.ageing(f, "receivable", end, end.date() + timedelta(days=45),
                                                        BOSS)["partners"]}
        for cus in self.customers:
            assert bal.get(cus, ZERO) == self.expected[cus]
            its = self._items(cus)
            assert sum((i["open"] for i in its), ZERO) == self.expected[cus]
            for i in its:
                assert ZERO <= i["allocated"] <= abs(i["amount"]), i
            split = self.times[len(self.times) // 2]
            first = money_reads.statement(f, cus, NOW - timedelta(days=1), split, BOSS)
            second = money_reads.statement(f, cus, split, end, BOSS)
            assert first["opening"] == 0 and second["opening"] == first["closing"]
            assert second["opening"] + second["debits"] - second["credits"] == second["closing"] == self.expected[cus]
            row = aged.get(cus)
            got = row["balance"] if row else ZERO
            assert got == self.expected[cus]
            if row:
                assert sum((row[b] for b in BUCKETS), ZERO) + row["credit"] == row["balance"]
        assert {a["id"]: a["balance"] for a in money.accounts(f, BOSS)} == self.cash
        with self.app.engine.connect() as conn:
            assert m_money(conn) == []


def test_random_money_sequences_tie_out(pg_url):
    chosen = settings(max_examples=200 if THOROUGH else 25, stateful_step_count=40 if THOROUGH else 15,
                      deadline=None, suppress_health_check=[HealthCheck.too_slow])
    run_state_machine_as_test(lambda: MoneyMachine(pg_url), settings=chosen)

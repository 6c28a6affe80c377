"""单据状态机 — random document lifecycles on a real database, checked against a model.

Drafts are created, edited, cancelled, submitted, approved or rejected (by a
manager), reversed, and transfers received. The model keeps, per document, its
state and what it moves once posted. After every step: each document's state is
the model's; stock per warehouse equals what the posted (and not reversed)
documents move; drafts and pending documents move nothing; and
`violations() == []` (I1 I2 I3 I5 I6 I8 I9).
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from jxc.bootstrap import build
from jxc.config import Settings
from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import documents as docs
from jxc.services import masterdata, transfers
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import Actor
from tests.conftest import NOW, _truncate, make_world

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
KEEPER = Actor("zhang", BUILTIN_ROLES["keeper"][2], role="keeper")
MANAGER = Actor("wang", BUILTIN_ROLES["manager"][2], role="manager", reauthenticated=True)
OWNER = Actor("li", frozenset({"*"}), role="owner", reauthenticated=True)
qtys = st.integers(min_value=1, max_value=12).map(Decimal)
KINDS = st.sampled_from([K.PURCHASE_RECEIPT, K.PURCHASE_RECEIPT, K.SALES_DELIVERY, K.SCRAP, K.TRANSFER])


class DocumentMachine(RuleBasedStateMachine):
    pg_url: str | None = None

    def __init__(self) -> None:
        super().__init__()
        if self.pg_url:
            self.app = build(Settings(database_url=self.pg_url))
            _truncate(self.app)
        else:
            self.app = build(Settings(database_url="sqlite://"))
            self.app.create_all()
        self.w = make_world(self.app)
        self.wh2 = masterdata.create(self.app.uow_factory, "warehouses", {"code": "W2", "name": "二店"}, OWNER, NOW)
        self.state: dict[int, str] = {}
        self.moves: dict[int, dict[int, Decimal]] = {}  # doc -> {warehouse: signed qty of rice} once posted
        self.transfer_left: dict[int, Decimal] = {}
        self.receipts: dict[int, tuple[int, Decimal]] = {}  # receipt doc -> (transfer, qty taken out of transit)

    def teardown(self) -> None:
        self.app.dispose()

    def _input(self, kind: K, qty: Decimal) -> DraftInput:
        reason = "damaged" if kind is K.SCRAP else None
        return DraftInput(kind, self.w.wh, (LineInput(self.w.rice, qty),), reason_code=reason,
                          to_warehouse_id=self.wh2 if kind is K.TRANSFER else None)

    def _effect(self, kind: K, qty: Decimal) -> dict[int, Decimal]:
        sign = 1 if kind is K.PURCHASE_RECEIPT else -1
        return {self.w.wh: sign * qty}

    def _on_hand(self, wh: int) -> Decimal:
        return sum((a.qty for a in self.app.queries.balances(product_id=self.w.rice, warehouse_id=wh).values()),
                   Decimal(0))

    def _expected(self, wh: int) -> Decimal:
        return sum((m.get(wh, Decimal(0)) for d, m in self.moves.items()
                    if self.state[d] == "posted"), Decimal(0))

    @rule(kind=KINDS, qty=qtys)
    def create(self, kind: K, qty: Decimal) -> None:
        doc = docs.create_draft(self.app.uow_factory, self._input(kind, qty), KEEPER, NOW)
        self.state[doc] = "draft"
        self.moves[doc] = self._effect(kind, qty)

    @precondition(lambda self: "draft" in self.state.values())
    @rule(data=st.data(), qty=qtys)
    def edit(self, data: st.DataObject, qty: Decimal) -> None:
        doc = data.draw(st.sampled_from(sorted(d for d, s in self.state.items() if s == "draft")))
        got = docs.get(self.app.uow_factory, doc)
        kind = K(got["kind"])
        docs.update_draft(self.app.uow_factory, doc, self._input(kind, qty), got["version"], KEEPER, NOW)
        self.moves[doc] = self._effect(kind, qty)

    @precondition(lambda self: "draft" in self.state.values())
    @rule(data=st.data(), cancel=st.booleans())
    def submit_or_cancel(self, data: st.DataObject, cancel: bool) -> None:
        doc = data.draw(st.sampled_from(sorted(d for d, s in self.state.items() if s == "draft")))
        if cancel:
            docs.cancel_draft(self.app.uow_factory, doc, KEEPER, NOW)
            self.state[doc] = "cancelled"
            return
        effect = self.moves[doc][self.w.wh]
        would_go_negative = effect < 0 and self._on_hand(self.w.wh) + effect < 0  # only taking stock out counts
        kind = docs.get(self.app.uow_factory, doc)["kind"]
        state = docs.submit(self.app.uow_factory, doc, KEEPER, NOW).value
        needs = would_go_negative or kind == K.SCRAP
        assert state == ("pending_approval" if needs else "posted")
        self.state[doc] = state
        if state == "posted" and kind == K.TRANSFER:
            self.transfer_left[doc] = -self.moves[doc][self.w.wh]

    @precondition(lambda self: "pending_approval" in self.state.values())
    @rule(data=st.data(), approve=st.booleans())
    def decide(self, data: st.DataObject, approve: bool) -> None:
        doc = data.draw(st.sampled_from(sorted(d for d, s in self.state.items() if s == "pending_approval")))
        plan = docs.get(self.app.uow_factory, doc)["approval_plan"]
        approver = OWNER if plan[0]["role"] == "owner" else MANAGER
        if approve:
            self.state[doc] = docs.approve(self.app.uow_factory, doc, approver, NOW).value
            if docs.get(self.app.uow_factory, doc)["kind"] == K.TRANSFER:
                self.transfer_left[doc] = -self.moves[doc][self.w.wh]
        else:
            docs.reject(self.app.uow_factory, doc, approver, NOW, comment="重填")
            self.state[doc] = "draft"

    @precondition(lambda self: "posted" in self.state.values())
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        doc = data.draw(st.sampled_from(sorted(d for d, s in self.state.items() if s == "posted")))
        try:
            docs.reverse(self.app.uow_factory, doc, OWNER, NOW, reason="录错")
        except DomainError as exc:  # reversing a receipt whose stock has gone, or a received transfer
            assert exc.code in ("STOCK_INSUFFICIENT", "TRANSFER_RECEIVED"), exc.code
            return
        self.state[doc] = "reversed"
        self.transfer_left.pop(doc, None)
        if doc in self.receipts:  # a reversed receipt puts its goods back in transit
            transfer, took = self.receipts.pop(doc)
            self.transfer_left[transfer] += took

    @precondition(lambda self: any(q > 0 for q in self.transfer_left.values()))
    @rule(data=st.data(), final=st.booleans())
    def receive_transfer(self, data: st.DataObject, final: bool) -> None:
        doc = data.draw(st.sampled_from(sorted(d for d, q in self.transfer_left.items() if q > 0)))
        left = self.transfer_left[doc]
        take = data.draw(st.integers(min_value=1, max_value=int(left)).map(Decimal))
        rid = transfers.confirm_receipt(self.app.uow_factory, doc, {1: take}, KEEPER, NOW, final=final)
        self.transfer_left[doc] = Decimal(0) if final else left - take
        self.receipts[rid] = (doc, left if final else take)
        self.moves[rid] = {self.wh2: take}
        self.state[rid] = "posted"

    @invariant()
    def states_stock_and_books_agree(self) -> None:
        for doc, state in self.state.items():
            assert docs.get(self.app.uow_factory, doc)["state"] == state
        assert self._on_hand(self.w.wh) == self._expected(self.w.wh)
        assert self._on_hand(self.wh2) == self._expected(self.wh2)
        assert self.app.queries.violations() == []


def test_document_lifecycles_keep_books_true(pg_url):
    DocumentMachine.pg_url = pg_url
    run_state_machine_as_test(DocumentMachine, settings=settings(
        max_examples=200 if THOROUGH else (8 if pg_url else 15), stateful_step_count=30 if THOROUGH else 15,
        deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))


pytestmark = pytest.mark.slow

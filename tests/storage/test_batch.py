"""批量事务 — App.batch(): many service calls in one transaction, each call a savepoint."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from jxc.domain.errors import DomainError
from jxc.domain.ledger import Movement
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW, make_world


def _receipt(w, qty: str, key: str) -> PostingRequest:
    return PostingRequest("purchase_receipt", (Movement(w.rice, D(qty), w.supplier, w.shelf_a, unit_cost=D(2)),),
                          NOW, idempotency_key=key)


def _issue(w, qty: str) -> PostingRequest:
    return PostingRequest("sales_delivery", (Movement(w.rice, D(qty), w.shelf_a, w.customer),), NOW)


def _on_hand(app, w) -> D:
    return sum((a.qty for a in app.queries.balances(w.rice, w.wh).values()), D(0))


def test_a_refused_call_inside_a_batch_leaves_nothing_and_the_others_commit(app):
    w = make_world(app)
    with app.batch() as f:
        post(f, _receipt(w, "10", "b-1"), SYSTEM, NOW)
        with pytest.raises(DomainError) as exc:
            post(f, _issue(w, "25"), SYSTEM, NOW)  # more than on hand: refused, its savepoint rolled back
        assert exc.value.code == "STOCK_INSUFFICIENT"
        post(f, _issue(w, "4"), SYSTEM, NOW)
    assert _on_hand(app, w) == D(6)
    assert app.queries.violations() == []  # no half-written posting, audit chain intact


def test_an_exception_out_of_the_batch_rolls_every_call_back(app):
    w = make_world(app)
    with pytest.raises(RuntimeError), app.batch() as f:
        post(f, _receipt(w, "10", "b-2"), SYSTEM, NOW)
        raise RuntimeError("the builder stopped half-way")
    assert _on_hand(app, w) == D(0)
    post(app.uow_factory, _receipt(w, "10", "b-2"), SYSTEM, NOW)  # the key is free again: nothing was kept
    assert _on_hand(app, w) == D(10)
    assert app.queries.violations() == []

"""单据领域 — every legal and illegal transition, approval rules with reasons, permission codes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D
from itertools import product

import pytest

from jxc.domain.approvals import DEFAULT_RULES, Facts, Rule, required_levels
from jxc.domain.documents import (
    FLOWS,
    KINDS,
    TRANSITIONS,
    Action,
    DocumentKind,
    DocumentState,
    Line,
    LineRole,
    Places,
    movements_for,
    number,
    transition,
)
from jxc.domain.errors import DomainError
from jxc.domain.ledger import build_entries, imbalances
from jxc.domain.permissions import BUILTIN_ROLES, PERMISSIONS, doc_permission, holds, known

LEGAL = {
    ("draft", "edit"): "draft", ("draft", "submit"): "pending_approval", ("draft", "post"): "posted",
    ("draft", "cancel"): "cancelled", ("pending_approval", "approve"): "pending_approval",
    ("pending_approval", "post"): "posted", ("pending_approval", "reject"): "draft",
    ("posted", "reverse"): "reversed",
}


@pytest.mark.parametrize(("state", "action"), list(product(DocumentState, Action)))
def test_every_state_action_pair_is_legal_exactly_as_listed(state, action):
    expected = LEGAL.get((state.value, action.value))
    if expected is None:
        with pytest.raises(DomainError) as err:
            transition(state, action)
        assert err.value.code == "INVALID_TRANSITION" and err.value.details == {
            "state": state.value, "action": action.value}
        assert err.value.message_zh and err.value.message_en
    else:
        assert transition(state, action).value == expected


def test_terminal_states_allow_nothing():
    for state in (DocumentState.REVERSED, DocumentState.CANCELLED):
        assert not [a for (s, a) in TRANSITIONS if s is state]


def test_every_kind_has_a_flow_a_prefix_and_balanced_movements():
    places = Places(1, 2, 3, 4, 5, 6, 7)
    prefixes = [k.prefix for k in KINDS.values()]
    assert len(set(prefixes)) == len(prefixes) == len(DocumentKind)
    for kind in DocumentKind:
        role = {DocumentKind.COUNT_ADJUSTMENT: LineRole.GAIN, DocumentKind.ASSEMBLY: LineRole.COMPONENT,
                DocumentKind.DISASSEMBLY: LineRole.OUTPUT}.get(kind, LineRole.NONE)
        to_status = "frozen" if kind is DocumentKind.STATUS_CHANGE else None
        line = Line(10, D("2.5"), 100, role=role, to_status=to_status, to_location_id=100)
        moves = movements_for(kind, (line,), places)
        assert kind in FLOWS and len(moves) == 1
        assert imbalances(build_entries(moves, datetime(2026, 1, 1), {}, _locs())) == {}


def _locs():
    from jxc.domain.catalog import LocationInfo, LocationKind

    return {i: LocationInfo(i, str(i), LocationKind.PHYSICAL if i == 100 else LocationKind.SUPPLIER, 1, True)
            for i in (1, 2, 3, 4, 5, 6, 7, 100)}


def test_receipt_goes_from_supplier_and_delivery_to_customer():
    places = Places(1, 2, 3, 4, 5, 6, 7)
    (r,) = movements_for(DocumentKind.PURCHASE_RECEIPT, (Line(9, D(3), 100, unit_price=D(2)),), places)
    (s,) = movements_for(DocumentKind.SALES_DELIVERY, (Line(9, D(3), 100),), places)
    assert (r.from_location_id, r.to_location_id, r.unit_cost) == (1, 100, D(2))
    assert (s.from_location_id, s.to_location_id) == (100, 2)


def test_number_format():
    from datetime import date

    assert number("CGRK", date(2026, 1, 22), 1) == "CGRK-20260122-0001"


def test_default_rules_scrap_and_count_need_manager_negative_needs_owner_with_reasons():
    assert required_levels(DEFAULT_RULES, Facts(DocumentKind.SALES_DELIVERY)) == ()
    (lvl,) = required_levels(DEFAULT_RULES, Facts(DocumentKind.COUNT_ADJUSTMENT))
    assert lvl.role == "manager" and "盘盈盘亏" in lvl.reasons[0]
    (neg,) = required_levels(DEFAULT_RULES, Facts(DocumentKind.SALES_DELIVERY, would_go_negative=True))
    assert neg.role == "owner" and "负" in neg.reasons[0]


def test_conditions_all_must_hold_and_levels_merge_by_rank():
    rules = (Rule("大额采购", ("manager", "owner"), kind=DocumentKind.PURCHASE_RECEIPT, min_amount=D(10000)),
             Rule("补录", ("manager",), backdated_hours=D(24)))
    small = Facts(DocumentKind.PURCHASE_RECEIPT, amount=D(9999))
    assert required_levels(rules, small) == ()
    big_late = Facts(DocumentKind.PURCHASE_RECEIPT, amount=D(10000), backdated_hours=D(30))
    levels = required_levels(rules, big_late)
    assert [lv.role for lv in levels] == ["manager", "owner"]
    assert len(levels[0].reasons) == 2 and "金额" in levels[0].reasons[0]
    with pytest.raises(ValueError):
        Rule("four", ("a", "b", "c", "d"))


def test_permission_codes_and_builtin_roles():
    assert holds(frozenset({"*"}), "anything")
    assert holds(frozenset({"document.post"}), doc_permission("post", DocumentKind.SCRAP))
    assert not holds(frozenset({"document.post.scrap"}), doc_permission("post", DocumentKind.TRANSFER))
    assert known("document.approve.count_adjustment") and not known("document.fly.scrap")
    for _zh, _en, perms in BUILTIN_ROLES.values():
        assert all(known(p) for p in perms)
    assert set(PERMISSIONS) >= {"stock.allow_negative", "price.edit", "document.backdate", "sales.negative_qty"}

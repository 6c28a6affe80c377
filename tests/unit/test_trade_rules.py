"""超收审批规则 — pure: an over-receipt asks a manager, only on purchase receipts, and says why."""

from __future__ import annotations

from jxc.domain.approvals import DEFAULT_RULES, Facts, required_levels
from jxc.domain.documents import DocumentKind


def test_over_receipt_needs_a_manager_and_names_the_rule():
    (level,) = required_levels(DEFAULT_RULES, Facts(DocumentKind.PURCHASE_RECEIPT, over_receipt=True))
    assert level.role == "manager" and level.reasons[0].startswith("超收需主管审批")


def test_a_receipt_within_tolerance_or_another_kind_needs_nobody():
    assert required_levels(DEFAULT_RULES, Facts(DocumentKind.PURCHASE_RECEIPT)) == ()
    assert required_levels(DEFAULT_RULES, Facts(DocumentKind.SALES_RETURN, over_receipt=True)) == ()

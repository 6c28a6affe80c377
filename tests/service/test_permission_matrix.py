"""权限矩阵 — each built-in role × each document kind × create / approve, allowed or refused (403)."""

from __future__ import annotations

import pytest

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import documents as docs
from jxc.services import masterdata
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW

ALL = set(K)
STOCK = {K.TRANSFER, K.TRANSFER_RECEIPT, K.STATUS_CHANGE, K.PURCHASE_RECEIPT, K.SALES_DELIVERY, K.SCRAP,
         K.COUNT_ADJUSTMENT, K.PRODUCTION_ISSUE, K.PRODUCTION_RECEIPT, K.ASSEMBLY, K.DISASSEMBLY}
# The specification: which kinds each role may create (开单). Written out, not derived.
MAY_CREATE = {
    "owner": ALL,
    "manager": ALL,
    "purchaser": {K.PURCHASE_RECEIPT, K.PURCHASE_RETURN},
    "keeper": STOCK,
    "sales": {K.SALES_DELIVERY, K.SALES_RETURN},
    "finance": set(),
    "auditor": set(),
}
MAY_APPROVE = {"owner", "manager"}


def _input(kind: K, w, wh2: int) -> DraftInput:
    role = {K.COUNT_ADJUSTMENT: "gain", K.ASSEMBLY: "output", K.DISASSEMBLY: "output"}.get(kind, "")
    to_status = "frozen" if kind is K.STATUS_CHANGE else None
    reason = "other" if kind in (K.SCRAP, K.COUNT_ADJUSTMENT, K.SALES_RETURN, K.PURCHASE_RETURN) else None
    return DraftInput(kind, w.wh, (LineInput(w.rice, "1", role=role, to_status=to_status),),
                      to_warehouse_id=wh2 if kind is K.TRANSFER else None, reason_code=reason)


@pytest.mark.parametrize("role", list(BUILTIN_ROLES))
def test_role_may_create_exactly_its_kinds(app, world, role):
    wh2 = masterdata.create(app.uow_factory, "warehouses", {"code": "W2", "name": "二仓"}, SYSTEM, NOW)
    who = Actor(f"u-{role}", BUILTIN_ROLES[role][2], role=role, reauthenticated=True)
    allowed = set()
    for kind in K:
        try:
            docs.create_draft(app.uow_factory, _input(kind, world, wh2), who, NOW)
            allowed.add(kind)
        except DomainError as exc:
            assert exc.code == "PERMISSION_DENIED" and exc.status == 403, (kind, exc.code, exc.message_en)
    assert allowed == MAY_CREATE[role]


@pytest.mark.parametrize("role", list(BUILTIN_ROLES))
def test_only_owner_and_manager_approve(app, world, role):
    keeper = Actor("k", BUILTIN_ROLES["keeper"][2], role="keeper")
    doc = docs.create_draft(app.uow_factory, DraftInput(K.COUNT_ADJUSTMENT, world.wh, (
        LineInput(world.rice, "2", role="gain", unit_price="1"),), reason_code="difference"), keeper, NOW)
    docs.submit(app.uow_factory, doc, keeper, NOW)
    who = Actor(f"u-{role}", BUILTIN_ROLES[role][2], role=role, reauthenticated=True)
    if role in MAY_APPROVE:
        assert docs.approve(app.uow_factory, doc, who, NOW).value == "posted"
    else:
        with pytest.raises(DomainError) as err:
            docs.approve(app.uow_factory, doc, who, NOW)
        assert err.value.status == 403

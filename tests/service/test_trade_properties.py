"""Properties (hypothesis): returns never exceed what a delivery moved, also when rejected returns are
edited; the price tier that applies is the
first applicable one in the documented precedence."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc.domain.approvals import Rule
from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.services import admin, masterdata, pricing, trade
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW
from tests.service.test_trade_flows import BOSS

SEQ = itertools.count()
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(asks=st.lists(st.decimals(min_value=D("0.001"), max_value=D(12), places=3), min_size=1, max_size=6))
def test_accepted_returns_never_exceed_the_delivered_quantity(app, world, asks):
    f = app.uow_factory
    rec = docs.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "10", unit_price="1"),)),
                            BOSS, NOW)
    docs.submit(f, rec, BOSS, NOW)
    sale = trade.quick_sale(f, trade.QuickSaleInput(world.wh, (trade.OrderLineInput(world.rice, "10", unit_price="2"),)),
                            BOSS, NOW)
    returned = D(0)
    for qty in asks:
        fits = returned + qty <= 10
        try:
            trade.return_goods(f, sale["id"], {1: str(qty)}, BOSS, NOW, reason_text="p")
            accepted = True
        except DomainError as exc:
            assert exc.code == "RETURN_EXCEEDS_MOVED"
            accepted = False
        assert accepted == fits, (returned, qty)
        returned += qty if accepted else 0
    assert returned <= 10


ORDER = ("customer", "channel", "member", "default")


@FAST
@given(present=st.sets(st.sampled_from(ORDER)), member=st.booleans(), same_channel=st.booleans())
def test_the_first_applicable_tier_wins(app, world, present, member, same_channel):
    f = app.uow_factory
    n = next(SEQ)
    cus = masterdata.create(f, "partners", {"code": f"PC{n}", "name": "客户", "role": "customer"}, SYSTEM, NOW)
    pid = masterdata.create(f, "products", {"code": f"PP{n}", "name": "商品", "base_unit": "个"}, SYSTEM, NOW)
    for i, tier in enumerate(ORDER):
        if tier in present:
            pricing.set_price(f, pid, tier, str(i + 1), BOSS, NOW, partner_id=cus if tier == "customer" else None,
                              channel="wechat" if tier == "channel" else None)
    q = pricing.PriceQuery(pid, partner_id=cus, channel="wechat" if same_channel else "meituan", member=member)
    applicable = [t for t in ORDER if t in present and (t != "member" or member) and (t != "channel" or same_channel)]
    try:
        got = pricing.resolve(f, q, NOW)["source"]["tier"]
    except DomainError as exc:
        assert exc.code == "NOT_FOUND" and not applicable
        return
    assert got == applicable[0]


BOSS2 = Actor("boss2", frozenset({"*"}), role="owner", reauthenticated=True)
OPS = st.lists(st.tuples(st.sampled_from(("new", "edit", "approve")), st.integers(0, 5),
                         st.decimals(min_value=D("0.001"), max_value=D(7), places=3)), min_size=1, max_size=8)


@FAST
@given(ops=OPS)
def test_returns_rejected_and_edited_never_exceed_the_delivered_quantity(app, world, ops):
    """Returns wait for approval; an approver rejects one, the clerk edits its quantity (as the document form
    does: no original line given) — at every step the live returns (draft, pending, posted) sum to ≤ 10 and
    each request is accepted exactly when it fits."""
    f = app.uow_factory
    with f() as uow:
        ruled = any(r.name == "退货审批" for r in uow.documents.rules())  # examples share the book
    if not ruled:
        admin.add_rule(f, Rule("退货审批", ("owner",), kind=K.SALES_RETURN), BOSS2, NOW)
    rec = docs.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "10", unit_price="1"),)),
                            BOSS, NOW)
    docs.submit(f, rec, BOSS, NOW)
    sale = trade.quick_sale(f, trade.QuickSaleInput(world.wh, (trade.OrderLineInput(world.rice, "10", unit_price="2"),)),
                            BOSS, NOW)
    live: dict[int, D] = {}  # return id → qty, the model
    posted: set[int] = set()
    for op, k, qty in ops:
        open_ = [r for r in live if r not in posted]
        if op == "new" or not open_:
            fits = sum(live.values()) + qty <= 10
            try:
                live[trade.return_goods(f, sale["id"], {1: str(qty)}, BOSS, NOW, reason_text="p")] = qty
                assert fits, (live, qty)
            except DomainError as exc:
                assert exc.code == "RETURN_EXCEEDS_MOVED" and not fits
        elif op == "edit":
            rid = open_[k % len(open_)]
            doc = docs.get(f, rid)
            if doc["state"] == "pending_approval":
                docs.reject(f, rid, BOSS2, NOW, comment="改数量")
                doc = docs.get(f, rid)
            fits = sum(live.values()) - live[rid] + qty <= 10
            try:
                docs.update_draft(f, rid, DraftInput(K.SALES_RETURN, world.wh, (LineInput(world.rice, str(qty)),),
                                                     reason_text="p"), doc["version"], BOSS, NOW)
                live[rid] = qty
                assert fits
            except DomainError as exc:
                assert exc.code == "RETURN_EXCEEDS_MOVED" and not fits
            docs.submit(f, rid, BOSS, NOW)
        else:
            rid = open_[k % len(open_)]
            docs.approve(f, rid, BOSS2, NOW)
            posted.add(rid)
        assert sum(live.values()) <= 10
    with f() as uow:
        assert uow.purchasing.returned(sale["id"]).get(1, D(0)) == sum(live.values())

"""Properties (hypothesis): returns never exceed what a delivery moved; the price tier that applies is the
first applicable one in the documented precedence."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.services import documents as docs
from jxc.services import masterdata, pricing, trade
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM
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

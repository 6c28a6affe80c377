"""Racing returns: eight clerks returning the same delivered goods at once return them once (I4-like guard on
what a document moved), on a SQLite file in WAL mode and on PostgreSQL (FOR UPDATE on the original)."""

from __future__ import annotations

from decimal import Decimal as D

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.services import documents as docs
from jxc.services import masterdata, trade
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW, make_world
from tests.storage.test_concurrency import race

BOSS = Actor("boss", frozenset({"*"}), role="owner")


def test_eight_clerks_returning_six_of_ten_delivered_return_once(file_app):
    w = make_world(file_app)
    f = file_app.uow_factory
    cus = masterdata.create(f, "partners", {"code": "C1", "name": "客户", "role": "customer"}, SYSTEM, NOW)
    rec = docs.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, w.wh, (LineInput(w.rice, "10", unit_price="2"),)),
                            BOSS, NOW)
    docs.submit(f, rec, BOSS, NOW)
    sale = trade.quick_sale(f, trade.QuickSaleInput(w.wh, (trade.OrderLineInput(w.rice, "10", unit_price="3"),),
                                                    partner_id=cus), BOSS, NOW)

    def work(n: int) -> list[str]:
        try:
            trade.return_goods(f, sale["id"], {1: "6"}, BOSS, NOW, reason_text=f"clerk {n}")
            return ["ok"]
        except DomainError as exc:
            return [exc.code]

    outcomes = race(work)
    assert outcomes == {"ok": 1, "RETURN_EXCEEDS_MOVED": 7}, outcomes
    held = sum(a.qty for a in file_app.queries.balances(product_id=w.rice, warehouse_id=w.wh).values())
    assert held == D(6) and file_app.queries.violations() == []


def test_eight_tills_retrying_one_sale_under_one_key_sell_once_and_all_get_that_sale(file_app):
    """I7 under concurrency: on PostgreSQL the racers block on the key's unique index and then return the
    first sale; on SQLite the write lock serialises them and they find it."""
    w = make_world(file_app)
    f = file_app.uow_factory
    rec = docs.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, w.wh, (LineInput(w.rice, "10", unit_price="2"),)),
                            BOSS, NOW)
    docs.submit(f, rec, BOSS, NOW)
    ids: set[int] = set()
    inp = trade.QuickSaleInput(w.wh, (trade.OrderLineInput(w.rice, "3", unit_price="3"),), idempotency_key="till-7")

    def work(n: int) -> list[str]:
        out = trade.quick_sale(f, inp, BOSS, NOW)
        ids.add(out["id"])
        return ["replayed" if out.get("replayed") else "sold"]

    outcomes = race(work)
    assert outcomes == {"sold": 1, "replayed": 7}, outcomes
    assert len(ids) == 1 and docs.get(f, ids.pop())["state"] == "posted"
    held = sum(a.qty for a in file_app.queries.balances(product_id=w.rice, warehouse_id=w.wh).values())
    assert held == D(7) and file_app.queries.violations() == []

"""HTTP /api/v1/money — accounts, receipts with allocation, statements, ageing; refusals 401/403/404/409/422."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from jxc.services import masterdata
from jxc.services.posting import SYSTEM
from tests.conftest import NOW

ENVELOPE = {"type", "title", "status", "code", "field", "message_zh", "message_en"}


@pytest.fixture
def books(api, shop, owner):
    c = api.client
    cus = masterdata.create(api.app.uow_factory, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer",
                                                              "payment_terms_days": 10, "credit_limit": "1000"},
                            SYSTEM, NOW)
    sup = masterdata.create(api.app.uow_factory, "partners", {"code": "S1", "name": "粮油", "role": "supplier"},
                            SYSTEM, NOW)
    acc = c.post("/api/v1/money/accounts", json={"code": "WX", "name": "微信", "kind": "wechat"}, headers=owner)
    assert acc.status_code == 201 and acc.json()["balance"] == "0"
    for kind, partner, qty, price in (("purchase_receipt", sup, "100", "3"), ("sales_delivery", cus, "10", "50"),
                                      ("sales_delivery", cus, "4", "25")):
        d = c.post("/api/v1/documents", json={"kind": kind, "warehouse_id": shop.wh, "partner_id": partner,
                                              "effective_at": "2026-10-20T10:00:00+08:00",
                                              "lines": [{"product_id": shop.rice, "qty": qty, "unit_price": price}]},
                   headers=owner).json()
        assert c.post(f"/api/v1/documents/{d['id']}/submit", headers=owner).json()["state"] == "posted"
    return {"cus": cus, "sup": sup, "acc": acc.json()["id"]}


def test_receipt_allocates_oldest_first_and_statement_and_ageing_tie_out(api, owner, books):
    c = api.client
    r = c.post("/api/v1/money/payments", json={"kind": "receipt", "partner_id": books["cus"], "account_id": books["acc"],
                                               "amount": "520", "effective_at": "2026-10-25T10:00:00+08:00"},
               headers=owner)
    assert r.status_code == 201, r.text
    assert r.json()["unallocated"] == "0.0000" and r.json()["number"].startswith("SK-")
    st = c.get(f"/api/v1/money/statements/{books['cus']}", params={"from": "2026-10-01", "to": "2026-10-31"},
               headers=owner).json()
    assert (st["opening"], st["debits"], st["credits"], st["closing"]) == ("0", "600.0000", "520.0000", "80.0000")
    assert [m["reference"][:2] for m in st["movements"]] == ["XS", "XS", "SK"]
    aged = c.get("/api/v1/money/ageing", params={"as_of": "2026-11-15"}, headers=owner).json()
    assert aged["totals"]["d1_30"] == "80.0000" and aged["totals"]["balance"] == "80.0000"  # due 10-30
    bal = c.get("/api/v1/money/balances", params={"side": "payable"}, headers=owner).json()["items"]
    assert [(b["partner_id"], b["balance"]) for b in bal] == [(books["sup"], "300.0000")]
    accounts = c.get("/api/v1/money/accounts", headers=owner).json()["items"]
    assert accounts[0]["balance"] == "520.0000"


def test_over_allocation_is_409_and_reversal_unallocates(api, owner, books):
    c = api.client
    items = c.get("/api/v1/money/items", params={"partner_id": books["cus"]}, headers=owner).json()["items"]
    first = items[0]
    body = {"kind": "receipt", "partner_id": books["cus"], "account_id": books["acc"], "amount": "100",
            "allocate": "explicit", "allocations": [{"item_id": first["id"], "amount": "600"}]}
    r = c.post("/api/v1/money/payments", json=body, headers=owner)
    assert r.status_code == 409 and r.json()["code"] == "OVER_ALLOCATION" and ENVELOPE <= r.json().keys()
    body["allocate"] = "none"
    pay = c.post("/api/v1/money/payments", json=body, headers=owner).json()
    assert pay["unallocated"] == "100.0000"
    r = c.post(f"/api/v1/money/payments/{pay['id']}/allocate",
               json={"allocations": [{"item_id": first["id"], "amount": "60"}]}, headers=owner)
    assert r.json()["unallocated"] == "40.0000"
    r = c.post(f"/api/v1/money/payments/{pay['id']}/reverse", json={"reason": "重复收款"}, headers=owner)
    got = r.json()
    assert got["state"] == "reversed"  # its only allocation left is against its own reversal item
    assert [(a["debit_item_id"], a["amount"]) for a in got["allocations"]] == [(got["reversal_item_id"], "100.0000")]
    open_now = c.get("/api/v1/money/items", params={"partner_id": books["cus"]}, headers=owner).json()["items"]
    assert D(next(i for i in open_now if i["id"] == first["id"])["open"]) == D(500)
    again = c.post(f"/api/v1/money/payments/{pay['id']}/reverse", json={"reason": "x"}, headers=owner)
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_REVERSED"


def test_idempotency_key_records_one_receipt(api, owner, books):
    c = api.client
    body = {"kind": "receipt", "partner_id": books["cus"], "account_id": books["acc"], "amount": "10"}
    a = c.post("/api/v1/money/payments", json=body, headers={**owner, "Idempotency-Key": "k1"})
    b = c.post("/api/v1/money/payments", json=body, headers={**owner, "Idempotency-Key": "k1"})
    assert a.status_code == b.status_code == 201 and a.json()["id"] == b.json()["id"]
    assert len(c.get("/api/v1/money/payments", headers=owner).json()["items"]) == 1


def test_refusals_401_403_404_422(api, owner, books):
    c = api.client
    assert c.get("/api/v1/money/ageing").status_code == 401
    clerk = api.token(api.user("xiaoliu", "sales"))
    r = c.post("/api/v1/money/payments", json={"kind": "receipt", "partner_id": books["cus"],
                                               "account_id": books["acc"], "amount": "1"}, headers=clerk)
    assert r.status_code == 403 and r.json()["code"] == "PERMISSION_DENIED"
    assert c.get(f"/api/v1/money/statements/{books['cus']}", params={"from": "2026-10-01", "to": "2026-10-31"},
                 headers=clerk).status_code == 403
    finance = api.token(api.user("xiaoqian", "finance"))
    assert c.get("/api/v1/money/ageing", headers=finance).status_code == 200
    r = c.get("/api/v1/money/statements/99999", params={"from": "2026-10-01", "to": "2026-10-31"}, headers=owner)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    assert c.get("/api/v1/money/payments/99999", headers=owner).status_code == 404
    r = c.post("/api/v1/money/payments", json={"kind": "receipt", "partner_id": books["cus"],
                                               "account_id": 99999, "amount": "-5"}, headers=owner)
    assert r.status_code == 422 and {p["field"] for p in r.json()["details"]["problems"]} == {"amount", "account_id"}
    r = c.get(f"/api/v1/money/statements/{books['cus']}", params={"from": "2026-10-31", "to": "2026-10-01"},
              headers=owner)
    assert r.status_code == 400 and r.json()["code"] == "VALUE_INVALID"
    r = c.post("/api/v1/money/accounts", json={"code": "X", "name": "x", "kind": "gold"}, headers=owner)
    assert r.status_code == 422
    r = c.get("/api/v1/money/ageing", params={"as_of": "9999-12-31"}, headers=owner)
    assert r.status_code == 400 and r.json()["field"] == "date"


def test_trading_profit_is_billed_sales_less_billed_purchases(api, owner, books):
    r = api.client.get("/api/v1/money/trading-profit", params={"from": "2026-10-01", "to": "2026-10-31"},
                       headers=owner).json()
    assert (r["sales"], r["purchases"], r["profit"]) == ("600.0000", "300.0000", "300.0000")


def test_credit_override_needs_the_permission_and_a_real_order(api, owner, books):
    c = api.client
    clerk = api.token(api.user("xiaoliu", "sales"))
    r = c.post("/api/v1/money/credit-overrides", json={"order_id": 1, "reason": "老客户"}, headers=clerk)
    assert r.status_code == 403
    r = c.post("/api/v1/money/credit-overrides", json={"order_id": 99999, "reason": "老客户"}, headers=owner)
    assert r.status_code == 404


def test_partner_terms_are_edited_like_any_partner_field(api, owner, books):
    c = api.client
    partner = c.get(f"/api/v1/partners/{books['cus']}", headers=owner).json()
    r = c.patch(f"/api/v1/partners/{books['cus']}", json={"version": partner["version"],
                                                          "changes": {"payment_terms_days": 45, "credit_limit": "800"}},
                headers=owner)
    assert r.status_code == 200 and r.json()["payment_terms_days"] == 45
    r = c.patch(f"/api/v1/partners/{books['cus']}", json={"version": r.json()["version"],
                                                          "changes": {"payment_terms_days": -1}}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "payment_terms_days"
    clerk = api.token(api.user("xiaoliu", "sales"))
    r = c.patch(f"/api/v1/partners/{books['cus']}", json={"version": 2, "changes": {"credit_limit": "99999"}},
                headers=clerk)
    assert r.status_code == 403

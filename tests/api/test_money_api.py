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


def test_openings_are_entered_in_one_batch_once_and_reversed(api, owner, books):
    """POST /openings: all or nothing; an identical re-post returns the first; the statement opens with it."""
    c = api.client
    body = {"entries": [{"partner_id": books["cus"], "amount": "1200", "on": "2026-09-30", "reference": "INV-9",
                         "due_on": "2026-10-15"},
                        {"partner_id": books["sup"], "amount": "-50", "on": "2026-09-30"}]}
    r = c.post("/api/v1/money/openings", json=body, headers=owner)
    assert r.status_code == 201, r.text
    first = r.json()["items"]
    assert [i["created"] for i in first] == [True, True]
    again = c.post("/api/v1/money/openings", json=body, headers=owner).json()["items"]
    assert again == [{**i, "created": False} for i in first]
    body["entries"][0]["amount"] = "1300"
    body["entries"][1]["on"] = "2026-13-01"
    r = c.post("/api/v1/money/openings", json=body, headers=owner)
    assert r.status_code == 422  # the bad date is refused by the schema before anything is written
    body["entries"][1]["on"] = "2026-09-30"
    r = c.post("/api/v1/money/openings", json=body, headers=owner)
    assert r.status_code == 422 and r.json()["code"] == "OPENING_EXISTS" and ENVELOPE <= r.json().keys()
    assert r.json()["field"] == "entries[0].reference"
    st = c.get(f"/api/v1/money/statements/{books['cus']}", params={"from": "2026-10-01", "to": "2026-10-31"},
               headers=owner).json()
    assert st["opening"] == "1200.0000" and st["closing"] == "1800.0000"  # + the two October deliveries
    listed = c.get("/api/v1/money/openings", params={"partner_id": books["cus"]}, headers=owner).json()["items"]
    assert [(o["reference"], o["due_on"], o["open"]) for o in listed] == [("INV-9", "2026-10-15", "1200.0000")]
    r = c.post(f"/api/v1/money/openings/{first[0]['id']}/reverse", json={"reason": "录错"}, headers=owner)
    assert r.status_code == 200 and r.json()["state"] == "reversed"
    clerk = api.token(api.user("xiaoliu", "sales"))
    assert c.post("/api/v1/money/openings", json=body, headers=clerk).status_code == 403


def test_refund_through_payments_and_transfer_with_fee(api, owner, books):
    c = api.client
    pay = {"kind": "receipt", "partner_id": books["cus"], "account_id": books["acc"], "amount": "700"}
    assert c.post("/api/v1/money/payments", json=pay, headers=owner).status_code == 201  # 100 more than owed
    refund = {"kind": "customer_refund", "partner_id": books["cus"], "account_id": books["acc"], "amount": "150"}
    r = c.post("/api/v1/money/payments", json=refund, headers=owner)
    assert r.status_code == 409 and (r.json()["code"], r.json()["field"]) == ("REFUND_EXCEEDS_CREDIT", "amount")
    assert r.json()["details"]["available"] == "100.0000" and r.json()["message_en"]
    refund["amount"] = "100"
    r = c.post("/api/v1/money/payments", json=refund, headers=owner)
    assert r.status_code == 201 and r.json()["number"].startswith("TK-") and r.json()["unallocated"] == "0.0000"
    bank = c.post("/api/v1/money/accounts", json={"code": "YH", "name": "银行", "kind": "bank"}, headers=owner).json()
    move = {"from_account_id": books["acc"], "to_account_id": bank["id"], "amount": "600", "fee": "0.6"}
    r = c.post("/api/v1/money/transfers", json=move, headers={**owner, "Idempotency-Key": "t1"})
    assert r.status_code == 201 and (r.json()["received"], r.json()["state"]) == ("599.4000", "posted")
    again = c.post("/api/v1/money/transfers", json=move, headers={**owner, "Idempotency-Key": "t1"})
    assert again.json()["id"] == r.json()["id"]
    balances = {a["code"]: D(a["balance"]) for a in c.get("/api/v1/money/accounts", headers=owner).json()["items"]}
    assert balances == {"WX": 0, "YH": D("599.4")}
    day = api.app.clock.now().astimezone(api.app.settings.zone).date().isoformat()
    flow = c.get(f"/api/v1/money/accounts/{books['acc']}/statement", params={"from": day, "to": day},
                 headers=owner).json()
    assert [m["kind"] for m in flow["movements"]] == ["receipt", "customer_refund", "transfer"]
    assert D(flow["closing"]) == 0
    bad = c.post("/api/v1/money/transfers", json={**move, "to_account_id": books["acc"]}, headers=owner)
    assert bad.status_code == 400 and bad.json()["field"] == "to_account_id"
    r = c.post(f"/api/v1/money/transfers/{again.json()['id']}/reverse", json={"reason": "调错"}, headers=owner)
    assert r.json()["state"] == "reversed"
    assert c.get("/api/v1/money/transfers", headers=owner).json()["items"][0]["state"] == "reversed"

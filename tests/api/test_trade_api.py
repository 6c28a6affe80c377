"""Orders, quick sale, returns, prices, suggestions, scorecard and reports over HTTP, with their refusals."""

from __future__ import annotations

from tests.api.test_documents_api import ENVELOPE, receipt


def partner(api, owner, code, role):
    r = api.client.post("/api/v1/partners", json={"code": code, "name": code, "role": role}, headers=owner)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def stocked(api, shop, owner, qty="20"):
    doc = api.client.post("/api/v1/documents", json=receipt(shop, qty), headers=owner).json()
    api.client.post(f"/api/v1/documents/{doc['id']}/submit", headers=owner)


def test_sales_order_lifecycle_list_and_return(api, shop, owner):
    c = api.client
    stocked(api, shop, owner)
    cus = partner(api, owner, "C1", "customer")
    assert c.put("/api/v1/prices", json={"product_id": shop.rice, "tier": "customer", "unit_price": "4.5",
                                         "partner_id": cus}, headers=owner).status_code == 200
    r = c.get("/api/v1/prices/resolve", params={"product_id": shop.rice, "partner_id": cus}, headers=owner)
    assert r.json()["unit_price"] == "4.500000" and r.json()["source"]["tier"] == "customer"
    body = {"kind": "sales", "partner_id": cus, "warehouse_id": shop.wh,
            "lines": [{"product_id": shop.rice, "qty": "8"}, {"product_id": shop.eggs, "qty": "5", "unit_price": "1"}]}
    order = c.post("/api/v1/orders", json=body, headers=owner)
    assert order.status_code == 201 and order.json()["lines"][0]["unit_price"] == "4.500000"
    oid = order.json()["id"]
    confirmed = c.post(f"/api/v1/orders/{oid}/confirm", headers=owner).json()
    assert confirmed["state"] == "confirmed" and [s["product_id"] for s in confirmed["suggestions"]] == [shop.eggs]
    again = c.post(f"/api/v1/orders/{oid}/confirm", headers=owner)
    assert again.status_code == 409 and again.json()["code"] == "INVALID_TRANSITION" and ENVELOPE <= again.json().keys()
    d = c.post(f"/api/v1/orders/{oid}/deliver", json={"quantities": {"1": "5"}}, headers=owner)
    assert d.status_code == 201 and d.json()["state"] == "posted"
    too_much = c.post(f"/api/v1/orders/{oid}/deliver", json={"quantities": {"1": "9"}}, headers=owner)
    assert too_much.status_code == 422 and too_much.json()["code"] == "QTY_EXCEEDS_OUTSTANDING"
    ret = c.post("/api/v1/returns", json={"source_document_id": d.json()["id"], "quantities": {"1": "2"}},
                 headers=owner)
    assert ret.status_code == 422 and ret.json()["code"] == "REASON_REQUIRED"
    ret = c.post("/api/v1/returns", json={"source_document_id": d.json()["id"], "quantities": {"1": "2"},
                                          "reason_text": "破损"}, headers=owner)
    assert ret.status_code == 201 and ret.json()["kind"] == "sales_return"
    over = c.post("/api/v1/returns", json={"source_document_id": d.json()["id"], "quantities": {"1": "4"},
                                           "reason_text": "破损"}, headers=owner)
    assert over.status_code == 422 and over.json()["code"] == "RETURN_EXCEEDS_MOVED"
    closed = c.post(f"/api/v1/orders/{oid}/close", json={"reason": "不要了"}, headers=owner).json()
    assert closed["state"] == "closed"
    page = c.get("/api/v1/orders", params={"kind": "sales", "limit": 1}, headers=owner).json()
    assert [o["id"] for o in page["items"]] == [oid] and page["next_cursor"] is None
    assert c.get("/api/v1/orders", params={"state": "draft"}, headers=owner).json()["items"] == []
    assert c.get("/api/v1/orders/999999", headers=owner).status_code == 404


def test_quick_sale_suggestions_convert_scorecard_and_reports(api, shop, owner):
    c = api.client
    stocked(api, shop, owner)
    sup = partner(api, owner, "S1", "supplier")
    cus = partner(api, owner, "C1", "customer")
    c.put("/api/v1/prices", json={"product_id": shop.rice, "tier": "default", "unit_price": "5"}, headers=owner)
    sale = c.post("/api/v1/quick-sales", json={"warehouse_id": shop.wh, "lines": [{"product_id": shop.rice,
                                                                                   "qty": "3"}]},
                  headers={**owner, "Idempotency-Key": "till-1"})
    assert sale.status_code == 201 and sale.json()["state"] == "posted"
    assert sale.json()["price_sources"][0]["source"]["tier"] == "default"
    retry = c.post("/api/v1/quick-sales", json={"warehouse_id": shop.wh, "lines": [{"product_id": shop.rice,
                                                                                    "qty": "3"}]},
                   headers={**owner, "Idempotency-Key": "till-1"})
    assert retry.json()["id"] == sale.json()["id"]
    short = c.post("/api/v1/quick-sales", json={"warehouse_id": shop.wh, "lines": [{"product_id": shop.rice,
                                                                                    "qty": "999"}]}, headers=owner)
    assert short.status_code == 201 and short.json()["state"] == "pending_approval"  # 负库存需老板审批, as any delivery
    assert "负库存" in short.json()["approval_plan"][0]["reasons"][0]
    assert c.put("/api/v1/supplier-terms", json={"partner_id": sup, "product_id": shop.eggs, "unit_price": "0.5",
                                                 "preferred": True}, headers=owner).status_code == 200
    so = c.post("/api/v1/orders", json={"kind": "sales", "partner_id": cus, "warehouse_id": shop.wh,
                                        "lines": [{"product_id": shop.eggs, "qty": "12", "unit_price": "1"}]},
                headers=owner).json()
    c.post(f"/api/v1/orders/{so['id']}/confirm", headers=owner)
    open_ = c.get("/api/v1/purchase-suggestions", headers=owner).json()["items"]
    assert [(s["product_id"], s["qty"], s["supplier_id"]) for s in open_] == [(shop.eggs, "12.0000", sup)]
    made = c.post("/api/v1/purchase-suggestions/convert", json={"suggestion_ids": None}, headers=owner)
    assert made.status_code == 201 and made.json()["orders"][0]["partner_id"] == sup
    po = made.json()["orders"][0]["id"]
    c.post(f"/api/v1/orders/{po}/confirm", headers=owner)
    assert c.post(f"/api/v1/orders/{po}/receive", json={}, headers=owner).json()["state"] == "posted"
    card = c.get("/api/v1/suppliers/scorecard", headers=owner).json()["items"]
    assert card[0]["fill_rate"] == "1.0000" and card[0]["return_rate_flag"] is False
    rep = c.get("/api/v1/reports/sales_summary", params={"by": "product"}, headers=owner).json()
    assert [(r["code"], r["qty"], r["amount"]) for r in rep["items"]] == [("P002", "3.0000", "15.0000")]
    gp = c.get("/api/v1/reports/gross_profit", params={"by": "document", "limit": 1}, headers=owner).json()
    assert gp["items"][0]["cogs"] == "9.0000" and gp["next_cursor"] is None
    bad = c.get("/api/v1/reports/gross_profit", params={"by": "colour"}, headers=owner)
    assert bad.status_code == 400 and bad.json()["code"] == "VALUE_INVALID"
    assert c.get("/api/v1/reports/nope", headers=owner).status_code == 422


def test_refusals_401_403_404(api, shop, owner):
    c = api.client
    assert c.get("/api/v1/orders").status_code == 401
    assert c.get("/api/v1/reports/sales_summary").json()["code"] == "AUTH_REQUIRED"
    clerk = api.token(api.user("xiaowang", "sales"))
    r = c.get("/api/v1/reports/sales_summary", headers=clerk)
    assert r.status_code == 403 and r.json()["code"] == "PERMISSION_DENIED"
    r = c.put("/api/v1/prices", json={"product_id": shop.rice, "tier": "default", "unit_price": "5"}, headers=clerk)
    assert r.status_code == 403
    other = c.post("/api/v1/warehouses", json={"code": "WH2", "name": "分仓"}, headers=owner).json()
    cus = partner(api, owner, "C1", "customer")
    oid = c.post("/api/v1/orders", json={"kind": "sales", "partner_id": cus, "warehouse_id": shop.wh,
                                         "lines": [{"product_id": shop.rice, "qty": "1", "unit_price": "2"}]},
                 headers=owner).json()["id"]
    keeper = api.token(api.user("xiaoli", "sales", warehouses=[other["id"]]))
    r = c.get(f"/api/v1/orders/{oid}", headers=keeper)
    assert r.status_code == 403 and r.json()["code"] == "WAREHOUSE_NOT_PERMITTED"
    assert c.get("/api/v1/orders", headers=keeper).json()["items"] == []
    assert c.get("/api/v1/prices/resolve", params={"product_id": shop.rice}, headers=owner).status_code == 404
    r = c.post("/api/v1/returns", json={"source_document_id": 999999, "quantities": {"1": "1"},
                                        "reason_text": "x"}, headers=owner)
    assert r.status_code == 404


def test_quick_sale_retry_after_a_lost_answer_sells_once_and_refusals_name_the_field(api, shop, owner):
    """The Idempotency-Key reaches the sale itself: even when the middleware kept no answer (a crash after
    the commit releases the key), the retry returns the first sale instead of selling again."""
    from jxc.interfaces.api.deps import scope_of
    from jxc.services import api_idempotency

    c = api.client
    stocked(api, shop, owner)
    body = {"warehouse_id": shop.wh, "lines": [{"product_id": shop.rice, "qty": "3", "unit_price": "5"}]}
    first = c.post("/api/v1/quick-sales", json=body, headers={**owner, "Idempotency-Key": "till-9"})
    assert first.status_code == 201 and first.json()["state"] == "posted"
    scope = scope_of("bearer:" + owner["Authorization"][7:])
    api_idempotency.finish(api.app.uow_factory, scope, "till-9", 500, "")  # the stored answer is gone
    again = c.post("/api/v1/quick-sales", json=body, headers={**owner, "Idempotency-Key": "till-9"})
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert (again.json()["id"], again.json()["replayed"]) == (first.json()["id"], True)
    assert sum(a.qty for a in api.app.queries.balances(product_id=shop.rice).values()) == 17  # sold once
    cus = c.post("/api/v1/partners", json={"code": "C9", "name": "C9", "role": "customer", "credit_limit": "10"},
                 headers=owner).json()["id"]
    over = c.post("/api/v1/quick-sales", json={**body, "partner_id": cus}, headers=owner)
    assert over.status_code == 409 and ENVELOPE <= over.json().keys()
    assert (over.json()["code"], over.json()["field"]) == ("CREDIT_LIMIT_EXCEEDED", "partner_id")
    assert "本次开单" in over.json()["message_zh"] and "this sale" in over.json()["message_en"]

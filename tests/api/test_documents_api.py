"""Documents, stock and master data over HTTP: lifecycle, filters, pagination, refusals, idempotency."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import NOW

ENVELOPE = {"type", "title", "status", "detail", "instance", "code", "field", "message_zh", "message_en"}


def receipt(shop, qty="10", product=None):
    return {"kind": "purchase_receipt", "warehouse_id": shop.wh, "effective_at": NOW.isoformat(),
            "lines": [{"product_id": product or shop.rice, "qty": qty, "unit_price": "3"}]}


def test_draft_submit_posts_and_stock_ledger_show_it_then_reverse(api, shop, owner):
    c = api.client
    r = c.post("/api/v1/documents", json=receipt(shop), headers=owner)
    assert r.status_code == 201 and r.json()["state"] == "draft"
    doc = r.json()
    assert c.get("/api/v1/stock/balances", params={"product_id": shop.rice}, headers=owner).json()["items"] == []
    posted = c.post(f"/api/v1/documents/{doc['id']}/submit", headers=owner).json()
    assert posted["state"] == "posted"
    rows = c.get("/api/v1/stock/balances", params={"product_id": shop.rice}, headers=owner).json()["items"]
    assert [(r["location"], r["qty"]) for r in rows] == [("WH1-01", "10.0000")]
    ledger = c.get("/api/v1/stock/ledger", params={"posting_id": posted["posting_id"]}, headers=owner).json()
    assert {e["reference"] for e in ledger["items"]} == {doc["number"]} and len(ledger["items"]) == 2
    r = c.post(f"/api/v1/documents/{doc['id']}/reverse", json={"reason": "录错了"}, headers=owner)
    assert r.json()["state"] == "reversed"
    assert c.get("/api/v1/stock/balances", params={"product_id": shop.rice}, headers=owner).json()["items"] == []
    again = c.post(f"/api/v1/documents/{doc['id']}/reverse", json={"reason": "x"}, headers=owner)
    assert again.status_code == 400 and again.json()["code"] == "INVALID_TRANSITION"


def test_stale_edit_is_409_and_unknown_document_404(api, shop, owner):
    c = api.client
    doc = c.post("/api/v1/documents", json=receipt(shop), headers=owner).json()
    edit = {**receipt(shop, "12"), "version": doc["version"]}
    assert c.put(f"/api/v1/documents/{doc['id']}", json=edit, headers=owner).status_code == 200
    r = c.put(f"/api/v1/documents/{doc['id']}", json=edit, headers=owner)
    assert r.status_code == 409 and r.json()["code"] == "VERSION_CONFLICT" and ENVELOPE <= r.json().keys()
    r = c.get("/api/v1/documents/999999", headers=owner)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"


def test_validation_problems_are_422_with_every_field(api, shop, owner):
    body = {"kind": "purchase_receipt", "warehouse_id": shop.wh,
            "lines": [{"product_id": 999, "qty": "0"}, {"product_id": shop.rice, "qty": "abc"}]}
    r = api.client.post("/api/v1/documents", json=body, headers=owner)
    assert r.status_code == 422
    fields = {p["field"] for p in r.json()["details"]["problems"]}
    assert {"lines[0].qty", "lines[0].product_id", "lines[1].qty"} <= fields
    r = api.client.post("/api/v1/documents", json={"kind": "nonsense"}, headers=owner)
    assert r.status_code == 422 and ENVELOPE <= r.json().keys() and r.json()["code"] in ("VALUE_INVALID", "VALUE_REQUIRED")


def test_keeper_of_another_warehouse_is_refused_403_and_sees_none_of_its_documents(api, shop, owner):
    other = api.client.post("/api/v1/warehouses", json={"code": "WH2", "name": "分仓"}, headers=owner).json()
    keeper = api.token(api.user("xiaoli", "keeper", warehouses=[other["id"]]))
    r = api.client.post("/api/v1/documents", json=receipt(shop), headers=keeper)
    assert r.status_code == 403 and r.json()["code"] in ("PERMISSION_DENIED", "WAREHOUSE_NOT_PERMITTED")
    api.client.post("/api/v1/documents", json=receipt(shop), headers=owner)
    assert api.client.get("/api/v1/documents", headers=keeper).json()["items"] == []
    r = api.client.get("/api/v1/stock/balances", params={"warehouse_id": shop.wh}, headers=keeper)
    assert r.status_code == 403 and r.json()["code"] == "WAREHOUSE_NOT_PERMITTED"


def test_cursor_pages_cover_every_row_once_and_limit_is_capped(api, shop, owner):
    for i in range(7):
        api.client.post("/api/v1/products", json={"code": f"X{i}", "name": f"商品{i}", "base_unit": "个"}, headers=owner)
    seen, cursor = [], None
    while True:
        page = api.client.get("/api/v1/products", params={"limit": 4, **({"cursor": cursor} if cursor else {})},
                              headers=owner).json()
        seen += [p["code"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(["P001", "P002", "P003"] + [f"X{i}" for i in range(7)]) and len(seen) == 10
    assert [p["code"] for p in api.client.get("/api/v1/products", params={"q": "X3"}, headers=owner).json()["items"]] == ["X3"]
    r = api.client.get("/api/v1/products", params={"limit": 501}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "limit"
    r = api.client.get("/api/v1/products", params={"role": "supplier"}, headers=owner)
    assert r.status_code == 400 and r.json()["field"] == "role"


def test_idempotent_post_replays_the_first_response_and_refuses_a_different_body(api, shop, owner):
    c, key = api.client, {**owner, "Idempotency-Key": "pos-1-0001"}
    first = c.post("/api/v1/documents", json=receipt(shop), headers=key)
    second = c.post("/api/v1/documents", json=receipt(shop), headers=key)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    with api.app.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar() == 1
    r = c.post("/api/v1/documents", json=receipt(shop, "11"), headers=key)
    assert r.status_code == 422 and r.json()["code"] == "IDEMPOTENCY_MISMATCH" and ENVELOPE <= r.json().keys()


def test_idempotent_submit_posts_once_and_other_callers_keys_are_their_own(api, shop, owner):
    doc = api.client.post("/api/v1/documents", json=receipt(shop), headers=owner).json()
    key = {**owner, "Idempotency-Key": "submit-1"}
    a = api.client.post(f"/api/v1/documents/{doc['id']}/submit", headers=key)
    b = api.client.post(f"/api/v1/documents/{doc['id']}/submit", headers=key)
    assert a.json() == b.json() and a.json()["state"] == "posted"
    other = api.token("laoban")
    r = api.client.post(f"/api/v1/documents/{doc['id']}/submit", headers={**other, "Idempotency-Key": "submit-1"})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_TRANSITION"  # not a replay of someone else's


def test_unknown_route_and_wrong_method_use_the_envelope(api, owner):
    r = api.client.get("/api/v1/nothing-here", headers=owner)
    assert r.status_code == 404 and ENVELOPE <= r.json().keys()
    r = api.client.delete("/api/v1/products", headers=owner)
    assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED"


def test_values_are_hidden_from_users_without_view_cost(api, shop, owner):
    doc = api.client.post("/api/v1/documents", json=receipt(shop), headers=owner).json()
    api.client.post(f"/api/v1/documents/{doc['id']}/submit", headers=owner)
    keeper = api.token(api.user("xiaoli", "keeper"))
    rows = api.client.get("/api/v1/stock/balances", headers=keeper).json()["items"]
    assert rows and all("value" not in r for r in rows)
    assert "value" in api.client.get("/api/v1/stock/balances", headers=owner).json()["items"][0]


def test_receipt_freight_is_split_over_the_lines_and_refused_on_other_kinds(api, shop, owner):
    c = api.client
    body = {**receipt(shop), "freight": "6", "freight_basis": "qty",
            "lines": [{"product_id": shop.rice, "qty": "10", "unit_price": "3"},
                      {"product_id": shop.eggs, "qty": "20", "unit_price": "1"}]}
    doc = c.post("/api/v1/documents", json=body, headers=owner).json()
    assert (doc["freight"], doc["freight_basis"]) == ("6.0000", "qty")
    assert [ln["freight_share"] for ln in doc["lines"]] == ["2.0000", "4.0000"]
    c.post(f"/api/v1/documents/{doc['id']}/submit", headers=owner)
    rows = c.get("/api/v1/stock/balances", params={"product_id": shop.rice}, headers=owner).json()["items"]
    assert [r["value"] for r in rows] == ["32.0000"]  # 10 × 3 + 2 freight
    sale = {**receipt(shop), "kind": "sales_delivery", "freight": "5"}
    r = c.post("/api/v1/documents", json=sale, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "freight" and r.json()["code"] == "FREIGHT_NOT_ALLOWED"

"""社群订单接口 — parse, draft, teach and forget aliases over HTTP, and every refusal (401/403/404/422)."""

from __future__ import annotations

from jxc.services import trade
from tests.service.test_chat_intake import make_shop


def test_parse_then_draft_then_confirm_over_http(api, owner):
    shop = make_shop(api.app)
    c = api.client
    text = "王姐 要2盒蓝莓+十来斤菠菜，可乐1箱 3栋502"
    parsed = c.post("/api/v1/chat-orders/parse", headers=owner, json={"text": text, "warehouse_id": shop.w.wh})
    assert parsed.status_code == 200, parsed.text
    body = parsed.json()
    assert body["customer"]["partner_id"] == shop.wang and body["unparseable"] is False
    lines = {ln["sku"]: ln for ln in body["lines"]}
    assert (lines["F001"]["decision"], lines["F001"]["available"], lines["F001"]["enough"]) == ("place", "10", True)
    assert (lines["D001"]["unit"], lines["D001"]["qty_base"]) == ("箱", "12")
    assert lines["V020"]["decision"] == "needs_decision" and lines["V020"]["evidence"]["text"]
    made = c.post("/api/v1/chat-orders", headers=owner, json={"text": text, "warehouse_id": shop.w.wh})
    assert made.status_code == 201, made.text
    order = trade.get_order(api.app.uow_factory, made.json()["order_id"])
    assert order["state"] == "draft" and len(order["lines"]) == 2 and made.json()["number"] == order["number"]
    assert made.json()["needs_decision"] == [lines["V020"]["index"]]
    none = c.post("/api/v1/chat-orders", headers=owner, json={"text": "谢谢老板", "warehouse_id": shop.w.wh,
                                                                "customer_id": shop.wang})
    assert none.status_code == 200 and none.json()["created"] is False and none.json()["reason"] == "acknowledgement"


def test_aliases_record_list_override_and_delete_over_http(api, owner):
    shop = make_shop(api.app)
    c = api.client
    r = c.post("/api/v1/chat-orders/aliases", headers=owner,
               json={"alias": "肥宅水", "product_id": shop.cola, "message": "肥宅水2瓶"})
    assert r.status_code == 201, r.text
    alias_id = r.json()["id"]
    assert r.json()["created_by"] == "laoban"
    parsed = c.post("/api/v1/chat-orders/parse", headers=owner, json={"text": "肥宅水2瓶"}).json()
    assert [ln["sku"] for ln in parsed["lines"]] == ["D001"]
    listed = c.get("/api/v1/chat-orders/aliases", headers=owner, params={"product_id": shop.cola}).json()
    assert [a["alias"] for a in listed] == ["肥宅水"]
    gone = c.delete(f"/api/v1/chat-orders/aliases/{alias_id}", headers=owner)
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert c.get("/api/v1/chat-orders/aliases", headers=owner).json() == []
    again = c.delete(f"/api/v1/chat-orders/aliases/{alias_id}", headers=owner)
    assert again.status_code == 404 and again.json()["code"] == "NOT_FOUND"


def test_chat_order_refusals(api, owner):
    shop = make_shop(api.app)
    c = api.client
    assert c.post("/api/v1/chat-orders/parse", json={"text": "蓝莓2盒"}).status_code == 401
    assert c.get("/api/v1/chat-orders/aliases").status_code == 401
    api.user("qian", "finance")
    finance = api.token("qian")
    r = c.post("/api/v1/chat-orders/parse", headers=finance, json={"text": "蓝莓2盒"})
    assert r.status_code == 403 and r.json()["code"] == "PERMISSION_DENIED"
    r = c.post("/api/v1/chat-orders/aliases", headers=finance, json={"alias": "肥宅水", "product_id": shop.cola})
    assert r.status_code == 403
    from jxc.services import masterdata
    from jxc.services.posting import SYSTEM
    from tests.conftest import NOW

    other = masterdata.create(api.app.uow_factory, "warehouses", {"code": "W9", "name": "外仓"}, SYSTEM, NOW)
    api.user("xiaoliu", "sales", warehouses=[other])
    r = c.post("/api/v1/chat-orders", headers=api.token("xiaoliu"),
               json={"text": "蓝莓2盒", "warehouse_id": shop.w.wh, "customer_id": shop.wang})
    assert r.status_code == 403 and r.json()["code"] == "WAREHOUSE_NOT_PERMITTED"
    r = c.post("/api/v1/chat-orders/parse", headers=owner, json={"text": "蓝莓2盒", "warehouse_id": 99999})
    assert r.status_code == 404
    r = c.post("/api/v1/chat-orders/aliases", headers=owner, json={"alias": "肥宅水", "product_id": 99999})
    assert r.status_code == 404
    r = c.post("/api/v1/chat-orders/aliases", headers=owner, json={"alias": "123", "product_id": shop.cola})
    assert r.status_code == 422 and r.json()["code"] == "VALUE_INVALID"
    r = c.post("/api/v1/chat-orders/parse", headers=owner, json={"text": ""})
    assert r.status_code == 422
    r = c.post("/api/v1/chat-orders", headers=owner, json={"text": "蓝莓2盒", "warehouse_id": shop.w.wh})
    assert r.status_code == 422 and r.json()["code"] == "CHAT_CUSTOMER_UNKNOWN"
    r = c.post("/api/v1/chat-orders", headers=owner, json={"text": "蓝莓2盒", "warehouse_id": shop.w.wh,
                                                             "customer_id": 99999})
    assert r.status_code == 422 and r.json()["code"] == "VALUE_INVALID"
    assert api.app.queries.audit(action="order.create") == []


def test_a_correction_in_the_draft_request_is_remembered_over_http(api, owner):
    shop = make_shop(api.app)
    text = "王姐 3栋502 可口可了2瓶"
    parsed = api.client.post("/api/v1/chat-orders/parse", headers=owner, json={"text": text}).json()
    (line,) = parsed["lines"]
    r = api.client.post("/api/v1/chat-orders", headers=owner, json={
        "text": text, "warehouse_id": shop.w.wh, "corrections": [{"line": line["index"], "product_id": shop.cola}]})
    assert r.status_code == 201, r.text
    assert [(ln["sku"], ln["evidence"]["matched_by"]) for ln in r.json()["lines"]] == [("D001", "learned_alias")]
    bad = api.client.post("/api/v1/chat-orders", headers=owner, json={
        "text": text, "warehouse_id": shop.w.wh, "corrections": [{"line": 5, "product_id": shop.cola}]})
    assert bad.status_code == 422 and bad.json()["field"] == "corrections[0].line"

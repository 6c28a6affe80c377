"""Settings and administration over HTTP: users and access, roles, approval rules, reasons, book
settings, channels, period close, the invariant check and the investigation — with the password
asked again for sensitive changes and every refusal in the envelope."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal as D

from jxc.domain.ledger import Movement
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.api.conftest import PASSWORD
from tests.conftest import NOW

ENVELOPE = {"type", "title", "status", "detail", "instance", "code", "field", "message_zh", "message_en"}


def test_owner_creates_a_user_and_scopes_them_to_a_warehouse_with_the_password_again(api, shop, owner):
    r = api.client.post("/api/v1/users", json={"username": "xiaozhang", "password": "long-enough-1",
                                               "role": "sales"}, headers=owner)
    assert r.status_code == 201
    r = api.client.post("/api/v1/users", json={"username": "xiaozhang", "password": "long-enough-1",
                                               "role": "sales"}, headers=owner)
    assert r.status_code == 422 and r.json()["code"] == "CODE_TAKEN"
    access = {"role": "keeper", "warehouse_ids": [shop.wh]}
    r = api.client.put("/api/v1/users/xiaozhang/access", json={**access, "password": "wrong"}, headers=owner)
    assert r.status_code == 403 and r.json()["code"] == "REAUTH_REQUIRED"
    r = api.client.put("/api/v1/users/xiaozhang/access", json={**access, "password": PASSWORD}, headers=owner)
    assert r.json() == {"username": "xiaozhang", "role": "keeper", "warehouses": [shop.wh]}
    r = api.client.put("/api/v1/users/nobody/access", json={**access, "password": PASSWORD}, headers=owner)
    assert r.status_code == 404
    (rec,) = api.app.queries.audit(action="user.access", limit=5)
    after = json.loads(rec["after"]) if isinstance(rec["after"], str) else rec["after"]
    assert rec["actor"] == "laoban" and after == {"role": "keeper", "warehouses": [shop.wh]}


def test_only_user_managers_create_users_and_roles(api, shop):
    manager = api.token(api.user("wang", "manager"))
    r = api.client.post("/api/v1/users", json={"username": "x1", "password": "long-enough-1", "role": "owner"},
                        headers=manager)
    assert r.status_code == 403 and r.json()["code"] == "PERMISSION_DENIED"
    r = api.client.put("/api/v1/roles/cashier2", json={"name_zh": "收银", "name_en": "cashier",
                                                       "permissions": ["report.view"], "password": PASSWORD},
                       headers=manager)
    assert r.status_code == 403 and ENVELOPE <= r.json().keys()


def test_roles_rules_and_reasons_are_configured_without_code(api, shop, owner):
    r = api.client.put("/api/v1/roles/cashier2", json={"name_zh": "收银", "name_en": "cashier",
                                                       "permissions": ["report.view", "no.such"],
                                                       "password": PASSWORD}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "permissions"
    r = api.client.put("/api/v1/roles/cashier2", json={"name_zh": "收银", "name_en": "cashier",
                                                       "permissions": ["report.view"], "password": PASSWORD},
                       headers=owner)
    assert r.status_code == 200
    rule = {"name": "大额采购", "levels": ["manager"], "kind": "purchase_receipt", "min_amount": "5000",
            "password": PASSWORD}
    r = api.client.post("/api/v1/approval-rules", json=rule, headers=owner)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    listed = api.client.get("/api/v1/approval-rules", headers=owner).json()["items"]
    assert any(x["id"] == rid and x["min_amount"] == "5000" for x in listed)
    r = api.client.post(f"/api/v1/approval-rules/{rid}/disable", json={"password": PASSWORD}, headers=owner)
    assert r.json()["active"] is False
    r = api.client.post("/api/v1/approval-rules/999999/enable", json={"password": PASSWORD}, headers=owner)
    assert r.status_code == 404
    r = api.client.post("/api/v1/approval-rules", json={**rule, "levels": ["nobody"]}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "levels"
    r = api.client.post("/api/v1/reasons", json={"kind": "scrap", "code": "mouse", "label_zh": "鼠咬",
                                                 "label_en": "rodents"}, headers=owner)
    assert r.status_code == 201
    r = api.client.post("/api/v1/reasons", json={"kind": "gift", "code": "x", "label_zh": "x", "label_en": "x"},
                        headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "kind"


def test_settings_are_read_and_changed_with_the_password_again(api, owner):
    settings = api.client.get("/api/v1/settings", headers=owner).json()
    key = next(k for k in settings if k.startswith("doc_prefix."))
    r = api.client.put(f"/api/v1/settings/{key}", json={"value": "QQQ", "password": PASSWORD}, headers=owner)
    assert r.status_code == 200 and r.json()["value"] == "QQQ", r.text
    assert api.client.get("/api/v1/settings", headers=owner).json()[key] == "QQQ"
    r = api.client.put(f"/api/v1/settings/{key}", json={"value": "QQQ"}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "password"
    keeper = api.token(api.user("xiaoli", "keeper"))
    assert api.client.get("/api/v1/settings", headers=keeper).status_code == 403


def test_channels_are_saved_and_listed_and_feed_the_channel_ingest(api, shop, owner):
    r = api.client.put("/api/v1/channels/meituan", json={"name": "美团", "warehouse_ids": [shop.wh], "ttl_s": 900},
                       headers=owner)
    assert r.status_code == 200
    (ch,) = api.client.get("/api/v1/channels", headers=owner).json()["items"]
    assert (ch["code"], ch["warehouse_ids"], ch["ttl_s"]) == ("meituan", [shop.wh], 900)
    r = api.client.put("/api/v1/channels/meituan", json={"name": "美团", "warehouse_ids": []}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "warehouse_ids"
    keeper = api.token(api.user("xiaoli", "keeper"))
    r = api.client.put("/api/v1/channels/x", json={"name": "x", "warehouse_ids": [shop.wh]}, headers=keeper)
    assert r.status_code == 403


def test_period_close_refuses_earlier_postings_and_check_reports_clean_books(api, shop, owner):
    post(api.app.uow_factory, PostingRequest("receipt", (Movement(shop.rice, D(5), shop.supplier, shop.shelf_a,
                                                                  unit_cost=D(2)),), NOW), SYSTEM, NOW)
    until = (NOW + timedelta(days=1)).isoformat()
    r = api.client.post("/api/v1/periods/close", json={"until": until, "password": PASSWORD}, headers=owner)
    assert r.status_code == 200 and r.json()["period_id"] >= 1
    r = api.client.post("/api/v1/periods/close", json={"until": until, "password": PASSWORD}, headers=owner)
    assert r.status_code == 400 and r.json()["code"] == "PERIOD_NOT_ADVANCING"
    body = {"kind": "purchase_receipt", "warehouse_id": shop.wh, "effective_at": NOW.isoformat(),
            "lines": [{"product_id": shop.rice, "qty": "1", "unit_price": "2"}]}
    doc = api.client.post("/api/v1/documents", json=body, headers=owner).json()
    r = api.client.post(f"/api/v1/documents/{doc['id']}/submit", headers=owner)
    assert r.json()["code"] == "PERIOD_CLOSED"
    assert api.client.get("/api/v1/check", headers=owner).json() == {"ok": True, "violations": []}
    keeper = api.token(api.user("xiaoli", "keeper"))
    r = api.client.post("/api/v1/periods/close", json={"until": until, "password": PASSWORD}, headers=keeper)
    assert r.status_code == 403
    assert api.client.get("/api/v1/check", headers=keeper).status_code == 403


def test_investigation_names_the_documents_behind_a_gap_in_the_callers_warehouses(api, shop, owner):
    post(api.app.uow_factory, PostingRequest("receipt", (Movement(shop.rice, D(10), shop.supplier, shop.shelf_a,
                                                                  unit_cost=D(2)),), NOW), SYSTEM, NOW)
    params = {"product_id": shop.rice, "warehouse_id": shop.wh, "counted_qty": "7",
              "counted_at": (NOW + timedelta(hours=1)).isoformat()}
    r = api.client.get("/api/v1/stock/investigate", params=params, headers=owner)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["book_qty"] == "10.0000" and report["gap"] == "3.0000"
    assert report["timeline"] and report["product"]["code"] == "P002"
    r = api.client.get("/api/v1/stock/investigate", params={**params, "product_id": 999999}, headers=owner)
    assert r.status_code == 404
    other = api.client.post("/api/v1/warehouses", json={"code": "WH2", "name": "二仓"}, headers=owner).json()
    scoped = api.token(api.user("wang", "manager", warehouses=[other["id"]]))
    r = api.client.get("/api/v1/stock/investigate", params=params, headers=scoped)
    assert r.status_code == 403 and r.json()["code"] == "WAREHOUSE_NOT_PERMITTED"

"""Stock counts over HTTP: plan → task → counted lines (offline retries stored once) → close into a
盘盈盘亏 proposal that waits for a manager; blind tasks hide the book; every refusal in the envelope."""

from __future__ import annotations

from decimal import Decimal as D

from jxc.domain.ledger import Movement
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW

ENVELOPE = {"type", "title", "status", "detail", "instance", "code", "field", "message_zh", "message_en"}


def shelf(api, shop, qty="100"):
    post(api.app.uow_factory, PostingRequest("receipt", (Movement(shop.rice, D(qty), shop.supplier, shop.shelf_a,
                                                                  unit_cost=D(2)),), NOW), SYSTEM, NOW)


def start(api, shop, headers, blind=False, assignees=("zhang",)):
    r = api.client.post("/api/v1/counts/plans", json={"name": "A货架循环盘点", "warehouse_id": shop.wh,
                                                      "location_ids": [shop.shelf_a], "blind": blind}, headers=headers)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["scope"]["location_ids"] == [shop.shelf_a]
    r = api.client.post(f"/api/v1/counts/plans/{plan['id']}/tasks", json={"assignees": list(assignees)},
                        headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_count_flow_enters_once_per_key_and_closes_into_a_proposal_that_moves_no_stock(api, shop):
    shelf(api, shop)
    keeper = api.token(api.user("zhang", "keeper"))
    task = start(api, shop, keeper)
    assert task["state"] == "open" and [ln["product"] for ln in task["lines"]] == ["P002"]
    entry = {"location": "A-01", "product": "P002", "qty": "95", "idempotency_key": "phone-1-0001"}
    url = f"/api/v1/counts/tasks/{task['id']}/entries"
    first = api.client.post(url, json=entry, headers=keeper)
    again = api.client.post(url, json=entry, headers=keeper)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"entry_id": first.json()["entry_id"], "created": False}
    r = api.client.post(url, json={**entry, "qty": "96"}, headers=keeper)
    assert r.status_code == 422 and r.json()["code"] == "IDEMPOTENCY_MISMATCH"
    sheet = api.client.get(f"/api/v1/counts/tasks/{task['id']}", headers=keeper).json()
    assert sheet["state"] == "counting" and sheet["lines"][0]["counted_qty"] == "95.0000"
    closed = api.client.post(f"/api/v1/counts/tasks/{task['id']}/close", json={}, headers=keeper)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["document_state"] == "pending_approval" and body["lines"][0]["counted_qty"] == "95.0000"
    rows = api.client.get("/api/v1/stock/balances", params={"product_id": shop.rice}, headers=keeper).json()["items"]
    assert [r["qty"] for r in rows] == ["100.0000"]  # proposed, not posted
    r = api.client.post(url, json={**entry, "idempotency_key": "phone-1-0002"}, headers=keeper)
    assert r.status_code == 409 and r.json()["code"] == "COUNT_TASK_STATE" and ENVELOPE <= r.json().keys()
    listed = api.client.get("/api/v1/counts/tasks", params={"state": "closed"}, headers=keeper).json()["items"]
    assert [t["id"] for t in listed] == [task["id"]]
    assert api.app.queries.violations() == []


def test_blind_task_hides_book_and_variance_from_the_counter_not_from_the_manager(api, shop):
    shelf(api, shop)
    counter = api.token(api.user("zhang", "keeper"))
    manager = api.token(api.user("wang", "manager"))
    task = start(api, shop, counter, blind=True)
    assert task["shows_book"] is False and "book_qty_now" not in task["lines"][0]
    api.client.post(f"/api/v1/counts/tasks/{task['id']}/entries",
                    json={"location": "A-01", "product": "P002", "qty": "98"}, headers=counter)
    seen = api.client.get(f"/api/v1/counts/tasks/{task['id']}", headers=manager).json()
    assert seen["lines"][0]["variance"] == "-2.0000"
    closed = api.client.post(f"/api/v1/counts/tasks/{task['id']}/close", json={}, headers=counter).json()
    assert "variance" not in closed["lines"][0] and "book_qty" not in closed["lines"][0]


def test_recount_and_assign_and_kpis(api, shop, owner):
    shelf(api, shop)
    task = start(api, shop, owner, assignees=())
    r = api.client.put(f"/api/v1/counts/tasks/{task['id']}/assignees", json={"assignees": ["li", "zhang"]},
                       headers=owner)
    assert r.status_code == 200 and r.json()["assignees"] == ["li", "zhang"]
    place = {"location_id": shop.shelf_a, "product_id": shop.rice, "lot_id": 0}
    r = api.client.post(f"/api/v1/counts/tasks/{task['id']}/recount", json={"places": [place]}, headers=owner)
    assert r.status_code == 200 and r.json()["lines"][0]["round"] == 2
    r = api.client.post(f"/api/v1/counts/tasks/{task['id']}/recount",
                        json={"places": [{**place, "product_id": shop.eggs}]}, headers=owner)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    k = api.client.get("/api/v1/counts/kpis", headers=owner).json()
    assert k["overall"]["lines"] == 0
    assert api.client.post("/api/v1/counts/abc", headers=owner).status_code == 200


def test_counting_refusals_401_403_404_422(api, shop, owner):
    plan = {"name": "全盘", "warehouse_id": shop.wh, "kind": "full"}
    r = api.client.post("/api/v1/counts/plans", json=plan)
    assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"
    buyer = api.token(api.user("caigou", "purchaser"))
    r = api.client.post("/api/v1/counts/plans", json=plan, headers=buyer)
    assert r.status_code == 403 and r.json()["code"] == "PERMISSION_DENIED"
    assert api.client.get("/api/v1/counts/tasks", headers=buyer).status_code == 403
    other = api.client.post("/api/v1/warehouses", json={"code": "WH2", "name": "二仓"}, headers=owner).json()
    keeper = api.token(api.user("xiaoli", "keeper", warehouses=[other["id"]]))
    r = api.client.post("/api/v1/counts/plans", json=plan, headers=keeper)
    assert r.status_code == 403 and r.json()["code"] == "WAREHOUSE_NOT_PERMITTED"
    task = start(api, shop, owner)
    assert api.client.get("/api/v1/counts/tasks", headers=keeper).json()["items"] == []
    r = api.client.get(f"/api/v1/counts/tasks/{task['id']}", headers=keeper)
    assert r.status_code == 403 and r.json()["code"] == "WAREHOUSE_NOT_PERMITTED"
    r = api.client.get("/api/v1/counts/tasks/999999", headers=owner)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    r = api.client.post("/api/v1/counts/plans/999999/tasks", json={}, headers=owner)
    assert r.status_code == 404
    r = api.client.post("/api/v1/counts/plans", json={**plan, "kind": "weekly"}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "kind"
    r = api.client.post(f"/api/v1/counts/tasks/{task['id']}/entries",
                        json={"location": "A-01", "product": "NOPE", "qty": "1"}, headers=owner)
    assert r.status_code in (404, 422) and ENVELOPE <= r.json().keys()
    r = api.client.post(f"/api/v1/counts/tasks/{task['id']}/entries",
                        json={"location": "A-01", "product": "P002", "qty": "1", "counted_at": "2026-11-01T09:00"},
                        headers=owner)
    assert r.status_code == 400 and r.json()["field"] == "counted_at"

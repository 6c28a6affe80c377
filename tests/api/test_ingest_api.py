"""POS and channel ingestion over HTTP: each event applied exactly once by (source, source_id),
every line recorded (zero-quantity and discount lines too), one bad event never loses the
others, a sale the books cannot cover is held with an alert — never skipped, never negative."""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import text

from jxc.domain.ledger import Movement
from jxc.services import reserving
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW

ENVELOPE = {"code", "field", "message_zh", "message_en"}
AT = NOW.isoformat()


def stock(api, shop, product, qty):
    post(api.app.uow_factory, PostingRequest("receipt", (Movement(product, D(qty), shop.supplier, shop.shelf_a,
                                                                  unit_cost=D(2)),), NOW), SYSTEM, NOW)


def on_hand(api, product) -> D:
    return sum((a.qty for k, a in api.app.queries.balances(product).items()), D(0))


def sale(source_id, *lines, kind="sale", **extra):
    return {"source_id": source_id, "type": kind, "warehouse": "WH1", "occurred_at": AT, "lines": list(lines),
            **extra}


def item(code="P002", qty="1", price="10", **extra):
    return {"product": code, "qty": qty, "unit_price": price, **extra}


def pos(api, headers, *events, source="pos:store-01"):
    r = api.client.post("/api/v1/ingest/pos", json={"source": source, "events": list(events)}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def count(api, sql):
    with api.app.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_sale_posts_a_delivery_and_keeps_zero_quantity_and_discount_lines(api, shop, owner):
    stock(api, shop, shop.rice, "10")
    ev = sale("T-0001", item(qty="3", inventory_change=False), item("P003", qty="0", price="0"),
              {"kind": "discount", "amount": "-0.30"})
    body = pos(api, owner, ev)
    (res,) = body["results"]
    assert (res["result"], res["status"], body["applied"]) == ("applied", "applied", 1)
    assert res["document_number"].startswith("XSCK")
    assert on_hand(api, shop.rice) == D(7)  # inventory_change=false did not stop a real sale from moving stock
    assert any("inventory_change=false" in n for n in res["notes"]) and len(res["notes"]) == 3
    doc = api.client.get(f"/api/v1/documents/{res['document_id']}", headers=owner).json()
    assert doc["state"] == "posted" and doc["kind"] == "sales_delivery" and len(doc["lines"]) == 1
    recorded = api.client.get(f"/api/v1/ingest/events/{res['event_id']}", headers=owner).json()
    assert [(ln["kind"], ln["qty"], ln["moves_stock"]) for ln in recorded["lines"]] == [
        ("item", "3.0000", True), ("item", "0.0000", False), ("discount", "0.0000", False)]
    assert recorded["amount"] == "29.7000" and recorded["lines"][2]["amount"] == "-0.3000"
    assert api.app.queries.violations() == []


def test_a_sale_of_only_zero_and_discount_lines_is_recorded_without_a_document(api, shop, owner):
    body = pos(api, owner, sale("T-0002", item(qty="0"), {"kind": "discount", "amount": "-1"}))
    res = body["results"][0]
    assert res["result"] == "applied" and res["document_id"] is None
    assert count(api, "SELECT count(*) FROM ingest_lines") == 2 and count(api, "SELECT count(*) FROM documents") == 0


def test_retried_and_overlapping_batches_apply_each_event_once(api, shop, owner):
    stock(api, shop, shop.rice, "10")
    a, b, c = (sale(f"T-{i}", item(qty="1")) for i in range(3))
    first = pos(api, owner, a, b)
    second = pos(api, owner, b, c, b)  # overlaps the first, and repeats itself
    assert [r["result"] for r in first["results"]] == ["applied", "applied"]
    assert [r["result"] for r in second["results"]] == ["duplicate", "applied", "duplicate"]
    assert second["results"][0]["document_id"] == first["results"][1]["document_id"]
    assert on_hand(api, shop.rice) == D(7)
    assert count(api, "SELECT count(*) FROM ingest_events") == 3
    assert count(api, "SELECT count(*) FROM documents WHERE kind = 'sales_delivery'") == 3


def test_same_id_with_different_content_is_refused_and_the_rest_of_the_batch_applies(api, shop, owner):
    stock(api, shop, shop.rice, "10")
    pos(api, owner, sale("T-9", item(qty="1")))
    body = pos(api, owner, sale("T-9", item(qty="2")), sale("T-10", item(qty="1")),
               sale("T-11", item("NOPE")))
    changed, ok, unknown = body["results"]
    assert changed["result"] == "refused" and changed["problem"]["code"] == "IDEMPOTENCY_MISMATCH"
    assert ok["result"] == "applied"
    assert unknown["result"] == "refused" and ENVELOPE <= unknown["problem"].keys()
    assert unknown["problem"]["field"] == "lines[0].product" and "NOPE" in unknown["problem"]["message_zh"]
    assert (body["applied"], body["refused"]) == (1, 2)
    assert on_hand(api, shop.rice) == D(8)
    assert count(api, "SELECT count(*) FROM ingest_events WHERE source_id = 'T-11'") == 0  # refused: not claimed


def test_a_sale_without_stock_is_held_as_a_draft_with_an_alert_and_resolves_by_submitting(api, shop, owner):
    stock(api, shop, shop.rice, "1")
    body = pos(api, owner, sale("T-20", item(qty="3")))
    res = body["results"][0]
    assert (res["result"], body["held"]) == ("held", 1)
    assert res["problem"]["code"] == "STOCK_INSUFFICIENT"
    assert on_hand(api, shop.rice) == D(1)  # not posted negative, not skipped: a draft waits
    doc = api.client.get(f"/api/v1/documents/{res['document_id']}", headers=owner).json()
    assert doc["state"] == "draft" and doc["lines"][0]["qty_base"] == "3.0000"
    with api.app.engine.connect() as conn:
        alert = conn.execute(text("SELECT payload FROM outbox_events WHERE event_type = 'ingest.held'")).scalar_one()
    assert "T-20" in alert and "库存异常" in alert
    held = api.client.get("/api/v1/ingest/events", params={"status": "held"}, headers=owner).json()["items"]
    assert [(e["source_id"], e["document_state"]) for e in held] == [("T-20", "draft")]
    assert pos(api, owner, sale("T-20", item(qty="3")))["results"][0]["result"] == "duplicate"
    stock(api, shop, shop.rice, "5")
    r = api.client.post(f"/api/v1/documents/{res['document_id']}/submit", headers=owner)
    assert r.json()["state"] == "posted" and on_hand(api, shop.rice) == D(3)
    held = api.client.get("/api/v1/ingest/events", params={"status": "held"}, headers=owner).json()["items"]
    assert held[0]["document_state"] == "posted"
    assert api.app.queries.violations() == []


def test_a_return_posts_a_sales_return_with_the_reason(api, shop, owner):
    body = pos(api, owner, sale("R-1", item(qty="2"), kind="return", reason="顾客退货：包装破损"))
    res = body["results"][0]
    assert res["result"] == "applied" and res["document_number"].startswith("XSTH")
    assert on_hand(api, shop.rice) == D(2)
    doc = api.client.get(f"/api/v1/documents/{res['document_id']}", headers=owner).json()
    assert doc["reason_text"] == "顾客退货：包装破损" and doc["state"] == "posted"


def test_channel_order_reserves_cancel_releases_and_ship_consumes(api, shop, owner):
    stock(api, shop, shop.rice, "10")
    reserving.save_channel(api.app.uow_factory, "meituan", "美团", [shop.wh], SYSTEM, NOW)

    def channel(*events):
        r = api.client.post("/api/v1/ingest/channel", json={"source": "meituan", "channel": "meituan",
                                                            "events": list(events)}, headers=owner)
        assert r.status_code == 200, r.text
        return r.json()["results"]

    def available():
        return api.client.get("/api/v1/stock/available", params={"product_id": shop.rice, "warehouse_id": shop.wh},
                              headers=owner).json()["available"]

    placed, = channel(sale("M-1", item(qty="4"), kind="order", order_id="O-1"))
    assert placed["result"] == "applied" and set(placed["reservations"]) == {str(shop.rice)}
    assert available() == "6.0000"
    cancelled, = channel(sale("M-2", kind="cancel", order_id="O-1"))
    assert cancelled["result"] == "applied" and available() == "10.0000"
    channel(sale("M-3", item(qty="3"), kind="order", order_id="O-2"))
    shipped, = channel(sale("M-4", item(qty="3"), kind="ship", order_id="O-2"))
    assert shipped["result"] == "applied" and on_hand(api, shop.rice) == D(7) and available() == "7.0000"
    with api.app.engine.connect() as conn:
        states = conn.execute(text("SELECT holder, state FROM reservations ORDER BY id")).all()
    assert [tuple(s) for s in states] == [("meituan:O-1", "released"), ("meituan:O-2", "consumed")]
    oversold, = channel(sale("M-5", item(qty="50"), kind="order", order_id="O-3"))
    assert oversold["result"] == "held" and oversold["problem"]["code"] == "STOCK_INSUFFICIENT"
    assert api.app.queries.violations() == []


def test_refusals_401_403_404_422(api, shop, owner):
    batch = {"source": "pos:1", "events": [sale("X-1", item())]}
    r = api.client.post("/api/v1/ingest/pos", json=batch)
    assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"
    buyer = api.token(api.user("xiaoli", "purchaser"))  # buys, never sells
    r = api.client.post("/api/v1/ingest/pos", json=batch, headers=buyer)
    assert r.status_code == 403 and r.json()["code"] == "PERMISSION_DENIED"
    narrow = api.token("laoban", ("masterdata.edit",))  # a device token that neither sells nor reads reports
    assert api.client.get("/api/v1/ingest/events", headers=narrow).status_code == 403
    other = api.client.post("/api/v1/warehouses", json={"code": "WH2", "name": "二店"}, headers=owner).json()
    cashier = api.token(api.user("shouyin", "sales", warehouses=[other["id"]]))
    res = api.client.post("/api/v1/ingest/pos", json=batch, headers=cashier).json()["results"][0]
    assert res["result"] == "refused" and res["problem"]["code"] == "WAREHOUSE_NOT_PERMITTED"
    assert api.client.get("/api/v1/ingest/events", headers=cashier).json()["items"] == []
    r = api.client.post("/api/v1/ingest/pos", json={"source": "pos:1", "events": []}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "events"
    r = api.client.post("/api/v1/ingest/pos", json={"source": "pos:1", "events": [{**sale("X", item()),
                                                                                    "type": "order"}]}, headers=owner)
    assert r.status_code == 422  # a till does not send channel orders
    r = api.client.get("/api/v1/ingest/events/999999", headers=owner)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    naive = pos(api, owner, {**sale("X-2", item()), "occurred_at": "2026-11-01T09:00:00"})
    assert naive["results"][0]["problem"]["field"] == "occurred_at"
    r = api.client.post("/api/v1/ingest/channel", json={"source": "x", "channel": "nope",
                                                        "events": [sale("C-1", kind="order", order_id="1")]},
                        headers=owner)
    assert r.json()["results"][0]["problem"]["code"] == "NOT_FOUND"


def test_a_batch_retried_with_its_idempotency_key_replays_the_whole_answer(api, shop, owner):
    stock(api, shop, shop.rice, "5")
    headers = {**owner, "Idempotency-Key": "batch-0001"}
    batch = {"source": "pos:1", "events": [sale("K-1", item())]}
    first = api.client.post("/api/v1/ingest/pos", json=batch, headers=headers)
    again = api.client.post("/api/v1/ingest/pos", json=batch, headers=headers)
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert on_hand(api, shop.rice) == D(4)


def test_a_till_sale_of_stock_reserved_for_a_channel_order_is_held_not_taken(api, shop, owner):
    stock(api, shop, shop.rice, "5")
    reserving.save_channel(api.app.uow_factory, "meituan", "美团", [shop.wh], SYSTEM, NOW)
    r = api.client.post("/api/v1/ingest/channel", json={"source": "meituan", "channel": "meituan", "events": [
        sale("M-1", item(qty="4"), kind="order", order_id="O-1")]}, headers=owner)
    assert r.json()["applied"] == 1
    res = pos(api, owner, sale("T-1", item(qty="3")))["results"][0]
    assert res["result"] == "held" and res["problem"]["code"] == "STOCK_RESERVED"
    assert on_hand(api, shop.rice) == D(5)  # the order's 4 stay promised; the till's sale waits as a draft
    assert api.app.queries.violations() == []

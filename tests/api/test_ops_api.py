"""Operations over HTTP: webhook endpoints, the dead-letter list with audited retry and discard,
the operations view as JSON and as Prometheus text (with per-route latency) — owners only."""

from __future__ import annotations

import random
from decimal import Decimal as D

from jxc.domain.ledger import Movement
from jxc.services import outbox_delivery, webhooks
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW

HOOK = {"url": "https://erp.example.com/hooks/jxc", "event_types": ["stock.posted"]}


def receipt(api, shop, qty="5"):
    post(api.app.uow_factory, PostingRequest("receipt", (Movement(shop.rice, D(qty), shop.supplier, shop.shelf_a,
                                                                  unit_cost=D(2)),), NOW), SYSTEM, NOW)


def dead_letter(api) -> int:
    """Fan the pending events out and fail the first delivery until it is dead."""
    outbox_delivery.drain(api.app.uow_factory, api.app.clock.now)
    policy = webhooks.RetryPolicy(max_attempts=1)
    (job,) = webhooks.claim_due(api.app.uow_factory, api.app.clock.now(), policy)
    state = webhooks.record(api.app.uow_factory, job, False, 500, "HTTP 500", 40, api.app.clock.now(), policy,
                            random.Random(1))
    assert state == "dead"
    return job["id"]


def test_webhook_endpoints_are_registered_listed_without_secret_and_toggled(api, owner):
    r = api.client.post("/api/v1/webhooks", json=HOOK, headers=owner)
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    listed = api.client.get("/api/v1/webhooks", headers=owner).json()["items"]
    assert [e["url"] for e in listed] == [HOOK["url"]] and "secret" not in listed[0]
    eid = r.json()["id"]
    assert api.client.post(f"/api/v1/webhooks/{eid}/disable", headers=owner).json()["active"] is False
    assert api.client.get("/api/v1/webhooks", headers=owner).json()["items"][0]["active"] is False
    assert api.client.post(f"/api/v1/webhooks/{eid}/enable", headers=owner).json()["active"] is True
    r = api.client.post("/api/v1/webhooks/999999/enable", headers=owner)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    r = api.client.post("/api/v1/webhooks", json={**HOOK, "url": "http://erp.example.com/x"}, headers=owner)
    assert r.status_code == 400 and r.json()["code"] == "WEBHOOK_URL_INVALID" and r.json()["field"] == "url"
    r = api.client.post("/api/v1/webhooks", json={**HOOK, "event_types": []}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "event_types"


def test_dead_letters_are_listed_retried_and_discarded_with_an_audit_record(api, shop, owner):
    api.client.post("/api/v1/webhooks", json=HOOK, headers=owner)
    receipt(api, shop)
    did = dead_letter(api)
    dead = api.client.get("/api/v1/webhooks/deliveries", params={"state": "dead"}, headers=owner).json()["items"]
    assert [(d["id"], d["event_type"], d["last_error"]) for d in dead] == [(did, "stock.posted", "HTTP 500")]
    ops = api.client.get("/api/v1/ops", headers=owner).json()
    assert ops["webhooks"]["dead"] == 1 and ops["endpoints"][0]["consecutive_failures"] == 1
    r = api.client.post(f"/api/v1/webhooks/deliveries/{did}/retry", headers=owner)
    assert r.json()["state"] == "pending"
    assert api.client.get("/api/v1/webhooks/deliveries", params={"state": "dead"}, headers=owner).json()["items"] == []
    r = api.client.post(f"/api/v1/webhooks/deliveries/{did}/discard", headers=owner)
    assert r.json()["state"] == "discarded"
    r = api.client.post(f"/api/v1/webhooks/deliveries/{did}/discard", headers=owner)
    assert r.status_code == 409 and r.json()["code"] == "DELIVERY_NOT_RETRYABLE"
    r = api.client.post("/api/v1/webhooks/deliveries/999999/retry", headers=owner)
    assert r.status_code == 404
    audit = api.app.queries.audit(action="webhook.", limit=10)
    assert [(a["action"], a["actor"]) for a in audit][:2] == [("webhook.discard", "laoban"),
                                                                 ("webhook.replay", "laoban")]
    r = api.client.get("/api/v1/webhooks/deliveries", params={"state": "lost"}, headers=owner)
    assert r.status_code == 422 and r.json()["field"] == "state"


def test_operations_view_shows_queue_depth_age_and_route_latency_as_json_and_prometheus(api, shop, owner):
    receipt(api, shop)
    receipt(api, shop, "3")
    for _ in range(3):
        assert api.client.get("/api/v1/documents/999999", headers=owner).status_code == 404
    ops = api.client.get("/api/v1/ops", headers=owner).json()
    assert ops["outbox"]["depth"] == 2 and ops["outbox"]["oldest_undelivered_age_s"] > 0
    route = next(r for r in ops["http"] if r["route"] == "/api/v1/documents/{doc_id}")
    assert route["count"] == 3 and route["statuses"] == {"4xx": 3} and route["latency_ms_max"] > 0
    assert ops["ingest"] == {"held_open": 0}
    text = api.client.get("/metrics", headers=owner).text
    assert "jxc_outbox_depth 2\n" in text
    assert 'jxc_http_request_duration_seconds_count{method="GET",route="/api/v1/documents/{doc_id}"} 3' in text
    assert 'jxc_http_responses_total{method="GET",route="/api/v1/documents/{doc_id}",status="4xx"} 3' in text
    assert "/api/v1/documents/999999" not in text  # labelled by template, never by raw path
    outbox_delivery.drain(api.app.uow_factory, api.app.clock.now)
    assert api.client.get("/api/v1/ops", headers=owner).json()["outbox"] == {"depth": 0,
                                                                             "oldest_undelivered_age_s": 0.0}


def test_operations_are_for_owners_only(api, shop):
    keeper = api.token(api.user("xiaoli", "keeper"))
    for method, path in (("GET", "/api/v1/ops"), ("GET", "/metrics"), ("GET", "/api/v1/webhooks"),
                         ("GET", "/api/v1/webhooks/deliveries"), ("POST", "/api/v1/webhooks/deliveries/1/retry")):
        r = api.client.request(method, path, headers=keeper)
        assert r.status_code == 403 and r.json()["code"] == "PERMISSION_DENIED", (path, r.text)
    r = api.client.post("/api/v1/webhooks", json=HOOK, headers=keeper)
    assert r.status_code == 403
    assert api.client.get("/metrics").status_code == 401

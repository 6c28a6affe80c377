"""HTTP — health, the home page needs a login, stock query, and the one error envelope."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from jxc.domain.ledger import Movement
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW


def test_healthz_reports_database_and_schema(api):
    body = api.client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] == api.app.engine.dialect.name


def test_stock_now_and_as_of(api, shop, owner):
    post(api.app.uow_factory, PostingRequest("receipt", (Movement(shop.rice, D(7), shop.supplier,
                                                                  shop.shelf_a, unit_cost=D(3)),), NOW),
         SYSTEM, NOW)
    rows = api.client.get("/api/v1/stock", params={"product": "P002"}, headers=owner).json()
    assert [(r["location"], r["qty"], r["value"]) for r in rows] == [("A-01", "7.0000", "21.0000")]
    before = (NOW - timedelta(minutes=1)).isoformat()
    assert api.client.get("/api/v1/stock", params={"product": "P002", "at": before}, headers=owner).json() == []
    assert api.client.get("/", follow_redirects=False).headers["location"] == "/login?next=%2F"  # pages: tests/web


def test_unknown_code_gets_problem_details_with_both_languages(api, owner):
    r = api.client.get("/api/v1/stock", params={"warehouse": "NOPE"}, headers=owner)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "code", "field", "message_zh", "message_en"} <= body.keys()
    assert body["code"] == "NOT_FOUND" and body["field"] == "warehouse"
    assert "NOPE" in body["message_zh"] and "NOPE" in body["message_en"]


def test_openapi_and_docs_page_are_served(api):
    spec = api.client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/documents/{doc_id}/submit" in spec["paths"]
    assert api.client.get("/api/v1/docs").status_code == 200

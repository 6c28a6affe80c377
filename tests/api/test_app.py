"""HTTP — health, home page, stock query, and the one error envelope."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from fastapi.testclient import TestClient

from jxc.domain.ledger import Movement
from jxc.interfaces.api.app import create_app
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW


def test_healthz_reports_database_and_schema(app):
    body = TestClient(create_app(app)).get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] == app.engine.dialect.name


def test_stock_now_and_as_of(app, world):
    post(app.uow_factory, PostingRequest("receipt", (Movement(world.rice, D(7), world.supplier,
                                                              world.shelf_a, unit_cost=D(3)),), NOW),
         SYSTEM, NOW)
    client = TestClient(create_app(app))
    rows = client.get("/api/v1/stock", params={"product": "P002"}).json()
    assert [(r["location"], r["qty"], r["value"]) for r in rows] == [("A-01", "7.0000", "21.0000")]
    before = (NOW - timedelta(minutes=1)).isoformat()
    assert client.get("/api/v1/stock", params={"product": "P002", "at": before}).json() == []
    assert "东北大米" in client.get("/").text


def test_unknown_code_gets_problem_details_with_both_languages(app):
    r = TestClient(create_app(app)).get("/api/v1/stock", params={"warehouse": "NOPE"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "code", "field", "message_zh", "message_en"} <= body.keys()
    assert body["code"] == "NOT_FOUND" and body["field"] == "warehouse"
    assert "NOPE" in body["message_zh"] and "NOPE" in body["message_en"]

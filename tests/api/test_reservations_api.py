"""可用量与预占接口 — the why-breakdown, FEFO order, reserve with the available figure, release, scope."""

from __future__ import annotations

from decimal import Decimal as D

from jxc.domain.ledger import Movement
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW


def _stock(app, w, n="10"):
    post(app.uow_factory, PostingRequest("receipt", (Movement(w.rice, D(n), w.supplier, w.shelf_a, unit_cost=D(2)),),
                                         NOW), SYSTEM, NOW)


def test_reserve_explain_and_release_over_http(api, shop, owner):
    _stock(api.app, shop)
    c = api.client
    r = c.post("/api/v1/reservations", headers=owner, json={
        "product_id": shop.rice, "warehouse_id": shop.wh, "qty": "7", "holder": "meituan:889"})
    assert r.status_code == 201, r.text
    rid = r.json()["reservation_id"]
    why = c.get("/api/v1/stock/available", headers=owner,
                params={"product_id": shop.rice, "warehouse_id": shop.wh}).json()
    assert (why["on_hand"], why["reserved"], why["available"]) == ("10.0000", "7.0000", "3.0000")
    assert {"reason": "reserved", "holder": "meituan:889"}.items() <= why["parts"][-1].items()
    refused = c.post("/api/v1/reservations", headers=owner, json={
        "product_id": shop.rice, "warehouse_id": shop.wh, "qty": "4", "holder": "order:2"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "STOCK_INSUFFICIENT" and refused.json()["details"]["available"] == "3.0000"
    done = c.post(f"/api/v1/reservations/{rid}/release", headers=owner, json={"reason": "客户取消"})
    assert done.json()["released"] == "7.0000"
    lots = c.get("/api/v1/stock/shippable-lots", headers=owner, params={"product_id": shop.rice, "warehouse_id": shop.wh})
    assert [x["qty"] for x in lots.json()] == ["10.0000"]


def test_reservation_endpoints_need_login_and_respect_warehouse_scope(api, shop, owner):
    assert api.client.get("/api/v1/stock/available", params={"product_id": shop.rice,
                                                             "warehouse_id": shop.wh}).status_code == 401
    from jxc.services import masterdata

    other = masterdata.create(api.app.uow_factory, "warehouses", {"code": "W9", "name": "外仓"}, SYSTEM, NOW)
    api.user("xiaoliu", "sales", warehouses=[other])
    scoped = api.token("xiaoliu")
    r = api.client.get("/api/v1/stock/available", headers=scoped, params={"product_id": shop.rice,
                                                                         "warehouse_id": shop.wh})
    assert r.status_code == 403 and r.json()["code"] == "WAREHOUSE_NOT_PERMITTED"

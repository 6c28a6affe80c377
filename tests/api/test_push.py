"""Real-time push — a posting made on one connection is seen on another's WebSocket; resume by event id."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jxc.interfaces.api.app import create_app
from jxc.services import auth, users
from jxc.services.posting import SYSTEM
from tests.api.conftest import PASSWORD
from tests.conftest import NOW, make_world


def receive(ws: Any, timeout_s: float = 5.0) -> dict[str, Any]:
    box: list[Any] = []
    t = threading.Thread(target=lambda: box.append(ws.receive_json()), daemon=True)
    t.start()
    t.join(timeout_s)
    assert box, f"no message within {timeout_s} s"
    return box[0]


def until(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(20):
        m = receive(ws)
        if m["type"] == kind:
            return m
    raise AssertionError(f"no {kind} message")


def _token(app, username, role, scopes=("*",)):
    users.create_user(app.uow_factory, username, PASSWORD, role, SYSTEM, NOW)
    actor = users.actor_for(app.uow_factory, username)
    return {"Authorization": "Bearer " + auth.create_token(app.uow_factory, "ws", scopes, actor, NOW)[1]}


@pytest.fixture
def live(file_app):
    world = make_world(file_app)
    file_app.settings.worker_poll_s = 0.05
    with TestClient(create_app(file_app, run_worker=True)) as client:
        yield file_app, world, client


def test_a_posting_on_one_connection_is_pushed_to_another_and_a_reconnect_resumes(live):
    app, world, client = live
    owner = _token(app, "laoban", "owner")
    body = {"kind": "purchase_receipt", "warehouse_id": world.wh, "effective_at": NOW.isoformat(),
            "lines": [{"product_id": world.rice, "qty": "4", "unit_price": "3"}]}
    with client.websocket_connect("/api/v1/ws", headers=owner) as ws:
        assert receive(ws)["type"] == "ready"
        doc = client.post("/api/v1/documents", json=body, headers=owner).json()
        client.post(f"/api/v1/documents/{doc['id']}/submit", headers=owner)
        stock = until(ws, "stock.posted")
        assert stock["warehouses"] == [world.wh] and stock["data"]["kind"] == "purchase_receipt"
    seen = stock["id"]
    doc2 = client.post("/api/v1/documents", json=body, headers=owner).json()
    client.post(f"/api/v1/documents/{doc2['id']}/submit", headers=owner)
    with client.websocket_connect(f"/api/v1/ws?last_event_id={seen}", headers=owner) as ws:
        replayed = []
        while (m := receive(ws))["type"] != "ready":
            replayed.append(m)
        assert all(m["id"] > seen for m in replayed)
        if not any(m["type"] == "stock.posted" for m in replayed):  # the worker may not have run yet
            until(ws, "stock.posted")


def test_websocket_without_credentials_is_closed(live):
    _, _, client = live
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect("/api/v1/ws") as ws:
        ws.receive_json()
    assert exc.value.code == 4401


def _receipt(world, warehouse_id, qty="4"):
    return {"kind": "purchase_receipt", "warehouse_id": warehouse_id, "effective_at": NOW.isoformat(),
            "lines": [{"product_id": world.rice, "qty": qty, "unit_price": "3"}]}


def _post(client, headers, body):
    doc = client.post("/api/v1/documents", json=body, headers=headers)
    assert doc.status_code == 201, doc.text
    r = client.post(f"/api/v1/documents/{doc.json()['id']}/submit", headers=headers)
    assert r.json()["state"] == "posted", r.text
    return r.json()


def _delivered(app, event_type, n, timeout_s=5.0):
    """Wait until the worker has delivered ``n`` events of this type; return their ids."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ids = [e["id"] for e in app.queries.events_since(0, 1000) if e["event_type"] == event_type]
        if len(ids) >= n:
            return ids
        time.sleep(0.05)
    raise AssertionError(f"the worker delivered fewer than {n} {event_type} events in {timeout_s} s")


def test_a_client_scoped_to_one_warehouse_gets_its_changes_and_never_anothers(live):
    from jxc.services import admin, masterdata

    app, world, client = live
    owner = _token(app, "laoban", "owner")
    wh2 = masterdata.create(app.uow_factory, "warehouses", {"code": "WH2", "name": "二店"}, SYSTEM, NOW)
    keeper = _token(app, "xiaoli", "keeper")
    from dataclasses import replace

    admin.set_user_access(app.uow_factory, "xiaoli", replace(SYSTEM, reauthenticated=True), NOW, warehouse_ids=[wh2])
    with client.websocket_connect("/api/v1/ws", headers=owner) as everyone, \
            client.websocket_connect("/api/v1/ws", headers=keeper) as scoped:
        assert receive(everyone)["type"] == "ready" and receive(scoped)["type"] == "ready"
        _post(client, owner, _receipt(world, world.wh))
        assert until(everyone, "stock.posted")["warehouses"] == [world.wh]  # delivered and pushed by now
        _post(client, owner, _receipt(world, wh2))
        seen = []
        while (m := receive(scoped))["type"] != "stock.posted":
            seen.append(m)
        seen.append(m)
        assert m["warehouses"] == [wh2]
        assert all(x["warehouses"] == [wh2] for x in seen), [(x["type"], x["warehouses"]) for x in seen]
        assert until(everyone, "stock.posted")["warehouses"] == [wh2]


def test_a_reconnecting_client_gets_every_event_it_missed_in_order_before_ready(live):
    app, world, client = live
    owner = _token(app, "laoban", "owner")
    with client.websocket_connect("/api/v1/ws", headers=owner) as ws:
        assert receive(ws)["type"] == "ready"
        _post(client, owner, _receipt(world, world.wh))
        seen = until(ws, "stock.posted")["id"]
    _post(client, owner, _receipt(world, world.wh, "5"))  # while disconnected
    _post(client, owner, _receipt(world, world.wh, "6"))
    missed = [i for i in _delivered(app, "stock.posted", 3) if i > seen]
    assert len(missed) == 2
    with client.websocket_connect(f"/api/v1/ws?last_event_id={seen}", headers=owner) as ws:
        replayed = []
        while (m := receive(ws))["type"] != "ready":
            replayed.append(m)
        ids = [m["id"] for m in replayed]
        assert ids == sorted(ids) and all(i > seen for i in ids)
        assert [m["id"] for m in replayed if m["type"] == "stock.posted"] == missed
        assert m["last_event_id"] == ids[-1]


def test_events_naming_a_warehouse_reach_only_clients_of_that_warehouse(app):
    from jxc.interfaces.api.push import PushHub, visible
    from jxc.services.posting import Actor

    hub = PushHub(app)
    held = {"id": 9, "event_type": "ingest.held", "aggregate": "ingest_event", "aggregate_id": "3",
            "created_at": NOW, "payload": {"warehouse_id": 2, "message_zh": "库存异常"}}
    (m,) = hub.messages([held])
    assert m["warehouses"] == [2]
    topics = frozenset({"ingest"})
    assert visible(Actor("a", warehouses=frozenset({2})), topics, m)
    assert not visible(Actor("b", warehouses=frozenset({1})), topics, m)
    assert not visible(Actor("a", warehouses=frozenset({2})), frozenset({"stock"}), m)  # not subscribed

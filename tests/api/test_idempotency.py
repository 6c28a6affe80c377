"""Idempotency-Key at the HTTP boundary (I7): in-progress repeats, released keys after a 5xx, a
race for one key, stored refusals, and the error envelope of an unexpected failure."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

from fastapi.testclient import TestClient

from jxc.domain.errors import DomainError
from jxc.domain.ledger import Movement
from jxc.services import api_idempotency as idem
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW

ENVELOPE = {"type", "title", "status", "detail", "instance", "code", "field", "message_zh", "message_en"}


def test_a_repeat_while_the_first_runs_is_409_and_a_5xx_releases_the_key(app):
    f = app.uow_factory
    assert idem.begin(f, "caller", "k1", "POST", "/api/v1/x", b"{}", NOW) is None
    try:
        idem.begin(f, "caller", "k1", "POST", "/api/v1/x", b"{}", NOW)
        raise AssertionError("a repeat while the first is running must be refused")
    except DomainError as exc:
        assert (exc.code, exc.status) == ("IDEMPOTENCY_IN_PROGRESS", 409)
    idem.finish(f, "caller", "k1", 503, "down")
    assert idem.begin(f, "caller", "k1", "POST", "/api/v1/x", b"{}", NOW) is None  # the retry may succeed now
    idem.finish(f, "caller", "k1", 201, '{"id": 1}')
    assert idem.begin(f, "caller", "k1", "POST", "/api/v1/x", b"{}", NOW) == idem.Replay(201, '{"id": 1}')
    assert idem.begin(f, "someone-else", "k1", "POST", "/api/v1/x", b"{}", NOW) is None  # keys are per caller


def test_of_many_simultaneous_requests_with_one_key_exactly_one_owns_it(file_app):
    n = 16
    barrier = threading.Barrier(n)

    def one(_: int) -> str:
        barrier.wait()
        try:
            return "owner" if idem.begin(file_app.uow_factory, "pos-1", "sale-42", "POST", "/api/v1/ingest/pos",
                                         b'{"a": 1}', NOW) is None else "replay"
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(n) as pool:
        outcome = Counter(pool.map(one, range(n)))
    assert outcome == Counter({"owner": 1, "IDEMPOTENCY_IN_PROGRESS": n - 1})


def test_a_stored_refusal_is_replayed_not_run_again_and_another_path_is_a_mismatch(api, shop, owner):
    body = {"product_id": shop.rice, "warehouse_id": shop.wh, "qty": "3", "holder": "order:1"}
    headers = {**owner, "Idempotency-Key": "reserve-1"}
    first = api.client.post("/api/v1/reservations", json=body, headers=headers)
    assert first.status_code == 409 and first.json()["code"] == "STOCK_INSUFFICIENT"
    post(api.app.uow_factory, PostingRequest("receipt", (Movement(shop.rice, D(10), shop.supplier, shop.shelf_a,
                                                                  unit_cost=D(1)),), NOW), SYSTEM, NOW)
    again = api.client.post("/api/v1/reservations", json=body, headers=headers)
    assert again.status_code == 409 and again.json() == first.json()
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.headers["idempotent-replayed"] == "true"
    other = api.client.post("/api/v1/reservations/1/release", json={}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_MISMATCH"
    fresh = api.client.post("/api/v1/reservations", json=body, headers={**owner, "Idempotency-Key": "reserve-2"})
    assert fresh.status_code == 201


def test_an_unexpected_failure_is_500_in_the_envelope_without_internals(api, owner):
    def boom() -> None:
        raise RuntimeError("secret detail: password=hunter2")

    api.client.app.add_api_route("/api/v1/boom", boom, methods=["GET"])
    with TestClient(api.client.app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/boom", headers=owner)
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
    assert ENVELOPE <= r.json().keys() and r.json()["code"] == "INTERNAL_ERROR"
    assert "hunter2" not in r.text and "Traceback" not in r.text

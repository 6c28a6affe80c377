"""Push across server processes (PostgreSQL): a posting made through server 1 reaches a WebSocket
client of server 2 within a second. Server 2 runs no worker, so it can only learn of the change
from the database: its hub LISTENs, and the worker's NOTIFY (sent when its delivery commits)
wakes it. Two real `jxc serve` processes on free ports, one database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from websockets.sync.client import connect

from jxc.services import auth, users
from jxc.services.posting import SYSTEM
from tests.api.conftest import PASSWORD
from tests.conftest import NOW, make_world


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, port: int, data_dir: Path, worker: bool) -> subprocess.Popen:
    env = {**os.environ, "JXC_DATABASE_URL": url, "JXC_DATA_DIR": str(data_dir), "JXC_WORKER_POLL_S": "0.05",
           "JXC_WORKER_IN_PROCESS": "true" if worker else "false"}
    return subprocess.Popen([sys.executable, "-m", "jxc.interfaces.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_healthy(port: int, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode()[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server on port {port} did not start in {timeout_s} s")


def _listeners(app, want: int, timeout_s: float = 5) -> int:
    """Sessions of this database whose last statement was LISTEN (the hub starts its own in a thread)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with app.engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND query ILIKE 'LISTEN %'")).scalar()
        if n >= want or time.monotonic() > deadline:
            return n
        time.sleep(0.1)


@pytest.mark.postgres
def test_a_posting_through_server_1_reaches_a_websocket_client_of_server_2_within_a_second(file_app, tmp_path):
    if file_app.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY fan-out across processes is a PostgreSQL feature (run with --db=postgresql)")
    world = make_world(file_app)
    users.create_user(file_app.uow_factory, "laoban", PASSWORD, "owner", SYSTEM, NOW)
    actor = users.actor_for(file_app.uow_factory, "laoban")
    bearer = {"Authorization": "Bearer " + auth.create_token(file_app.uow_factory, "t", ["*"], actor, NOW)[1]}
    url = file_app.engine.url.render_as_string(hide_password=False)
    p1, p2 = _free_port(), _free_port()
    one = _serve(url, p1, tmp_path / "one", worker=True)
    two = _serve(url, p2, tmp_path / "two", worker=False)
    try:
        _wait_healthy(p1, one)
        _wait_healthy(p2, two)
        with connect(f"ws://127.0.0.1:{p2}/api/v1/ws", additional_headers=bearer, open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "ready"
            assert _listeners(file_app, 1) == 1  # server 2's hub listens; server 1 has had nothing to push yet
            body = {"kind": "purchase_receipt", "warehouse_id": world.wh, "effective_at": NOW.isoformat(),
                    "lines": [{"product_id": world.rice, "qty": "4", "unit_price": "3"}]}
            with httpx.Client(base_url=f"http://127.0.0.1:{p1}", headers=bearer, timeout=10) as http:
                doc = http.post("/api/v1/documents", json=body).json()
                posted = http.post(f"/api/v1/documents/{doc['id']}/submit")
                done = time.monotonic()
                assert posted.json()["state"] == "posted"
            while True:
                m = json.loads(ws.recv(timeout=3))
                if m["type"] == "stock.posted":
                    break
            latency = time.monotonic() - done
            assert m["data"]["posting_id"] == posted.json()["posting_id"] and m["warehouses"] == [world.wh]
            assert latency < 1.0, f"server 2 pushed the change {latency:.2f} s after it was posted"
    finally:
        for proc in (one, two):
            proc.terminate()
            proc.wait(timeout=15)

"""Crash test: `jxc worker` killed (SIGKILL) mid-delivery → every event still arrives, duplicates
only with the same event id and the same body."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from decimal import Decimal as D
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import text

from jxc.domain.ledger import Movement
from jxc.services import webhooks
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW, make_world


class Receiver:
    """A webhook receiver on 127.0.0.1 that kills the worker when the third request arrives."""

    def __init__(self) -> None:
        self.bodies: dict[int, list[bytes]] = defaultdict(list)
        self.victim: subprocess.Popen | None = None
        self.count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies[int(self.headers["X-Jxc-Event-Id"])].append(body)
                receiver.count += 1
                if receiver.count == 3 and receiver.victim is not None:
                    os.kill(receiver.victim.pid, signal.SIGKILL)  # dies before it hears the answer
                    receiver.victim.wait()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jxc.interfaces.worker", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_killed_worker_loses_no_event_and_duplicates_keep_their_id(file_app, tmp_path):
    world = make_world(file_app)
    rx = Receiver()
    try:
        webhooks.register(file_app.uow_factory, rx.url, ["stock.posted"], SYSTEM, NOW)
        ids = []
        for i in range(6):
            ids.append(post(file_app.uow_factory, PostingRequest("receipt", (Movement(
                world.rice, D(i + 1), world.supplier, world.shelf_a, unit_cost=D(2)),), NOW), SYSTEM, NOW).posting_id)
        env = {**os.environ, "JXC_DATA_DIR": str(tmp_path), "JXC_WEBHOOK_LEASE_S": "0.5",
               "JXC_WORKER_POLL_S": "0.05"}
        if file_app.engine.dialect.name == "postgresql":
            env["JXC_DATABASE_URL"] = file_app.engine.url.render_as_string(hide_password=False)
        rx.victim = _worker(env)
        rx.victim.wait(timeout=30)
        assert rx.victim.returncode == -signal.SIGKILL
        time.sleep(0.6)  # the dead worker's lease runs out
        survivor = _worker(env, "--once")
        assert survivor.wait(timeout=30) == 0, survivor.stderr.read().decode()
    finally:
        rx.server.shutdown()
    with file_app.engine.connect() as conn:
        events = dict(conn.execute(text(
            "SELECT id, aggregate_id FROM outbox_events WHERE event_type = 'stock.posted'")).all())
        states = conn.execute(text("SELECT state, count(*) FROM webhook_deliveries GROUP BY state")).all()
    assert set(rx.bodies) == set(events) and sorted(int(a) for a in events.values()) == ids
    assert dict(states) == {"delivered": 6}
    assert any(len(b) > 1 for b in rx.bodies.values()), "the kill should have caused a redelivery"
    for bodies in rx.bodies.values():  # a duplicate is the same event: same id, same body
        assert len({json.loads(b)["id"] for b in bodies}) == 1 and len(set(bodies)) == 1

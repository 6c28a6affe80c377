"""Login throttling by user name and by client address, lockout that ends, session expiry, and the
WebSocket's cross-site check for cookie sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.websockets import WebSocketDisconnect

from jxc.domain.errors import DomainError
from jxc.services import auth, users
from jxc.services.posting import SYSTEM
from tests.api.conftest import PASSWORD
from tests.conftest import NOW

POLICY = auth.LoginPolicy(max_failures=3, window=timedelta(minutes=10), lockout=timedelta(minutes=15))


def attempt(app, name, password, at, ip="10.0.0.9") -> str:
    try:
        auth.login(app.uow_factory, name, password, at, POLICY, ip)
        return "ok"
    except DomainError as exc:
        return exc.code


def test_one_address_guessing_many_user_names_is_locked_out_for_every_name(app):
    users.create_user(app.uow_factory, "xiaoli", PASSWORD, "keeper", SYSTEM, NOW)
    for i in range(4 * POLICY.max_failures):  # 4× the per-user allowance, spread over names
        assert attempt(app, f"guess{i}", "x", NOW + timedelta(seconds=i)) == "AUTH_FAILED"
    assert attempt(app, "xiaoli", PASSWORD, NOW + timedelta(minutes=1)) == "LOGIN_LOCKED"
    assert attempt(app, "xiaoli", PASSWORD, NOW + timedelta(minutes=1), ip="10.0.0.10") == "ok"


def test_a_lockout_ends_after_its_time_and_old_failures_fall_out_of_the_window(app):
    users.create_user(app.uow_factory, "xiaoli", PASSWORD, "keeper", SYSTEM, NOW)
    for i in range(POLICY.max_failures):
        attempt(app, "xiaoli", "x", NOW + timedelta(seconds=i))
    assert attempt(app, "xiaoli", PASSWORD, NOW + timedelta(minutes=5)) == "LOGIN_LOCKED"
    assert attempt(app, "xiaoli", PASSWORD, NOW + timedelta(minutes=16)) == "ok"
    later = NOW + timedelta(hours=1)
    for i in range(POLICY.max_failures - 1):
        attempt(app, "xiaoli", "x", later + timedelta(seconds=i))
    assert attempt(app, "xiaoli", "x", later + timedelta(minutes=11)) == "AUTH_FAILED"  # a new window
    assert attempt(app, "xiaoli", PASSWORD, later + timedelta(minutes=11, seconds=1)) == "ok"


def test_an_expired_session_is_refused(app):
    users.create_user(app.uow_factory, "xiaoli", PASSWORD, "keeper", SYSTEM, NOW)
    s = auth.login(app.uow_factory, "xiaoli", PASSWORD, NOW, POLICY)
    assert auth.session_actor(app.uow_factory, s.secret, NOW + timedelta(hours=1))[0].name == "xiaoli"
    with pytest.raises(DomainError) as exc:
        auth.session_actor(app.uow_factory, s.secret, s.expires_at)
    assert (exc.value.code, exc.value.status) == ("AUTH_REQUIRED", 401)


def test_websocket_with_a_session_cookie_refuses_a_foreign_origin(api):
    api.user("xiaoli", "keeper")
    c = api.login("xiaoli")
    with pytest.raises(WebSocketDisconnect) as exc, c.websocket_connect(
            "/api/v1/ws", headers={"origin": "https://evil.example"}) as ws:
        ws.receive_json()
    assert exc.value.code == 4401 and exc.value.reason == "CSRF_FAILED"
    with c.websocket_connect("/api/v1/ws", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "ready"

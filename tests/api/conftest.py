"""API fixtures: a TestClient per test, users of several roles, logins and bearer tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from jxc.bootstrap import App
from jxc.interfaces.api.app import create_app
from jxc.services import admin, auth, users
from jxc.services.posting import SYSTEM
from tests.conftest import NOW, World, make_world

PASSWORD = "secret-pass-1"


@dataclass
class Api:
    app: App
    client: TestClient

    def user(self, username: str, role: str, warehouses: list[int] | None = None) -> str:
        users.create_user(self.app.uow_factory, username, PASSWORD, role, SYSTEM, NOW)
        if warehouses is not None:
            from dataclasses import replace

            admin.set_user_access(self.app.uow_factory, username, replace(SYSTEM, reauthenticated=True), NOW,
                                  warehouse_ids=warehouses)
        return username

    def token(self, username: str, scopes: tuple[str, ...] = ("*",)) -> dict[str, str]:
        actor = users.actor_for(self.app.uow_factory, username)
        _, secret = auth.create_token(self.app.uow_factory, "test device", scopes, actor, NOW)
        return {"Authorization": f"Bearer {secret}"}

    def login(self, username: str) -> TestClient:
        """A client of its own, logged in with a cookie; its default headers carry the CSRF token."""
        c = TestClient(self.client.app)
        r = c.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c


@pytest.fixture
def api(app: App) -> Iterator[Api]:
    with TestClient(create_app(app)) as client:
        yield Api(app, client)


@pytest.fixture
def shop(app: App) -> World:
    return make_world(app)


@pytest.fixture
def owner(api: Api) -> dict[str, str]:
    api.user("laoban", "owner")
    return api.token("laoban")

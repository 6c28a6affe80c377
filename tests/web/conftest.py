"""Web fixtures: a TestClient on the pages, a small shop with stock, users of several roles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from jxc.bootstrap import App
from jxc.domain.documents import DocumentKind as K
from jxc.interfaces.api.app import create_app
from jxc.services import documents, users
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW, World, make_world

PASSWORD = "secret-pass-1"


ROLES = {"laoban": "owner", "zhang": "keeper", "liu": "sales"}


@dataclass
class Web:
    app: App
    world: World
    made: set[str] = field(default_factory=set)

    def user(self, username: str) -> str:
        """Create the user on first use (argon2 makes each one cost ~0.3 s)."""
        if username not in self.made:
            users.create_user(self.app.uow_factory, username, PASSWORD, ROLES[username], SYSTEM, NOW)
            self.made.add(username)
        return username

    def client(self) -> TestClient:
        return TestClient(create_app(self.app))

    def login(self, username: str, password: str = PASSWORD) -> TestClient:
        """A client logged in through the login form; its default headers carry the page's CSRF token."""
        c = self.client()
        r = c.post("/login", data={"username": self.user(username), "password": password}, follow_redirects=False)
        assert r.status_code == 303, r.text
        c.headers["X-CSRF-Token"] = csrf_of(c.get("/").text)
        return c

    def actor(self, username: str) -> Actor:
        return users.actor_for(self.app.uow_factory, self.user(username))

    def receive(self, product: int, qty: str, lot: int = 0) -> int:
        doc = documents.create_draft(self.app.uow_factory, DraftInput(
            K.PURCHASE_RECEIPT, self.world.wh, (LineInput(product, qty, lot_id=lot, unit_price="3"),)),
            self.actor("zhang"), NOW)
        documents.submit(self.app.uow_factory, doc, self.actor("zhang"), NOW)
        return doc

    def pending_scrap(self, product: int, qty: str) -> int:
        """A keeper's scrap: it waits for approval (and moves no stock until then)."""
        keeper = self.actor("zhang")
        doc = documents.create_draft(self.app.uow_factory, DraftInput(
            K.SCRAP, self.world.wh, (LineInput(product, qty),), reason_code="expired"), keeper, NOW)
        documents.submit(self.app.uow_factory, doc, keeper, NOW)
        assert documents.get(self.app.uow_factory, doc)["state"] == "pending_approval"
        return doc


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page carries no CSRF token"
    return m.group(1)


@pytest.fixture
def web(app: App) -> Iterator[Web]:
    yield Web(app, make_world(app))


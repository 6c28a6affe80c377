"""Property test of the whole API against its own OpenAPI 3 spec: no input makes it answer 5xx, and
every refusal is in the one error envelope."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from jxc.interfaces.api.app import create_app
from jxc.services import auth, users
from jxc.services.posting import SYSTEM
from tests.api.conftest import PASSWORD
from tests.conftest import NOW, make_world

ENVELOPE = {"type", "title", "status", "detail", "code", "field", "message_zh", "message_en"}


@pytest.fixture
def api_schema(app):
    make_world(app)
    users.create_user(app.uow_factory, "laoban", PASSWORD, "owner", SYSTEM, NOW)
    actor = users.actor_for(app.uow_factory, "laoban")
    app.schemathesis_token = auth.create_token(app.uow_factory, "fuzz", ["*"], actor, NOW)[1]
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(app))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=2, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail_with_5xx(case, app):
    response = case.call(headers={"Authorization": f"Bearer {app.schemathesis_token}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400:
        content_type = response.headers["content-type"]
        assert "application/problem+json" in (content_type[0] if isinstance(content_type, list) else content_type)
        assert ENVELOPE <= response.json().keys()

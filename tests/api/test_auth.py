"""Auth — session cookie with CSRF, bearer tokens with scopes, login lockout, 401/403 refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api.conftest import PASSWORD

ENVELOPE = {"type", "title", "status", "detail", "instance", "code", "field", "message_zh", "message_en"}


def test_no_credentials_is_401_in_the_envelope(api):
    r = api.client.get("/api/v1/products")
    assert r.status_code == 401 and ENVELOPE <= r.json().keys()
    assert r.json()["code"] == "AUTH_REQUIRED"


def test_login_sets_an_httponly_cookie_and_me_answers(api):
    api.user("xiaoli", "keeper")
    c = api.login("xiaoli")
    assert "httponly" in c.cookies.jar._cookies.__repr__().lower() or c.cookies.get("jxc_session")
    me = c.get("/api/v1/auth/me").json()
    assert me["username"] == "xiaoli" and me["role"] == "keeper"
    assert c.post("/api/v1/auth/logout").status_code == 200
    assert c.get("/api/v1/auth/me").status_code == 401


def test_wrong_password_is_401_and_does_not_say_which_part_was_wrong(api):
    api.user("xiaoli", "keeper")
    for name in ("xiaoli", "nobody"):
        r = api.client.post("/api/v1/auth/login", json={"username": name, "password": "wrong-one"})
        assert r.status_code == 401 and r.json()["code"] == "AUTH_FAILED"


def test_five_failures_lock_the_user_out_even_with_the_right_password(api):
    api.user("xiaoli", "keeper")
    for _ in range(5):
        api.client.post("/api/v1/auth/login", json={"username": "xiaoli", "password": "wrong-one"})
    r = api.client.post("/api/v1/auth/login", json={"username": "xiaoli", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["code"] == "LOGIN_LOCKED"
    assert int(r.headers["Retry-After"]) > 0
    actions = api.app.queries.audit(username="xiaoli", limit=20)
    assert [a["action"] for a in actions].count("login.failed") == 5 and actions[0]["action"] == "login.locked"


def test_cookie_session_needs_the_csrf_token_on_unsafe_methods(api):
    api.user("laoban", "owner")
    c = api.login("laoban")
    body = {"code": "P9", "name": "测试", "base_unit": "个"}
    bare = TestClient(c.app, cookies=dict(c.cookies))
    r = bare.post("/api/v1/products", json=body)
    assert r.status_code == 403 and r.json()["code"] == "CSRF_FAILED"
    assert c.post("/api/v1/products", json=body).status_code == 201


def test_bearer_token_is_stored_hashed_and_listed_without_its_secret(api, owner):
    r = api.client.post("/api/v1/tokens", json={"name": "收银机1号", "scopes": ["report.view"]}, headers=owner)
    assert r.status_code == 201
    secret = r.json()["token"]
    with api.app.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert secret not in stored and len(stored) == 2
    listed = api.client.get("/api/v1/tokens", headers=owner).json()["items"]
    assert {t["name"] for t in listed} == {"test device", "收银机1号"}
    assert all("token_hash" not in t and "token" not in t for t in listed)


def test_token_scopes_narrow_the_users_permissions(api, shop):
    api.user("laoban", "owner")
    narrow = api.token("laoban", ("report.view",))
    r = api.client.post("/api/v1/products", json={"code": "P9", "name": "x", "base_unit": "个"}, headers=narrow)
    assert r.status_code == 403 and r.json()["code"] == "PERMISSION_DENIED"
    assert api.client.get("/api/v1/products", headers=narrow).status_code == 200


def test_a_token_cannot_grant_more_than_its_creator_holds(api):
    api.user("xiaoli", "keeper")
    r = api.client.post("/api/v1/tokens", json={"name": "x", "scopes": ["user.manage"]}, headers=api.token("xiaoli"))
    assert r.status_code == 422 and r.json()["field"] == "scopes"


def test_revoked_token_is_refused_on_the_next_request(api, owner):
    tid = api.client.get("/api/v1/tokens", headers=owner).json()["items"][0]["id"]
    other = api.token("laoban")
    assert api.client.delete(f"/api/v1/tokens/{tid}", headers=other).status_code == 200
    r = api.client.get("/api/v1/products", headers=owner)
    assert r.status_code == 401 and r.json()["code"] == "TOKEN_INVALID"


def test_someone_elses_token_cannot_be_revoked(api, owner):
    api.user("xiaoli", "keeper")
    tid = api.client.get("/api/v1/tokens", headers=owner).json()["items"][0]["id"]
    r = api.client.delete(f"/api/v1/tokens/{tid}", headers=api.token("xiaoli"))
    assert r.status_code == 404

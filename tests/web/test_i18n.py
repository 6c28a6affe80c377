"""界面语言 — zh-CN first, English per user: catalogs complete, negotiation, switch, errors in the user's language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from scripts.i18n_check import extracted, missing

from jxc.domain.availability import STATUS_ZH
from jxc.domain.errors import DomainError
from jxc.interfaces.web import i18n, views
from jxc.services import preferences
from tests.conftest import NOW


def test_every_marked_text_has_an_english_entry():
    """A `_()` text in a template or web module with no English would show Chinese to English users."""
    assert len(extracted()) > 50  # the extractor really sees the templates
    gaps = missing()
    assert not gaps, "no English for (add to locale/en/LC_MESSAGES/<area>.po):\n" + "\n".join(
        f"  {f}: {m}" for m, f in sorted(gaps.items(), key=lambda kv: kv[1]))


def test_labels_shown_through_underscore_have_english_too():
    """Kind, state and stock-status labels come as data: each must be a catalog entry."""
    english = i18n.load().messages[i18n.EN]
    labels = [*views.KIND_ZH.values(), *views.STATE_ZH.values(), *STATUS_ZH.values()]
    assert [label for label in labels if label not in english] == []


def test_placeholders_survive_translation():
    """'%(name)s' in the Chinese must be in the English, or formatting breaks the page."""
    english = i18n.load().messages[i18n.EN]
    broken = {zh: en for zh, en in english.items()
              if sorted(re.findall(r"%\(\w+\)s", zh)) != sorted(re.findall(r"%\(\w+\)s", en))}
    assert broken == {}


def test_two_area_files_translating_one_text_differently_refuse_to_load(tmp_path: Path):
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "a.po").write_text('msgid "库存"\nmsgstr "Stock"\n', encoding="utf-8")
    (folder / "b.po").write_text('msgid "库存"\nmsgstr "Inventory"\n', encoding="utf-8")
    with pytest.raises(i18n.CatalogConflict, match="a.po and b.po"):
        i18n.load(tmp_path)
    (folder / "b.po").write_text('msgid "库存"\nmsgstr "Stock"\n\nmsgid "仓库"\nmsgstr "Warehouse"\n',
                                 encoding="utf-8")
    loaded = i18n.load(tmp_path)  # the same translation twice is fine; both files are merged
    assert loaded.translations("en").gettext("仓库") == "Warehouse"
    assert loaded.translations("zh-CN").gettext("仓库") == "仓库"


@pytest.mark.parametrize(("raw", "lang"), [("en", "en"), ("en-US", "en"), ("EN_gb", "en"), ("zh", "zh-CN"),
                                           ("zh-Hans", "zh-CN"), ("fr", None), ("", None), (None, None)])
def test_language_codes_normalize(raw, lang):
    assert i18n.normalize(raw) == lang


def test_pages_are_chinese_by_default_and_english_by_cookie(web):
    web.user("laoban")  # a book with a user: /login is the login page, not the first-run wizard
    c = web.client()
    zh = c.get("/login").text
    assert '<html lang="zh-CN">' in zh and "<h1>登录</h1>" in zh and 'id="lang-switch"' in zh
    c.cookies.set("jxc_lang", "en")
    en = c.get("/login").text
    assert '<html lang="en">' in en and "<h1>Log in</h1>" in en and ">User name</label>" in en
    assert "登录" not in en


def test_switching_language_before_login_sets_the_cookie_and_returns_to_the_page(web):
    web.user("laoban")
    c = web.client()
    r = c.post("/lang", data={"lang": "en", "next": "/login?next=%2Fstock"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fstock"
    assert "jxc_lang=en" in r.headers["set-cookie"]
    assert "<h1>Log in</h1>" in c.get("/login").text
    r = c.post("/lang", data={"lang": "en", "next": "//evil.example"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_a_logged_in_users_choice_is_stored_and_follows_them_to_another_browser(web):
    c = web.login("laoban")
    assert "你好，laoban" in c.get("/").text
    r = c.post("/lang", data={"lang": "en", "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    assert "Hello, laoban" in c.get("/").text
    assert preferences.language(web.app.uow_factory, "laoban") == "en"
    other = web.login("laoban")  # a fresh browser: no cookie, the stored preference wins
    home = other.get("/").text
    assert "Hello, laoban" in home and '<span class="label">Stock value</span>' in home
    other.cookies.set("jxc_lang", "zh-CN")  # the stored preference beats a stale cookie
    assert "Hello, laoban" in other.get("/").text


def test_the_stored_language_needs_the_csrf_token_and_is_audited(web):
    c = web.login("laoban")
    del c.headers["X-CSRF-Token"]
    r = c.post("/lang", data={"lang": "en"})
    assert r.status_code == 403 and preferences.language(web.app.uow_factory, "laoban") is None
    preferences.set_language(web.app.uow_factory, "en", web.actor("laoban"), NOW)
    preferences.set_language(web.app.uow_factory, "en", web.actor("laoban"), NOW)  # no change: no record
    records = web.app.queries.audit(action="user.lang")
    assert [(r["actor"], json.loads(r["before"]), json.loads(r["after"])) for r in records] == [
        ("laoban", {"lang": None}, {"lang": "en"})]
    with pytest.raises(DomainError) as bad:
        preferences.set_language(web.app.uow_factory, "fr", web.actor("laoban"), NOW)
    assert bad.value.code == "VALUE_INVALID" and bad.value.field == "lang"


def test_english_user_sees_english_labels_and_messages_from_route_code(web):
    web.receive(web.world.rice, "3")
    doc = web.pending_scrap(web.world.rice, "1")
    c = web.login("laoban")
    c.cookies.set("jxc_lang", "en")
    page = c.get("/documents").text
    assert '<span class="badge pending_approval">Pending approval</span>' in page
    assert "Scrap · " in page and "Not posted: does not count in stock" in page
    r = c.post(f"/documents/{doc}/approve", data={"password": "not-it"}, headers={"HX-Request": "true"})
    assert "Wrong password; enter your password again to confirm" in r.text
    stock = c.get("/stock", params={"q": "牛肉"}).text
    assert "No stock found for “牛肉”." in stock


def test_domain_errors_on_pages_render_in_the_users_language_as_fragment_or_page(web):
    """An HTMX request gets a fragment aimed at the field's slot; a plain request a whole page."""
    from fastapi import FastAPI

    from jxc.interfaces.web.routes import page_error

    c = web.login("laoban")
    api: FastAPI = c.app  # type: ignore[assignment]

    @api.get("/boom")
    def boom() -> None:
        raise DomainError("VALUE_INVALID", "数量必须大于 0", "the quantity must be above 0", field="qty")

    assert page_error  # the handler the app installs
    frag = c.get("/boom", headers={"HX-Request": "true"})
    assert frag.status_code == 400 and frag.headers["HX-Retarget"] == "#err-qty"
    assert frag.text.strip() == ('<p class="field-error" id="err-qty" role="alert" data-code="VALUE_INVALID">'
                                 "数量必须大于 0</p>")
    c.cookies.set("jxc_lang", "en")
    page = c.get("/boom")
    assert page.status_code == 400 and "<!doctype html>" in page.text
    assert "the quantity must be above 0" in page.text and "Something went wrong" in page.text
    api_err = c.get("/api/v1/products/999999")  # the JSON API keeps its problem shape
    assert api_err.headers["content-type"].startswith("application/problem+json")

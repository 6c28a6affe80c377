"""界面语言 — zh-CN first, English by choice: catalogs, negotiation, and `_` for pages and routes.

Guarantees:
- Message ids are the zh-CN texts themselves; zh-CN needs no catalog, so a string
  with no English entry still shows (in Chinese) and never breaks a page.
- English lives in `locale/en/LC_MESSAGES/*.po`, one file per page area (base,
  dashboard, masterdata, documents, mobile …). At start every .po there is read
  with Babel and merged into one gettext translations object; a msgid translated
  differently in two files refuses to start (`CatalogConflict`), so areas never
  silently override each other. Nothing is compiled or committed as .mo.
- The language of a request is, in order: the logged-in user's stored
  preference (`users.lang`), the `jxc_lang` cookie, then zh-CN.
- Every page render gets `_`, `gettext`, `ngettext` (newstyle: `_("共 %(n)s 行", n=3)`,
  autoescaped) and `lang`; route code gets the same `_` from `gettext_for(request)`.

How to add a string: write it in Chinese inside `_()` (template or route), add its
English to the area's .po file (`msgid "…"` / `msgstr "…"`), and run
`pytest tests/web/test_i18n.py` — it fails for any `_()` string with no English.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup
from starlette.requests import Request

from jxc.domain.errors import DomainError

ZH = "zh-CN"
EN = "en"
LANGS = (ZH, EN)
LANG_NAMES = {ZH: "中文", EN: "English"}
COOKIE = "jxc_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
STATE_KEY = "jxc_lang"  # request.state attribute: the viewer's stored preference, when logged in


class CatalogConflict(Exception):
    """Two .po files translate the same Chinese text differently."""


def N_(message: str) -> str:  # noqa: N802 — the gettext convention for "mark only"
    """Mark a Chinese text for extraction without translating it now (labels in tables)."""
    return message


@dataclass(frozen=True)
class Catalogs:
    """The loaded translations per language (zh-CN: the identity)."""

    by_lang: Mapping[str, _gettext.NullTranslations]
    messages: Mapping[str, Mapping[str, str]]  # lang → msgid → translation (for tests and tools)

    def translations(self, lang: str) -> _gettext.NullTranslations:
        return self.by_lang.get(lang) or self.by_lang[ZH]


def read_catalog(folder: Path, lang: str = EN) -> Catalog:
    """Merge every .po of one language into one Babel catalog; conflicting entries refuse."""
    merged = Catalog(locale=lang.replace("-", "_"), domain="messages")
    seen: dict[Any, tuple[Any, str]] = {}
    for po in sorted((folder / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            cat = read_po(fh, locale=lang.replace("-", "_"))
        for msg in cat:
            if not msg.id or not msg.string or msg.fuzzy:
                continue
            key = (msg.id, msg.context)
            if key in seen and seen[key][0] != msg.string:
                raise CatalogConflict(f"{msg.id!r} is translated in {seen[key][1]} and {po.name} differently")
            seen[key] = (msg.string, po.name)
            merged.add(msg.id, msg.string, context=msg.context)
    return merged


def _to_translations(catalog: Catalog) -> _gettext.GNUTranslations:
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def load(folder: Path = LOCALE_DIR) -> Catalogs:
    """读取语言包 — every language folder under ``folder``; zh-CN is the identity."""
    by_lang: dict[str, _gettext.NullTranslations] = {ZH: _gettext.NullTranslations()}
    messages: dict[str, dict[str, str]] = {ZH: {}}
    for lang in LANGS:
        if lang == ZH or not (folder / lang / "LC_MESSAGES").is_dir():
            continue
        cat = read_catalog(folder, lang)
        by_lang[lang] = _to_translations(cat)
        messages[lang] = {m.id: m.string for m in cat if m.id and isinstance(m.id, str)}
    return Catalogs(by_lang, messages)


def normalize(lang: str | None) -> str | None:
    """'en', 'en-US', 'EN_gb' → 'en'; 'zh', 'zh-CN', 'zh-Hans' → 'zh-CN'; anything else → None."""
    if not lang:
        return None
    low = lang.strip().lower().replace("_", "-")
    if low.startswith("en"):
        return EN
    if low.startswith("zh"):
        return ZH
    return None


def lang_of(request: Request) -> str:
    """The request's language: stored preference (set by the viewer lookup), cookie, then zh-CN."""
    stored = normalize(getattr(request.state, STATE_KEY, None))
    return stored or normalize(request.cookies.get(COOKIE)) or ZH


def _catalogs(request: Request) -> Catalogs:
    found = getattr(request.app.state, "jxc_i18n", None)
    if found is None:  # an app built without `install` (never in production): load once onto it
        found = request.app.state.jxc_i18n = load()
    return found


Gettext = Callable[..., str]


def _newstyle(t: _gettext.NullTranslations, markup: bool) -> tuple[Gettext, Callable[..., str]]:
    """gettext/ngettext that format ``%(name)s`` from keyword arguments (Jinja's newstyle)."""
    wrap: Callable[[str], str] = Markup if markup else str

    def gettext(message: str, **variables: Any) -> str:
        rv = wrap(t.gettext(message))
        return rv % variables if variables else rv

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return wrap(t.ngettext(singular, plural, num)) % variables

    return gettext, ngettext


def gettext_for(request: Request) -> Gettext:
    """`_` for route code: ``_ = gettext_for(request); _("请输入用户名")`` (plain text, not markup)."""
    return _newstyle(_catalogs(request).translations(lang_of(request)), markup=False)[0]


def template_context(request: Request) -> dict[str, Any]:
    """What every template render gets: `_`/`gettext`/`ngettext` (autoescaped), `lang`, `LANG_NAMES`."""
    lang = lang_of(request)
    gettext, ngettext = _newstyle(_catalogs(request).translations(lang), markup=True)
    return {"_": gettext, "gettext": gettext, "ngettext": ngettext, "lang": lang, "LANG_NAMES": LANG_NAMES,
            "html_lang": "zh-CN" if lang == ZH else lang}


def error_text(request: Request, exc: DomainError) -> str:
    """A refusal in the request's language (DomainError carries both)."""
    return exc.message_en if lang_of(request) == EN else exc.message_zh


def pick(request: Request, zh: str, en: str) -> str:
    """Choose between a pair of texts that come as data (reason labels, availability parts)."""
    return en if lang_of(request) == EN and en else zh

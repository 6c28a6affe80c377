"""网页公用 — rendering with the viewer's language, CSRF, and DomainErrors mapped onto form fields.

Used by the document and mobile page modules (routes_documents, routes_mobile).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from jxc.domain.errors import DomainError, ValidationFailed
from jxc.domain.permissions import holds
from jxc.interfaces.web import i18n
from jxc.interfaces.web import routes as web


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page or fragment with `_`, `lang` and the base context (viewer, zone, version); `may_link`
    says whether the viewer may link an unknown barcode to a product (masterdata.edit)."""
    viewer = context.get("viewer")
    context.setdefault("may_link", viewer is not None and holds(viewer.actor.permissions, "masterdata.edit"))
    return web._render(request, name, status, **{**i18n.template_context(request), **context})


def csrf_ok(request: Request, data: dict[str, str], v: web.Viewer) -> bool:
    return web._csrf_ok(request, data, v)


def field_id(field: str | None) -> str:
    """`lines[2].qty` → `lines-2-qty` (the input's name and id on our forms); `received[3]` → `received-3`."""
    if not field:
        return ""
    return re.sub(r"[\[\].]+", "-", field).strip("-")


def field_errors(request: Request, exc: DomainError) -> tuple[dict[str, str], list[str]]:
    """Per-field messages in the viewer's language, and the ones that name no field (shown on top)."""
    lang_en = i18n.lang_of(request) == i18n.EN
    problems = exc.problems if isinstance(exc, ValidationFailed) else (exc,)
    fields: dict[str, str] = {}
    general: list[str] = []
    for p in problems:
        text = p.message_en if lang_en else p.message_zh
        key = field_id(p.field)
        if key and key != "lines":
            fields[key] = f"{fields[key]}；{text}" if key in fields else text
        else:
            general.append(text)
    return fields, general


def error_text(request: Request, exc: DomainError) -> str:
    return i18n.error_text(request, exc)


def pick(request: Request, zh: str, en: str | None) -> str:
    return en if i18n.lang_of(request) == i18n.EN and en else zh


def csrf_refused(request: Request, v: web.Viewer) -> HTMLResponse:
    """The page to show when a POST lacks the session's CSRF token."""
    return render(request, "error.html", 403, viewer=v,
                  message=i18n.gettext_for(request)("页面已过期（CSRF 校验失败），请刷新页面后重试"))

"""个人偏好 — a user's own interface language (界面语言).

Guarantees: a user changes only their own preference; the value is one of the
supported languages; every change is audited with before/after (I6).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from jxc.domain.errors import DomainError
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
LANGUAGES = ("zh-CN", "en")


def language(f: UowFactory, username: str) -> str | None:
    """The stored interface language of a user, or None (the interface then falls back)."""
    with f() as uow:
        user = uow.records.find("users", username=username)
    return None if user is None else user.get("lang")


def set_language(f: UowFactory, lang: str, actor: Actor, now: datetime) -> str:
    """设置界面语言 — for the acting user."""
    if lang not in LANGUAGES:
        raise DomainError("VALUE_INVALID", f"不支持的语言“{lang}”，可选：{'、'.join(LANGUAGES)}",
                          f"unsupported language '{lang}'; choose one of {', '.join(LANGUAGES)}", field="lang")
    with f() as uow:
        user = uow.records.find("users", username=actor.name)
        if user is None:
            raise DomainError("NOT_FOUND", "用户不存在", "no such user", field="lang")
        if user.get("lang") == lang:
            return lang
        uow.records.update("users", user["id"], {"lang": lang}, None)
        uow.audit.append(AuditEntry("user.lang", "user", str(user["id"]), actor.name, now,
                                    {"lang": user.get("lang")}, {"lang": lang}, actor.ip, actor.device))
        uow.commit()
    return lang

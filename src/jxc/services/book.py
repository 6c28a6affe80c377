"""账套设置 — read and change the business's settings (prefixes, reminders, availability policy).

Guarantees: a change needs `settings.edit` and the password again; it is
validated against `domain.settings.SETTINGS` and audited with before/after.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from jxc.domain.errors import DomainError
from jxc.domain.settings import parse_setting, with_defaults
from jxc.services.access import require, require_reauth
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]


def get_settings(f: UowFactory) -> dict[str, Any]:
    with f() as uow:
        return with_defaults(uow.settings.all())


def set_setting(f: UowFactory, key: str, value: Any, actor: Actor, now: datetime) -> Any:
    """修改设置 — one key; returns the parsed value stored."""
    require(actor, "settings.edit")
    require_reauth(actor)
    parsed = parse_setting(key, value)
    with f() as uow:
        current = with_defaults(uow.settings.all())
        if key.startswith("doc_prefix."):
            taken = {v: k for k, v in current.items() if k.startswith("doc_prefix.") and k != key}
            if parsed in taken:
                raise DomainError("CODE_TAKEN", f"单号前缀 {parsed} 已被 {taken[parsed]} 使用",
                                  f"prefix {parsed} is already used by {taken[parsed]}", field=key)
        uow.settings.put(key, parsed, actor.name, now)
        if key == "reports.timezone" and parsed != current[key]:
            uow.book.lock_head()  # as a rebuild does: writers hold the head before their projection rows
            uow.report_sums.rebuild()  # the projections' days and months follow the zone, in this transaction
            uow.report_sums.rebuild_orders(now)
        uow.audit.append(AuditEntry("setting.change", "setting", key, actor.name, now, {"value": current[key]},
                                    {"value": parsed}, actor.ip, actor.device))
        uow.commit()
        return parsed


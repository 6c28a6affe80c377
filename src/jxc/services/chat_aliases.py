"""学到的别名 — the clerks' corrections (customer words → product), stored per business and audited.

Guarantees:
- An alias is stored normalised (`alias_key`, unique): one phrasing means one product in
  the book; recording it again for another product overrides it (also when two clerks do
  it at the same moment), removing deactivates it. Every change writes an audit record
  with who, when, before and after.
- After a change the book's catalog cache is invalidated; other processes see the change
  through the catalog fingerprint (chat_catalog.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from jxc.chat_orders.text import normalize_key
from jxc.domain.errors import NotFound, Problems
from jxc.services.access import require
from jxc.services.chat_catalog import ChatCatalog
from jxc.services.ports import AuditEntry, UnitOfWork
from jxc.services.posting import Actor

UowFactory = Callable[[], UnitOfWork]
PERMISSION = "document.create.sales_delivery"  # who may take sales orders may teach the parser
MAX_TEXT = 4000
MAX_ALIAS = 50


def _alias_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def _clean_alias(alias: str) -> tuple[str, str]:
    alias = (alias or "").strip()
    key = normalize_key(alias)
    problems = Problems()
    if not alias:
        problems.add("VALUE_REQUIRED", "alias", "别名不能为空：填顾客消息里的说法", "alias is required: the customer's words")
    elif len(alias) > MAX_ALIAS:
        problems.add("VALUE_INVALID", "alias", f"别名最长 {MAX_ALIAS} 字", f"an alias has at most {MAX_ALIAS} characters")
    elif not re.search(r"[^\W\d_]", key):
        problems.add("VALUE_INVALID", "alias", "别名必须含有文字（不能只是数字或符号）",
                     "an alias needs letters or characters, not only digits or symbols")
    problems.raise_if_any()
    return alias, key


def record_alias(f: UowFactory, catalog: ChatCatalog, alias: str, product_id: int, actor: Actor, now: datetime,
                 source_text: str | None = None) -> dict[str, Any]:
    """记住更正 — the clerk says ``alias`` (the customer's words) means ``product_id``; the same
    phrasing matches it next time, in every process. An existing alias is overridden."""
    require(actor, PERMISSION)
    alias, key = _clean_alias(alias)
    with f() as uow:
        product = uow.records.get("products", product_id)
        if product is None:
            raise NotFound("NOT_FOUND", f"商品 {product_id} 不存在", f"product {product_id} does not exist",
                           field="product_id")
        if not product["active"]:
            p = Problems()
            p.add("INACTIVE", "product_id", f"商品 {product['code']} 已停用", f"product {product['code']} is deactivated")
            p.raise_if_any()
        values = {"alias": alias, "product_id": product_id, "active": True, "source_text": (source_text or None)
                  and source_text[:MAX_TEXT], "updated_by": actor.name, "updated_at": now}
        before = uow.chat.alias(alias_key=key)
        alias_id = None if before is not None else uow.chat.insert_alias(
            {**values, "alias_key": key, "created_by": actor.name, "created_at": now, "version": 1})
        if alias_id is not None:
            action, old = "chat_alias.create", None
        else:
            before = before or uow.chat.alias(alias_key=key)  # taken concurrently: override it
            assert before is not None
            alias_id = before["id"]
            uow.chat.update_alias(alias_id, values)
            action = "chat_alias.update"
            old = {"alias": before["alias"], "product_id": before["product_id"], "active": before["active"]}
        uow.audit.append(AuditEntry(action, "chat_alias", str(alias_id), actor.name, now, old,
                                    {"alias": alias, "product_id": product_id, "product_code": product["code"],
                                     "active": True}, actor.ip, actor.device))
        row = uow.chat.alias(alias_id=alias_id)
        uow.commit()
    catalog.invalidate()
    assert row is not None
    return _alias_json(row)


def delete_alias(f: UowFactory, catalog: ChatCatalog, alias_id: int, actor: Actor, now: datetime) -> dict[str, Any]:
    """忘记别名 — deactivate a learned alias (kept, with its history in the audit log)."""
    require(actor, PERMISSION)
    with f() as uow:
        row = uow.chat.alias(alias_id=alias_id)
        if row is None or not row["active"]:
            raise NotFound("NOT_FOUND", f"别名 {alias_id} 不存在或已删除", f"alias {alias_id} does not exist or was removed",
                           field="alias_id")
        uow.chat.update_alias(alias_id, {"active": False, "updated_by": actor.name, "updated_at": now})
        uow.audit.append(AuditEntry("chat_alias.delete", "chat_alias", str(alias_id), actor.name, now,
                                    {"alias": row["alias"], "product_id": row["product_id"], "active": True},
                                    {"active": False}, actor.ip, actor.device))
        after = uow.chat.alias(alias_id=alias_id)
        uow.commit()
    catalog.invalidate()
    assert after is not None
    return _alias_json(after)


def list_aliases(f: UowFactory, actor: Actor, product_id: int | None = None, include_inactive: bool = False,
                 limit: int = 500) -> list[dict[str, Any]]:
    """别名列表 — learned aliases with who taught them and when."""
    require(actor, PERMISSION)
    with f() as uow:
        return [_alias_json(r) for r in uow.chat.aliases(product_id, include_inactive, limit)]

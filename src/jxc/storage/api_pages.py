"""API 分页 — cursor pages over rows that belong to a warehouse, limited to the caller's warehouses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, select

from jxc.storage.tables import metadata

SCOPED_TABLES = ("count_plans", "count_tasks")


def page_scoped(engine: Engine, table: str, after: int | None, limit: int,
                warehouse_ids: Sequence[int] | None = None, **filters: Any) -> list[dict[str, Any]]:
    """Rows by id after ``after``; equality filters; `warehouse_ids` is the caller's scope (None: all)."""
    if table not in SCOPED_TABLES:
        raise ValueError(f"not a warehouse-scoped table: {table}")
    t = metadata.tables[table]
    q = select(t)
    if after is not None:
        q = q.where(t.c.id > after)
    for name, value in filters.items():
        if value is not None:
            q = q.where(t.c[name] == value)
    if warehouse_ids is not None:
        q = q.where(t.c.warehouse_id.in_(list(warehouse_ids)))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q.order_by(t.c.id).limit(limit)).mappings()]
    for r in rows:
        if isinstance(r.get("scope"), str):
            r["scope"] = json.loads(r["scope"])
    return rows

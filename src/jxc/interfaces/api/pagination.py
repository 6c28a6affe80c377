"""游标分页 — opaque cursors over ids (or offsets for computed lists), default 50, max 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Path, Query

from jxc.domain.errors import DomainError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size 每页条数 (≤ 500)")]
Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="id")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page 游标")]


def encode(kind: str, value: int) -> str:
    raw = json.dumps({"k": kind, "v": value}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, kind: str) -> int | None:
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["k"] != kind or not isinstance(data["v"], int) or data["v"] < 0:
            raise ValueError(kind)
        return data["v"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DomainError("VALUE_INVALID", "分页游标无效，请从第一页重新开始", "invalid cursor; start from the first page",
                          field="cursor") from exc


def by_id(rows: Sequence[dict[str, Any]], limit: int, render: Callable[[dict[str, Any]], Any] = dict
          ) -> dict[str, Any]:
    """A page fetched with limit + 1 rows: the extra row says there is a next page."""
    more = len(rows) > limit
    items = [render(r) for r in rows[:limit]]
    nxt = encode("id", rows[limit - 1]["id"]) if more else None
    return {"items": items, "next_cursor": nxt}


def by_offset(rows: Sequence[Any], cursor: str | None, limit: int) -> dict[str, Any]:
    start = decode(cursor, "offset") or 0
    chunk = rows[start:start + limit]
    nxt = encode("offset", start + limit) if start + limit < len(rows) else None
    return {"items": list(chunk), "next_cursor": nxt}

"""账套设置仓储 — key → JSON value rows, read all at once (a few dozen keys)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from jxc.domain.settings import SETTINGS
from jxc.storage.tables import book_settings

REPORT_ZONE = "reports.timezone"  # the zone both report projections cut days and months in


def report_zone(conn: Connection) -> str:
    """The book setting `reports.timezone` (default Asia/Shanghai), read on its own."""
    raw = conn.execute(select(book_settings.c.value).where(book_settings.c.key == REPORT_ZONE)).scalar()
    return json.loads(raw) if raw is not None else SETTINGS[REPORT_ZONE].default


class SqlSettingsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def all(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.conn.execute(select(book_settings.c.key, book_settings.c.value))}

    def put(self, key: str, value: Any, actor: str, now: datetime) -> None:
        text = json.dumps(value, ensure_ascii=False)
        t = book_settings
        done = self.conn.execute(update(t).where(t.c.key == key).values(
            value=text, updated_by=actor, updated_at=now, version=t.c.version + 1)).rowcount
        if not done:
            self.conn.execute(t.insert().values(key=key, value=text, version=1, updated_by=actor, updated_at=now))

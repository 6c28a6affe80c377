"""超时提醒 — drafts and pending approvals left open too long remind their people.

Guarantees:
- A document untouched for ``first`` (default 1 hour: the seed's rule that
  every movement is recorded within an hour) raises one reminder to its
  operator; after ``second`` one more to the managers of its warehouse.
  Each level is sent once per document (`reminder_level`), as an outbox event
  in the same transaction that records it.
- Reminding is not editing: it does not bump the document's version.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from jxc.domain.settings import with_defaults
from jxc.services.ports import OutboxMessage, UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def remind_overdue(f: UowFactory, now: datetime, first: timedelta | None = None,
                   second: timedelta | None = None) -> list[dict[str, Any]]:
    """Send the reminders that are due; return what was sent. Limits default to the book's settings."""
    sent: list[dict[str, Any]] = []
    with f() as uow:
        settings = with_defaults(uow.settings.all())
        first = first or timedelta(minutes=settings["overdue.first_minutes"])
        second = second or timedelta(minutes=settings["overdue.second_minutes"])
        for doc in uow.documents.open_documents(before=now - first):
            age = now - doc["updated_at"]
            level = 2 if age >= second else 1
            if level <= doc["reminder_level"]:
                continue
            notify = ({"user": doc["created_by"]} if level == 1 else
                      {"role": "manager", "warehouse_id": doc["warehouse_id"], "cc": doc["created_by"]})
            payload = {"document_id": doc["id"], "number": doc["number"], "kind": doc["kind"],
                       "state": doc["state"], "level": level, "notify": notify,
                       "open_minutes": int(age.total_seconds() // 60),
                       "message_zh": f"单据 {doc['number']} 已{_age_zh(age)}未处理（{'草稿' if doc['state'] == 'draft' else '待审批'}），"
                                     "未生效的单据不计入库存，请尽快提交或审批",
                       "message_en": f"document {doc['number']} has been open for {int(age.total_seconds() // 60)} "
                                     "minutes; it does not count as stock until it is posted"}
            uow.outbox.add(OutboxMessage("document.overdue", "document", str(doc["id"]), payload, now))
            uow.documents.set_reminder_level(doc["id"], level)
            sent.append(payload)
        uow.commit()
    return sent


def _age_zh(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    return f"{minutes // 60} 小时 {minutes % 60} 分钟" if minutes >= 60 else f"{minutes} 分钟"

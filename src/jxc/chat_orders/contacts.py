"""联系线索 — phone numbers, addresses and names in a message: who is ordering.

Guarantees:
- ``contact_hints(message)`` returns (kind, key, text) for every phone number
  (full or masked 138****5678), building/room address (3栋502, 5号楼2单元301室,
  3-2-501, B座1203), estate (阳光花园) and name (王姐, @小美, 我是张三) in the message,
  in order, without duplicates. ``text`` is the customer's own spelling; ``key``
  is a normal form, so 5号楼2单元301室 and 5栋2单元301 compare equal.
- A phone key is its first 3 and last 4 digits (``138****5678``): masked and full
  numbers of the same person meet.
- Pure: no database, clock or global state.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from jxc.chat_orders.text import normalize

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4}|\*{4}|x{4})[\s-]?(\d{4})(?!\d)")
_BUILDING = re.compile(
    r"(?<![0-9a-z])([a-z]?\d{1,3}|[a-z])\s*(?:栋|幢|号楼|座|#)\s*-?\s*"
    r"(?:(\d{1,2})\s*单元\s*-?\s*)?(\d{2,4})\s*(?:室|号|户|房)?"
)
_DASHED = re.compile(r"(?<![\d.])(\d{1,3})-(\d{1,2})-(\d{3,4})(?![\d.])")
_ESTATE = re.compile(r"[\u4e00-\u9fff]{2,5}(?:小区|花园|家园|新村|公寓|大厦|苑|社区)")
_HONORIFIC = re.compile(
    r"[\u4e00-\u9fff](?:大姐|姐姐|姐|哥|阿姨|姨|叔叔|叔|先生|女士|老师|师傅|奶奶|爷爷|大爷|大妈|太太|小姐)"
)
_MENTION = re.compile(r"@([^\s,，。:：@]{1,8})")
_SELF = re.compile(r"(?:我是|我叫)([\u4e00-\u9fff]{2,4}?)(?=[\s,，。!！~]|$|的|啊|呀)")
_ESTATE_PREFIX = re.compile(r"^(?:送到|送至|送去|地址|住址|我在|我住|在)")


class ContactHint(NamedTuple):
    """线索 — kind (phone, address, name), comparable key, and the text as written."""

    kind: str
    key: str
    text: str


def phone_key(number: str) -> str | None:
    """电话键 — ``138****5678`` for a full or masked mobile number, else None."""
    digits = re.sub(r"[\s-]", "", number)
    match = _PHONE.fullmatch(digits) if digits else None
    return f"{match.group(1)}****{match.group(3)}" if match else None


def contact_hints(message: str) -> list[ContactHint]:
    """线索 — the phones, addresses and names a message carries (see module guarantees)."""
    norm = normalize(message)
    text = norm.text
    found: list[tuple[int, ContactHint]] = []

    def add(start: int, end: int, kind: str, key: str) -> None:
        found.append((start, ContactHint(kind, key, norm.original_text(start, end).strip())))

    for m in _PHONE.finditer(text):
        add(m.start(), m.end(), "phone", f"{m.group(1)}****{m.group(3)}")
    for m in _BUILDING.finditer(text):
        unit = f"{int(m.group(2))}单元" if m.group(2) else ""
        add(m.start(), m.end(), "address", f"{m.group(1)}栋{unit}{int(m.group(3))}")
    for m in _DASHED.finditer(text):
        add(m.start(), m.end(), "address", f"{m.group(1)}栋{int(m.group(2))}单元{int(m.group(3))}")
    for m in _ESTATE.finditer(text):
        key = _ESTATE_PREFIX.sub("", m.group(0))
        if len(key) > 2:
            add(m.start() + len(m.group(0)) - len(key), m.end(), "address", key)
    for pattern in (_HONORIFIC, _MENTION, _SELF):
        for m in pattern.finditer(text):
            group = 1 if pattern.groups else 0
            add(m.start(group), m.end(group), "name", m.group(group))
    seen: set[tuple[str, str]] = set()
    out = []
    for _, hint in sorted(found, key=lambda item: item[0]):
        if (hint.kind, hint.key) not in seen:
            seen.add((hint.kind, hint.key))
            out.append(hint)
    return out


def address_key(address: str) -> list[str]:
    """地址键 — the keys a partner's stored address yields (building/room and estate)."""
    return [hint.key for hint in contact_hints(address) if hint.kind == "address"]

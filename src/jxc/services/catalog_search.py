"""拼音首字母搜索 — find products by the initials of their names (`dnmm` → 东北大米).

Guarantees: only a query of 2+ ASCII letters is read as initials; matching is a
case-insensitive substring of the initials (`bm` finds 东北大米 too); the initials of a
name are computed once per process (names rarely change, and a changed name is a new key).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

MAX_MATCHES = 200


@lru_cache(maxsize=100_000)
def initials(name: str) -> str:
    """东北大米 → dbdm; letters and digits in the name are kept as they are (lower case)."""
    return "".join(p[:1] for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors=lambda s: list(s))).lower()


def initials_match(names: Iterable[tuple[int, str]], query: str) -> list[int]:
    """Ids whose name's initials contain ``query`` (None of them when it is not 2+ ASCII letters)."""
    q = query.strip().lower()
    if len(q) < 2 or not q.isascii() or not q.isalpha():
        return []
    return [pid for pid, name in names if q in initials(name)][:MAX_MATCHES]

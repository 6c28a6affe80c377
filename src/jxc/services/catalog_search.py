"""拼音首字母搜索 — find products by code, name or the initials of their names (`dnmm` → 东北大米).

Guarantees:
- One definition of a name's initials (`initials`), used by the product list, the
  document form's product search and anything else that searches by pinyin.
- Only a query of 2+ ASCII letters is read as initials; matching is a case-insensitive
  substring of the initials (`bdm` finds 东北大米 too).
- The initials are computed once per catalogue revision, not per request: `CatalogIndex`
  keeps (id, code, name, initials, active) per product and rebuilds only when the
  catalogue's fingerprint (`CatalogReads.catalog_revision`, one statement) changes, so an
  edit made by any process is seen by the next search. Thread-safe; one per `App`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from pypinyin import Style, lazy_pinyin

MAX_MATCHES = 200


@lru_cache(maxsize=100_000)
def initials(name: str) -> str:
    """东北大米 5kg → dbdm5kg: the first letter of each Chinese character's pinyin; ASCII letters and
    digits kept as they are (lower case); spaces, punctuation and other symbols dropped."""
    out = []
    for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors=lambda s: list(s)):
        ch = p[:1].lower()
        if ch.isascii() and ch.isalnum():
            out.append(ch)
    return "".join(out)


def is_initials_query(query: str) -> bool:
    q = query.strip()
    return len(q) >= 2 and q.isascii() and q.isalpha()


@dataclass(frozen=True)
class Entry:
    """一个商品的检索键 — id, code (lower case), name, name initials, active."""

    id: int
    code: str
    name: str
    initials: str
    active: bool


@dataclass(frozen=True)
class SearchIndex:
    """检索索引 — the catalogue's entries (in code order) at one revision."""

    revision: tuple[Any, ...]
    entries: tuple[Entry, ...]

    def initials_match(self, query: str, active_only: bool = False) -> list[int]:
        """Ids whose name's initials contain ``query`` (none when it is not 2+ ASCII letters)."""
        if not is_initials_query(query):
            return []
        q = query.strip().lower()
        return [e.id for e in self.entries if q in e.initials and (e.active or not active_only)][:MAX_MATCHES]

    def find(self, query: str, limit: int, active_only: bool = True) -> list[int]:
        """Ranked ids: code or name contains ``query`` first, then pinyin-initials matches."""
        q = query.strip()
        low = q.lower()
        if not q:
            return []
        direct = [e.id for e in self.entries if (e.active or not active_only) and (low in e.code or q in e.name)]
        if len(direct) >= limit:
            return direct[:limit]
        seen = set(direct)
        more = [i for i in self.initials_match(q, active_only) if i not in seen]
        return (direct + more)[:limit]


def build_index(rows: Iterable[tuple[int, str, str, bool]], revision: tuple[Any, ...] = ()) -> SearchIndex:
    """rows: (id, code, name, active) in the order results should list them (code order)."""
    return SearchIndex(revision, tuple(Entry(i, code.lower(), name, initials(name), bool(active))
                                       for i, code, name, active in rows))


class CatalogReads(Protocol):
    """What the index reads (`storage.web_queries.SqlWebReads` implements it)."""

    def catalog_revision(self) -> tuple[Any, ...]: ...
    def catalog_keys(self) -> Sequence[tuple[int, str, str, bool]]: ...


class CatalogIndex:
    """检索索引缓存 — the book's `SearchIndex`, rebuilt only when its fingerprint changes.

    One instance per book lives on the `App` (bootstrap); `builds` counts rebuilds."""

    def __init__(self) -> None:
        self.builds = 0
        self._lock = threading.Lock()
        self._state: SearchIndex | None = None

    def current(self, reads: CatalogReads) -> SearchIndex:
        revision = reads.catalog_revision()
        state = self._state
        if state is not None and state.revision == revision:
            return state
        with self._lock:
            state = self._state
            if state is None or state.revision != revision:
                state = build_index(reads.catalog_keys(), revision)
                self._state = state
                self.builds += 1
            return state

"""拼音首字母搜索 — one definition of initials, and an index that is rebuilt only when the catalogue changes."""

from __future__ import annotations

from typing import Any

from jxc.services.catalog_search import CatalogIndex, build_index, initials

ROWS = [(1, "P001", "纯牛奶", True), (2, "P002", "东北大米 5kg", True), (3, "BM9", "白米饭", True),
        (4, "P004", "东北大豆", False), (5, "XM01", "小馒头", True)]


def test_initials_take_first_letters_and_keep_ascii_letters_and_digits_only():
    assert initials("东北大米") == "dbdm"
    assert initials("东北大米 5kg") == "dbdm5kg"  # every ASCII letter and digit, lower case; the space dropped
    assert initials("北新USB插座（白）") == "bxusbczb"  # full-width punctuation dropped
    assert initials("") == ""


def test_initials_match_is_a_substring_of_two_or_more_ascii_letters():
    index = build_index(ROWS)
    assert index.initials_match("dbdm") == [2] and index.initials_match("DBDM") == [2]
    assert index.initials_match("bdm") == [2] and index.initials_match("bm") == [3]  # dbdm, bmf
    assert index.initials_match("db") == [2, 4] and index.initials_match("db", active_only=True) == [2]
    assert index.initials_match("d") == [] and index.initials_match("d1") == [] and index.initials_match("大米") == []


def test_find_ranks_code_and_name_hits_before_initials_and_stops_at_the_limit():
    index = build_index(ROWS)
    assert index.find("xm", 10) == [5] and index.find("bm", 10) == [3]
    assert index.find("p00", 10) == [1, 2]  # inactive P004 left out
    # code BM9 contains "bm"; 白米饭 (bmf) only by its initials: code and name hits come first
    assert build_index([(3, "P003", "白米饭", True), (6, "BM9", "饭盒", True)]).find("bm", 10) == [6, 3]
    assert index.find("大米", 10) == [2]
    assert index.find("p00", 1) == [1] and index.find("  ", 10) == []


class FakeReads:
    def __init__(self) -> None:
        self.rows = list(ROWS)
        self.revision: tuple[Any, ...] = (4, 1)
        self.key_reads = 0

    def catalog_revision(self) -> tuple[Any, ...]:
        return self.revision

    def catalog_keys(self) -> list[tuple[int, str, str, bool]]:
        self.key_reads += 1
        return list(self.rows)


def test_the_index_is_rebuilt_only_when_the_revision_changes():
    reads, cache = FakeReads(), CatalogIndex()
    assert cache.current(reads).find("dbdm", 5) == [2]
    assert cache.current(reads).find("cnn", 5) == [1]
    assert (cache.builds, reads.key_reads) == (1, 1)  # the second search reused the keys and initials
    reads.rows[0] = (1, "P001", "酸牛奶", True)
    reads.revision = (4, 2)  # an edit bumps the fingerprint
    assert cache.current(reads).find("snn", 5) == [1] and cache.current(reads).find("cnn", 5) == []
    assert cache.builds == 2

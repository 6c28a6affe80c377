"""商品匹配 — find catalog products in a message: names, aliases, pinyin, typos.

Guarantees:
- The index is built once per catalog (``Matcher(catalog)``); per-message work
  is dictionary look-ups over a short string plus at most a few rapidfuzz
  calls on leftover text next to a quantity.
- Exact keys are matched leftmost-longest, so 西红柿 beats 红柿 and 小白菜 beats
  白菜, and a name containing a numeral (四季豆, 五花肉, 千张) is taken whole
  before quantities are read.
- Each mention keeps every candidate with how it matched (learned alias, name,
  alias, core name, name suffix, pinyin, fuzzy pinyin, fuzzy), best first, so
  callers can show evidence and alternatives.
- A learned alias outranks everything else for the same text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

from jxc.chat_orders.catalog import Catalog, Product, core_name
from jxc.chat_orders.quantities import CN_NUMERAL_CHARS
from jxc.chat_orders.text import is_hanzi, normalize_key
from jxc.chat_orders.units import UNIT_WORDS


class MatchKind(StrEnum):
    """匹配方式 — how a product was recognised."""

    LEARNED = "learned_alias"
    NAME = "name"
    ALIAS = "alias"
    CORE = "core_name"
    PARTIAL = "name_suffix"
    PINYIN = "pinyin"
    FUZZY_PINYIN = "fuzzy_pinyin"
    FUZZY = "fuzzy"


KIND_SCORE: dict[MatchKind, float] = {
    MatchKind.LEARNED: 1.0,
    MatchKind.NAME: 1.0,
    MatchKind.ALIAS: 0.97,
    MatchKind.CORE: 0.97,
    MatchKind.PARTIAL: 0.85,
    MatchKind.PINYIN: 0.88,
    MatchKind.FUZZY_PINYIN: 0.7,
    MatchKind.FUZZY: 0.65,
}
_RANK = {kind: rank for rank, kind in enumerate(MatchKind)}
_EXACT_KINDS = (MatchKind.LEARNED, MatchKind.NAME, MatchKind.ALIAS, MatchKind.CORE)

# Neighbours that let a one-character key (葱, 梨, 米) stand as a word.
_SINGLE_LEFT = frozenset(
    "要来买拿加称订再还的和跟与及各点些个斤把根袋包盒瓶颗只两半箱提桶罐板打"
) | set(CN_NUMERAL_CHARS)
_SINGLE_RIGHT = frozenset("各和跟与及了吧啊呀哈呢也都要来再还到送就的不") | set(CN_NUMERAL_CHARS)
_SINGLE_RIGHT_WORDS = ("新鲜", "多少", "怎么", "还有", "有没有", "有吗", "不错", "好吃", "甜")
_UNIT_CHARS = frozenset("".join(UNIT_WORDS))
_FUZZY_MEMO_SIZE = 4096
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))


def fuzzy_syllable(syllable: str) -> str:
    """模糊音 — fold southern-accent confusions: zh/z, ch/c, sh/s, n/l, -ng/-n."""
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    if syllable.startswith("n") and not syllable.startswith("ng"):
        syllable = "l" + syllable[1:]
    if syllable.endswith("ng") and syllable not in ("ng",):
        syllable = syllable[:-1]
    return syllable


@dataclass(frozen=True)
class Candidate:
    """候选商品 — one product a mention may mean, and how it matched."""

    product: Product
    kind: MatchKind
    key: str
    score: float


@dataclass(frozen=True)
class ProductMention:
    """商品片段 — a span of the normalised message naming a product."""

    start: int
    end: int
    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate:
        """最佳候选 — the first candidate."""
        return self.candidates[0]

    @property
    def single_char(self) -> bool:
        """单字 — a one-character mention such as 葱."""
        return self.end - self.start == 1


class Matcher:
    """匹配索引 — the per-catalog index; build once, reuse for every message."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._exact: dict[str, dict[str, tuple[MatchKind, Product]]] = defaultdict(dict)
        self._families: dict[str, list[Product]] = defaultdict(list)
        by_sku = catalog.by_sku()
        for product in catalog.products:
            self._families[core_name(product.name)].append(product)
            self._add(normalize_key(product.name), product, MatchKind.NAME)
            core = core_name(product.name)
            self._add(core, product, MatchKind.CORE)
            for alias in product.aliases:
                self._add(normalize_key(alias), product, MatchKind.ALIAS)
            for cut in range(1, len(core) - 1):
                self._add(core[cut:], product, MatchKind.PARTIAL)
        for sku, alias in catalog.learned_aliases:
            self._add(normalize_key(alias), by_sku[sku], MatchKind.LEARNED)
        self._max_len = max((len(key) for key in self._exact), default=1)
        self._pinyin: dict[tuple[str, ...], dict[str, tuple[str, Product]]] = defaultdict(dict)
        self._fuzzy_pinyin: dict[tuple[str, ...], dict[str, tuple[str, Product]]] = defaultdict(
            dict
        )
        fuzzy_keys: list[str] = []
        fuzzy_pinyin_keys: list[str] = []
        self._fuzzy_targets: list[tuple[str, Product]] = []
        for key, entries in self._exact.items():
            if len(key) < 2 or not all(is_hanzi(char) for char in key):
                continue
            syllables = tuple(lazy_pinyin(key))
            for kind, product in entries.values():
                if kind not in _EXACT_KINDS:
                    continue
                self._pinyin[syllables].setdefault(product.sku, (key, product))
                folded = tuple(fuzzy_syllable(s) for s in syllables)
                self._fuzzy_pinyin[folded].setdefault(product.sku, (key, product))
                fuzzy_keys.append(key)
                fuzzy_pinyin_keys.append("".join(syllables))
                self._fuzzy_targets.append((key, product))
        self._fuzzy_keys = fuzzy_keys
        self._fuzzy_pinyin_keys = fuzzy_pinyin_keys
        self._pinyin_max = max((len(k) for k in self._pinyin), default=1)
        # chunk -> best fuzzy candidate; a bounded memo of a pure function
        self._fuzzy_memo: dict[str, Candidate | None] = {}

    def _add(self, key: str, product: Product, kind: MatchKind) -> None:
        if not key:
            return
        current = self._exact[key].get(product.sku)
        if current is None or _RANK[kind] < _RANK[current[0]]:
            self._exact[key][product.sku] = (kind, product)

    def family(self, product: Product) -> list[Product]:
        """同名商品 — products sharing a core name (蓝莓 and 蓝莓(整箱))."""
        return self._families.get(core_name(product.name), [product])

    def _candidates(self, entries: dict[str, tuple[MatchKind, Product]], key: str):
        ranked = sorted(
            entries.values(),
            key=lambda entry: (_RANK[entry[0]], len(entry[1].name), entry[1].sku),
        )
        return tuple(
            Candidate(product=product, kind=kind, key=key, score=KIND_SCORE[kind])
            for kind, product in ranked
        )

    def find_exact(self, text: str, free: list[bool]) -> list[ProductMention]:
        """精确匹配 — names, aliases, core names and suffixes, leftmost-longest."""
        found: list[ProductMention] = []
        pos = 0
        length = len(text)
        while pos < length:
            if not free[pos] or not (is_hanzi(text[pos]) or text[pos].isalnum()):
                pos += 1
                continue
            matched = False
            for size in range(min(self._max_len, length - pos), 0, -1):
                if not all(free[pos : pos + size]):
                    continue
                key = text[pos : pos + size]
                entries = self._exact.get(key)
                if not entries:
                    continue
                after_product = bool(found) and found[-1].end == pos
                if size == 1 and not (self._single_ok(text, pos, after_product)):
                    continue
                if not is_hanzi(key[0]) and pos > 0 and text[pos - 1].isalnum():
                    continue
                found.append(ProductMention(pos, pos + size, self._candidates(entries, key)))
                pos += size
                matched = True
                break
            if not matched:
                pos += 1
        return found

    def _single_ok(self, text: str, pos: int, after_product: bool) -> bool:
        """A one-character key must stand as a word: next to a quantity, a verb,
        a separator, another one-character product (葱姜蒜) or a known phrase."""
        left = text[pos - 1] if pos > 0 else " "
        right = text[pos + 1] if pos + 1 < len(text) else " "
        left_ok = after_product or not is_hanzi(left) or left in _SINGLE_LEFT or left in self._exact
        right_ok = (
            not is_hanzi(right)
            or right in _SINGLE_RIGHT
            or right in _UNIT_CHARS
            or right in self._exact
            or text.startswith(_SINGLE_RIGHT_WORDS, pos + 1)
        )
        return left_ok and right_ok

    def find_pinyin(self, text: str, free: list[bool]) -> list[ProductMention]:
        """拼音匹配 — homophone typos and traditional characters (兰莓 → 蓝莓, 蘋果 → 苹果)."""
        if not any(free[i] and is_hanzi(c) for i, c in enumerate(text)):
            return []
        syllables = lazy_pinyin(text, errors=lambda chunk: [""] * len(chunk))
        folded = [fuzzy_syllable(s) for s in syllables]
        # run[i]: how many free hanzi start at i (computed once: linear per message)
        run = [0] * (len(text) + 1)
        for i in range(len(text) - 1, -1, -1):
            run[i] = run[i + 1] + 1 if free[i] and is_hanzi(text[i]) else 0
        found: list[ProductMention] = []
        pos = 0
        while pos < len(text):
            if not run[pos]:
                pos += 1
                continue
            mention = self._pinyin_at(text, run, (syllables, folded), pos)
            if mention is None:
                pos += 1
            else:
                found.append(mention)
                pos = mention.end
        return found

    def _pinyin_at(
        self, text: str, run: list[int], readings: tuple[list[str], list[str]], pos: int
    ):
        syllables, folded = readings
        for size in range(min(self._pinyin_max, run[pos]), 1, -1):
            if text[pos] in CN_NUMERAL_CHARS and text[pos + 1] in _UNIT_CHARS:
                continue
            after = pos + size
            if text[after - 1] in CN_NUMERAL_CHARS and after < len(text):
                if text[after] in _UNIT_CHARS:
                    continue
            key = tuple(syllables[pos : pos + size])
            entries = self._pinyin.get(key)
            kind = MatchKind.PINYIN
            if not entries and size >= 3:
                entries = self._fuzzy_pinyin.get(tuple(folded[pos : pos + size]))
                kind = MatchKind.FUZZY_PINYIN
            if entries:
                candidates = tuple(
                    Candidate(product=product, kind=kind, key=name, score=KIND_SCORE[kind])
                    for name, product in sorted(entries.values(), key=lambda e: e[1].sku)
                )
                return ProductMention(pos, pos + size, candidates)
        return None

    def find_fuzzy(self, text: str, start: int, end: int) -> ProductMention | None:
        """模糊匹配 — rapidfuzz over names for leftover text next to a quantity."""
        chunk = text[start:end]
        if len(chunk) < 2 or (len(chunk) == 2 and chunk[0] == chunk[1]):
            return None  # too short, or a reduplicated verb (尝尝, 看看)
        if chunk not in self._fuzzy_memo:
            if len(self._fuzzy_memo) >= _FUZZY_MEMO_SIZE:
                self._fuzzy_memo.clear()
            self._fuzzy_memo[chunk] = self._fuzzy_candidate(chunk)
        candidate = self._fuzzy_memo[chunk]
        return None if candidate is None else ProductMention(start, end, (candidate,))

    def _fuzzy_candidate(self, chunk: str) -> Candidate | None:
        best: tuple[float, str, Product] | None = None
        if len(chunk) >= 3:
            hit = process.extractOne(chunk, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=66)
            if hit is not None:
                best = (hit[1], *self._fuzzy_targets[hit[2]])
        chunk_pinyin = "".join(lazy_pinyin(chunk))
        hit = process.extractOne(
            chunk_pinyin, self._fuzzy_pinyin_keys, scorer=fuzz.ratio, score_cutoff=80
        )
        if hit is not None and (best is None or hit[1] > best[0]):
            best = (hit[1], *self._fuzzy_targets[hit[2]])
        if best is None:
            return None
        score, key, product = best
        return Candidate(
            product=product,
            kind=MatchKind.FUZZY,
            key=key,
            score=round(KIND_SCORE[MatchKind.FUZZY] * score / 100, 3),
        )

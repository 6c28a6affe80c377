"""数量识别 — quantities in chat messages (两斤半, 一斤二两, 十来个, x2).

Guarantees:
- Chinese numerals are converted by ``cn2an``; 俩/仨, 半, 斤半 and 一斤二两 are
  handled around it. Every value is a ``Decimal``.
- ``两`` after a numeral is the weight unit (二两 = 2 两), at the start of a
  number it is the numeral (两斤 = 2 斤); 一两斤 is a range.
- Vague amounts (十来个, 十几个, 两三斤, 三斤多, 来点, 一些) are returned with
  ``ambiguous=True`` and never lose that flag.
- Prices are money, never goods: 18块那个草莓 and 29.9的草莓 are marked ``money``
  (the pairing prefers a real quantity for the product); 少许/少量/适量 are vague.
- Bare numbers of 100 or more, numbers followed by time/date/money/address
  words and anything already covered (addresses, phones) are not quantities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import cn2an

from jxc.chat_orders.units import DOZEN, UNIT_WORDS

CN_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千俩仨几"
_SMALL_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ARABIC = re.compile(r"\d+(?:\.\d+)?")
# No order quantity needs more Chinese numeral characters than this (一千二百五十);
# the cap keeps a message of 2,000 numerals linear.
_MAX_NUMERAL_CHARS = 8
# A verb right before a bare unit means "one": 要个西瓜, 来袋盐, 拿斤肉.
ORDER_VERBS = frozenset("要来买拿加称订整再还送留给")
_IMPLICIT_ONE_UNITS = frozenset("个只颗根棵条把袋盒瓶包斤箱份块串提桶罐板")
# After a bare Arabic number these mean time, date, money or address, not a quantity.
_NOT_QTY_AFTER = frozenset("点号日月分时栋幢楼层室岁元块毛角年期路弄巷天周次折%:-#/.号单座区")
_MONEY_AFTER = ("块钱", "元", "毛钱", "rmb")
# "18块那个草莓", "18块的", "29.9的草莓": a price that picks the product, not goods.
_PRICE_TAG = re.compile(r"(?:块|元)?\s*(?:的|那|这)")
# Words for "a little" with no numeral: always vague.
_VAGUE_WORDS = ("少许", "少量", "适量", "一丢丢", "一点点", "一丁点")


@dataclass(frozen=True)
class QtyMention:
    """数量片段 — one quantity expression found in the normalised text."""

    start: int
    end: int
    qty: Decimal
    unit: str | None
    ambiguous: bool = False
    implicit: bool = False  # "要个西瓜": no numeral, one is implied by the unit
    bare: bool = False  # a number with no unit ("蓝莓2", "x2")
    money: bool = False  # "10块钱的" is an amount of money, not goods


@lru_cache(maxsize=4096)
def cn_to_decimal(numeral: str) -> Decimal | None:
    """中文数字 — ``十五`` → 15 using cn2an; ``None`` when it is not a numeral."""
    numeral = numeral.replace("俩", "两").replace("仨", "三")
    try:
        value = cn2an.cn2an(numeral, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return Decimal(str(value))


def _read_unit(text: str, pos: int) -> str | None:
    for word in UNIT_WORDS:
        if text.startswith(word, pos):
            if word == "g" and pos + 1 < len(text) and text[pos + 1].isalpha():
                return None
            return word
    return None


def _read_chinese(
    text: str, pos: int, free: list[bool]
) -> tuple[Decimal, int, bool, str | None] | None:
    """Read a Chinese numeral; returns (value, end, ambiguous, forced_unit)."""
    end = pos
    limit = min(len(text), pos + _MAX_NUMERAL_CHARS)
    while end < limit and free[end] and text[end] in CN_NUMERAL_CHARS:
        end += 1
    run = text[pos:end]
    if not run:
        return None
    nxt = _read_unit(text, end)
    if "几" in run:
        core = run.replace("几", "")
        value = cn_to_decimal(core) if core else Decimal(1)
        return (value or Decimal(1), end, True, None)
    if len(run) == 2 and run[0] in _SMALL_DIGITS and run[1] in _SMALL_DIGITS:
        first, second = _SMALL_DIGITS[run[0]], _SMALL_DIGITS[run[1]]
        if run[1] == "两" and (nxt is None or nxt == "两"):
            return (Decimal(first), end, False, "两")
        if second == first + 1:
            return (Decimal(first), end, True, None)
    if len(run) > 1 and run.endswith("两") and run[-2] != "两":
        value = cn_to_decimal(run[:-1])
        if value is not None:
            return (value, end, False, "两")
    for cut in range(len(run), 0, -1):
        value = cn_to_decimal(run[:cut])
        if value is not None:
            return (value, pos + cut, False, None)
    return None


def _previous_char(text: str, pos: int) -> str:
    pos -= 1
    while pos >= 0 and text[pos] == " ":
        pos -= 1
    return text[pos] if pos >= 0 else ""


def _read_tail(text: str, pos: int, qty: Decimal, unit: str) -> tuple[Decimal, int, bool]:
    """After a unit: 半 (+0.5), 斤二两 (+0.2), 多 (vague)."""
    ambiguous = False
    if text.startswith("半", pos):
        return qty + Decimal("0.5"), pos + 1, False
    if unit == "斤":
        match = re.match(r"([一二三四五六七八九]|\d)两", text[pos:])
        if match:
            tenths = cn_to_decimal(match.group(1)) if not match.group(1).isdigit() else None
            tenths = tenths if tenths is not None else Decimal(match.group(1))
            return qty + tenths * Decimal("0.1"), pos + 2, False
    if text.startswith("多", pos) and not text.startswith("多少", pos):
        ambiguous = True
        pos += 1
    return qty, pos, ambiguous


def _quantity_at(text: str, pos: int, free: list[bool]) -> QtyMention | None:
    char = text[pos]
    start = pos
    if char in "x×*" and pos + 1 < len(text):
        digits = _ARABIC.match(text, pos + 1)
        if digits:
            return QtyMention(start, digits.end(), Decimal(digits.group(0)), None, bare=True)
        chinese = _read_chinese(text, pos + 1, free)
        if chinese:
            return QtyMention(start, chinese[1], chinese[0], None, ambiguous=chinese[2], bare=True)
        return None
    if char == "斤" and text.startswith("斤半", pos):
        return QtyMention(start, pos + 2, Decimal("1.5"), "斤")
    if char == "半":
        unit = _read_unit(text, pos + 1)
        if unit and unit != "两":
            return QtyMention(start, pos + 1 + len(unit), Decimal("0.5"), unit)
        return None
    vague = next((w for w in _VAGUE_WORDS if text.startswith(w, pos)), None)
    if vague is not None:
        return QtyMention(start, pos + len(vague), Decimal(1), None, ambiguous=True)
    if char in "点些" and _previous_char(text, pos) in ORDER_VERBS:
        return QtyMention(start, pos + 1, Decimal(1), None, ambiguous=True)
    forced_unit = None
    ambiguous = False
    if char.isdigit():
        if pos > 0 and (text[pos - 1].isdigit() or text[pos - 1] == "第"):
            return None
        digits = _ARABIC.match(text, pos)
        if digits is None:  # a non-ASCII digit such as "١"
            return None
        qty, end = Decimal(digits.group(0)), digits.end()
        arabic = True
    elif char in CN_NUMERAL_CHARS:
        read = _read_chinese(text, pos, free)
        if read is None:
            return None
        qty, end, ambiguous, forced_unit = read
        arabic = False
        if _previous_char(text, pos) == "第":
            return None
    else:
        unit = _read_unit(text, pos)
        if unit and unit in _IMPLICIT_ONE_UNITS and _previous_char(text, pos) in ORDER_VERBS:
            end = pos + len(unit)
            if text.startswith("半", end):
                return QtyMention(start, end + 1, Decimal("1.5"), unit)
            return QtyMention(start, end, Decimal(1), unit, implicit=True)
        return None
    if forced_unit:
        tail_qty, tail_end, _ = _read_tail(text, end, qty, forced_unit)
        return QtyMention(start, tail_end, tail_qty, forced_unit)
    if text.startswith(("来", "余"), end) and _read_unit(text, end + 1):
        ambiguous, end = True, end + 1
    elif text.startswith("多", end) and _read_unit(text, end + 1):
        ambiguous, end = True, end + 1
    lowered = text[end : end + 3]
    if arabic and _is_price_tag(text, end, digits.group(0)):
        return QtyMention(start, end, qty, "元", money=True)
    if any(lowered.startswith(word) for word in _MONEY_AFTER):
        word = next(w for w in _MONEY_AFTER if lowered.startswith(w))
        return QtyMention(start, end + len(word), qty, "元", money=True)
    unit = _read_unit(text, end)
    if unit is not None and all(free[end : end + len(unit)]):
        end += len(unit)
        if unit == "打":
            qty, unit = qty * DOZEN, "个"
        qty, end, vague = _read_tail(text, end, qty, unit)
        return QtyMention(start, end, qty, unit, ambiguous=ambiguous or vague)
    if text.startswith(("点", "些"), end) and qty == 1 and not text.startswith("点钟", end):
        return QtyMention(start, end + 1, Decimal(1), None, ambiguous=True)
    if not arabic and text[start:end] in ("俩", "仨"):
        return QtyMention(start, end, qty, None, bare=True)
    if not arabic or ambiguous:
        return None
    if qty >= 100 or (end < len(text) and text[end] in _NOT_QTY_AFTER):
        return None
    if digits.group(0).startswith("0") and len(digits.group(0)) > 1:
        return None
    return QtyMention(start, end, qty, None, bare=True)


def _is_price_tag(text: str, end: int, number: str) -> bool:
    """18块那个 / 18块的 / 29.9的: an Arabic price naming which product is meant."""
    match = _PRICE_TAG.match(text, end)
    if match is None:
        return False
    has_money_word = text[end : match.end()].strip()[:1] in ("块", "元")
    return has_money_word or ("." in number and not number.endswith(".5"))


def scan_quantities(text: str, free: list[bool]) -> list[QtyMention]:
    """找数量 — every quantity in ``text`` that lies wholly on free (uncovered) positions."""
    found: list[QtyMention] = []
    pos = 0
    while pos < len(text):
        if not free[pos]:
            pos += 1
            continue
        mention = _quantity_at(text, pos, free)
        if mention is not None and mention.qty <= 0:  # "草莓0", "零斤": not an amount
            mention = None
        if mention is not None and all(free[mention.start : mention.end]):
            found.append(mention)
            pos = mention.end
        else:
            pos += 1
    return found

"""文本规整 — text normalisation for chat messages.

Guarantees:
- ``normalize(raw)`` returns a string of the same length as ``raw`` plus an
  index map, so every span found on the normalised text points back into the
  customer's original message (evidence spans are always in the original).
- Full-width forms become ASCII, letters are lower-cased, emoji and WeChat
  emoticons such as ``[玫瑰]`` become spaces (they often separate items), and
  the traditional characters that matter for orders (numerals, units, verbs)
  become simplified. List enumerators (① ⑴ ⒈ ㈠ and keycaps 1⃣️) become
  spaces, so they are never read as quantities. Product names written in
  traditional characters are matched through pinyin instead (蘋果 and 苹果
  read the same).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Traditional -> simplified for function words, numerals and units. Product
# names do not need to be listed here: the matcher compares pinyin, and
# traditional and simplified characters share it.
_TRAD_TO_SIMP = str.maketrans(
    "兩個隻顆條來還麼嗎們讓訂買賣幾斤盒袋雙對塊瓶罐桶餅邊點開關謝與後無紅綠黃蘿蔔蘋雞豬魚蝦鴨鵝麵"
    "條葉藥蘭薑蔥蒜韭麥蕎鳳鮮雜貨盤張號樓棟單這給說話嗎裡裏還錢價銷書聽見幫劃緊會來時間請問",
    "两个只颗条来还么吗们让订买卖几斤盒袋双对块瓶罐桶饼边点开关谢与后无红绿黄萝卜苹鸡猪鱼虾鸭鹅面"
    "条叶药兰姜葱蒜韭麦荞凤鲜杂货盘张号楼栋单这给说话吗里里还钱价销书听见帮划紧会来时间请问",
)

_EMOTICON = re.compile(r"\[[\u4e00-\u9fff]{1,4}\]|\[[a-z]{2,10}\]", re.IGNORECASE)


def _is_enumerator(char: str) -> bool:
    """Circled and bracketed list numbers (① ⑴ ⒈ ㈠): they number items, they are
    not quantities, so they become separators."""
    code = ord(char)
    return 0x2460 <= code <= 0x249B or 0x3220 <= code <= 0x3229 or 0x3280 <= code <= 0x3289


def _is_keycap(raw: str, pos: int) -> bool:
    """A keycap digit (1⃣️ = "1" + optional U+FE0F + U+20E3) is list numbering too."""
    if raw[pos] not in "0123456789#*":
        return False
    rest = raw[pos + 1 : pos + 3]
    return rest[:1] == "\u20e3" or rest == "\ufe0f\u20e3"


def _is_emoji(char: str) -> bool:
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2B00 <= code <= 0x2BFF
        or 0xFE00 <= code <= 0xFE0F
        or code in (0x200D, 0x20E3, 0x3030, 0x303D)
        or unicodedata.category(char) == "So"
    )


@dataclass(frozen=True)
class NormalizedText:
    """规整文本 — normalised text with a map back to the original."""

    text: str
    original: str
    index: tuple[int, ...]  # normalised position -> original position

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """原文位置 — the span in the original message covering ``[start, end)``."""
        if start >= len(self.index):
            return (len(self.original), len(self.original))
        last = self.index[max(start, end - 1)]
        return (self.index[start], last + 1)

    def original_text(self, start: int, end: int) -> str:
        """原文片段 — the original text behind a normalised span."""
        lo, hi = self.original_span(start, end)
        return self.original[lo:hi]


def normalize_key(value: str) -> str:
    """规整词条 — normalise a catalog name or alias the same way as messages."""
    return normalize(value).text.strip()


def normalize(raw: str) -> NormalizedText:
    """规整消息 — normalise a raw chat message (see module guarantees)."""
    chars: list[str] = []
    index: list[int] = []
    masked = _EMOTICON.sub(lambda m: " " * len(m.group(0)), raw)
    for pos, char in enumerate(masked):
        if char in "\r\n":
            out = "\n"
        elif _is_emoji(char) or _is_enumerator(char) or _is_keycap(masked, pos):
            out = " "
        else:
            out = unicodedata.normalize("NFKC", char).lower().translate(_TRAD_TO_SIMP)
            if out == "\u3000" or out.isspace():
                out = " "
        for piece in out:
            chars.append(piece)
            index.append(pos)
    return NormalizedText(text="".join(chars), original=raw, index=tuple(index))


def is_hanzi(char: str) -> bool:
    """汉字 — whether ``char`` is a CJK unified ideograph."""
    return "\u4e00" <= char <= "\u9fff"

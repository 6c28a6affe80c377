"""未识别文字 — the uncovered text next to a quantity, stripped of filler words,
which the fuzzy matcher may try as a misspelt product.

Guarantees:
- Only runs of Chinese characters touching a quantity are returned, never text
  already covered by a product, a quantity or noise.
- Greetings, verbs, particles and control words (改成, 不对, 尝尝) are stripped
  from both ends, so they are never fuzzy-matched to a product.
"""

from __future__ import annotations

from jxc.chat_orders.quantities import QtyMention
from jxc.chat_orders.text import is_hanzi

# Words around an item that are never part of a product name.
_FILLER = (
    "老板娘",
    "老板",
    "早上好",
    "上午好",
    "中午好",
    "下午好",
    "晚上好",
    "你好",
    "您好",
    "在吗",
    "谢谢",
    "麻烦",
    "辛苦",
    "帮我",
    "给我",
    "我要",
    "我想要",
    "还要",
    "再来",
    "再加",
    "再要",
    "一下",
    "改成",
    "改为",
    "不对",
    "应该是",
    "尝尝",
    "试试",
    "一共",
    "总共",
    "的话",
    "新鲜",
    "要",
    "来",
    "买",
    "订",
    "送",
    "拿",
    "称",
    "加",
    "再",
    "还",
    "的",
    "了",
    "吧",
    "啊",
    "呀",
    "哦",
    "哈",
    "嗯",
    "呢",
    "和",
    "跟",
    "我",
    "你",
    "亲",
    "就",
    "都",
    "也",
    "先",
    "好",
    "个",
    "各",
)


def _strip_filler(text: str, start: int, end: int) -> tuple[int, int]:
    changed = True
    while changed and start < end:
        changed = False
        for word in _FILLER:
            if text.startswith(word, start) and start + len(word) <= end:
                start += len(word)
                changed = True
            if text[start:end].endswith(word) and end - len(word) >= start:
                end -= len(word)
                changed = True
    return start, end


def leftovers_next_to(
    text: str, free: list[bool], quantities: list[QtyMention]
) -> list[tuple[int, int]]:
    """Uncovered runs of Chinese characters right before or after a quantity."""
    runs: list[tuple[int, int]] = []
    for qty in quantities:
        end = qty.start
        start = end
        while start > 0 and free[start - 1] and is_hanzi(text[start - 1]):
            start -= 1
        runs.append(_strip_filler(text, start, end))
        start = qty.end
        end = start
        while end < len(text) and free[end] and is_hanzi(text[end]):
            end += 1
        runs.append(_strip_filler(text, start, end))
    return [(s, e) for s, e in dict.fromkeys(runs) if e - s >= 2]

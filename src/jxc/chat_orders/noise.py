"""噪声屏蔽 — addresses, phone numbers, names, times and greetings.

Guarantees:
- ``noise_spans(text)`` returns spans that must never be read as products or
  quantities: phone numbers (incl. masked 138****5678), room and building
  numbers (3栋502, 5号楼2单元301, 3-2-501, B座1203), estate names, times and
  dates (8点, 明天下午5点半, 3号), prices per unit (15.8一盒, 5元/斤), @mentions and honorific names (王姐, 李阿姨).
- Every pattern starts a number only where a number starts, so a run of 2,000
  digits costs linear time.
- It only marks; it never deletes, so evidence spans stay true to the message.
"""

from __future__ import annotations

import re

from jxc.chat_orders.units import UNIT_WORDS

_CN_DIGIT = "零〇一二三四五六七八九十"
_NUM = rf"(?:[a-z]?\d+|[a-z]|[{_CN_DIGIT}]+)"
# Unit words that make a number a quantity, not a room number (piece and pack
# units only: 号/楼/层 are address words).
_PRICE_UNITS = "斤|公斤|千克|kg|盒|袋|包|个|只|瓶|箱|把|根|块|颗|条|份|板|罐|桶|杯"
_UNIT_AFTER = "|".join(w for w in UNIT_WORDS if w not in ("号", "楼", "层", "l"))

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # list numbering at the start of a line: "1) ", "2. ", "3、"
    re.compile(r"(?m)^\s*[(（]?\d{1,2}\s*(?:[)）、:：]|\.(?!\d))"),
    # phone numbers: 13812345678, 138 1234 5678, 138-1234-5678, 138****5678
    re.compile(r"(?<!\d)1[3-9]\d[\s-]?(?:\d{4}|\*{4}|x{4})[\s-]?\d{4}(?!\d)"),
    re.compile(r"(?:尾号|手机|电话|tel)[:：\s]*\d{3,11}"),
    # building / unit / room: 3栋502, 5号楼2单元301室, b座1203, 12楼, 3#502
    # (a number right after it that carries a unit is a quantity: "2栋 1个")
    re.compile(
        rf"(?<![0-9{_CN_DIGIT}]){_NUM}\s*(?:栋|幢|号楼|座|单元|期|区|#|楼|层)"
        rf"(?:\s*-?\s*{_NUM}(?!\d|\s*(?:{_UNIT_AFTER}))"
        rf"\s*(?:栋|幢|号楼|座|单元|楼|层|室|号|户|房)?)*"
    ),
    re.compile(r"(?<![\d.])\d{1,4}(?:-\d{1,4}){1,3}(?![\d.])"),
    re.compile(r"(?<!\d)\d{3,5}\s*(?:室|房|号房|户)"),
    re.compile(r"(?:地址|住址|送到|送至|送去)[:：]?\s*[a-z]?\d{3,5}(?!\d)"),
    # estates: 阳光花园, 幸福小区, 锦绣家园
    re.compile(r"[\u4e00-\u9fff]{1,5}(?:小区|花园|家园|新村|公寓|大厦|广场|苑|社区|宿舍)"),
    # prices per unit: 15.8一盒, 18块一斤, 5元/斤, 3块5一斤
    re.compile(
        rf"(?<![\d.])\d+(?:\.\d+)?\s*(?:(?:块钱|块|元)\d?\s*(?:一|/|每)?|\s*/|\s*每|(?<=\.\d)一|(?<=\.\d\d)一)"
        rf"\s*(?:{_PRICE_UNITS})"
    ),
    # 15一斤的排骨: a whole number "per unit" that describes the product
    re.compile(rf"(?<![\d.])\d+\s*一\s*(?:{_PRICE_UNITS})(?=的)"),
    # times and dates: 8点, 8:30, 下午5点半, 3号, 12月, 一点钟
    re.compile(
        r"(?<!\d)\d+\s*(?:点钟|点半|点|:\d\d|号|日|月份|月|分钟|小时|天|周|年)(?:\s*\d+\s*分)?"
    ),
    re.compile(
        rf"(?<![{_CN_DIGIT}两])[{_CN_DIGIT}两]+\s*(?:点钟|点半|号|月份|月|分钟|小时|天|周|年)"
    ),
    re.compile(r"(?:今天|明天|后天|今早|明早|今晚|早上|上午|中午|下午|晚上|傍晚)"),
    # @mentions and names with honorifics
    re.compile(r"@[^\s,，。:：]{1,8}"),
    re.compile(
        r"[赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦许何吕施张孔曹严华金魏陶姜"
        r"谢邹喻柏窦章苏潘葛范彭鲁韦马苗方俞任袁柳鲍史唐费薛雷贺倪汤罗毕郝邬安常乐于傅齐康伍余"
        r"顾孟黄穆萧尹姚邵汪祁毛狄米贝明臧计伏成戴宋庞熊纪舒屈项祝董梁杜阮蓝闵季贾路江童颜郭梅"
        r"盛林钟徐邱骆高夏蔡田胡凌霍虞万柯管卢莫房解应丁邓洪包左石崔龚程邢裴陆荣翁曾刘白刘]"
        r"(?:大姐|姐姐|姐|哥|阿姨|姨|叔叔|叔|先生|女士|老师|师傅|奶奶|爷爷|大爷|大妈|总|太太|小姐)"
    ),
)


def noise_spans(text: str) -> list[tuple[int, int]]:
    """噪声片段 — spans in normalised ``text`` that are not part of any order line."""
    spans: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if match.end() > match.start():
                spans.append((match.start(), match.end()))
    return spans

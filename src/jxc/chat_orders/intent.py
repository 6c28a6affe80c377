"""意图识别 — is a message (or a clause of it) an order at all?

Guarantees:
- A clause asking for information (有…吗, 多少钱, 几点, 什么时候) contributes
  no order lines, even if it mentions a product or a quantity; a polite
  request phrased as a question (能不能送两斤苹果?, 帮我留两盒草莓吗) still does.
- Messages that point at another order (跟上次一样), cancel or change one
  (取消, 不要了), complain (坏了, 少送) or only acknowledge (收到, 谢谢) are
  recognised by marker phrases, never by the catalog.
- Markers are matched on normalised text; nothing here knows any product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jxc.chat_orders.messages import Reason

_INFO_QUESTION = re.compile(
    r"多少钱|怎么卖|啥价|什么价|价格|几块|几点|什么时候|啥时候|几时|多久|营业|开门|关门|"
    r"有没有|有木有|有没|还有吗|还有没|有货|到货|到了没|到了吗|送了吗|甜不甜|甜吗|新鲜吗|好吃吗|"
    r"是不是|哪里|哪个|哪种|什么|啥|咋|怎么|能便宜|便宜点|包邮|起送|配送费|运费|"
    r"还有几|还剩|剩几|剩多少|还有多少|有多重|多重|多大|"
    r"有[\u4e00-\u9fff]{1,8}(?:吗|么|嘛|没)"
)
_REQUEST = re.compile(
    r"帮我|给我|能不能(?:送|帮|给|留|来)|可不可以(?:送|帮|给|留|来)|可以(?:送|帮|给|留|来)|"
    r"麻烦(?:送|帮|给|留|来)|留(?:一|两|\d)|有的话|有就|的话(?:来|要|给)"
)
_QUESTION_END = re.compile(r"(?:吗|么|嘛|呢|没|不)\s*[?？]*\s*$|[?？]\s*$")
_REPEAT = re.compile(
    r"跟上次一样|和上次一样|同上次|上次那样|老样子|照旧|老规矩|跟昨天一样|和昨天一样|"
    r"跟之前一样|和之前一样|照上次|按上次|还是那些|还是一样|同上|一样的来一份|上次的再来"
)
_CANCEL = re.compile(
    r"取消|不要了|别送了|不用送了|不用了|退掉|退了吧|撤销|算了|改成|换成|改一下|少要|不要那"
)
_AFTER_SALES = re.compile(
    r"坏了|烂了|不新鲜|变质|发霉|臭了|少了|少送|漏送|没送|送错|发错|退款|退钱|投诉|缺斤少两|"
    r"不够秤|短斤|不甜|不好吃|太酸|有问题|质量|碎了|破了|压坏|摔坏|压烂|蔫了|过期|"
    r"有虫|长虫|发臭|有异味|有股味|腥味|太腥|有点腥|多收|收错|少给|少找|缺了"
)
# "黄瓜不要了" right after a product cancels only that item.
ITEM_CANCEL = re.compile(
    r"\s*(?:就|先|暂时|也)?(?:不要了|不用了|取消|去掉|删掉|别要了|别送了|"
    r"不要(?=$|[\s,，。.!！~～]))"
)
# "没有就算了" (if you have none, never mind) is part of an order, not a cancellation.
_CONDITIONAL_GIVE_UP = re.compile(r"(?:没有|没货|卖完)(?:的话)?(?:就)?(?:算了|不要了|不用了)")
# 甜不甜 / 新不新鲜 / 好不好吃 ask a question; they are not complaints.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])不\1")
# 不要太酸的 / 别太肥 is a wish about the goods, not a complaint.
_WISH = re.compile(r"(?:不要|别|不能|不用)太[\u4e00-\u9fff]{1,2}")
ORDER_WORDS = re.compile(r"要|来|买|订|留|拿|送|加|称|给我|帮我|下单|预定|各")
_ACK = re.compile(
    r"收到|谢谢|多谢|感谢|好的|好嘞|ok|辛苦|已付|付过|转账|付款|红包|👍|明白|知道了|没问题|嗯嗯"
)


@dataclass(frozen=True)
class ClauseIntent:
    """子句意图 — whether a clause asks for information or requests goods."""

    info_question: bool
    request: bool


def clause_intent(clause: str, ends_with_question_mark: bool, has_quantity: bool) -> ClauseIntent:
    """判断子句 — an information question contributes no lines unless it also requests.

    A clause that only ends in 吗/? but carries a quantity (能送两斤苹果吗?) is a
    request; one with an information marker (多少钱一斤) is a question either way.
    """
    request = bool(_REQUEST.search(clause))
    marked = bool(_INFO_QUESTION.search(clause))
    questioning = ends_with_question_mark or bool(_QUESTION_END.search(clause))
    # "菠菜还有几斤?" asks how much there is: 几 in a question is not an amount.
    asks_amount = questioning and "几" in clause
    info = not request and (marked or asks_amount or (questioning and not has_quantity))
    return ClauseIntent(info_question=info, request=request)


def message_flags(text: str) -> dict[Reason, bool]:
    """整条消息的标记 — which non-order markers a whole message carries."""
    return {
        Reason.REPEAT_PREVIOUS: bool(_REPEAT.search(text)),
        Reason.CANCELLATION: bool(_CANCEL.search(_CONDITIONAL_GIVE_UP.sub("", text))),
        Reason.AFTER_SALES: bool(_AFTER_SALES.search(_WISH.sub("", _A_NOT_A.sub("", text)))),
        Reason.ACKNOWLEDGEMENT: bool(_ACK.search(text)),
    }

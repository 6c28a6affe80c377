"""提示文本 — reason and review codes with Chinese and English text.

Guarantees: every code has a zh and an en text; codes are stable lowercase values.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """非订单原因 — why a message is not (only) an order."""

    QUESTION = "question"
    REPEAT_PREVIOUS = "repeat_previous"
    CANCELLATION = "cancellation"
    AFTER_SALES = "after_sales"
    ACKNOWLEDGEMENT = "acknowledgement"
    NO_ITEMS = "no_items"
    NO_QUANTITY = "no_quantity"
    EMPTY = "empty"


class Review(StrEnum):
    """需复核原因 — why a line is flagged for the clerk."""

    AMBIGUOUS_QTY = "ambiguous_qty"
    QTY_MISSING = "qty_missing"
    UNIT_MISMATCH = "unit_mismatch"
    APPROX_CONVERSION = "approx_conversion"
    FRACTIONAL_UNITS = "fractional_units"
    AMBIGUOUS_PRODUCT = "ambiguous_product"
    FUZZY_MATCH = "fuzzy_match"
    MONEY_AMOUNT = "money_amount"
    LOW_CONFIDENCE = "low_confidence"
    REFERENCES_PREVIOUS = "references_previous"
    CANCELS_ITEM = "cancels_item"
    PORTION_UNIT = "portion_unit"


REASON_TEXT: dict[Reason, tuple[str, str]] = {
    Reason.QUESTION: ("顾客在询问,不是下单", "the customer is asking a question, not ordering"),
    Reason.REPEAT_PREVIOUS: (
        "顾客要求按上次的订单,请查看历史订单",
        "the customer asks for the same as last time; look up the previous order",
    ),
    Reason.CANCELLATION: ("顾客要取消或修改订单", "the customer cancels or changes an order"),
    Reason.AFTER_SALES: (
        "售后问题(质量、少送、退款)",
        "after-sales issue (quality, missing, refund)",
    ),
    Reason.ACKNOWLEDGEMENT: (
        "确认或寒暄,不是订单",
        "an acknowledgement or small talk, not an order",
    ),
    Reason.NO_ITEMS: ("没有识别到目录中的商品", "no catalog product was recognised"),
    Reason.NO_QUANTITY: (
        "提到了商品,但没有数量也没有下单用语,不像订单",
        "mentions products but has no quantity and no ordering words",
    ),
    Reason.EMPTY: ("空消息", "empty message"),
}

REVIEW_TEXT: dict[Review, tuple[str, str]] = {
    Review.AMBIGUOUS_QTY: (
        "数量不确定(如十来个、两三斤),请确认",
        "vague quantity (e.g. 十来个); confirm",
    ),
    Review.QTY_MISSING: ("没写数量,按1计", "no quantity given; 1 assumed"),
    Review.UNIT_MISMATCH: (
        "顾客的单位与商品单位不同且无法换算",
        "the customer's unit differs from the product's and cannot be converted",
    ),
    Review.APPROX_CONVERSION: (
        "按约重规格换算,需称重确认",
        "converted through an approximate spec",
    ),
    Review.FRACTIONAL_UNITS: ("换算后不是整数件,请确认", "conversion gives a fraction of a unit"),
    Review.AMBIGUOUS_PRODUCT: (
        "有多个商品同样匹配,请选择",
        "several products match equally; choose one",
    ),
    Review.FUZZY_MATCH: (
        "按错别字/拼音近似匹配,请确认",
        "matched through a typo or similar pinyin",
    ),
    Review.MONEY_AMOUNT: ("顾客给的是金额,不是数量", "the customer gave an amount of money"),
    Review.LOW_CONFIDENCE: ("置信度低,请确认", "low confidence; confirm"),
    Review.REFERENCES_PREVIOUS: (
        "消息还提到上次的订单,请核对",
        "the message also refers to a previous order",
    ),
    Review.CANCELS_ITEM: (
        "消息里还取消了某个商品,请核对之前的订单",
        "the message also cancels an item; check the earlier order",
    ),
    Review.PORTION_UNIT: (
        "顾客说的是“份”,按一个销售单位计,请确认",
        "the customer asked for a portion (份); one sale unit assumed",
    ),
}


def reason_text(reason: Reason) -> dict[str, str]:
    """原因文本 — ``{"reason", "reason_zh", "reason_en"}`` for a JSON message."""
    zh, en = REASON_TEXT[reason]
    return {"reason": reason.value, "reason_zh": zh, "reason_en": en}


def review_text(review: Review) -> dict[str, str]:
    """复核文本 — ``{"code", "zh", "en"}`` for a flagged line."""
    zh, en = REVIEW_TEXT[review]
    return {"code": review.value, "zh": zh, "en": en}

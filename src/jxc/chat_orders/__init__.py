"""社群订单解析 — chat-group order parsing: WeChat message → explainable order lines.

Pure Python (rapidfuzz, pypinyin, cn2an); no database. Start with
``ChatOrderParser(Catalog.from_csv(path)).parse(message)``.
"""

from jxc.chat_orders.catalog import Catalog, CatalogError, Product
from jxc.chat_orders.messages import Reason, Review
from jxc.chat_orders.parse import REVIEW_THRESHOLD, ChatOrderParser, OrderLine, ParseResult

__all__ = [
    "REVIEW_THRESHOLD",
    "Catalog",
    "CatalogError",
    "ChatOrderParser",
    "OrderLine",
    "ParseResult",
    "Product",
    "Reason",
    "Review",
]

"""健壮性 — any input gives a result: lines from the catalog with a positive
quantity, or ``unparseable``; never an exception.

Time is not asserted here (a timed test flakes on a busy machine): the bound is
measured by ``python bench/chat_order_eval.py --speed``, which parses the same
nasty inputs on a 2,000-SKU catalog and reports the slowest.
"""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc.chat_orders import Catalog, ChatOrderParser

BENCH = Path(__file__).resolve().parents[2] / "bench" / "chat_order_eval.py"

# Pieces customers type, so random messages reach the pairing and unit code,
# not only the "no product here" path.
_PIECES = (
    "草莓 蓝莓 苹果 梨 葱 水 鸡蛋 土豆 西瓜 榴莲 排骨 牛奶 可乐 山药 娃娃菜 兰莓 蘋果 "
    "2 0 0.5 15.8 两 俩 半 一 十来 几 零 百 x2 ×3 *4 ２ ① 1⃣️ "
    "斤 盒 箱 个 kg g 克 公斤 两 份 块 元 块钱 板 罐 把 "
    "各 各来 和 + 、 ， , 。 ？ ? ！ \n 再加 还要 不对 改成 不要了 取消 谢谢 多少钱 吗 有的话 "
    "3栋502 13812345678 下午4点 @老板 王姐 [玫瑰] 🍓 老样子 坏了"
).split(" ")


def _bench_module():
    spec = importlib.util.spec_from_file_location("chat_order_eval", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


NASTY = _bench_module().nasty_messages()
# the session fixtures make hypothesis's failure report long; that is all it warns about
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")


def _assert_well_formed(parser: ChatOrderParser, catalog: Catalog, text: str) -> None:
    result = parser.parse(text, message_id="x")
    skus = {product.sku for product in catalog.products}
    assert result.unparseable or result.lines, text
    if result.unparseable:
        assert not result.lines and result.reason is not None
    for line in (*result.lines, *result.candidate_lines):
        assert line.sku in skus, (text, line.sku)
        assert isinstance(line.qty, Decimal) and line.qty > 0, (text, line.qty)
        assert 0.0 <= line.confidence <= 1.0
    result.to_json()  # serialisable


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_nasty_inputs_give_lines_or_unparseable(parser, catalog, text):
    _assert_well_formed(parser, catalog, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200))
def test_any_unicode_gives_lines_or_unparseable(parser, catalog, text):
    _assert_well_formed(parser, catalog, text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(_PIECES), max_size=30))
def test_order_like_noise_gives_catalog_lines_with_positive_qty(parser, catalog, pieces):
    _assert_well_formed(parser, catalog, "".join(pieces))

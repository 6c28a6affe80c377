"""社群订单解析 — behaviour of the parser on single messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc.chat_orders import Reason, Review

from .conftest import lines_of


def test_issue_example_parses_all_three_lines(parser, sku_of):
    result = parser.parse("老板早上好🌞 要2盒蓝莓+1袋山药，再来两斤半菠菜，3栋502")
    assert not result.unparseable
    assert lines_of(result) == [
        (sku_of("蓝莓"), "2", "盒"),
        (sku_of("铁棍山药"), "1", "袋"),
        (sku_of("菠菜"), "2.5", "斤"),
    ]


def test_quantity_after_name_is_parsed(parser, sku_of):
    assert lines_of(parser.parse("菠菜2斤 排骨三斤")) == [
        (sku_of("菠菜"), "2", "斤"),
        (sku_of("排骨"), "3", "斤"),
    ]


def test_items_without_separators_pair_in_order(parser, sku_of):
    assert lines_of(parser.parse("蓝莓2盒山药1袋")) == [
        (sku_of("蓝莓"), "2", "盒"),
        (sku_of("铁棍山药"), "1", "袋"),
    ]


def test_address_digits_are_not_quantities(parser, sku_of):
    result = parser.parse("3栋502 5号楼2单元301室 土豆3斤 13812345678")
    assert lines_of(result) == [(sku_of("土豆"), "3", "斤")]


def test_phone_and_name_are_noise(parser, sku_of):
    result = parser.parse("王阿姨 139 1234 5678 要两盒草莓")
    assert lines_of(result) == [(sku_of("草莓"), "2", "盒")]


@pytest.mark.parametrize(
    ("text", "qty"),
    [("一斤半五花肉", "1.5"), ("半斤五花肉", "0.5"), ("五花肉二两", "0.2"), ("斤半五花肉", "1.5")],
)
def test_chinese_weights_convert_to_jin(parser, sku_of, text, qty):
    assert lines_of(parser.parse(text)) == [(sku_of("五花肉"), qty, "斤")]


def test_liang_is_numeral_before_unit_and_unit_after_numeral(parser, sku_of):
    assert lines_of(parser.parse("两斤牛肉")) == [(sku_of("牛肉"), "2", "斤")]
    assert lines_of(parser.parse("牛肉三两")) == [(sku_of("牛肉"), "0.3", "斤")]


def test_implicit_one_from_classifier(parser, sku_of):
    assert lines_of(parser.parse("要个西瓜")) == [(sku_of("西瓜"), "1", "个")]


def test_numeral_inside_product_name_is_not_split(parser, sku_of):
    result = parser.parse("四季豆两斤 三文鱼一盒 五花肉一斤 八角一袋 千张一斤 百香果两斤")
    assert [line.sku for line in result.lines] == [
        sku_of(name) for name in ("四季豆", "三文鱼", "五花肉", "八角", "千张", "百香果")
    ]
    assert [line.qty for line in result.lines] == [Decimal(v) for v in "211112"]


def test_vague_quantity_is_flagged_not_guessed(parser):
    (line,) = parser.parse("鸡蛋十来个").lines
    assert line.needs_review
    assert Review.AMBIGUOUS_QTY in line.review
    assert line.confidence < parser.review_threshold


def test_ge_distribution_applies_to_each_item(parser, sku_of):
    assert lines_of(parser.parse("苹果、香蕉和梨各两斤")) == [
        (sku_of("苹果"), "2", "斤"),
        (sku_of("香蕉"), "2", "斤"),
        (sku_of("梨"), "2", "斤"),
    ]


def test_ge_does_not_reach_items_that_have_their_own_quantity(parser, sku_of):
    assert lines_of(parser.parse("排骨2斤，五花肉筒骨各1斤")) == [
        (sku_of("排骨"), "2", "斤"),
        (sku_of("五花肉"), "1", "斤"),
        (sku_of("筒骨"), "1", "斤"),
    ]


def test_longest_name_wins(parser, sku_of):
    assert [line.sku for line in parser.parse("西红柿2斤 小白菜1斤").lines] == [
        sku_of("西红柿"),
        sku_of("小白菜"),
    ]


def test_exact_name_beats_suffix_and_lists_alternative(parser, sku_of):
    (line,) = parser.parse("鸡蛋2斤").lines
    assert line.sku == sku_of("鸡蛋")
    assert sku_of("土鸡蛋") in [alt["sku"] for alt in line.alternatives]


def test_colloquial_alias_matches(parser, sku_of):
    for word in ("土豆", "马铃薯", "洋芋"):
        assert lines_of(parser.parse(f"{word}2斤")) == [(sku_of("土豆"), "2", "斤")]


def test_homophone_typo_matches_through_pinyin(parser, sku_of):
    (line,) = parser.parse("兰莓两盒").lines
    assert (line.sku, line.qty) == (sku_of("蓝莓"), Decimal(2))
    assert line.evidence["matched_by"] == "pinyin"


def test_traditional_characters_match(parser, sku_of):
    assert lines_of(parser.parse("蘋果三斤 雞蛋兩斤")) == [
        (sku_of("苹果"), "3", "斤"),
        (sku_of("鸡蛋"), "2", "斤"),
    ]


def test_case_unit_chooses_case_sku(parser, sku_of):
    assert lines_of(parser.parse("蓝莓来一箱")) == [(sku_of("蓝莓(整箱)"), "1", "箱")]


def test_weight_converts_to_sku_unit(parser, sku_of):
    assert lines_of(parser.parse("1公斤五花肉")) == [(sku_of("五花肉"), "2", "斤")]
    assert lines_of(parser.parse("要一斤蓝莓")) == [(sku_of("蓝莓"), "4", "盒")]


def test_unconvertible_unit_is_kept_and_flagged(parser, sku_of):
    (line,) = parser.parse("包菜一个").lines
    assert line.sku == sku_of("卷心菜")
    assert (line.qty, line.unit) == (Decimal(1), "个")
    assert Review.UNIT_MISMATCH in line.review


def test_missing_quantity_is_flagged(parser):
    (line,) = parser.parse("要西瓜").lines
    assert line.qty == Decimal(1) and Review.QTY_MISSING in line.review


def test_every_line_carries_evidence_span_in_original_text(parser):
    message = "老板 要2盒蓝莓"
    (line,) = parser.parse(message).lines
    start, end = line.evidence["span"]
    assert message[start:end] == line.evidence["text"] == "2盒蓝莓"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("今天有草莓吗？", Reason.QUESTION),
        ("老板几点关门", Reason.QUESTION),
        ("跟上次一样", Reason.REPEAT_PREVIOUS),
        ("刚才的取消吧", Reason.CANCELLATION),
        ("收到了谢谢", Reason.ACKNOWLEDGEMENT),
        ("昨天买的草莓坏了", Reason.AFTER_SALES),
    ],
)
def test_question_is_not_an_order(parser, text, reason):
    result = parser.parse(text)
    assert result.unparseable and not result.lines
    assert result.reason == reason
    data = result.to_json()
    assert data["reason_zh"] and data["reason_en"]


def test_question_followed_by_order_is_an_order(parser, sku_of):
    assert lines_of(parser.parse("有草莓吗？有的话来两盒")) == [(sku_of("草莓"), "2", "盒")]


def test_price_question_quantity_is_not_ordered(parser):
    assert parser.parse("蓝莓多少钱一盒").unparseable


def test_repeated_item_adds_up(parser, sku_of):
    assert lines_of(parser.parse("蓝莓2盒\n蓝莓再加1盒")) == [(sku_of("蓝莓"), "3", "盒")]


def test_json_qty_is_normalised_decimal_string(parser):
    data = parser.parse("来两斤半菠菜 鸡蛋2斤 生姜半斤").to_json()
    assert [line["qty"] for line in data["lines"]] == ["2.5", "2", "0.5"]


def test_ge_reaches_items_on_earlier_lines(parser, sku_of):
    assert lines_of(parser.parse("香蕉\n苹果\n各两斤")) == [
        (sku_of("香蕉"), "2", "斤"),
        (sku_of("苹果"), "2", "斤"),
    ]


def test_one_character_products_next_to_each_other(parser, sku_of):
    result = parser.parse("葱姜蒜各一点")
    assert [line.sku for line in result.lines] == [sku_of(n) for n in ("小葱", "生姜", "大蒜")]
    assert all(Review.AMBIGUOUS_QTY in line.review for line in result.lines)


def test_one_character_product_inside_a_word_is_not_matched(parser):
    assert parser.parse("今天有什么水果").unparseable


def test_if_none_never_mind_is_not_a_cancellation(parser, sku_of):
    result = parser.parse("肥牛2盒\n虾滑？没有就算了\n羊肉卷2盒")
    assert not result.unparseable
    assert [line.sku for line in result.lines] == [sku_of("肥牛卷"), sku_of("羊肉卷")]


def test_a_not_a_question_is_not_a_complaint(parser, sku_of):
    assert lines_of(parser.parse("榴莲甜不甜？甜的话来一个")) == [(sku_of("榴莲"), "1", "个")]
    assert parser.parse("昨天的西瓜不甜").reason == Reason.AFTER_SALES


def test_money_amount_is_flagged_not_taken_as_quantity(parser, sku_of):
    (line,) = parser.parse("给我来5块钱的葱").lines
    assert line.sku == sku_of("小葱") and line.unit == "元"
    assert Review.MONEY_AMOUNT in line.review


def test_list_numbering_is_not_a_quantity(parser, sku_of):
    assert lines_of(parser.parse("1）西红柿3斤\n2）土豆2斤")) == [
        (sku_of("西红柿"), "3", "斤"),
        (sku_of("土豆"), "2", "斤"),
    ]


def test_dish_being_cooked_is_not_an_item(parser, sku_of):
    result = parser.parse("要两斤猪肉馅包饺子")
    assert [line.sku for line in result.lines] == [sku_of("猪肉馅")]

"""通用规则 — the rules added after the second blind set (blind2.jsonl), each
named after the customer behaviour it protects."""

from __future__ import annotations

from jxc.chat_orders.messages import Reason, Review

from .conftest import lines_of


def _reviews(result) -> list[set[str]]:
    return [{code.value for code in line.review} for line in result.lines]


def test_circled_and_keycap_list_numbers_are_not_quantities(parser):
    result = parser.parse("①土豆3斤②洋葱1斤③青椒半斤")
    assert lines_of(result) == [("V027", "3", "斤"), ("V050", "1", "斤"), ("V024", "0.5", "斤")]
    assert lines_of(parser.parse("1⃣️草莓2盒 2⃣️蓝莓1盒")) == [
        ("F003", "2", "盒"),
        ("F001", "1", "盒"),
    ]


def test_correction_inside_the_message_replaces_the_quantity(parser):
    assert lines_of(parser.parse("草莓两盒，不对，三盒")) == [("F003", "3", "盒")]
    result = parser.parse("土豆3斤，改成5斤吧")
    assert not result.unparseable
    assert lines_of(result) == [("V027", "5", "斤")]


def test_changing_an_earlier_order_is_still_a_cancellation(parser):
    assert parser.parse("蓝莓改成3盒").reason is Reason.CANCELLATION
    assert parser.parse("刚才的蓝莓不要了").reason is Reason.CANCELLATION


def test_one_item_cancelled_keeps_the_rest_of_the_order_with_a_note(parser):
    result = parser.parse("西红柿两斤 黄瓜不要了")
    assert lines_of(result) == [("V021", "2", "斤")]
    assert Review.CANCELS_ITEM in result.notes


def test_not_too_fat_is_a_wish_not_a_cancellation(parser):
    assert lines_of(parser.parse("鸡爪不要太肥 2斤")) == [("M018", "2", "斤")]


def test_price_naming_the_product_gives_way_to_the_real_quantity(parser):
    assert lines_of(parser.parse("18块那个草莓来一盒")) == [("F003", "1", "盒")]
    assert lines_of(parser.parse("29.9的草莓给我留两盒")) == [("F003", "2", "盒")]
    assert lines_of(parser.parse("蓝莓15.8一盒的来两盒")) == [("F001", "2", "盒")]


def test_money_amount_alone_is_still_flagged(parser):
    result = parser.parse("10块钱的香菜")
    assert result.lines[0].sku == "V014" and result.lines[0].needs_review


def test_explicit_multiplier_beats_an_indefinite_one(parser):
    assert lines_of(parser.parse("蹲一个草莓🍓x2")) == [("F003", "2", "盒")]


def test_jielong_header_product_sums_each_line(parser):
    result = parser.parse("接龙 今日团购 榴莲\n1. 赵 2栋 1个\n2. 钱 7栋 2个")
    assert lines_of(result) == [("F025", "3", "个")]


def test_building_number_does_not_swallow_a_quantity(parser):
    assert lines_of(parser.parse("2. 小林 6栋 3斤荔枝")) == [("F034", "3", "斤")]


def test_repeated_mention_without_quantity_is_a_remark(parser):
    result = parser.parse("鸡腿 3斤\n鸡爪 2斤\n备注：鸡爪要大的")
    assert lines_of(result) == [("M016", "3", "斤"), ("M018", "2", "斤")]


def test_asking_how_much_is_left_is_a_question(parser):
    assert parser.parse("菠菜还有几斤？").reason is Reason.QUESTION
    assert not parser.parse("要几个土豆").unparseable


def test_broken_goods_are_after_sales(parser):
    assert parser.parse("鸡蛋碎了两个").reason is Reason.AFTER_SALES


def test_a_pinch_is_vague_and_a_portion_or_half_piece_is_flagged(parser):
    assert _reviews(parser.parse("少许葱花")) == [{"ambiguous_qty"}]
    assert "portion_unit" in _reviews(parser.parse("想要一份果切"))[0]
    assert "fractional_units" in _reviews(parser.parse("西瓜半个"))[0]


def test_reduplicated_verb_is_not_fuzzy_matched(parser):
    assert lines_of(parser.parse("芒果怎么卖？先来三斤尝尝")) == [("F023", "3", "斤")]


def test_one_character_product_before_a_destination(parser):
    assert lines_of(parser.parse("能帮我送一箱水到9栋吗")) == [("B002", "1", "箱")]


def test_zero_is_never_a_quantity(parser):
    result = parser.parse("草莓0盒")
    assert all(line.qty > 0 for line in result.lines)
    assert all(line.qty > 0 for line in parser.parse("榴莲1克").lines)


def test_a_wish_about_the_goods_is_not_a_complaint(parser):
    assert lines_of(parser.parse("草莓要两盒 不要太酸的")) == [("F003", "2", "盒")]
    assert parser.parse("昨天的草莓太酸了").reason is Reason.AFTER_SALES


def test_one_character_product_can_be_cancelled_alone(parser):
    result = parser.parse("苹果2斤 梨不要了 香蕉3斤")
    assert lines_of(result) == [("F005", "2", "斤"), ("F008", "3", "斤")]

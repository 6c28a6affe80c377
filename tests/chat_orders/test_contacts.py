"""联系线索 — the phones, addresses and names that tell who is ordering (chat_orders/contacts.py)."""

from __future__ import annotations

import pytest

from jxc.chat_orders.contacts import address_key, contact_hints, phone_key


def keys(message: str) -> list[tuple[str, str]]:
    return [(h.kind, h.key) for h in contact_hints(message)]


@pytest.mark.parametrize(("message", "expected"), [
    ("老板早上好🌞 要2盒蓝莓+1袋山药，再来两斤半菠菜，3栋502", [("address", "3栋502")]),
    ("王姐 13812345678 阳光花园5号楼2单元301室 苹果2斤",
     [("name", "王姐"), ("phone", "138****5678"), ("address", "阳光花园"), ("address", "5栋2单元301")]),
    ("@小美 138****5678 3-2-501 我是张三，要鸡蛋一板",
     [("name", "小美"), ("phone", "138****5678"), ("address", "3栋2单元501"), ("name", "张三")]),
    ("送到幸福小区B座1203 李阿姨", [("address", "幸福小区"), ("address", "b栋1203"), ("name", "李阿姨")]),
    ("苹果2斤 香蕉3斤", []),
])
def test_contact_hints_find_who_is_ordering_and_nothing_else(message, expected):
    assert keys(message) == expected


def test_same_person_same_key_whatever_the_spelling():
    assert phone_key("138 1234 5678") == phone_key("138****5678") == "138****5678"
    assert address_key("5号楼2单元301室") == address_key("5栋2单元301")
    assert phone_key("12345") is None


def test_evidence_text_is_the_customers_own_spelling():
    (hint,) = contact_hints("ＴＥＬ 电话：１３８１２３４５６７８")
    assert hint.text == "１３８１２３４５６７８" and hint.key == "138****5678"

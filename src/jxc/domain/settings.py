"""账套设置 — the per-business settings a person may change, with defaults and validation.

Guarantees:
- Only keys listed in `SETTINGS` exist; each value is checked by its parser and
  a bad one is refused naming the key and what is expected (zh + en).
- Reading a key never set gives its default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jxc.domain.documents import KINDS, DocumentKind
from jxc.domain.errors import DomainError


@dataclass(frozen=True)
class SettingSpec:
    default: Any
    parse: Callable[[Any], Any]
    zh: str
    en: str


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if str(v).lower() in ("true", "1", "yes", "on", "是"):
        return True
    if str(v).lower() in ("false", "0", "no", "off", "否"):
        return False
    raise ValueError("true / false")


def _minutes(v: Any) -> int:
    i = int(v)
    if not 1 <= i <= 10080:
        raise ValueError("1–10080")
    return i


def _days(v: Any) -> int:
    i = int(v)
    if not 0 <= i <= 3650:
        raise ValueError("0–3650")
    return i


def _prefix(v: Any) -> str:
    s = str(v).strip().upper()
    if not re.fullmatch(r"[A-Z]{1,8}", s):
        raise ValueError("1–8 letters A–Z")
    return s


def _text(v: Any) -> str:
    s = str(v).strip()
    if not s or len(s) > 100:
        raise ValueError("1–100 characters")
    return s


def _zone(v: Any) -> str:
    """An IANA time zone name (Asia/Shanghai)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    s = str(v).strip()
    try:
        ZoneInfo(s)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("an IANA time zone such as Asia/Shanghai") from exc
    return s


def _percent(v: Any) -> str:
    """A percentage 0–100 kept as text (JSON has no exact decimals); read it with Decimal()."""
    from decimal import Decimal, InvalidOperation

    try:
        d = Decimal(str(v).strip())
    except InvalidOperation as exc:
        raise ValueError("0–100") from exc
    if not d.is_finite() or not 0 <= d <= 100:
        raise ValueError("0–100")
    return str(d.normalize())


SETTINGS: Mapping[str, SettingSpec] = {
    "business.name": SettingSpec("我的店", _text, "企业/店铺名称", "business name"),
    "overdue.first_minutes": SettingSpec(60, _minutes, "单据超时提醒经办人（分钟）",
                                         "minutes before an open document reminds its operator"),
    "overdue.second_minutes": SettingSpec(240, _minutes, "单据超时提醒主管（分钟）",
                                          "minutes before an open document reminds the managers"),
    "availability.count_quality_hold": SettingSpec(False, _bool, "质检中库存计入可用", "count quality-hold stock as available"),
    "availability.cross_lot": SettingSpec(True, _bool, "允许跨批次发货", "allow fulfilment across lots"),
    "availability.block_near_expiry": SettingSpec(True, _bool, "临期批次禁止销售", "block near-expiry lots from sale"),
    "availability.allow_negative": SettingSpec(False, _bool, "允许负库存", "allow negative stock"),
    "expiry.warn_days": SettingSpec(30, _days, "临期预警天数", "days before expiry to warn"),
    "expiry.block_days": SettingSpec(7, _days, "临期禁售天数", "days before expiry to block sale"),
    "count.tolerance_pct": SettingSpec("0", _percent, "盘点准确容差（账面数的百分比）",
                                       "count tolerance, percent of the book quantity"),
    "purchase.over_receipt_pct": SettingSpec("10", _percent, "允许超收比例（订单数量的百分比，超出需审批）",
                                             "over-receipt tolerance, percent of the ordered qty (beyond: approval)"),
    "investigate.window_days": SettingSpec(30, _days, "账实排查默认回看天数", "days an investigation looks back"),
    "investigate.late_minutes": SettingSpec(60, _minutes, "晚于业务时间多少分钟录入算补录",
                                            "minutes after its business time a posting counts as back-dated"),
    "trading.no_stock": SettingSpec(False, _bool, "无库存版：销售出库/采购入库只记应收应付，不动库存",
                                    "no-stock trading: deliveries and receipts raise money owed but move no stock"),
    "reports.timezone": SettingSpec("Asia/Shanghai", _zone, "报表时区（汇总表按此时区分日、分月；修改后立即重建汇总表）",
                                    "report time zone (the summary projection's days and months; a change rebuilds it)"),
    **{f"doc_prefix.{k.value}": SettingSpec(info.prefix, _prefix, f"{info.zh}单号前缀", f"{info.en} number prefix")
       for k, info in KINDS.items()},
}


def parse_setting(key: str, value: Any) -> Any:
    spec = SETTINGS.get(key)
    if spec is None:
        raise DomainError("VALUE_INVALID", f"没有名为 {key} 的设置", f"there is no setting named {key}", field="key")
    try:
        return spec.parse(value)
    except (ValueError, TypeError) as exc:
        raise DomainError("VALUE_INVALID", f"设置“{spec.zh}”的值 {value!r} 无效，应为 {exc}",
                          f"setting '{spec.en}' got {value!r}; expected {exc}", field=key) from exc


def with_defaults(stored: Mapping[str, Any]) -> dict[str, Any]:
    return {k: stored.get(k, spec.default) for k, spec in SETTINGS.items()}


def prefix_for(settings: Mapping[str, Any], kind: DocumentKind) -> str:
    return settings.get(f"doc_prefix.{kind.value}", KINDS[kind].prefix)

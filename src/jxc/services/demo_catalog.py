"""演示商品目录 — deterministic product tables for the demo businesses (no database, no randomness).

Names are built from category × variety × spec tables, so a catalog of any
size is the same on every machine. Product codes start with the pinyin
initials of the variety (菠菜 → BC…), so typing `bc` in a search finds 菠菜;
barcodes are valid EAN-13 (prefix 69 for packed goods, 2 for in-store
weighed goods).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from pypinyin import Style, lazy_pinyin


@dataclass(frozen=True)
class Sku:
    """一个演示商品 — what master data needs, plus the numbers the simulation draws from."""

    code: str
    name: str
    spec: str
    category: str
    unit: str  # base unit
    cost: Decimal  # purchase price per base unit
    price: Decimal  # selling price per base unit
    shelf_life_days: int | None  # None: not lot-tracked
    demand: Decimal  # mean units sold per (weekday) day, fresh shop; per week, wholesaler
    case_unit: str | None = None  # the unit it is bought in (箱 / 件 / 卷 …)
    case_factor: int = 1  # 1 case_unit = case_factor base units
    barcode: str = ""


def initials(text: str) -> str:
    """拼音首字母 — 菠菜 → BC (letters and digits kept as they are)."""
    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER) if p and p[0].isalnum()).upper()


def ean13(body12: str) -> str:
    """A 12-digit body plus its EAN-13 check digit."""
    total = sum(int(ch) * (3 if i % 2 else 1) for i, ch in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


# category: (varieties with base cost per 斤/unit, shelf life (None = untracked), daily demand, variants)
# a variant: (name pattern, spec, unit, cost multiplier, case unit, case factor)
_LOOSE = (("{v}", "散装", "斤", "1", "箱", 20), ("精品{v}", "精选", "斤", "1.5", "箱", 10))
_BUNCH = (("{v}", "散装", "斤", "1", "筐", 20), ("{v}", "约300g/把", "把", "0.7", "筐", 30))
_PACKED = (("{v}", "500g/盒", "盒", "1.3", "箱", 12), ("有机{v}", "300g/袋", "袋", "1.6", "箱", 20))
_FRUIT = (("{v}", "散装", "斤", "1", "箱", 20), ("{v}礼盒", "2.5kg/盒", "盒", "5.5", None, 1),
          ("精选{v}", "500g/盒", "盒", "1.4", "箱", 12))
_MEAT = (("{v}", "冷鲜 散装", "斤", "1", None, 1), ("{v}", "500g/盒", "盒", "1.1", "箱", 10))
_SEA = (("鲜活{v}", "散装", "斤", "1", None, 1), ("冰鲜{v}", "400g/袋", "袋", "0.9", "箱", 20))
_DAIRY = (("{v}", "单件", "盒", "1", "箱", 12), ("家庭装{v}", "大包装", "袋", "1.8", "箱", 6))
_DRY = (("{v}", "标准装", "袋", "1", "箱", 10), ("{v}", "大包装", "袋", "1.9", "箱", 6),
        ("{v}", "小包装", "袋", "0.55", "箱", 20))
_BOTTLE = (("{v}", "500ml/瓶", "瓶", "1", "箱", 12), ("{v}", "1.8L/桶", "桶", "3.2", "箱", 6))
_DAILY = (("{v}", "单件", "个", "1", "箱", 24), ("{v}", "3件装", "袋", "2.6", "箱", 10))

FRESH: tuple[tuple[str, tuple[tuple[str, str, int | None, int], ...], tuple[tuple[str, ...], ...], ...], ...] = (
    ("叶菜", (("菠菜", "2.8", 3, 18), ("小白菜", "1.9", 3, 20), ("生菜", "2.5", 3, 16), ("油麦菜", "2.6", 3, 12),
              ("空心菜", "2.4", 2, 10), ("茼蒿", "3.0", 3, 6), ("芹菜", "2.2", 5, 14), ("韭菜", "2.9", 3, 10),
              ("香菜", "4.5", 3, 8), ("大白菜", "1.1", 10, 16), ("娃娃菜", "2.6", 7, 12), ("上海青", "2.1", 3, 14),
              ("菜心", "3.2", 3, 8), ("芥蓝", "3.4", 4, 6), ("苋菜", "3.0", 2, 5), ("荠菜", "5.0", 2, 3),
              ("西洋菜", "4.2", 2, 3), ("莴笋", "2.3", 6, 9), ("小葱", "3.6", 4, 9), ("蒜苗", "4.0", 4, 5)),
     _BUNCH),
    ("根茎", (("土豆", "1.6", 15, 30), ("胡萝卜", "1.8", 15, 18), ("白萝卜", "1.2", 12, 12), ("洋葱", "1.7", 15, 14),
              ("山药", "5.5", 12, 6), ("莲藕", "4.8", 7, 6), ("芋头", "3.9", 12, 5), ("红薯", "2.2", 15, 10),
              ("紫薯", "3.3", 15, 5), ("生姜", "6.5", 15, 6), ("大蒜", "5.0", 15, 8), ("冬瓜", "1.0", 12, 7),
              ("南瓜", "1.5", 15, 6), ("西红柿", "3.2", 7, 25), ("黄瓜", "2.6", 5, 22), ("茄子", "2.9", 6, 12),
              ("青椒", "3.1", 7, 12), ("西兰花", "4.0", 5, 10), ("花菜", "3.0", 5, 8), ("豆角", "4.2", 4, 9)),
     _LOOSE),
    ("菌菇", (("香菇", "7.5", 5, 8), ("平菇", "4.5", 4, 6), ("金针菇", "3.5", 5, 12), ("杏鲍菇", "5.0", 6, 8),
              ("白玉菇", "6.0", 5, 4), ("蟹味菇", "6.5", 5, 4), ("鸡腿菇", "6.8", 4, 3), ("茶树菇", "12.0", 6, 3),
              ("鲜木耳", "8.0", 4, 3), ("口蘑", "9.0", 4, 3)),
     _PACKED),
    ("水果", (("红富士苹果", "4.2", 15, 24), ("香蕉", "2.9", 6, 28), ("脐橙", "4.0", 15, 16), ("砂糖橘", "3.8", 10, 14),
              ("皇冠梨", "3.5", 15, 10), ("阳光玫瑰葡萄", "12.0", 7, 6), ("草莓", "16.0", 4, 9), ("蓝莓", "30.0", 7, 6),
              ("西瓜", "1.8", 10, 20), ("哈密瓜", "3.6", 10, 6), ("猕猴桃", "6.5", 15, 8), ("芒果", "5.5", 7, 8),
              ("火龙果", "5.0", 10, 7), ("柚子", "2.8", 15, 5), ("菠萝", "3.2", 7, 5), ("水蜜桃", "6.0", 5, 6),
              ("车厘子", "38.0", 7, 4), ("荔枝", "15.0", 4, 4), ("柠檬", "6.0", 15, 4), ("牛油果", "9.0", 7, 3)),
     _FRUIT),
    ("肉禽", (("五花肉", "14.5", 3, 10), ("前腿肉", "13.0", 3, 8), ("排骨", "19.0", 3, 8), ("里脊肉", "16.0", 3, 6),
              ("猪蹄", "12.0", 3, 4), ("牛腩", "32.0", 4, 4), ("牛腱子", "38.0", 4, 3), ("鸡胸肉", "9.8", 4, 8),
              ("琵琶腿", "8.5", 4, 7), ("鸡翅中", "18.0", 4, 6), ("三黄鸡", "12.0", 3, 3), ("鸭腿", "8.0", 4, 3)),
     _MEAT),
    ("水产", (("鲈鱼", "18.0", 2, 4), ("草鱼", "9.0", 2, 4), ("鲫鱼", "10.0", 2, 3), ("带鱼", "22.0", 4, 4),
              ("黄花鱼", "16.0", 3, 3), ("基围虾", "35.0", 2, 4), ("花蛤", "8.0", 2, 4), ("鱿鱼", "20.0", 3, 2)),
     _SEA),
    ("蛋奶", (("鲜鸡蛋", "0.8", 15, 40), ("土鸡蛋", "1.3", 15, 20), ("鲜牛奶", "6.5", 7, 14), ("酸奶", "3.2", 14, 16),
              ("嫩豆腐", "2.0", 3, 12), ("老豆腐", "2.2", 3, 10), ("豆浆", "3.0", 3, 8), ("鹌鹑蛋", "0.3", 15, 10)),
     _DAIRY),
    ("粮油", (("东北大米", "29.0", None, 4), ("五常大米", "55.0", None, 2), ("高筋面粉", "18.0", None, 2),
              ("挂面", "6.5", None, 5), ("小米", "9.0", None, 2), ("燕麦片", "12.0", None, 2),
              ("花生油", "68.0", None, 2), ("菜籽油", "52.0", None, 1), ("玉米油", "58.0", None, 1)),
     _DRY),
    ("调味", (("生抽", "7.5", None, 3), ("老抽", "7.8", None, 2), ("陈醋", "6.0", None, 2), ("料酒", "5.5", None, 2),
              ("蚝油", "8.5", None, 2), ("芝麻油", "15.0", None, 1), ("番茄酱", "6.5", None, 1)),
     _BOTTLE),
    ("零食", (("原味薯片", "4.3", None, 7), ("苏打饼干", "5.0", None, 4), ("每日坚果", "3.2", None, 6),
              ("五香瓜子", "6.0", None, 5), ("海苔", "4.0", None, 4), ("牛肉干", "18.0", None, 2),
              ("黑巧克力", "12.0", None, 2)),
     _DRY),
    ("日用", (("抽纸", "3.5", None, 6), ("垃圾袋", "5.0", None, 4), ("保鲜膜", "8.0", None, 2), ("洗洁精", "9.5", None, 3),
              ("厨房纸", "6.5", None, 2), ("五号电池", "2.0", None, 2)),
     _DAILY),
)
_MARGIN = {"叶菜": "1.45", "根茎": "1.40", "菌菇": "1.45", "水果": "1.40", "肉禽": "1.28", "水产": "1.30",
           "蛋奶": "1.25", "粮油": "1.18", "调味": "1.30", "零食": "1.35", "日用": "1.30"}
_ORIGINS = ("", "山东", "云南", "本地")
# the codes of the first, 24-SKU demo, kept for its plain edition so scripts and habits keep working
_LEGACY = {"菠菜": "SC001", "小白菜": "SC002", "西红柿": "SC003", "土豆": "SC004", "山药": "SC005", "黄瓜": "SC006",
           "西兰花": "SC007", "香菜": "SC008", "蓝莓": "SG001", "草莓": "SG002", "车厘子": "SG003", "香蕉": "SG004",
           "红富士苹果": "SG005", "西瓜": "SG006", "五花肉": "RL001", "鸡胸肉": "RL002", "土鸡蛋": "RL003",
           "鲜牛奶": "RL004", "酸奶": "RL005", "东北大米": "LY001", "花生油": "LY002", "挂面": "LY003",
           "原味薯片": "LS001"}
_PRODUCE = {"叶菜", "根茎", "菌菇", "水果"}


def sample(skus: tuple[Sku, ...], size: int) -> tuple[Sku, ...]:
    """A smaller catalog (tests) that still spans every category: every k-th SKU."""
    if size >= len(skus):
        return skus
    step = len(skus) / size
    return tuple(skus[int(i * step)] for i in range(size))


def fresh_catalog(size: int = 420) -> tuple[Sku, ...]:
    """鲜邻优选 — ``size`` SKUs (spread over every category) from the 420 of the full shop."""
    return sample(_fresh(), size)


def _fresh() -> tuple[Sku, ...]:
    """Every variety in its variants, then regional editions of the produce until 420."""
    size = 420
    out: list[Sku] = []
    for origin in _ORIGINS:
        for cat, varieties, variants in FRESH:
            if origin and cat not in _PRODUCE:
                continue
            for variety, base_cost, life, demand in varieties:
                for vi, (pattern, spec, unit, mult, case_unit, case_factor) in enumerate(variants):
                    if len(out) >= size:
                        return tuple(out)
                    name = origin + pattern.format(v=variety).removeprefix(origin)
                    cost = (Decimal(base_cost) * Decimal(mult) * (Decimal("1.15") if origin == "有机" else 1)
                            ).quantize(Decimal("0.01"))
                    share = Decimal(1) if not origin else Decimal("0.35")
                    head = initials(variety)[:4]
                    code = f"{head}{len(out) + 1:04d}"
                    if not origin and vi == 0 and variety in _LEGACY:
                        code = _LEGACY[variety]
                    weighed = unit == "斤" and spec.startswith("散装") or spec.startswith("冷鲜")
                    body = f"2{len(out) + 1:06d}00000" if weighed else f"6901234{len(out) + 1:05d}"
                    out.append(Sku(code, name, spec, cat, unit, cost,
                                   (cost * Decimal(_MARGIN[cat])).quantize(Decimal("0.1")), life,
                                   (Decimal(demand) * share / Decimal(len(variants)) * 2).quantize(Decimal("0.1")),
                                   case_unit, case_factor, ean13(body)))
    return tuple(out)


# 建材 — (category, base unit, case unit, factor, cost range low/high, items, specs)
WHOLESALE = (
    ("瓷砖", "片", "箱", 4, ("32", "95"), ("抛光砖", "仿古砖", "木纹砖", "釉面砖", "大理石瓷砖", "防滑地砖", "外墙砖", "马赛克"),
     ("600×600", "800×800", "300×600", "750×1500", "400×800")),
    ("卫浴", "件", "件", 1, ("85", "1800"), ("马桶", "洗手盆", "浴室柜", "花洒套装", "淋浴房", "龙头", "地漏", "角阀"),
     ("经典款", "轻奢款", "加厚款", "壁挂式", "落地式")),
    ("管材", "根", "捆", 10, ("6", "58"), ("PPR水管", "PVC排水管", "PE给水管", "镀锌钢管", "线管", "铝塑管"),
     ("DN20", "DN25", "DN32", "DN50", "DN75", "DN110")),
    ("管件", "个", "袋", 50, ("0.5", "12"), ("弯头", "三通", "直接", "内丝弯头", "外丝直接", "堵头", "球阀", "管卡"),
     ("20mm", "25mm", "32mm", "50mm", "75mm")),
    ("涂料", "桶", "桶", 1, ("65", "680"), ("内墙乳胶漆", "外墙涂料", "防水涂料", "木器漆", "底漆", "腻子粉", "真石漆"),
     ("5L", "18L", "20kg", "1L", "15L")),
    ("防水", "卷", "卷", 1, ("45", "260"), ("SBS防水卷材", "自粘防水卷材", "PVC防水卷材", "防水胶带", "止水带"),
     ("3mm×10m", "4mm×10m", "1.5mm×20m", "2mm×15m")),
    ("板材", "张", "件", 20, ("38", "260"), ("石膏板", "生态板", "多层板", "欧松板", "水泥纤维板", "细木工板"),
     ("1220×2440×9mm", "1220×2440×12mm", "1220×2440×15mm", "1220×2440×18mm")),
    ("电工", "卷", "件", 5, ("35", "980"), ("BV电线", "BVR软线", "网线", "电视线", "RVV护套线"),
     ("1.5平方", "2.5平方", "4平方", "6平方", "100米")),
    ("开关插座", "个", "盒", 10, ("4", "68"), ("一开单控", "二开双控", "五孔插座", "16A插座", "USB插座", "空白面板"),
     ("白色", "香槟金", "灰色", "黑色")),
    ("五金", "个", "盒", 20, ("0.8", "120"), ("合页", "拉手", "门锁", "膨胀螺丝", "自攻螺丝", "挂钩", "抽屉滑轨"),
     ("不锈钢", "锌合金", "太空铝", "加厚", "静音")),
    ("水泥砂石", "袋", "吨", 20, ("18", "45"), ("普通硅酸盐水泥", "白水泥", "瓷砖胶", "填缝剂", "自流平砂浆", "石英砂"),
     ("25kg", "40kg", "50kg")),
    ("灯具", "个", "箱", 10, ("12", "450"), ("LED筒灯", "LED射灯", "吸顶灯", "灯带", "面板灯"),
     ("3W", "5W", "12W", "24W", "36W")),
)
_BRANDS = ("宏达", "东鹏", "马可波罗", "九牧", "箭牌", "伟星", "联塑", "立邦", "多乐士", "东方雨虹", "北新", "公牛",
           "西门子", "欧普", "雷士", "海螺")


def wholesale_catalog(size: int = 2000) -> tuple[Sku, ...]:
    """宏达建材 — ``size`` SKUs (spread over every category) from the 2,000 of the full wholesaler."""
    return sample(tuple(_wholesale(2000)), size)


def _wholesale(size: int) -> Iterator[Sku]:
    """Brand × item × spec across the categories, in a fixed order."""
    made = 0
    for round_ in range(len(_BRANDS)):
        for ci, (cat, unit, case_unit, factor, (lo, hi), items, specs) in enumerate(WHOLESALE):
            brand = _BRANDS[(round_ + ci) % len(_BRANDS)]
            for ii, item in enumerate(items):
                for si, spec in enumerate(specs):
                    if made >= size:
                        return
                    made += 1
                    span = Decimal(hi) - Decimal(lo)
                    step = Decimal((ii * 7 + si * 13 + round_ * 5) % 29) / 28
                    cost = (Decimal(lo) + span * step).quantize(Decimal("0.01"))
                    yield Sku(f"JC{initials(item)[:3]}{made:05d}", f"{brand}{item}", spec, cat, unit, cost,
                              (cost * Decimal("1.22")).quantize(Decimal("0.01")), None,
                              Decimal(40 - min(36, int(cost) // 10)) / 4,
                              case_unit if case_unit != unit else None, factor if case_unit != unit else 1,
                              ean13(f"69{(round_ * 7919 + made * 104729) % 10**10:010d}"))

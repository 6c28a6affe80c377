"""社群订单解析评测 — score the chat-order parser and measure its speed.

Usage:
    python bench/chat_order_eval.py                 # accuracy on the labelled set
    python bench/chat_order_eval.py --failures      # also list the messages it gets wrong
    python bench/chat_order_eval.py --speed         # p50/p99 ms per message, 2,000-SKU catalog,
                                                    # and the slowest nasty input (2,000 chars)
    python bench/chat_order_eval.py --messages tests/data/chat_orders/blind2.jsonl
    python bench/chat_order_eval.py --json          # machine-readable figures

Scoring: an expected line with a quantity is matched by a parsed line with the
same sku, qty and unit; an expected line with ``qty: null`` (a vague quantity
or a unit that cannot be converted) is matched by a line with the same sku
flagged ``needs_review``. A message is right when it is an order and every
expected line is matched with no extra lines, or when it is not an order and
the parser says ``unparseable``. Line precision and recall are over all lines.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jxc.chat_orders import Catalog, ChatOrderParser, Product

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "chat_orders"
CATALOG = DATA / "catalog.csv"
MESSAGES = DATA / "messages.jsonl"
NOT_ORDER = "not_order"


@dataclass
class CategoryScore:
    """分类得分 — counts for one difficulty category."""

    messages: int = 0
    correct: int = 0
    expected_lines: int = 0
    predicted_lines: int = 0
    matched_lines: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """字典 — the figures as ratios."""
        return {
            "messages": self.messages,
            "message_accuracy": _ratio(self.correct, self.messages),
            "line_precision": _ratio(self.matched_lines, self.predicted_lines),
            "line_recall": _ratio(self.matched_lines, self.expected_lines),
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def load_messages(path: Path = MESSAGES) -> list[dict[str, Any]]:
    """读标注 — the labelled messages (JSON lines)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _match_lines(expected: list[dict[str, Any]], predicted: list[dict[str, Any]]) -> int:
    remaining = list(predicted)
    matched = 0
    for want in expected:
        for index, got in enumerate(remaining):
            if got["sku"] != want["sku"]:
                continue
            if want.get("qty") is None:
                ok = bool(got.get("needs_review"))
            else:
                ok = got["qty"] == want["qty"] and got["unit"] == want["unit"]
            if ok:
                matched += 1
                del remaining[index]
                break
    return matched


def evaluate(
    catalog_path: Path = CATALOG, messages_path: Path = MESSAGES
) -> dict[str, CategoryScore]:
    """评测 — per-category scores plus ``orders``, ``not_order`` and ``all`` totals."""
    parser = ChatOrderParser(Catalog.from_csv(catalog_path))
    scores: dict[str, CategoryScore] = defaultdict(CategoryScore)
    for record in load_messages(messages_path):
        result = parser.parse(record["text"], message_id=record["id"]).to_json()
        expected = record["expected"]
        predicted = result["lines"]
        matched = _match_lines(expected["lines"], predicted)
        if expected["unparseable"]:
            correct = result["unparseable"]
        else:
            correct = (
                not result["unparseable"]
                and matched == len(expected["lines"])
                and len(predicted) == len(expected["lines"])
            )
        groups = [record["category"], "all", NOT_ORDER if expected["unparseable"] else "orders"]
        for group in dict.fromkeys(groups):
            score = scores[group]
            score.messages += 1
            score.correct += int(correct)
            score.expected_lines += len(expected["lines"])
            score.predicted_lines += len(predicted)
            score.matched_lines += matched
            if not correct and group == record["category"]:
                score.failures.append({"record": record, "result": result})
    return dict(scores)


def synthetic_catalog(size: int = 2000, base_path: Path = CATALOG) -> Catalog:
    """合成目录 — a deterministic catalog of ``size`` SKUs grown from the real one."""
    base = Catalog.from_csv(base_path)
    products = list(base.products)
    brands = ("优选", "农家", "有机", "精品", "本地", "进口", "山东", "云南", "海南", "东北")
    sizes = (("250g/盒", "盒"), ("500g/袋", "袋"), ("1kg/袋", "袋"), ("", "斤"), ("6个/盒", "盒"))
    index = 0
    while len(products) < size:
        template = base.products[index % len(base.products)]
        brand = brands[(index // len(base.products)) % len(brands)]
        spec, unit = sizes[index % len(sizes)]
        products.append(
            Product(
                sku=f"SYN{index:05d}",
                name=f"{brand}{template.name}{index}",
                unit=unit,
                spec=spec,
                aliases=(f"{brand}{template.name}{index}号",),
            )
        )
        index += 1
    return Catalog(products=tuple(products))


LABELLED_SETS = ("messages.jsonl", "holdout.jsonl", "blind2.jsonl")


def nasty_messages() -> list[str]:
    """刁钻输入 — inputs that must never crash or hang the parser (timed by ``--speed``)."""
    rng = random.Random(9)
    return [
        "",
        " ",
        "\n\n\n",
        "\n" * 2000,
        "🍓" * 2000,
        "👍🏻🙏🏼❤️‍🔥🫐" * 100,
        "1" * 2000,
        "2斤" * 666,
        "一二三四五六七八九十百千两俩仨几" * 120,
        "各" * 2000,
        "苹果" * 1000,
        "苹果各" * 666,
        ("草莓2盒，不对，三盒" * 200)[:2000],
        "榴莲\n" + "1个\n" * 660,
        ("有草莓吗？来两盒" * 250)[:2000],
        ("3栋502 13812345678 " * 100)[:2000],
        ("老板早上好🌞 要2盒蓝莓+1袋山药，再来两斤半菠菜，3栋502\n" * 60)[:2000],
        ("兰莓2盒香焦3斤阿克苏大苹果2斤" * 150)[:2000],
        ("18块那个草莓来一盒 15.8一盒的 5元/斤 " * 80)[:2000],
        "x2×3*4" * 300,
        "①②③⑴⒈㈠1⃣️2️⃣" * 150,
        "[玫瑰][红包][" * 200,
        "\u200b\u200d\ufeff\u0000\ud7ff" * 400,
        "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(2000)),
        "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(2000))
        .encode("utf-8", "replace")
        .decode("utf-8", "replace"),
        " ".join(str(rng.randint(1, 999)) for _ in range(500))[:2000],
    ]


def benchmark(size: int = 2000, rounds: int = 5) -> dict[str, float]:
    """测速 — index build time and per-message parse latency on a ``size``-SKU catalog,
    over every labelled message, plus the slowest of the nasty inputs (up to 2,000
    characters each) as the "never hangs" bound."""
    catalog = synthetic_catalog(size)
    started = time.perf_counter()
    parser = ChatOrderParser(catalog)
    build_ms = (time.perf_counter() - started) * 1000
    texts = [
        record["text"]
        for name in LABELLED_SETS
        if (DATA / name).exists()
        for record in load_messages(DATA / name)
    ]
    for text in texts[:20]:  # warm-up
        parser.parse(text)
    timings = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            parser.parse(text)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    nasty_ms = []
    for text in nasty_messages():
        started = time.perf_counter()
        parser.parse(text)
        nasty_ms.append((time.perf_counter() - started) * 1000)
    return {
        "skus": len(catalog.products),
        "messages_timed": len(timings),
        "index_build_ms": round(build_ms, 1),
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 3),
        "max_ms": round(timings[-1], 3),
        "nasty_inputs": len(nasty_ms),
        "nasty_max_ms": round(max(nasty_ms), 1),
    }


def _print_report(scores: dict[str, CategoryScore]) -> None:
    order = sorted(k for k in scores if k not in ("all", "orders", NOT_ORDER))
    print(f"{'category':<12}{'msgs':>6}{'msg acc':>10}{'line P':>10}{'line R':>10}")
    for name in [*order, NOT_ORDER, "orders", "all"]:
        if name not in scores:
            continue
        figures = scores[name].as_dict()
        cells = [
            f"{figures[key] * 100:.1f}%" if figures[key] is not None else "-"
            for key in ("message_accuracy", "line_precision", "line_recall")
        ]
        print(f"{name:<12}{figures['messages']:>6}{cells[0]:>10}{cells[1]:>10}{cells[2]:>10}")


def main(argv: list[str] | None = None) -> int:
    """入口 — run the evaluation from the command line."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--catalog", type=Path, default=CATALOG)
    options.add_argument("--messages", type=Path, default=MESSAGES)
    options.add_argument("--failures", action="store_true", help="list wrong messages")
    options.add_argument("--speed", action="store_true", help="time parsing on 2,000 SKUs")
    options.add_argument("--json", action="store_true", help="print figures as JSON")
    args = options.parse_args(argv)
    scores = evaluate(args.catalog, args.messages)
    speed = benchmark() if args.speed else None
    if args.json:
        figures: dict[str, Any] = {name: s.as_dict() for name, s in scores.items()}
        if speed:
            figures["speed"] = speed
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return 0
    _print_report(scores)
    if speed:
        print(
            f"\nspeed: {speed['skus']} SKUs, index built in {speed['index_build_ms']} ms; "
            f"{speed['messages_timed']} parses: p50 {speed['p50_ms']} ms, "
            f"p99 {speed['p99_ms']} ms, max {speed['max_ms']} ms; "
            f"{speed['nasty_inputs']} nasty inputs (up to 2,000 chars): "
            f"slowest {speed['nasty_max_ms']} ms"
        )
    if args.failures:
        for name, score in sorted(scores.items()):
            if name in ("all", "orders", NOT_ORDER) and name != NOT_ORDER:
                continue
            for failure in score.failures:
                record, result = failure["record"], failure["result"]
                got = [(line["name"], line["qty"], line["unit"]) for line in result["lines"]]
                print(f"\n[{record['id']}] {record['text']!r}")
                print(f"  expected: {record['expected']}")
                print(f"  got: unparseable={result['unparseable']} {result.get('reason')} {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

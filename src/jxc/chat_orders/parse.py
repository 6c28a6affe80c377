"""社群订单解析 — turn a pasted WeChat-group message into explainable order lines.

Guarantees:
- ``ChatOrderParser(catalog)`` builds the matcher index once; ``parse`` is pure
  and touches no database, clock or global state.
- Every line carries a confidence in [0, 1], the evidence (original text span,
  how the product matched, the quantity text, any conversion) and the
  alternatives; a line is ``needs_review`` when its confidence is below the
  threshold or any review flag applies — nothing uncertain is silently guessed.
- A message that is not an order (question, same-as-last-time, cancellation,
  after-sales, small talk) has ``unparseable`` true, no lines and a reason in
  Chinese and English.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jxc.chat_orders.catalog import Catalog
from jxc.chat_orders.intent import ITEM_CANCEL, ORDER_WORDS, clause_intent, message_flags
from jxc.chat_orders.leftovers import leftovers_next_to
from jxc.chat_orders.matcher import Matcher, MatchKind, ProductMention
from jxc.chat_orders.messages import Reason, Review, reason_text, review_text
from jxc.chat_orders.noise import noise_spans
from jxc.chat_orders.quantities import scan_quantities
from jxc.chat_orders.resolve import resolve
from jxc.chat_orders.segmenter import (
    Pair,
    Strength,
    Token,
    attach_to_asked,
    build_tokens,
    pair_tokens,
)
from jxc.chat_orders.text import NormalizedText, normalize
from jxc.chat_orders.units import normalize_decimal

REVIEW_THRESHOLD = 0.8
_COOKING_VERBS = frozenset("包做炖炒煮烧蒸煲腌拌煎炸烤")
_FUZZY_KINDS = (MatchKind.FUZZY, MatchKind.FUZZY_PINYIN)


@dataclass(frozen=True)
class OrderLine:
    """订单行 — one product, quantity and unit, with its confidence and evidence."""

    sku: str
    name: str
    qty: Decimal
    unit: str
    confidence: float
    review: tuple[Review, ...]
    evidence: dict[str, Any]
    alternatives: tuple[dict[str, str], ...]

    @property
    def needs_review(self) -> bool:
        """需复核 — the clerk should look at this line."""
        return bool(self.review)

    def to_json(self) -> dict[str, Any]:
        """JSON — the line as written by ``jxc parse-order``."""
        return {
            "sku": self.sku,
            "name": self.name,
            "qty": normalize_decimal(self.qty),
            "unit": self.unit,
            "confidence": round(self.confidence, 3),
            "needs_review": self.needs_review,
            "review": [review_text(code) for code in self.review],
            "evidence": self.evidence,
            "alternatives": list(self.alternatives),
        }


@dataclass(frozen=True)
class ParseResult:
    """解析结果 — the lines of one message, or why it is not an order."""

    message_id: Any
    lines: tuple[OrderLine, ...]
    unparseable: bool
    reason: Reason | None = None
    notes: tuple[Review, ...] = ()
    candidate_lines: tuple[OrderLine, ...] = field(default=())

    @property
    def needs_review(self) -> bool:
        """需复核 — any line or the message itself needs the clerk."""
        return bool(self.notes) or any(line.needs_review for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        """JSON — the message as written by ``jxc parse-order``."""
        data: dict[str, Any] = {
            "id": self.message_id,
            "lines": [line.to_json() for line in self.lines],
            "unparseable": self.unparseable,
            "needs_review": self.needs_review,
        }
        if self.reason is not None:
            data.update(reason_text(self.reason))
        if self.notes:
            data["notes"] = [review_text(code) for code in self.notes]
        if self.candidate_lines:
            data["candidate_lines"] = [line.to_json() for line in self.candidate_lines]
        return data


class ChatOrderParser:
    """社群订单解析器 — parses messages against one catalog (index built once)."""

    def __init__(self, catalog: Catalog, review_threshold: float = REVIEW_THRESHOLD) -> None:
        self.catalog = catalog
        self.review_threshold = review_threshold
        self.matcher = Matcher(catalog)

    def with_alias(self, sku: str, alias: str) -> ChatOrderParser:
        """学习别名 — a parser whose catalog remembers the clerk's correction."""
        return ChatOrderParser(self.catalog.with_alias(sku, alias), self.review_threshold)

    def parse(self, message: str, message_id: Any = None) -> ParseResult:
        """解析 — one message to order lines, or a reason why it is not an order."""
        norm = normalize(message)
        text = norm.text
        if not text.strip():
            return ParseResult(message_id, (), True, Reason.EMPTY)
        free = [True] * len(text)
        for start, end in noise_spans(text):
            _cover(free, start, end)
        products = self.matcher.find_exact(text, free)
        for mention in products:
            _cover(free, mention.start, mention.end)
        for mention in self.matcher.find_pinyin(text, free):
            products.append(mention)
            _cover(free, mention.start, mention.end)
        quantities = scan_quantities(text, free)
        for qty in quantities:
            _cover(free, qty.start, qty.end)
        for start, end in leftovers_next_to(text, free, quantities):
            mention = self.matcher.find_fuzzy(text, start, end)
            if mention is not None:
                products.append(mention)
                _cover(free, start, end)
        products.sort(key=lambda m: m.start)
        tokens = build_tokens(text, free, products, quantities)
        pairs, leftovers = pair_tokens(tokens, text)
        info_clauses = _info_clauses(text, tokens)
        pairs += attach_to_asked(tokens, leftovers, info_clauses)
        # Markers that were resolved inside the message (a correction, or one
        # item cancelled) must not make the whole message a cancellation.
        flag_text = list(text)
        for token in tokens:
            if token.kind == "FIX" and token.applied:
                flag_text[token.start : token.end] = " " * (token.end - token.start)
        cancelled = _cancelled_items(text, tokens, flag_text)
        lines = []
        for pair in pairs:
            if pair.clause in info_clauses or not _keep(pair, text):
                continue
            if (pair.product.start, pair.product.end) in cancelled:
                continue
            lines.append(self._line(norm, pair))
        lines = _merge(lines)
        result = self._decide(message_id, "".join(flag_text), lines, bool(info_clauses))
        if cancelled and not result.unparseable:
            notes = (*result.notes, Review.CANCELS_ITEM)
            return ParseResult(message_id, result.lines, False, None, notes)
        if cancelled and result.reason in (None, Reason.NO_ITEMS, Reason.ACKNOWLEDGEMENT):
            return ParseResult(message_id, (), True, Reason.CANCELLATION)
        return result

    def _line(self, norm: NormalizedText, pair: Pair) -> OrderLine:
        mention = pair.product
        resolution = resolve(mention.candidates, pair.qty, self.matcher)
        best = resolution.matched or mention.best
        review = list(resolution.review)
        if best.kind in _FUZZY_KINDS:
            review.append(Review.FUZZY_MATCH)
        confidence = best.score * resolution.factor
        if pair.qty is not None and pair.qty.bare:
            confidence *= 0.95
        if confidence < self.review_threshold and not review:
            review.append(Review.LOW_CONFIDENCE)
        start = min(mention.start, pair.qty.start if pair.qty else mention.start)
        end = max(mention.end, pair.qty.end if pair.qty else mention.end)
        evidence: dict[str, Any] = {
            "text": norm.original_text(start, end),
            "span": list(norm.original_span(start, end)),
            "product_text": norm.original_text(mention.start, mention.end),
            "matched_by": best.kind.value,
            "matched_key": best.key,
        }
        if pair.qty is not None:
            evidence["qty_text"] = norm.original_text(pair.qty.start, pair.qty.end)
        if pair.distributed:
            evidence["distributed"] = "各"
        if resolution.conversion:
            evidence["conversion"] = resolution.conversion
        alternatives = tuple(
            {"sku": c.product.sku, "name": c.product.name, "matched_by": c.kind.value}
            for c in resolution.alternatives[:3]
        )
        return OrderLine(
            sku=resolution.product.sku,
            name=resolution.product.name,
            qty=resolution.qty,
            unit=resolution.unit,
            confidence=round(min(1.0, confidence), 3),
            review=tuple(dict.fromkeys(review)),
            evidence=evidence,
            alternatives=alternatives,
        )

    def _decide(self, message_id: Any, text: str, lines: list[OrderLine], asked: bool):
        flags = message_flags(text)
        if not lines:
            order = (
                Reason.REPEAT_PREVIOUS,
                Reason.CANCELLATION,
                Reason.AFTER_SALES,
            )
            reason = next((r for r in order if flags[r]), None)
            if reason is None:
                reason = (
                    Reason.QUESTION
                    if asked
                    else Reason.ACKNOWLEDGEMENT
                    if flags[Reason.ACKNOWLEDGEMENT]
                    else Reason.NO_ITEMS
                )
            return ParseResult(message_id, (), True, reason)
        for reason in (Reason.CANCELLATION, Reason.AFTER_SALES):
            if flags[reason]:
                return ParseResult(message_id, (), True, reason, candidate_lines=tuple(lines))
        if all(Review.QTY_MISSING in line.review for line in lines) and not ORDER_WORDS.search(
            text
        ):
            return ParseResult(
                message_id, (), True, Reason.NO_QUANTITY, candidate_lines=tuple(lines)
            )
        notes = (Review.REFERENCES_PREVIOUS,) if flags[Reason.REPEAT_PREVIOUS] else ()
        return ParseResult(message_id, tuple(lines), False, None, notes)


def _cover(free: list[bool], start: int, end: int) -> None:
    for index in range(start, end):
        free[index] = False


def _cancelled_items(text: str, tokens: list[Token], flag_text: list[str]) -> set[tuple[int, int]]:
    """Products directly followed by 不要了/取消 (黄瓜不要了): only that item is
    cancelled; its span is blanked from ``flag_text`` so the rest can still be an order."""
    cancelled: set[tuple[int, int]] = set()
    for token in tokens:
        if token.kind != "P":
            continue
        match = ITEM_CANCEL.match(text, token.end)
        if match is None:
            continue
        cancelled.add((token.start, token.end))
        flag_text[token.start : match.end()] = " " * (match.end() - token.start)
    return cancelled


def _keep(pair: Pair, text: str) -> bool:
    """A bare one-character or fuzzy mention without a quantity is not an item, nor
    is one named as what the customer will cook (包饺子, 炖排骨)."""
    if pair.qty is not None:
        return True
    mention: ProductMention = pair.product
    if mention.start > 0 and text[mention.start - 1] in _COOKING_VERBS:
        return False
    return not mention.single_char and mention.best.kind not in _FUZZY_KINDS


def _info_clauses(text: str, tokens: list[Token]) -> set[int]:
    """Clauses that only ask for information (see ``intent.clause_intent``)."""
    bounds: list[tuple[int, int, bool]] = []
    start = 0
    for token in tokens:
        if token.kind == "SEP" and token.strength == Strength.CLAUSE:
            marker = text[token.start : token.end]
            bounds.append((start, token.start, "?" in marker or "？" in marker))
            start = token.end
    bounds.append((start, len(text), False))
    info: set[int] = set()
    qty_starts = sorted(t.start for t in tokens if t.kind == "Q")
    for index, (lo, hi, question_mark) in enumerate(bounds):
        first = bisect_left(qty_starts, lo)
        has_qty = first < len(qty_starts) and qty_starts[first] < hi
        if clause_intent(text[lo:hi], question_mark, has_qty).info_question:
            info.add(index)
    return info


def _merge(lines: list[OrderLine]) -> list[OrderLine]:
    """The same SKU and unit twice in one message (再加一盒蓝莓) adds up; a second
    mention without a quantity (备注：鸡爪要大的) is a remark, not another line."""
    merged: dict[tuple[str, str], OrderLine] = {}
    with_qty = {line.sku for line in lines if Review.QTY_MISSING not in line.review}
    lines = [
        line for line in lines if line.sku not in with_qty or Review.QTY_MISSING not in line.review
    ]
    for line in lines:
        key = (line.sku, line.unit)
        if key in merged:
            first = merged[key]
            merged[key] = OrderLine(
                sku=first.sku,
                name=first.name,
                qty=first.qty + line.qty,
                unit=first.unit,
                confidence=min(first.confidence, line.confidence),
                review=tuple(dict.fromkeys(first.review + line.review)),
                evidence={**first.evidence, "merged_with": line.evidence["text"]},
                alternatives=first.alternatives,
            )
        else:
            merged[key] = line
    return list(merged.values())

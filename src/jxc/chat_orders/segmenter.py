"""切分与配对 — split a message into items and pair each product with its quantity.

Guarantees:
- Items may be separated by + 、 , ， spaces, new lines, 和/跟/还有/再来/另外, or
  nothing at all (蓝莓2盒山药1袋); the quantity may come before or after the name.
- ``各`` gives its quantity to every product listed before it (苹果香蕉各两斤),
  across 、 and spaces but not across a new line or a quantity.
- A quantity after a correction marker (不对, 改成) replaces the product's earlier
  quantity; a price (18块那个) or an indefinite 一个 gives way to a real quantity.
- In a 接龙 list whose header names the product, each later line's lone quantity
  adds to it.
- A quantity with no product in its segment attaches to the nearest product
  left without one (蓝莓，两盒 / 有草莓吗？有的话来两盒); a product never takes
  two quantities and a quantity never serves two products (except ``各``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum

from jxc.chat_orders.matcher import ProductMention
from jxc.chat_orders.quantities import QtyMention
from jxc.chat_orders.units import PIECE_UNITS


class Strength(IntEnum):
    """分隔强度 — how strongly a separator splits items."""

    WEAK = 1  # + 、 space 和 跟
    MEDIUM = 2  # , ， 还有 再来 另外
    CLAUSE = 3  # 。 ！ ？ ; new line


_SEPARATORS = re.compile(
    r"(?P<clause>[\n。!！?？;；]+)|(?P<medium>[,，]|还有|另外|以及|然后|再来|再加|再要|还要|外加)"
    r"|(?P<weak>[+＋、/|~～\s]+|和|跟|与|及|加|还)"
)


# "草莓两盒，不对，三盒" / "土豆3斤，改成5斤": the quantity after the marker
# replaces the one the customer gave before.
_CORRECTION = re.compile(r"不对|哦不|噢不|不不|说错|错了|改成|改为|改一下|更正|应该是")


@dataclass
class Token:
    """记号 — a product, a quantity, 各 or a separator, in text order."""

    kind: str  # "P", "Q", "GE", "FIX" (a correction marker), "SEP"
    start: int
    end: int
    strength: Strength = Strength.WEAK
    product: ProductMention | None = None
    qty: QtyMention | None = None
    clause: int = 0
    applied: bool = False  # a correction marker that changed a quantity


@dataclass
class Pair:
    """配对结果 — one product mention with the quantity it got (if any)."""

    product: ProductMention
    qty: QtyMention | None
    clause: int
    distributed: bool = False  # quantity came from 各
    notes: list[str] = field(default_factory=list)


def build_tokens(
    text: str,
    free: list[bool],
    products: list[ProductMention],
    quantities: list[QtyMention],
) -> list[Token]:
    """记号序列 — products, quantities, 各 and separators sorted by position."""
    tokens = [Token("P", p.start, p.end, product=p) for p in products]
    tokens += [Token("Q", q.start, q.end, qty=q) for q in quantities]
    for match in _SEPARATORS.finditer(text):
        if not all(free[match.start() : match.end()]):
            continue
        if match.group(0) == "." or (
            match.group("weak") == "加" and text[match.end() : match.end() + 1] == "上"
        ):
            continue
        strength = (
            Strength.CLAUSE
            if match.group("clause")
            else Strength.MEDIUM
            if match.group("medium")
            else Strength.WEAK
        )
        tokens.append(Token("SEP", match.start(), match.end(), strength=strength))
    for match in _CORRECTION.finditer(text):
        if all(free[match.start() : match.end()]):
            tokens.append(Token("FIX", match.start(), match.end()))
    for pos, char in enumerate(text):
        if char == "各" and free[pos]:
            tokens.append(Token("GE", pos, pos + 1))
    tokens.sort(key=lambda t: (t.start, t.kind != "SEP"))
    clause = 0
    for token in tokens:
        if token.kind == "SEP" and token.strength == Strength.CLAUSE:
            clause += 1
        token.clause = clause
    return tokens


def _ends_clause(token: Token, text: str) -> bool:
    """A clause end that 各 may not reach across (a new line alone may be crossed)."""
    return token.strength == Strength.CLAUSE and text[token.start : token.end].strip() != ""


def _distribute(
    tokens: list[Token], assigned: dict[int, Token], used: set[int], text: str
) -> set[int]:
    """Apply 各: the quantity after 各 goes to each earlier product without one."""
    distributed: set[int] = set()
    # next_item[i]: index of the first product, quantity or separator after i
    next_item: list[int | None] = [None] * len(tokens)
    following: int | None = None
    for index in range(len(tokens) - 1, -1, -1):
        next_item[index] = following
        if tokens[index].kind in ("Q", "P", "SEP"):
            following = index
    for index, token in enumerate(tokens):
        if token.kind != "GE":
            continue
        qty_index = next_item[index]
        if qty_index is None or tokens[qty_index].kind != "Q":
            continue
        targets = []
        for j in range(index - 1, -1, -1):
            prior = tokens[j]
            if prior.kind == "Q" or (prior.kind == "SEP" and _ends_clause(prior, text)):
                break
            if prior.kind == "P" and id(prior) not in assigned:
                targets.append(prior)
        if not targets:
            continue
        for target in targets:
            assigned[id(target)] = tokens[qty_index]
            distributed.add(id(target))
        used.add(id(tokens[qty_index]))
    return distributed


def _segments(tokens: list[Token]) -> list[list[Token]]:
    segments: list[list[Token]] = [[]]
    for token in tokens:
        if token.kind == "SEP":
            if segments[-1]:
                segments.append([])
        elif token.kind in ("P", "Q"):
            segments[-1].append(token)
    return [segment for segment in segments if segment]


def pair_tokens(tokens: list[Token], text: str) -> tuple[list[Pair], list[Token]]:
    """配对 — pair products and quantities (see module guarantees).

    Returns the pairs and the quantity tokens left without a product.
    """
    assigned: dict[int, Token] = {}
    used: set[int] = set()
    distributed = _distribute(tokens, assigned, used, text)
    segments = _segments(tokens)
    for segment in segments:
        items = [t for t in segment if id(t) not in used and id(t) not in assigned]
        if not any(t.kind == "P" for t in items) or not any(t.kind == "Q" for t in items):
            continue
        leader = items[0].kind
        follower = "P" if leader == "Q" else "Q"
        pending: Token | None = None
        for token in items:
            if token.kind == leader:
                pending = token
            elif token.kind == follower and pending is not None:
                product, qty = (token, pending) if leader == "Q" else (pending, token)
                assigned[id(product)] = qty
                used.add(id(qty))
                pending = None
    # Leftover quantities look for the nearest earlier product still without one
    # (or holding only a price or an indefinite 一个), then for the next product
    # (两盒，蓝莓). After a correction marker the quantity replaces the earlier one.
    flat = [t for segment in segments for t in segment]
    corrections = _corrections(tokens)
    for position, token in enumerate(flat):
        if token.kind != "Q" or id(token) in used:
            continue
        target = None
        fix = corrections.get(id(token))
        for prior in reversed(flat[:position]):
            if prior.kind == "Q" and id(prior) in used:
                continue
            if prior.kind == "P" and (
                fix is not None or id(prior) not in assigned or _weak(assigned[id(prior)], prior)
            ):
                target = prior
                if fix is not None:
                    fix.applied = True
            break
        if target is None:
            later = flat[position + 1] if position + 1 < len(flat) else None
            if later is not None and later.kind == "P" and id(later) not in assigned:
                target = later
        if target is not None:
            assigned[id(target)] = token
            used.add(id(token))
    pairs = _header_pairs(tokens, flat, assigned, used)
    for token in tokens:
        if token.kind != "P":
            continue
        qty_token = assigned.get(id(token))
        clause = max(token.clause, qty_token.clause) if qty_token else token.clause
        pairs.append(
            Pair(
                product=token.product,  # type: ignore[arg-type]
                qty=qty_token.qty if qty_token else None,
                clause=clause,
                distributed=id(token) in distributed,
            )
        )
    leftovers = [t for t in tokens if t.kind == "Q" and id(t) not in used]
    return pairs, leftovers


def _corrections(tokens: list[Token]) -> dict[int, Token]:
    """Quantity tokens preceded (since the last product or quantity) by a correction marker."""
    found: dict[int, Token] = {}
    marker: Token | None = None
    for token in tokens:
        if token.kind == "FIX":
            marker = token
        elif token.kind == "P":
            marker = None
        elif token.kind == "Q":
            if marker is not None:
                found[id(token)] = marker
            marker = None
    return found


def _weak(qty_token: Token, product_token: Token) -> bool:
    """A price (18块那个草莓) or an indefinite 一个 that does not fit the product's
    unit (蹲一个草莓x2) gives way to a real quantity given for the same product."""
    qty = qty_token.qty
    assert qty is not None and product_token.product is not None
    if qty.money:
        return True
    unit = product_token.product.best.product.unit
    return (
        qty.qty == 1 and qty.unit in PIECE_UNITS and unit not in PIECE_UNITS and not qty.ambiguous
    )


def _header_pairs(
    tokens: list[Token], flat: list[Token], assigned: dict[int, Token], used: set[int]
) -> list[Pair]:
    """接龙 with the product in the header (榴莲\n1. 赵 2栋 1个\n2. 钱 2个): each
    quantity alone on a later line adds to the header product, named on a line
    that has no quantity of its own."""
    pairs: list[Pair] = []
    product_clauses = {t.clause for t in tokens if t.kind == "P"}
    qty_clauses = {t.clause for t in tokens if t.kind == "Q"}
    header: Token | None = None
    for token in flat:
        if token.kind == "P":
            header = token
            continue
        if token.kind != "Q" or id(token) in used or token.clause in product_clauses:
            continue
        if header is None or header.clause == token.clause:
            continue
        if header.clause in qty_clauses or id(header) not in assigned:
            continue
        used.add(id(token))
        pairs.append(Pair(product=header.product, qty=token.qty, clause=token.clause))  # type: ignore[arg-type]
    return pairs


def attach_to_asked(
    tokens: list[Token], leftovers: list[Token], info_clauses: set[int]
) -> list[Pair]:
    """追问配对 — 有草莓吗？来两盒: a quantity in an order clause with no product of
    its own goes to the product last asked about in a question clause."""
    extra = []
    product_clauses = {t.clause for t in tokens if t.kind == "P"}
    leftover_ids = {id(t) for t in leftovers}
    last_product: Token | None = None
    for token in tokens:  # in text order, so the last product seen is the one asked about
        if token.kind == "P":
            last_product = token
        if id(token) not in leftover_ids or token.clause in info_clauses:
            continue
        if token.clause in product_clauses or last_product is None:
            continue
        if last_product.end <= token.start and last_product.clause in info_clauses:
            extra.append(Pair(product=last_product.product, qty=token.qty, clause=token.clause))  # type: ignore[arg-type]
    return extra

"""切分与配对 — split a message into items and pair each product with its quantity.

Guarantees:
- Items may be separated by + 、 , ， spaces, new lines, 和/跟/还有/再来/另外, or
  nothing at all (蓝莓2盒山药1袋); the quantity may come before or after the name.
- ``各`` gives its quantity to every product listed before it (苹果香蕉各两斤),
  across 、 and spaces but not across a new line or a quantity.
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


class Strength(IntEnum):
    """分隔强度 — how strongly a separator splits items."""

    WEAK = 1  # + 、 space 和 跟
    MEDIUM = 2  # , ， 还有 再来 另外
    CLAUSE = 3  # 。 ！ ？ ; new line


_SEPARATORS = re.compile(
    r"(?P<clause>[\n。!！?？;；]+)|(?P<medium>[,，]|还有|另外|以及|然后|再来|再加|再要|还要|外加)"
    r"|(?P<weak>[+＋、/|~～\s]+|和|跟|与|及|加|还)"
)


@dataclass
class Token:
    """记号 — a product, a quantity, 各 or a separator, in text order."""

    kind: str  # "P", "Q", "GE", "SEP"
    start: int
    end: int
    strength: Strength = Strength.WEAK
    product: ProductMention | None = None
    qty: QtyMention | None = None
    clause: int = 0


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
    for index, token in enumerate(tokens):
        if token.kind != "GE":
            continue
        qty_index = next(
            (j for j in range(index + 1, len(tokens)) if tokens[j].kind in ("Q", "P", "SEP")),
            None,
        )
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
    # Leftover quantities look for the nearest earlier product still without one,
    # then for the next product (两盒，蓝莓).
    flat = [t for segment in segments for t in segment]
    for position, token in enumerate(flat):
        if token.kind != "Q" or id(token) in used:
            continue
        target = None
        for prior in reversed(flat[:position]):
            if prior.kind == "Q" and id(prior) in used:
                continue
            if prior.kind == "P" and id(prior) not in assigned:
                target = prior
            break
        if target is None:
            later = flat[position + 1] if position + 1 < len(flat) else None
            if later is not None and later.kind == "P" and id(later) not in assigned:
                target = later
        if target is not None:
            assigned[id(target)] = token
            used.add(id(token))
    pairs = []
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


def attach_to_asked(
    tokens: list[Token], leftovers: list[Token], info_clauses: set[int]
) -> list[Pair]:
    """追问配对 — 有草莓吗？来两盒: a quantity in an order clause with no product of
    its own goes to the product last asked about in a question clause."""
    extra = []
    for qty in leftovers:
        if qty.clause in info_clauses:
            continue
        if any(t.kind == "P" and t.clause == qty.clause for t in tokens):
            continue
        asked = [t for t in tokens if t.kind == "P" and t.end <= qty.start]
        if asked and asked[-1].clause in info_clauses:
            extra.append(Pair(product=asked[-1].product, qty=qty.qty, clause=qty.clause))  # type: ignore[arg-type]
    return extra

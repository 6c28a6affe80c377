"""Fixtures for the chat-order parser tests: the labelled catalog, parsed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from jxc.chat_orders import Catalog, ChatOrderParser

DATA = Path(__file__).resolve().parent.parent / "data" / "chat_orders"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.from_csv(DATA / "catalog.csv")


@pytest.fixture(scope="session")
def parser(catalog: Catalog) -> ChatOrderParser:
    return ChatOrderParser(catalog)


@pytest.fixture(scope="session")
def sku_of(catalog: Catalog):
    by_name = {product.name: product.sku for product in catalog.products}
    return by_name.__getitem__


def lines_of(result) -> list[tuple[str, str, str]]:
    """(sku, qty, unit) of each parsed line, in order."""
    return [(line.sku, str(line.to_json()["qty"]), line.unit) for line in result.lines]

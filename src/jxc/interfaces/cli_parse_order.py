"""社群订单解析命令 — ``jxc parse-order``: chat messages in, JSON lines out, no database.

Input is one message per line (the 1-based line number is its id) or JSON
lines with ``id`` and ``text`` (multi-line messages). Output is one JSON object
per message: ``{"id", "lines": [{"sku", "qty", "unit", "confidence", ...}],
"unparseable", ...}``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from jxc.chat_orders import Catalog, CatalogError, ChatOrderParser


def read_messages(stream: TextIO) -> Iterator[tuple[Any, str]]:
    """读消息 — (id, text) pairs from plain lines or JSON lines."""
    for number, raw in enumerate(stream, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                record = json.loads(stripped)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict) and "text" in record:
                yield record.get("id", number), str(record["text"])
                continue
        yield number, line


def parse_order(
    catalog: Annotated[
        Path, typer.Option("--catalog", help="CSV: sku,name,spec,unit,aliases,barcode,price")
    ],
    input_path: Annotated[
        str, typer.Option("--input", help="messages file, one per line or JSON lines; - = stdin")
    ] = "-",
    threshold: Annotated[
        float, typer.Option("--review-threshold", help="lines below this confidence need review")
    ] = 0.8,
) -> None:
    """解析社群订单 — parse chat-group messages into order lines (JSON lines on stdout)."""
    try:
        parser = ChatOrderParser(Catalog.from_csv(catalog), review_threshold=threshold)
    except (OSError, CatalogError) as error:
        typer.echo(f"目录无法读取 / cannot read catalog: {error}", err=True)
        raise typer.Exit(code=2) from error
    stream: TextIO
    if input_path == "-":
        stream = sys.stdin
        close = False
    else:
        stream = open(input_path, encoding="utf-8-sig")  # noqa: SIM115
        close = True
    try:
        for message_id, text in read_messages(stream):
            result = parser.parse(text, message_id=message_id)
            sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    finally:
        if close:
            stream.close()


def register(app: typer.Typer) -> None:
    """注册命令 — add ``parse-order`` to the jxc command-line app."""
    app.command("parse-order")(parse_order)

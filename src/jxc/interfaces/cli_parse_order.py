"""社群订单命令 — ``jxc parse-order`` (chat messages in, JSON lines out) and ``jxc chat-order``.

``parse-order --catalog FILE`` needs no database (the evaluation uses it); ``parse-order
--book`` parses against the book's own products and learned aliases instead. Input is one
message per line (the 1-based line number is its id) or JSON lines with ``id`` and ``text``
(multi-line messages). Output is one JSON object per message: ``{"id", "lines": [{"sku",
"qty", "unit", "confidence", ...}], "unparseable", ...}``.

``chat-order TEXT --warehouse CODE`` creates a draft sales order from one message
(services/chat_intake.py) and prints the result as JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from jxc.bootstrap import App, build
from jxc.chat_orders import Catalog, CatalogError, ChatOrderParser
from jxc.config import Settings
from jxc.domain.errors import DomainError
from jxc.services import chat_intake
from jxc.services.posting import Actor

CLI_ACTOR = Actor("cli", frozenset({"*"}))
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]


def _app(data_dir: Path | None) -> App:
    return build(Settings(data_dir=data_dir) if data_dir else Settings())


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
        Path | None, typer.Option("--catalog", help="CSV: sku,name,spec,unit,aliases,barcode,price")
    ] = None,
    input_path: Annotated[
        str, typer.Option("--input", help="messages file, one per line or JSON lines; - = stdin")
    ] = "-",
    threshold: Annotated[
        float, typer.Option("--review-threshold", help="lines below this confidence need review")
    ] = 0.8,
    book: Annotated[
        bool, typer.Option("--book", help="use the book's products and learned aliases (database)")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """解析社群订单 — parse chat-group messages into order lines (JSON lines on stdout)."""
    if (catalog is None) == (not book):
        typer.echo("请给 --catalog 文件或 --book（二选一）/ give either --catalog FILE or --book", err=True)
        raise typer.Exit(code=2)
    if catalog is None:
        app = _app(data_dir)
        try:
            parser = chat_intake.ChatCatalog(threshold).parser(app.uow_factory)
        finally:
            app.dispose()
    else:
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


def _code_id(app: App, table: str, code: str | None, label: str) -> int | None:
    if code is None:
        return None
    rows = app.queries.page_records(table, None, 1, code=code)
    if not rows:
        typer.echo(f"{label} {code} 不存在 / no {table[:-1]} with code {code}", err=True)
        raise typer.Exit(code=2)
    return rows[0]["id"]


def chat_order(
    text: Annotated[str, typer.Argument(help="the customer's message 顾客消息")],
    warehouse: Annotated[str, typer.Option("--warehouse", help="warehouse or store code 仓库编码")],
    customer: Annotated[str | None, typer.Option("--customer", help="customer code; omit to guess")] = None,
    accept: Annotated[
        list[int] | None, typer.Option("--accept", help="index of a needs_decision line to include (repeat)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """社群订单下单 — a draft sales order from one chat message (JSON on stdout; nothing for a non-order)."""
    app = _app(data_dir)
    try:
        wid = _code_id(app, "warehouses", warehouse, "仓库")
        cid = _code_id(app, "partners", customer, "客户")
        now = app.clock.now()
        draft = chat_intake.draft_order(
            app.uow_factory, app.chat_catalog,
            chat_intake.ChatOrderInput(text, wid or 0, cid, tuple(accept or ())), CLI_ACTOR, now,
            now.astimezone(app.settings.zone).date())
    except DomainError as exc:
        typer.echo(f"错误 {exc.code}: {exc.message_zh}\nerror {exc.code}: {exc.message_en}", err=True)
        if exc.details:
            typer.echo(json.dumps(exc.details, ensure_ascii=False, default=str), err=True)
        raise typer.Exit(code=2) from exc
    finally:
        app.dispose()
    sys.stdout.write(json.dumps(draft.to_json(), ensure_ascii=False, default=str) + "\n")


def register(app: typer.Typer) -> None:
    """注册命令 — add ``parse-order`` and ``chat-order`` to the jxc command-line app."""
    app.command("parse-order")(parse_order)
    app.command("chat-order")(chat_order)

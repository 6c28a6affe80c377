"""命令行 — the `jxc` command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="进销存 jxc — purchase–sales–inventory", no_args_is_help=True)


def _register_optional() -> None:
    from jxc.interfaces import cli_parse_order

    cli_parse_order.register(app)


def main() -> None:
    _register_optional()
    app()

"""Docs kept true: settings, error codes and CLI commands are all documented."""

from __future__ import annotations

import re
from pathlib import Path

from jxc.config import Settings
from jxc.domain.errors import ERROR_CODES

ROOT = Path(__file__).resolve().parents[1]
CODE_RE = re.compile(
    r"""(?:DomainError|Conflict|NotFound|problems\.add|\.add)\(\s*(?:f?["'][^"']*["']\s*if[^,]*else\s*)?["']([A-Z][A-Z_]+)["']""")


def test_every_setting_is_documented():
    doc = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`JXC_{name.upper()}`" in doc, f"JXC_{name.upper()} missing from docs/configuration.md"


def test_configuration_doc_is_what_the_generator_produces():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_config_docs", ROOT / "scripts/gen_config_docs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    doc = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    assert doc == gen.render(), "docs/configuration.md is out of date: run python scripts/gen_config_docs.py"


def test_every_raised_error_code_is_listed_and_documented():
    raised = set()
    for path in (ROOT / "src/jxc").rglob("*.py"):
        raised |= set(CODE_RE.findall(path.read_text(encoding="utf-8")))
    assert raised, "the scan found no error codes: the pattern is broken"
    assert raised <= set(ERROR_CODES), f"codes raised but not in ERROR_CODES: {raised - set(ERROR_CODES)}"
    doc = (ROOT / "docs/errors.md").read_text(encoding="utf-8")
    missing = [c for c in ERROR_CODES if f"`{c}`" not in doc]
    assert missing == [], f"codes missing from docs/errors.md: {missing}"


def test_every_cli_command_is_in_the_readme_or_docs():
    from typer.main import get_command

    from jxc.interfaces.cli import app

    text = (ROOT / "README.md").read_text(encoding="utf-8") + (ROOT / "docs/cli.md").read_text(encoding="utf-8")
    group = get_command(app)
    names = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        names += [f"jxc {name} {s}" for s in subs] if subs else [f"jxc {name}"]
    missing = [n for n in names if n not in text]
    assert missing == [], f"CLI commands not documented: {missing}"

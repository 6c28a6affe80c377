"""界面文案检查 — list the `_()` texts of the web templates and modules that have no English yet.

    PYTHONPATH=src python scripts/i18n_check.py            # missing ids, with the file that uses them
    PYTHONPATH=src python scripts/i18n_check.py --po        # the same as .po entries to paste and translate

tests/web/test_i18n.py runs the same extraction and fails on any missing entry.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir

from jxc.interfaces.web import i18n

WEB = Path(i18n.__file__).parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extracted(root: Path = WEB) -> dict[str, str]:
    """msgid → the first file (relative to interfaces/web) that marks it."""
    found: dict[str, str] = {}
    for filename, _line, msg, _comments, _ctx in extract_from_dir(root, METHODS, OPTIONS, keywords=KEYWORDS):
        for one in msg if isinstance(msg, tuple) else (msg,):
            if one:
                found.setdefault(one, filename)
    return found


def missing(root: Path = WEB) -> dict[str, str]:
    english = i18n.load(root / "locale").messages.get(i18n.EN, {})
    return {m: f for m, f in extracted(root).items() if m not in english}


def main(argv: list[str]) -> int:
    gaps = missing()
    for msgid, filename in sorted(gaps.items(), key=lambda kv: kv[1]):
        if "--po" in argv:
            print(f"#: {filename}\nmsgid {msgid!r}\nmsgstr \"\"\n".replace("'", '"'))
        else:
            print(f"{filename}: {msgid}")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

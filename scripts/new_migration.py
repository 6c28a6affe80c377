"""Write the next Alembic migration from the difference between tables.py and the migration chain.

    python scripts/new_migration.py "orders: money owed"           # SQLite (batch-mode ops)
    python scripts/new_migration.py "…" --db postgresql://…/scratch  # an empty scratch database

The chain is upgraded on an empty database, then autogenerate compares it with
`jxc.storage.tables.metadata` and writes `NNNN_<slug>.py`. Read the result before
committing it: autogenerate cannot see renames, and tests/storage/test_migrations.py
proves the chain builds the same schema as tables.py.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from jxc.storage.schema import MIGRATIONS, alembic_config, migrate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("message")
    ap.add_argument("--db", help="URL of an EMPTY scratch database (default: a temporary SQLite file)")
    args = ap.parse_args()
    numbers = [int(m.group(1)) for p in (MIGRATIONS / "versions").glob("*.py") if (m := re.match(r"(\d{4})_", p.name))]
    rev = f"{max(numbers, default=0) + 1:04d}"
    slug = re.sub(r"[^a-z0-9]+", "_", args.message.lower()).strip("_")[:40]
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(args.db or f"sqlite:///{Path(tmp) / 'scratch.db'}")
        migrate(engine)
        cfg = alembic_config(engine)
        command.revision(cfg, message=args.message, autogenerate=True, rev_id=rev)
        engine.dispose()
    written = next((MIGRATIONS / "versions").glob(f"{rev}_*.py"))
    target = written.with_name(f"{rev}_{slug}.py")
    written.rename(target)
    print(target)


if __name__ == "__main__":
    main()

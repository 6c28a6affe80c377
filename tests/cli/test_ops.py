"""备份与恢复 — `jxc backup` / `jxc restore` verified by the invariant check, and `jxc db upgrade` rerun.

Runs on the database under test: SQLite files (backup API), or PostgreSQL with
`--db=postgresql` (pg_dump / pg_restore, verification in a scratch database).
"""

from __future__ import annotations

import os
import shutil
from decimal import Decimal as D

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from jxc.bootstrap import build
from jxc.config import Settings
from jxc.domain.ledger import Movement
from jxc.interfaces.cli import app as cli
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.cli.test_cli import env  # noqa: F401 - the fixture
from tests.conftest import NOW, World, make_world
from tests.storage.test_migrations import fresh  # noqa: F401 - the fixture

runner = CliRunner()


@pytest.fixture
def book(env):  # noqa: F811
    """The CLI's book with a small shop and one receipt of 12 bags of rice; PostgreSQL needs the client tools."""
    if env.engine.dialect.name == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        if os.environ.get("CI"):
            pytest.fail("pg_dump / pg_restore are required in CI: add postgresql-client to .ci/run")
        pytest.skip("pg_dump / pg_restore not installed (apt-get install postgresql-client)")
    w = make_world(env)
    _receive(env, w, D(12))
    return env, w


def _receive(app, w: World, qty: D) -> None:
    post(app.uow_factory, PostingRequest("receipt", (Movement(w.rice, qty, w.supplier, w.shelf_a,
                                                              unit_cost=D("2.5")),), NOW), SYSTEM, NOW)


def _rice_on_hand(app) -> D:
    pid, _ = app.queries.lookup_ids("P002", None)
    return sum((amount.qty for amount in app.queries.balances(pid).values()), D(0))


def test_backup_of_a_clean_book_passes_the_check_and_never_overwrites(book, tmp_path):
    app, _ = book
    r = runner.invoke(cli, ["backup"])
    assert r.exit_code == 0, r.output
    assert "已备份" in r.output and "校验通过" in r.output and "verified" in r.output
    (made,) = (tmp_path / "backups").iterdir()  # the default: <data_dir>/backups/<name>-<time>
    assert made.suffix == (".db" if app.engine.dialect.name == "sqlite" else ".dump")
    again = runner.invoke(cli, ["backup", "--to", str(made)])
    assert again.exit_code == 2 and "已存在" in again.output and "already exists" in again.output


def test_backup_of_a_tampered_book_reports_the_violation_and_exits_1(book, tmp_path):
    app, w = book
    with app.engine.begin() as conn:  # edited behind the system's back: balance no longer = Σ ledger
        conn.execute(text("UPDATE balances SET qty = qty + 1 WHERE location_id = :l"), {"l": w.shelf_a})
    r = runner.invoke(cli, ["backup", "--to", str(tmp_path / "tampered.bak")])
    assert r.exit_code == 1, r.output
    assert "I1" in r.output and f"location={w.shelf_a}" in r.output and "violation" in r.output
    assert (tmp_path / "tampered.bak").is_file()  # the copy is kept: it is what there is


def test_restore_round_trip_drops_later_postings_keeps_the_old_book_and_fills_a_new_one(
        book, fresh, tmp_path, monkeypatch):  # noqa: F811
    app, w = book
    target = tmp_path / "before.bak"
    assert runner.invoke(cli, ["backup", "--to", str(target)]).exit_code == 0
    _receive(app, w, D(5))
    assert _rice_on_hand(app) == 17
    r = runner.invoke(cli, ["restore", "--from", str(target), "--force"])
    assert r.exit_code == 0, r.output
    assert "已恢复" in r.output and "校验通过" in r.output and ".before-restore" in r.output
    app.engine.dispose()  # like a restarted `jxc serve`: no connection from before the restore
    assert _rice_on_hand(app) == 12  # the posting made after the backup is gone
    assert app.queries.violations() == []
    assert runner.invoke(cli, ["check"]).exit_code == 0
    (kept,) = [*tmp_path.glob("jxc.db.before-restore"), *tmp_path.glob("backups/*.before-restore")]
    undo = runner.invoke(cli, ["restore", "--from", str(kept), "--force"])  # undo the restore
    assert undo.exit_code == 0, undo.output
    app.engine.dispose()
    assert _rice_on_hand(app) == 17

    new_dir = tmp_path / "new-machine"  # SQLite: a data folder with no database yet
    url = fresh.settings.database_url  # PostgreSQL: an empty database of its own
    monkeypatch.setenv("JXC_DATA_DIR", str(new_dir))
    if url:
        monkeypatch.setenv("JXC_DATABASE_URL", url)
    into_new = runner.invoke(cli, ["restore", "--from", str(target)])  # empty: no --force needed
    assert into_new.exit_code == 0, into_new.output
    assert "校验通过" in into_new.output and "before-restore" not in into_new.output
    restored = build(Settings(database_url=url, data_dir=new_dir))
    assert _rice_on_hand(restored) == 12
    restored.dispose()


def test_restore_refuses_a_non_empty_book_without_force_and_bad_files(book, tmp_path):
    app, _ = book
    junk = tmp_path / "junk.bak"
    junk.write_text("not a backup", encoding="utf-8")
    r = runner.invoke(cli, ["restore", "--from", str(junk)])
    assert r.exit_code == 2 and "--force" in r.output and "已有数据" in r.output and "not empty" in r.output
    bad = runner.invoke(cli, ["restore", "--from", str(junk), "--force"])
    assert bad.exit_code == 2 and "不是本数据库可用的备份" in bad.output and "jxc backup" in bad.output
    missing = runner.invoke(cli, ["restore", "--from", str(tmp_path / "nope.bak"), "--force"])
    assert missing.exit_code == 2 and "找不到备份文件" in missing.output and "not found" in missing.output
    assert _rice_on_hand(app) == 12 and not list(tmp_path.glob("**/*.before-restore"))  # nothing was touched


def test_db_upgrade_from_nothing_is_safe_to_rerun(fresh, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("JXC_DATA_DIR", str(tmp_path))
    if fresh.engine.dialect.name == "postgresql":
        monkeypatch.setenv("JXC_DATABASE_URL", fresh.settings.url)
    else:
        monkeypatch.delenv("JXC_DATABASE_URL", raising=False)
    first = runner.invoke(cli, ["db", "upgrade"])
    second = runner.invoke(cli, ["db", "upgrade"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert first.output == second.output and "schema at revision" in second.output
    assert fresh.schema_revision() is not None and fresh.queries.violations() == []

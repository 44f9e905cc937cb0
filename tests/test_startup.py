"""Starting up on a data directory: two processes at once on a new one, files that are not
a usable database (empty, truncated, newer) left exactly as they were, and one line on
stderr whatever happens, even when no crash log can be written."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cxfield import cli
from cxfield.app import open_app
from cxfield.cli import studies as studies_cli
from tests.conftest import cli_env
from tests.test_cli import run


def _listing(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content's digest (folders as "dir")."""
    return {
        str(p.relative_to(folder)): "dir"
        if p.is_dir()
        else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.timeout(240)
def test_commands_started_at_once_on_a_new_data_dir(tmp_path: Path) -> None:
    """Before the lock, 3 of 7 trials failed with "table local_setting already exists"."""
    for trial in range(6):
        data_dir = tmp_path / f"new-{trial}"
        commands = [["studies", "list", "--json"], ["sessions", "list"], ["studies", "list"]]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=cli_env(),
            )  # fmt: skip
            for args in commands
        ]
        results = [(p.wait(120), *p.communicate()) for p in procs]
        for code, _out, err in results:
            assert code == 0 and err == "", f"trial {trial}: {err}"
        ctx = open_app(data_dir)
        try:
            with ctx.db.engine.connect() as conn:
                ids = conn.exec_driver_sql(
                    "SELECT value FROM local_setting WHERE key = 'device_id'"
                ).all()
            assert len(ids) == 1  # one device id, whoever created it
        finally:
            ctx.close()


def test_an_empty_file_is_not_taken_for_a_new_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "cxfield.sqlite").write_bytes(b"")
    before = _listing(data_dir)
    result = run("studies", "list", data_dir=data_dir)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "is an empty file, not a cxfield database" in result.stderr
    assert _listing(data_dir) == before


def _newer(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()


def _truncated(db_path: Path) -> None:
    os.truncate(db_path, db_path.stat().st_size // 2)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [(_newer, "newer than this cxfield"), (_truncated, "is truncated")],
    ids=["newer", "truncated"],
)
def test_a_refused_database_folder_is_left_as_it_was(
    tmp_path: Path, spoil: object, message: str
) -> None:
    data_dir = tmp_path / "data"
    assert run("demo", "--sessions", "2", data_dir=data_dir).returncode == 0
    for side in ("-wal", "-shm"):  # a clean close leaves neither
        assert not (data_dir / f"cxfield.sqlite{side}").exists()
    spoil(data_dir / "cxfield.sqlite")  # type: ignore[operator]
    before = _listing(data_dir)
    for command in (["studies", "list"], ["db", "upgrade"], ["db", "backup"]):
        result = run(*command, data_dir=data_dir)
        assert result.returncode == 1 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert _listing(data_dir) == before  # no -shm, -wal, backups/ or lock beside it


def test_an_unusable_data_dir_gives_one_line(tmp_path: Path) -> None:
    if sys.platform == "linux":
        proc = run("studies", "list", data_dir=Path("/proc"))
        assert proc.returncode != 0 and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _boom(_ctx: object, _args: object) -> int:
    raise RuntimeError("something unexpected\nsecond line of a long library message")


def test_an_internal_error_is_one_line_even_without_a_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(studies_cli, "_list", _boom)
    data_dir = tmp_path / "data"
    assert cli.main(["--data-dir", str(data_dir), "studies", "list"]) == 70
    err = capsys.readouterr().err
    log = data_dir / "logs" / "cli-errors.log"
    assert err.splitlines() == [
        f"cxfield: internal error: RuntimeError: something unexpected (details in {log})"
    ]
    assert "second line of a long library message" in log.read_text(encoding="utf-8")
    if sys.platform != "win32":
        assert oct(log.stat().st_mode & 0o777) == oct(0o600)
    # the log cannot be written (here: logs/ is a file): still one line, no traceback
    log.unlink()
    (data_dir / "logs").rmdir()
    (data_dir / "logs").write_text("not a folder")
    assert cli.main(["--data-dir", str(data_dir), "studies", "list"]) == 70
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "cxfield: internal error: RuntimeError: something unexpected "
        "(no crash log could be written)"
    ]


@pytest.mark.timeout(240)
def test_two_upgrades_at_once_make_one_backup(tmp_path: Path) -> None:
    from cxfield.storage import migrate

    data_dir = tmp_path / "old"
    data_dir.mkdir()
    migrate.upgrade_to(data_dir / "cxfield.sqlite", "0001")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), "db", "upgrade"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )  # fmt: skip
        for _ in range(2)
    ]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    outputs = sorted(out for _, out, _ in results)
    assert outputs[0].startswith("Database is up to date") and "Upgraded 0001" in outputs[1]
    assert len(list((data_dir / "backups").iterdir())) == 1
    assert migrate.current_revision(data_dir / "cxfield.sqlite") == migrate.head_revision()


def test_a_device_as_database_is_refused_without_reading_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.mkfifo(data_dir / "cxfield.sqlite")  # opening it to read would wait forever
    result = run("studies", "list", data_dir=data_dir)
    assert result.returncode == 1 and "is a named pipe (FIFO), not a cxfield database" in (
        result.stderr
    )
    assert [p.name for p in data_dir.iterdir()] == ["cxfield.sqlite"]

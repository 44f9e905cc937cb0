"""A fast start: the main window is shown before the database, the services or the recorder
are imported, and it is usable (studies listed) without Alembic, numpy, PortAudio, whisper or
torch.  Each test starts the real program (``python -m cxfield``) in a subprocess with the
start-up probe, so an import added at module level anywhere on the way shows here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cxfield.app import open_app
from cxfield.main import desktop_launch
from cxfield.services import studies
from cxfield.storage import migrate
from cxfield.storage.models import StudyBase
from tests.conftest import REPO, cli_env

#: not one of these may be imported when the window first paints
NOT_AT_PAINT = (
    "alembic",
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "numpy",
    "sounddevice",
    "soundfile",
    "whisper",
    "torch",
    "reportlab",
    "httpx",
    "fastapi",
)
#: nor these when it is usable, on a database that needs no upgrade
NOT_AT_USABLE = (
    "alembic",
    "numpy",
    "sounddevice",
    "soundfile",
    "whisper",
    "torch",
    "numba",
    "reportlab",
    "fastapi",
    "uvicorn",
    "httpx",
)


def _launch(data_dir: Path, probe: Path) -> subprocess.CompletedProcess[str]:
    env = cli_env(
        QT_QPA_PLATFORM="offscreen", CXFIELD_STARTUP_PROBE=str(probe), PYTHONPATH=str(REPO)
    )
    return subprocess.run(
        [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _heavy(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(names))


@pytest.mark.timeout(180)
def test_the_window_paints_before_heavy_imports(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ctx = open_app(data_dir)  # an existing database at the newest schema
    studies.create_study(ctx.db, StudyBase(name="Renewals", program="Passports"))
    ctx.close()
    probe = tmp_path / "probe.json"
    proc = _launch(data_dir, probe)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(probe.read_text(encoding="utf-8"))
    assert record["first_paint"] <= record["usable"]
    assert _heavy(record["modules_at_paint"], NOT_AT_PAINT) == []
    assert _heavy(record["modules_at_usable"], NOT_AT_USABLE) == []
    assert "cxfield.gui.capture_actions" in record["modules_at_usable"]  # it was usable
    # the daily retention check runs once the window is usable, not before
    assert "cxfield.privacy.retention" not in record["modules_at_usable"]
    # PySide6's import hook is back and the garbage collector runs again (startup_costs)
    assert record["import_at_usable"] == record["import_at_paint"] == "__feature_import__"
    assert record["collecting_at_usable"] is True


@pytest.mark.timeout(180)
def test_a_new_data_dir_is_created_behind_the_window(tmp_path: Path) -> None:
    data_dir = tmp_path / "new"
    probe = tmp_path / "probe.json"
    proc = _launch(data_dir, probe)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(probe.read_text(encoding="utf-8"))
    assert _heavy(record["modules_at_paint"], NOT_AT_PAINT) == []
    assert "alembic" in record["modules_at_usable"]  # the schema had to be created
    assert migrate.current_revision(data_dir / "cxfield.sqlite") == migrate.head_revision()


def test_an_unusable_data_dir_is_one_line_before_any_window(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    probe = tmp_path / "probe.json"
    proc = _launch(not_a_dir, probe)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        f"cxfield: error: Data directory {not_a_dir.resolve()} is a file, not a directory."
    ]
    assert not probe.exists()


def test_a_newer_database_is_refused_behind_the_window(tmp_path: Path) -> None:
    import sqlite3

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "cxfield.sqlite")
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    conn.commit()
    conn.close()
    before = (data_dir / "cxfield.sqlite").read_bytes()
    # the refusal is a message box in the app: offscreen, Qt closes it when the app exits
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom PySide6.QtCore import QTimer\nfrom PySide6.QtWidgets import "
            "QApplication, QMessageBox\n"
            "QMessageBox.critical = lambda *a: QApplication.instance().exit(9)\n"
            "from cxfield.main import main\nsys.exit(main(sys.argv[1:]))",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO)),
    )
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.startswith("cxfield")]
    assert len(lines) == 1 and "schema 9999, which is newer" in lines[0], proc.stderr
    assert (data_dir / "cxfield.sqlite").read_bytes() == before


def test_only_a_bare_start_skips_the_command_line() -> None:
    assert desktop_launch([]) is None
    assert desktop_launch(["--data-dir", "/x"]) == Path("/x")
    assert desktop_launch(["--data-dir=/x"]) == Path("/x")
    for args in (
        ["studies", "list"],
        ["--version"],
        ["--data-dir"],
        ["--data-dir", "--help"],
        ["--data-dir=", "demo"],
        ["--self-test"],
        ["--data-dir", "/x", "demo"],
    ):
        assert desktop_launch(args) is False, args


def test_the_revision_scan_agrees_with_alembic() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.head_revision() == script.get_current_head()
    assert migrate.known_revisions() == {rev.revision for rev in script.walk_revisions()}


def test_the_revision_scan_reads_annotated_and_merge_revisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    (versions / "c.py").write_text("revision = 'c'\ndown_revision = 'a'\n")
    (versions / "d.py").write_text('"""merge"""\nrevision = "d"\ndown_revision = ("b", "c")\n')
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    migrate.revision_graph.cache_clear()
    try:
        assert migrate.revision_graph() == {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}
        assert migrate.head_revision() == "d"
        (versions / "e.py").write_text('revision = "e"\ndown_revision = "d"\n')
        (versions / "f.py").write_text('revision = "f"\ndown_revision = "d"\n')
        migrate.revision_graph.cache_clear()
        with pytest.raises(Exception, match="2 heads"):
            migrate.head_revision()
    finally:
        migrate.revision_graph.cache_clear()

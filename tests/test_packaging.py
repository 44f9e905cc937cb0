"""The packaged app's pieces that can be checked without building it: the self-test (it
passes here and says why it fails), the desktop entry and AppStream metadata, and that
build.spec carries what the app reads from disk.  The build itself runs in CI
(./dev.sh build: the frozen app's --self-test and --version)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cxfield.cli import self_test
from tests.conftest import REPO, cli_env


def test_a_failing_check_gives_its_reason_and_a_non_zero_exit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing_assets(_folder: Path) -> str:
        raise FileNotFoundError("whisper/assets/mel_filters.npz")

    seen: list[Path] = []

    def fine(folder: Path) -> str:
        seen.append(folder)
        assert folder.is_dir() and not any(folder.iterdir())
        return "fine"

    monkeypatch.setattr(self_test, "CHECKS", [("whisper", missing_assets), ("PDF", fine)])
    assert self_test.main(fine) == 1
    out, err = capsys.readouterr()
    assert "FAIL whisper" in out and "FileNotFoundError: whisper/assets/mel_filters.npz" in out
    assert "ok   PDF" in out and "ok   main window" in out  # the others still ran
    assert err.strip() == "cxfield: self-test failed: whisper"
    assert seen and not any(folder.exists() for folder in seen)  # temporary folders gone


def test_without_qt_the_window_check_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(self_test, "CHECKS", [])
    assert self_test.main(None) == 1
    assert "FAIL main window" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_self_test_passes_from_source(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cxfield", "--self-test"],
        capture_output=True,
        text=True,
        timeout=280,
        env=cli_env(PYTHONPATH=str(REPO), TMPDIR=str(tmp_path)),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in (
        "main window",
        "migrations",
        "templates",
        "PortAudio",
        "PDF",
        "hub",
        "encryption",
        "redaction",
        "whisper",
        "ctranslate2",
        "speakers",
    ):
        assert f"ok   {name}" in proc.stdout
    assert "words timed at" in proc.stdout and "DTW path" in proc.stdout
    assert not list(tmp_path.glob("cxfield-self-test-*"))  # nothing left behind


def test_the_version_needs_no_data_dir(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cxfield", "--version"],
        capture_output=True,
        text=True,
        env=cli_env(PYTHONPATH=str(REPO), CXFIELD_DATA_DIR=str(tmp_path / "none")),
    )
    assert proc.returncode == 0 and proc.stdout.strip().startswith("cxfield ")
    assert not (tmp_path / "none").exists()


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None,
    reason="desktop-file-utils is not installed (./dev.sh setup)",
)
def test_the_desktop_entry_is_valid() -> None:
    entry = REPO / "resources" / "linux" / "org.cxfield.cxfield.desktop"
    proc = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout
    assert (REPO / "resources" / "icons" / "cxfield.png").is_file()


@pytest.mark.skipif(
    shutil.which("appstreamcli") is None, reason="appstream is not installed (./dev.sh setup)"
)
def test_the_appstream_metadata_is_valid() -> None:
    meta = REPO / "resources" / "linux" / "org.cxfield.cxfield.metainfo.xml"
    proc = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(meta)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_spec_carries_what_the_app_reads_from_disk() -> None:
    """Alembic reads migration scripts as files and the app reads resources/ by path: each
    must be data in the bundle (a hidden import alone would not do)."""
    spec = (REPO / "build.spec").read_text(encoding="utf-8")
    for needed in (
        '"cxfield/storage/migrations"',
        '"cxfield/hub/migrations"',
        '(str(ROOT / "resources"), "resources")',
        'collect_data_files("whisper")',
        "tiktoken_ext.openai_public",
    ):
        assert needed in spec, needed
    from cxfield.hub import migrate as hub_migrate
    from cxfield.storage import migrate

    for folder in (migrate.MIGRATIONS_DIR, hub_migrate.MIGRATIONS_DIR):
        assert folder.is_absolute() and (folder / "env.py").is_file()

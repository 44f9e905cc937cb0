"""`cxfield export ...` as a user runs it: files on stdout, one-line errors, no partial files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cxfield.cli import main
from cxfield.services import demo
from tests.conftest import cli_env
from tests.export_support import pdf_pages, pdf_text
from tests.test_cli import NO_QT


@pytest.fixture
def study_id(data_dir: Path) -> str:
    from cxfield.app import open_app

    ctx = open_app(data_dir)
    try:
        return demo.create_demo(ctx.db, 20, seed=2).id
    finally:
        ctx.close()


def test_every_export_from_the_command_line_without_qt(
    data_dir: Path, study_id: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    script = NO_QT + "\nfrom cxfield.main import main\nsys.exit(main(sys.argv[1:]))"

    def cx(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, "--data-dir", str(data_dir), *args],
            capture_output=True, text=True, env=cli_env(), timeout=180,
        )  # fmt: skip

    csv_dir, json_file = str(out / "csv"), str(out / "s.json")
    done = cx("export", "study", study_id, "--pdf", str(out / "r.pdf"), "--csv", csv_dir,
              "--json", json_file, "--site", "riverside office")  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = done.stdout.split()
    assert written[0] == str(out / "r.pdf") and len(written) == 8
    assert "Site: Riverside Office" in pdf_text(out / "r.pdf")

    listed = cx("sessions", "list", "--study", study_id, "--json")
    import json

    session_id = json.loads(listed.stdout)[0]["id"]
    done = cx("export", "session", session_id, "--pdf", str(out / "s.pdf"), "--no-transcript")
    assert done.returncode == 0, done.stderr
    assert 1 <= pdf_pages(out / "s.pdf") <= 3

    done = cx("export", "a11", study_id, "--quarter", "2026Q4", "--csv", str(out / "a11.csv"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "a11.csv")


BAD = [
    (["export", "session", "nope", "--pdf", "{out}/x.pdf"], "No session with id nope"),
    (["export", "study", "nope", "--pdf", "{out}/x.pdf"], "No study with id nope"),
    (["export", "study", "{study}"], "Say what to export"),
    (["export", "study", "{study}", "--pdf", "{out}/x.pdf", "--from", "31/12/2026"], "not a date"),
    (
        [
            "export",
            "study",
            "{study}",
            "--pdf",
            "{out}/x.pdf",
            "--from",
            "2026-05-01",
            "--to",
            "2026-04-01",
        ],
        "is after",
    ),  # fmt: skip
    (["export", "study", "{study}", "--pdf", "{out}/x.pdf", "--segment", "language"], "KEY=VALUE"),
    (
        ["export", "study", "{study}", "--csv", "{out}/c", "--segment", "shoe=42"],
        "Unknown segment attribute 'shoe'",
    ),  # fmt: skip
    (
        ["export", "study", "{study}", "--json", "{out}/x.json", "--status", "done"],
        "Unknown status 'done'",
    ),  # fmt: skip
    (
        ["export", "study", "{study}", "--pdf", "{out}/x.pdf", "--site", "Moon Base"],
        "No site with id or name 'Moon Base'",
    ),  # fmt: skip
    (["export", "study", "{study}", "--pdf", "{out}/missing/x.pdf"], "does not exist"),
    (["export", "study", "{study}", "--pdf", "{out}"], "is a folder"),
    (["export", "a11", "{study}", "--quarter", "2026Q9", "--csv", "{out}/a.csv"], "2026Q4"),
]


@pytest.mark.parametrize(("argv", "message"), BAD)
def test_bad_input_one_line_nonzero_nothing_written(
    data_dir: Path,
    study_id: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(out=out, study=study_id) for a in argv]
    code = main(["--data-dir", str(data_dir), *args])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and err.startswith("cxfield: error:"), err
    assert message in err
    assert list(out.iterdir()) == []

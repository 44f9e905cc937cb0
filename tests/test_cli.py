"""The CLI as a user runs it: a subprocess, stdout/stderr, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import cli_env

# Makes `import PySide6` fail, to prove that every command works without Qt.
NO_QT = """
import sys
class _NoQt:
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" or name.startswith("PySide6."):
            raise ImportError("PySide6 is not installed (test)")
        return None
sys.meta_path.insert(0, _NoQt())
"""


def run(
    *args: str,
    data_dir: Path | None = None,
    no_qt: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable]
    if no_qt:
        cmd += ["-c", NO_QT + "\nfrom cxfield.main import main\nsys.exit(main(sys.argv[1:]))"]
    else:
        cmd += ["-m", "cxfield"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    return subprocess.run(
        cmd + list(args), capture_output=True, text=True, env=env or cli_env(), timeout=120
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("cxfield ")


def test_demo_list_show_without_qt(data_dir: Path) -> None:
    created = run("demo", data_dir=data_dir, no_qt=True)
    assert created.returncode == 0, created.stderr
    study_id = created.stdout.strip()

    # 12 customer sessions and 6 staff interviews of the same journey
    studies = json.loads(run("studies", "list", "--json", data_dir=data_dir, no_qt=True).stdout)
    assert [s["id"] for s in studies] == [study_id] and studies[0]["sessions"] == 18

    listed = run("sessions", "list", "--study", study_id, "--json", data_dir=data_dir, no_qt=True)
    rows = json.loads(listed.stdout)
    assert len(rows) == 18
    assert {r["mode"] for r in rows} == {"interview", "observation"}
    assert sum(r["mode"] == "observation" for r in rows) == 2
    codes = [r["participant_code"] or "" for r in rows]
    assert sum(c.startswith("S-") for c in codes) == 6
    assert sum(c.startswith("P-") for c in codes) == 10

    interview = next(
        r for r in rows if r["mode"] == "interview" and r["participant_code"].startswith("P-")
    )
    shown = run("sessions", "show", interview["id"], "--json", data_dir=data_dir, no_qt=True)
    detail = json.loads(shown.stdout)
    assert detail["participant_code"].startswith("P-")
    captured = [s for s in detail["steps"] if s["capture"]]
    assert captured and all(-2 <= s["capture"]["valence"] <= 2 for s in captured)
    assert {s["stage"] for s in detail["steps"]} == {"Arrive", "Interview", "Verify", "Decision"}
    assert all("offset_s" in n for n in detail["notes"])

    observation = next(r for r in rows if r["mode"] == "observation")
    obs = json.loads(run("sessions", "show", observation["id"], "--json", data_dir=data_dir).stdout)
    assert all(s["capture"]["observed_start"] for s in obs["steps"] if s["capture"])

    text = run("sessions", "show", interview["id"], data_dir=data_dir, no_qt=True)
    assert text.returncode == 0 and "Steps:" in text.stdout
    segments = ", ".join(f"{k}={v}" for k, v in detail["participant_segments"].items())
    assert f"participant: {detail['participant_code']}  {segments}" in text.stdout
    assert "{'" not in text.stdout  # no Python dict repr for a person to read


def test_gui_without_qt_says_so(data_dir: Path) -> None:
    result = run(data_dir=data_dir, no_qt=True)
    assert result.returncode == 1
    assert "PySide6" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_errors_are_one_line(data_dir: Path, tmp_path: Path) -> None:
    missing = run("sessions", "show", "nope", data_dir=data_dir)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "cxfield: error: No session with id nope."

    usage = run("sessions", "frobnicate", data_dir=data_dir)
    assert usage.returncode == 2

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "cxfield.sqlite").write_text("hello")
    result = run("studies", "list", data_dir=bad)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "not an SQLite database" in result.stderr

    negative = run("demo", "--sessions", "-3", data_dir=data_dir)
    assert negative.returncode == 2


def test_data_dir_from_environment_and_option_position(tmp_path: Path) -> None:
    env_dir = tmp_path / "from-env"
    result = run("demo", "--sessions", "1", env=cli_env(CXFIELD_DATA_DIR=str(env_dir)))
    assert result.returncode == 0, result.stderr
    assert (env_dir / "cxfield.sqlite").exists()
    # --data-dir after the command works too, and wins over the environment.
    other = tmp_path / "other"
    listed = subprocess.run(
        [sys.executable, "-m", "cxfield", "studies", "list", "--json", "--data-dir", str(other)],
        capture_output=True,
        text=True,
        env=cli_env(CXFIELD_DATA_DIR=str(env_dir)),
        timeout=60,
    )
    assert json.loads(listed.stdout) == []


def test_db_backup_and_upgrade(data_dir: Path, tmp_path: Path) -> None:
    assert run("demo", "--sessions", "2", "--staff", "0", data_dir=data_dir).returncode == 0
    out = tmp_path / "copy.sqlite"
    result = run("db", "backup", "--out", str(out), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    copy = run("sessions", "list", "--json", data_dir=tmp_path / "restore")
    assert copy.returncode == 0
    # The copy is a complete database: open it as a data dir.
    restore = tmp_path / "restored"
    restore.mkdir()
    out.rename(restore / "cxfield.sqlite")
    rows = json.loads(run("sessions", "list", "--json", data_dir=restore).stdout)
    assert len(rows) == 2
    upgraded = run("db", "upgrade", data_dir=data_dir)
    assert upgraded.returncode == 0 and "up to date" in upgraded.stdout

    unwritable = run("db", "backup", "--out", "/proc/nope/x.sqlite", data_dir=data_dir)
    assert unwritable.returncode == 1 and "Cannot write backup" in unwritable.stderr


def test_core_does_not_import_qt() -> None:
    code = (
        "import sys, cxfield.cli, cxfield.services.demo, cxfield.main;"
        "print(any(m.startswith('PySide6') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"

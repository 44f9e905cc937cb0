"""`cxfield keys ...` and `cxfield withdrawal report`: the warning on creation, export and
import between two laptops, one-line errors, usage errors exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxfield.app import open_app
from cxfield.cli import main
from cxfield.services import demo


def _cli(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["--data-dir", str(data), *args])
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_keys_create_export_import_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, second = tmp_path / "owner", tmp_path / "second"
    ctx = open_app(owner)
    try:
        study = demo.create_demo(ctx.db, 1)
    finally:
        ctx.close()
    monkeypatch.delenv("CXFIELD_KEY_PASSPHRASE", raising=False)
    code, _out, err = _cli(capsys, owner, "keys", "create", "--study", study.id)
    assert code == 1 and "No passphrase" in err and err.count("\n") == 1
    monkeypatch.setenv("CXFIELD_KEY_PASSPHRASE", "short")
    code, _out, err = _cli(capsys, owner, "keys", "create", "--study", study.id)
    assert code == 1 and "at least 8" in err
    monkeypatch.setenv("CXFIELD_KEY_PASSPHRASE", "a long passphrase")
    exported = tmp_path / "study.key"
    code, out, err = _cli(
        capsys, owner, "keys", "create", "--study", study.id, "--export", str(exported)
    )
    assert code == 0 and "Encryption is on" in out
    assert "lost for good" in err and "Exported to" in err
    assert exported.stat().st_mode & 0o777 == 0o600
    code, _out, err = _cli(
        capsys, owner, "keys", "export", "--study", study.id, "--out", str(exported)
    )
    assert code == 1 and "exists already" in err
    code, out, _err = _cli(capsys, owner, "keys", "status")
    assert code == 0 and study.id in out and " on " in out and "yes" in out

    # A second supervisor's laptop imports it (the passphrase is checked).
    monkeypatch.setenv("CXFIELD_KEY_PASSPHRASE", "not it at all")
    code, _out, err = _cli(capsys, second, "keys", "import", str(exported))
    assert code == 1 and "Wrong passphrase" in err
    monkeypatch.setenv("CXFIELD_KEY_PASSPHRASE", "a long passphrase")
    code, out, _err = _cli(capsys, second, "keys", "import", str(exported))
    assert code == 0 and "Imported the key of study" in out
    code, out, _err = _cli(capsys, second, "keys", "open", "--study", study.id)
    assert code == 0 and "Opened 0 sealed texts" in out


@pytest.mark.parametrize(
    "args",
    [
        ["keys"],
        ["keys", "create"],
        ["keys", "encryption", "--study", "x", "maybe"],
        ["retention", "set", "--study", "x", "--audio-days", "-3"],
        ["withdrawal"],
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, _out, err = _cli(capsys, tmp_path / "d", *args)
    assert code == 2 and "usage:" in err


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _cli(capsys, tmp_path / "d", "keys", "encryption", "--study", "nope", "on")
    assert code == 1 and err.startswith("cxfield: error: No study") and err.count("\n") == 1
    (tmp_path / "junk.key").write_text("hello")
    code, _out, err = _cli(capsys, tmp_path / "d", "keys", "import", str(tmp_path / "junk.key"))
    assert code == 1 and "not a cxfield study key file" in err
    code, out, _err = _cli(capsys, tmp_path / "d", "withdrawal", "report", "nobody")
    assert code == 0 and "No withdrawal" in out

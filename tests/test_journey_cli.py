"""`cxfield studies templates/create/export/import` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run


def test_templates_create_export_import(data_dir: Path, tmp_path: Path) -> None:
    listed = run("studies", "templates", no_qt=True)
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.split()
    office = next(n for n in names if "office" in n)
    assert len(names) >= 3

    created = run(
        "studies",
        "create",
        "--template",
        office,
        "--name",
        "Eastside 2026",
        data_dir=data_dir,
        no_qt=True,
    )
    assert created.returncode == 0, created.stderr
    study_id = created.stdout.strip()

    again = run(
        "studies", "create", "--template", office, "--name", "Eastside 2026", data_dir=data_dir
    )
    assert again.returncode == 1 and "already exists" in again.stderr

    unknown = run("studies", "create", "--template", "nope", "--name", "X", data_dir=data_dir)
    assert unknown.returncode == 1 and "No template named 'nope'" in unknown.stderr

    out = tmp_path / "usb" / "study.json"
    out.parent.mkdir()
    exported = run("studies", "export", study_id, "--out", str(out), data_dir=data_dir)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["study"]["name"] == "Eastside 2026"

    other = tmp_path / "other-laptop"
    imported = run("studies", "import", str(out), data_dir=other, no_qt=True)
    assert imported.returncode == 0, imported.stderr
    studies = json.loads(run("studies", "list", "--json", data_dir=other).stdout)
    assert [s["name"] for s in studies] == ["Eastside 2026"]


def test_import_malformed_creates_nothing(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "cxfield-study", "format_version": 1, "study": {}}')
    result = run("studies", "import", str(bad), data_dir=data_dir)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no study name" in result.stderr
    assert json.loads(run("studies", "list", "--json", data_dir=data_dir).stdout) == []

"""A study definition file carries the study's redaction settings (review before sync and
export, threshold, case-number patterns, word list) to every researcher; never the names
listed for a session.  They are checked on import like every other field (a bad pattern is
refused in one line saying where, nothing created), and an older file without them still
imports (a new study takes the defaults, an existing one keeps its own)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cxfield.app import AppContext, open_app
from cxfield.cli import main
from cxfield.privacy import review, store
from cxfield.services import studies, templates
from tests.redaction_support import planted_session
from tests.test_cli import run

SETTINGS = {
    "review": False,
    "threshold": 0.7,
    "case_patterns": [r"SNAP-\d{8}", r"CASE-\d{6}"],
    "words": ["Eastside Office", "Ms. Okafor"],
}


def _exported(ctx: AppContext, tmp_path: Path) -> tuple[str, Path]:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit"), name="Eastside"
    )
    review.set_settings(ctx.db, study.id, **SETTINGS)
    visit = planted_session(ctx.db, study_id=study.id)
    store.add_name(ctx.db, visit.session_id, "Rosalind Quarterman")  # stays on this laptop
    out = tmp_path / "study.json"
    done = run("studies", "export", study.id, "--out", str(out), data_dir=ctx.paths.root)
    assert done.returncode == 0, done.stderr
    return study.id, out


def test_the_settings_travel_and_the_names_stay(ctx: AppContext, tmp_path: Path) -> None:
    study_id, out = _exported(ctx, tmp_path)
    text = out.read_text(encoding="utf-8")
    assert json.loads(text)["study"]["redaction"] == SETTINGS
    assert "Rosalind" not in text and "Quarterman" not in text
    other = tmp_path / "other-laptop"
    done = run("studies", "import", str(out), data_dir=other)
    assert done.returncode == 0, done.stderr
    there = open_app(other)
    try:
        assert review.get_settings(there.db, study_id).as_json() == SETTINGS
        # and back out of the second laptop: the same settings, the same file fields
        again = templates.export_definition(there.db, study_id)
        assert again["study"]["redaction"] == SETTINGS
    finally:
        there.close()


def _import_refused(data_dir: Path, path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--data-dir", str(data_dir), "studies", "import", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("cxfield: error:"), err
    assert main(["--data-dir", str(data_dir), "studies", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing created
    return err


BAD: list[tuple[str, Any, str]] = [
    ("bad regex", {"case_patterns": ["SNAP-("]}, "redaction.case_patterns entry 1: "),
    ("second bad", {"case_patterns": ["A-\\d+", "B-[0-9"]}, "case_patterns entry 2: "),
    ("matches empty", {"case_patterns": ["\\d*"]}, "matches empty text"),
    ("pattern number", {"case_patterns": [7]}, "case_patterns entry 1 must be text"),
    ("patterns text", {"case_patterns": "SNAP-\\d{8}"}, "case_patterns must be a list"),
    ("review text", {"review": "yes"}, "redaction.review must be true or false"),
    ("threshold 2", {"threshold": 2}, "between 0 and 1"),
    ("threshold bool", {"threshold": True}, "threshold must be a number"),
    ("words object", {"words": {"a": 1}}, "redaction.words must be a list"),
    ("word NUL", {"words": ["Ana\x00"]}, "control character"),
    ("too many words", {"words": [f"w{n}" for n in range(501)]}, "at most 500"),
    ("not an object", ["review"], "redaction settings must be an object"),
]


@pytest.mark.parametrize(("redaction", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_settings_are_refused_in_one_line(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    redaction: Any,
    message: str,
) -> None:
    data = templates.load_template("benefits-office-visit")
    data["study"]["redaction"] = redaction
    path = tmp_path / "study.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    err = _import_refused(data_dir, path, capsys)
    assert message in err, err


def test_an_exported_file_with_a_bad_pattern_creates_nothing(
    ctx: AppContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real export (with ids) edited by hand: refused before the study, its stages or
    steps are written."""
    _study_id, out = _exported(ctx, tmp_path)
    data = json.loads(out.read_text(encoding="utf-8"))
    data["study"]["redaction"]["case_patterns"].append("SNAP-(")
    out.write_text(json.dumps(data), encoding="utf-8")
    err = _import_refused(tmp_path / "other", out, capsys)
    assert "redaction.case_patterns entry 3: Case-number pattern 'SNAP-('" in err


def test_an_older_file_without_the_settings_still_imports(ctx: AppContext, tmp_path: Path) -> None:
    study_id, out = _exported(ctx, tmp_path)
    data = json.loads(out.read_text(encoding="utf-8"))
    del data["study"]["redaction"]
    older = tmp_path / "older.json"
    older.write_text(json.dumps(data), encoding="utf-8")
    # a new laptop: the defaults (review on, no patterns, no words)
    other = tmp_path / "other-laptop"
    assert run("studies", "import", str(older), data_dir=other).returncode == 0
    there = open_app(other)
    try:
        assert review.get_settings(there.db, study_id).as_json() == {
            "review": True,
            "threshold": 0.5,
            "case_patterns": [],
            "words": [],
        }
    finally:
        there.close()
    # a template (no ids) without them, too
    template = tmp_path / "template.json"
    template.write_text(json.dumps(templates.load_template("benefits-office-visit")))
    made = templates.import_definition(ctx.db, template, name="From the template")
    assert review.get_settings(ctx.db, made.id).review is True
    # this laptop, where the study has its settings: an older file that is newer than the
    # copy here updates the study and keeps them
    data["study"]["name"] = "Eastside, renamed"
    data["study"]["revision"] = "2999-01-01T00:00:00+00:00"
    data["study"]["updated_at"] = "2999-01-01T00:00:00+00:00"
    older.write_text(json.dumps(data), encoding="utf-8")
    assert templates.import_study(ctx.db, older).outcome == "updated"
    assert studies.get_study(ctx.db, study_id).name == "Eastside, renamed"
    assert review.get_settings(ctx.db, study_id).as_json() == SETTINGS


def test_a_newer_file_updates_the_settings(ctx: AppContext, tmp_path: Path) -> None:
    study_id, out = _exported(ctx, tmp_path)
    data = json.loads(out.read_text(encoding="utf-8"))
    data["study"]["redaction"] = {"review": True, "case_patterns": ["CLAIM-\\d{5}"]}
    data["study"]["revision"] = data["study"]["updated_at"] = "2999-01-01T00:00:00+00:00"
    out.write_text(json.dumps(data), encoding="utf-8")
    assert templates.import_study(ctx.db, out).outcome == "updated"
    assert review.get_settings(ctx.db, study_id).as_json() == {
        "review": True,
        "threshold": 0.5,
        "case_patterns": ["CLAIM-\\d{5}"],
        "words": [],
    }

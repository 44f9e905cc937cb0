"""A study definition file carries the study's protection row: encryption with the study's
public key (never the private key) and retention, the audio's clock included, with the
row's id, so every laptop that imports the study protects its participants before its
first sync and holds the very same row (a duplicate at the hub, not a conflict).  Bad
values are refused in one line, nothing created; an older file without them still
imports; a laptop that made its own row first takes the file's values into that row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from cxfield.app import AppContext, open_app
from cxfield.cli import main
from cxfield.privacy import study_protection
from cxfield.services import templates
from cxfield.storage.models import StudyProtection

PASSPHRASE = "a long enough passphrase"


def _rows(ctx: AppContext, study_id: str) -> list[StudyProtection]:
    with ctx.db.session() as db:
        return list(
            db.exec(select(StudyProtection).where(StudyProtection.study_id == study_id)).all()
        )


def _study(ctx: AppContext) -> str:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit"), name="Eastside"
    )
    study_protection.create_key(ctx.db, ctx.paths.root, study.id, PASSPHRASE)
    study_protection.set_retention(
        ctx.db, study.id, audio_days=30, transcript_days=90, audio_clock="checked"
    )
    return study.id


def _export(ctx: AppContext, study_id: str, path: Path) -> dict[str, Any]:
    templates.write_definition(ctx.db, study_id, path)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_the_protection_travels_with_its_id(ctx: AppContext, tmp_path: Path) -> None:
    study_id = _study(ctx)
    out = tmp_path / "study.json"
    data = _export(ctx, study_id, out)
    here = study_protection.get_protection(ctx.db, study_id)
    assert data["protection"]["audio_clock"] == "checked"
    assert data["protection"]["public_key"] == here.public_key
    assert "private" not in out.read_text(encoding="utf-8").lower()
    (mine,) = _rows(ctx, study_id)
    assert data["protection"]["id"] == mine.id
    other = open_app(tmp_path / "other-laptop")
    try:
        made = templates.import_study(other.db, out)
        assert made.outcome == "created"
        assert study_protection.get_protection(other.db, study_id) == here
        (theirs,) = _rows(other, study_id)
        assert (theirs.id, theirs.created_at) == (mine.id, mine.created_at)
        # the same file again: already up to date, nothing written
        assert templates.import_study(other.db, out).outcome == "unchanged"
    finally:
        other.close()


def test_a_newer_file_updates_the_row_this_laptop_made(ctx: AppContext, tmp_path: Path) -> None:
    study_id = _study(ctx)
    first = tmp_path / "first.json"
    data = _export(ctx, study_id, first)
    del data["protection"]  # as an older cxfield wrote it
    first.write_text(json.dumps(data), encoding="utf-8")
    other = open_app(tmp_path / "other-laptop")
    try:
        templates.import_study(other.db, first)
        assert _rows(other, study_id) == []  # an older file: nothing protected yet
        study_protection.set_retention(other.db, study_id, audio_days=5)  # its own row
        (own,) = _rows(other, study_id)
        # the lead changes the retention and hands out a new file
        study_protection.set_retention(ctx.db, study_id, audio_days=14)
        newer = tmp_path / "newer.json"
        _export(ctx, study_id, newer)
        assert templates.import_study(other.db, newer).outcome == "updated"
        (row,) = _rows(other, study_id)
        assert row.id == own.id  # no second row for the study
        got = study_protection.get_protection(other.db, study_id)
        assert (got.audio_days, got.audio_clock, got.encrypt) == (14, "checked", True)
    finally:
        other.close()


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("clock", {"audio_clock": "soon"}, 'protection.audio_clock is "soon"; use one of'),
    ("negative days", {"audio_days": -1}, "protection.audio_days must be a number of days"),
    ("text days", {"transcript_days": "30"}, "protection.transcript_days must be a number"),
    ("encrypt text", {"encrypt": "yes"}, "protection.encrypt must be true or false"),
    ("no key", {"encrypt": True, "public_key": ""}, "has no public_key"),
    ("long key", {"public_key": "k" * 65}, "protection.public_key is longer than 64"),
]


@pytest.mark.parametrize(("change", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_protection_is_refused_in_one_line(
    ctx: AppContext,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
    message: str,
) -> None:
    study_id = _study(ctx)
    path = tmp_path / "study.json"
    data = _export(ctx, study_id, path)
    data["protection"].update(change)
    path.write_text(json.dumps(data), encoding="utf-8")
    other = tmp_path / "other-laptop"
    assert main(["--data-dir", str(other), "studies", "import", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert main(["--data-dir", str(other), "studies", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing created


def test_a_template_with_retention_creates_the_row(ctx: AppContext) -> None:
    data = templates.load_template("benefits-office-visit")
    data["protection"] = {"audio_days": 7, "audio_clock": "checked"}
    study = templates.create_from_definition(ctx.db, data, name="With retention")
    got = study_protection.get_protection(ctx.db, study.id)
    assert (got.audio_days, got.audio_clock, got.transcript_days, got.encrypt) == (
        7,
        "checked",
        None,
        False,
    )

"""`cxfield redact ...`: scan, list, decide, apply, add, names, settings, status; bad
input is one line and changes nothing, usage errors exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("presidio_analyzer")

from cxfield.app import open_app  # noqa: E402
from cxfield.cli import main  # noqa: E402
from cxfield.privacy import store  # noqa: E402
from tests.redaction_support import SSN, planted_session  # noqa: E402


def _run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["--data-dir", str(data_dir), *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_scan_review_and_status(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = open_app(data_dir)
    planted = planted_session(ctx.db)
    ctx.close()
    code, out, _ = _run(capsys, data_dir, "redact", "status")
    assert code == 0 and planted.session_id in out and "not scanned" in out
    code, out, err = _run(
        capsys, data_dir, "redact", "scan", "--session", planted.session_id, "--json"
    )
    assert code == 0 and "candidates" in err
    found = json.loads(out)
    by_kind = {c["kind"]: c for c in found}
    assert by_kind["ssn"]["text"] == SSN and by_kind["ssn"]["where"] == "note"
    assert all(c["state"] == "pending" for c in found)
    code, out, _ = _run(capsys, data_dir, "redact", "status")
    assert f"{len(found)} redaction candidates wait for review" in out

    # one wrong id among good ones: nothing is decided
    code, _, err = _run(capsys, data_dir, "redact", "accept", by_kind["ssn"]["id"], "nope")
    assert code == 1 and err.strip().count("\n") == 0 and "nope" in err
    code, out, _ = _run(capsys, data_dir, "redact", "list", "--state", "pending", "--json")
    assert len(json.loads(out)) == len(found)

    code, out, _ = _run(capsys, data_dir, "redact", "reject", by_kind["phone"]["id"])
    assert code == 0 and "rejected" in out
    code, out, _ = _run(capsys, data_dir, "redact", "apply", "--session", planted.session_id)
    assert code == 0 and "still pending" in out and out.startswith(f"accepted {len(found) - 1}")
    code, out, _ = _run(capsys, data_dir, "redact", "status")
    assert "No session waits" in out

    # a redaction marked by hand, and a listed name found at the next scan
    code, out, _ = _run(
        capsys,
        data_dir,
        "redact",
        "add",
        "note",
        planted.note_id,
        "--text",
        "the desk",
        "--kind",
        "other",
    )
    assert code == 0
    code, out, _ = _run(
        capsys, data_dir, "redact", "names", planted.session_id, "--add", "Rosa Díaz"
    )
    assert out.strip() == "Rosa Díaz"
    ctx = open_app(data_dir)
    with ctx.db.session() as db:
        from cxfield.storage.models import Note

        note = db.get(Note, planted.note_id)
        note.text += " Rosa came with her."
        db.add(note)
    ctx.close()
    _run(capsys, data_dir, "redact", "scan", "--session", planted.session_id)
    ctx = open_app(data_dir)
    pending = store.candidates(ctx.db, session_id=planted.session_id, state="pending")
    ctx.close()
    assert [(c.kind, c.text) for c in pending] == [("name", "Rosa")]


def test_bad_input(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = open_app(data_dir)
    planted = planted_session(ctx.db)
    ctx.close()
    assert _run(capsys, data_dir, "redact")[0] == 2
    assert _run(capsys, data_dir, "redact", "scan", "--study", "a", "--session", "b")[0] == 2
    assert (
        _run(capsys, data_dir, "redact", "settings", planted.study_id, "--review", "maybe")[0] == 2
    )
    code, _, err = _run(
        capsys, data_dir, "redact", "settings", planted.study_id, "--threshold", "2"
    )
    assert code == 1 and "between 0 and 1" in err
    code, _, err = _run(
        capsys, data_dir, "redact", "settings", planted.study_id, "--case-pattern", "SNAP-("
    )
    assert code == 1 and "not a valid regular expression" in err
    code, out, _ = _run(capsys, data_dir, "redact", "settings", planted.study_id, "--json")
    assert json.loads(out) == {"review": True, "threshold": 0.5, "case_patterns": [], "words": []}
    code, _, err = _run(capsys, data_dir, "redact", "scan", "--session", "nope")
    assert code == 1 and "No session nope" in err
    code, _, err = _run(
        capsys, data_dir, "redact", "add", "note", planted.note_id, "--text", "absent"
    )
    assert code == 1 and "is not in" in err
    code, _, err = _run(
        capsys, data_dir, "redact", "add", "note", planted.note_id, "--text", "SSN", "--kind", "x"
    )
    assert code == 1 and "Unknown kind" in err
    code, out, _ = _run(
        capsys, data_dir, "redact", "settings", planted.study_id, "--case-pattern", r"SNAP-\d{8}",
        "--word", "Oakland Center", "--review", "off",
    )  # fmt: skip
    assert code == 0 and "review before sync and export: off" in out and "SNAP" in out


def test_scan_lists_review_comments(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A supervisor's comment naming a listed family member and a phone number is found by
    `redact scan`, said to be a review comment, and can be redacted by hand too."""
    from cxfield.services import review

    ctx = open_app(data_dir)
    planted = planted_session(ctx.db)
    review.use_profile(ctx.db, "Sam", "supervisor")
    store.add_name(ctx.db, planted.session_id, "Tom Baker")
    comment = review.add_comment(
        ctx.db, planted.session_id, "She said her husband Tom Baker calls from 773-555-0142"
    )
    ctx.close()
    code, out, _ = _run(
        capsys, data_dir, "redact", "scan", "--session", planted.session_id, "--json"
    )
    assert code == 0
    mine = {(c["kind"], c["text"]) for c in json.loads(out) if c["row_id"] == comment.id}
    assert mine == {("name", "Tom Baker"), ("phone", "773-555-0142")}
    assert {c["where"] for c in json.loads(out) if c["row_id"] == comment.id} == {"review comment"}
    code, out, err = _run(
        capsys, data_dir, "redact", "add", "review_comment", comment.id,
        "--text", "husband", "--kind", "other",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = _run(capsys, data_dir, "redact", "list", "--session", planted.session_id)
    assert "review comment" in out and "husband" in out

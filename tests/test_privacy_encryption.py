"""End-to-end encryption of a study: texts leave the laptop sealed with the study's public
key; the hub (SQLite or PostgreSQL, checked down to a pg_dump) holds no plaintext; a
supervisor who imported the exported key opens them; ratings stay readable."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.privacy import keys, sealing, study_protection
from cxfield.services import demo
from cxfield.storage.models import Note, StepCapture, TranscriptSegment
from tests.pg_support import create_database, drop_database, skip_without_pg
from tests.privacy_support import PLANTED, hub_data, hub_text, pg_team, plant_texts
from tests.sync_support import Team, submit_decided

PASS = "correct horse battery"


def test_round_trip_and_wrong_passphrase(tmp_path: Path) -> None:
    locked = keys.create_study_key("study-1", PASS)
    sealed = sealing.seal_text(locked.public_key, locked.key_id, "Me llamo María, 555-0142")
    assert sealing.is_sealed(sealed) and "María" not in sealed
    private = keys.unlock(locked, PASS)
    assert sealing.open_text(private, sealed) == "Me llamo María, 555-0142"
    with pytest.raises(keys.StudyKeyError, match="Wrong passphrase"):
        keys.unlock(locked, "not the passphrase")
    # The exported file is readable by its owner only and opens with the same passphrase.
    target = tmp_path / "study.key"
    keys.export_study_key(locked, target)
    assert target.stat().st_mode & 0o777 == 0o600
    again = keys.parse_key(target.read_text(), str(target))
    assert sealing.open_text(keys.unlock(again, PASS), sealed) == "Me llamo María, 555-0142"
    with pytest.raises(keys.StudyKeyError, match="not a cxfield study key"):
        keys.parse_key('{"format": "something else"}', "x.key")
    with pytest.raises(keys.StudyKeyError):
        keys.parse_key("not json", "x.key")


def _texts(database: object, planted: object) -> tuple[str, str, str]:
    with database.session() as db:  # type: ignore[attr-defined]
        segment = db.get(TranscriptSegment, planted.segment_id)  # type: ignore[attr-defined]
        note = db.get(Note, planted.note_id)  # type: ignore[attr-defined]
        capture = db.get(StepCapture, planted.capture_id)  # type: ignore[attr-defined]
        return segment.text, note.text, capture.quote


def _encrypted_round(team: Team, tmp_path: Path) -> None:
    ana, sam = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    study = demo.create_demo(ana.db, 6)
    created = study_protection.create_key(ana.db, ana.ctx.paths.root, study.id, PASS)
    assert created.protection.encrypt and created.protection.key_id
    planted = plant_texts(ana.db, study.id)
    submit_decided(ana.db)  # a researcher sends the demo's decided sessions submitted
    assert ana.sync().pushed > 0
    held = hub_text(team)
    assert "Planted-7Q3X" not in held and "123-45-6789" not in held
    # Ratings, emotions and pain points stay readable for the shared journey map.
    captures = hub_data(team, "step_capture")
    assert any(c["valence"] is not None for c in captures)
    mine = next(c for c in captures if c["id"] == planted.capture_id)
    assert sealing.is_sealed(mine["quote"])
    # A second sync sends nothing again (the same ciphertext for the same text).
    assert ana.sync().pushed == 0

    # The supervisor pulls ciphertext, imports the exported key and opens it.
    sam.sync()
    segment, note, quote = _texts(sam.db, planted)
    assert sealing.is_sealed(segment) and sealing.is_sealed(note) and sealing.is_sealed(quote)
    exported = tmp_path / "study.key"
    keys.export_study_key(created.locked, exported)
    study_protection.import_key(sam.db, sam.ctx.paths.root, exported, PASS)
    opened = study_protection.open_texts(sam.db, sam.ctx.paths.root, study.id, PASS)
    assert opened >= 3
    assert _texts(sam.db, planted) == (PLANTED, PLANTED + " (note)", PLANTED + " (quote)")
    assert sam.sync().pushed == 0  # opening is not a change to push

    # An edit on the researcher's laptop leaves sealed too and reaches the supervisor.
    with ana.db.session() as db:
        row = db.get(Note, planted.note_id)
        assert row is not None
        row.text = "Edited-9K: new phone 555-0199"
        db.add(row)
    assert ana.sync().pushed == 1
    assert "Edited-9K" not in hub_text(team) and "555-0199" not in hub_text(team)
    sam.sync()
    assert sealing.is_sealed(_texts(sam.db, planted)[1])
    study_protection.open_texts(sam.db, sam.ctx.paths.root, study.id, PASS)
    assert _texts(sam.db, planted)[1] == "Edited-9K: new phone 555-0199"
    with sam.db.session() as db:
        assert db.exec(select(Note).where(Note.text.contains("cxsealed"))).first() is None  # type: ignore[attr-defined]


def test_hub_holds_no_plaintext_and_supervisor_opens(team: Team, tmp_path: Path) -> None:
    _encrypted_round(team, tmp_path)


def test_a_study_without_encryption_still_sends_text(team: Team) -> None:
    ana = team.laptop("Ana")
    study = demo.create_demo(ana.db, 4)
    plant_texts(ana.db, study.id)
    ana.sync()
    assert "Planted-7Q3X" in hub_text(team)  # the check above can fail


def test_key_refused_twice_and_import_of_another_key(team: Team, tmp_path: Path) -> None:
    ana = team.laptop("Ana")
    study = demo.create_demo(ana.db, 1)
    study_protection.create_key(ana.db, ana.ctx.paths.root, study.id, PASS)
    with pytest.raises(Exception, match="has a key already"):
        study_protection.create_key(ana.db, ana.ctx.paths.root, study.id, PASS)
    other = keys.create_study_key(study.id, PASS)
    path = tmp_path / "other.key"
    keys.export_study_key(other, path)
    with pytest.raises(keys.StudyKeyError, match="another key"):
        study_protection.import_key(ana.db, ana.ctx.paths.root, path, PASS)
    with pytest.raises(keys.StudyKeyError, match="Wrong passphrase"):
        study_protection.import_key(ana.db, ana.ctx.paths.root, path, "wrong passphrase")


def test_postgresql_dump_holds_no_plaintext(tmp_path: Path) -> None:
    skip_without_pg()
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    name, url = create_database()
    made = pg_team(tmp_path, url)
    try:
        _encrypted_round(made, tmp_path)
        dump = subprocess.run(
            ["pg_dump", "--data-only", name],
            capture_output=True,
            check=True,
            env=dict(os.environ),
        ).stdout.decode("utf-8")
        assert "hub_record" in dump and "cxsealed:1:" in dump
        for secret in ("Planted-7Q3X", "123-45-6789", "Edited-9K", "555-0199"):
            assert secret not in dump
    finally:
        made.close()
        drop_database(name)


def test_audio_of_an_encrypted_study_leaves_sealed(team: Team, tmp_path: Path) -> None:
    from cxfield.privacy import at_rest
    from cxfield.storage.models import Recording, Study

    ana, sam = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    study = demo.create_demo(ana.db, 6)
    with ana.db.session() as db:
        row = db.get(Study, study.id)
        assert row is not None
        row.audio_upload = True
        db.add(row)
    created = study_protection.create_key(ana.db, ana.ctx.paths.root, study.id, PASS)
    audio = b"RIFF" + b"planted-audio-PCM-" * 20000
    planted = plant_texts(ana.db, study.id, audio=audio)
    assert ana.sync().uploaded == 1
    ana.sync()  # the recording row now names its sealed copy
    blobs = [p for p in (team.root / "hub" / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    held = blobs[0].read_bytes()
    assert b"planted-audio-PCM" not in held and at_rest.is_encrypted(blobs[0])
    assert not list((ana.ctx.paths.root / "outbox").iterdir())  # the sealed copy is gone
    sam.sync()
    with sam.db.session() as db:
        recording = db.get(Recording, planted.recording_id)
        assert recording is not None and recording.sealed_sha256 == blobs[0].name
    answer = sam.client().request("GET", f"/v1/blobs/{blobs[0].name}")
    fetched = tmp_path / "fetched.sealed"
    fetched.write_bytes(answer.content)
    private = keys.unlock(created.locked, PASS)
    assert b"".join(at_rest.chunks(fetched, private_key=private)) == audio


def test_the_hub_page_and_report_of_an_encrypted_study_show_no_ciphertext(
    team: Team, tmp_path: Path
) -> None:
    """The shared map of an encrypted study: no quotes (even with the quotes setting on), no
    sealed pain-point wording, a line that says why; counts and ratings stay."""
    import re

    from fastapi.testclient import TestClient

    from cxfield.hub import accounts
    from cxfield.hub.web import sealed
    from cxfield.hub.web.data import set_quotes

    ana = team.laptop("Ana")
    study = demo.create_demo(ana.db, 6)
    study_protection.create_key(ana.db, ana.ctx.paths.root, study.id, PASS)
    plant_texts(ana.db, study.id)
    team.sync_for_review(ana)  # a supervisor decides the demo's decided sessions
    engine = team.app.state.hub.engine
    set_quotes(engine, study.id, True)
    _info, enrol = accounts.add_user(engine, "Lee", "viewer")
    token, _id, _account = accounts.enrol(engine, enrol, "script-lee", "script")
    client = TestClient(team.app, follow_redirects=False)
    auth = {"Authorization": f"Bearer {token}"}
    page = client.get(f"/studies/{study.id}?status=draft&status=submitted&status=approved",
                      headers=auth)  # fmt: skip
    assert page.status_code == 200, page.text[:300]
    assert "cxsealed" not in page.text and "Planted-7Q3X" not in page.text
    assert sealed.NOTICE.split(":")[0] in page.text
    assert re.search(r"pain points \d+ of \d+", page.text)  # counts stay readable
    pdf = client.get(f"/studies/{study.id}/report.pdf?status=approved", headers=auth)
    assert pdf.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode("utf-8", "replace")
    assert "cxsealed" not in text and "Planted-7Q3X" not in text
    pains = client.get(f"/studies/{study.id}/pain_points.csv?status=approved", headers=auth)
    assert pains.status_code == 200 and "cxsealed" not in pains.text


def test_the_history_of_changes_after_submission_leaves_sealed(team: Team, tmp_path: Path) -> None:
    """A note edited and one added after the session was submitted: the audit trail holds
    the texts before and after (and the new note's content); they reach the hub sealed,
    the rest of the entry readable, and a supervisor holding the key opens them."""
    from cxfield.services import review as review_service
    from cxfield.storage.models import AuditEntry

    ana, sam = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    study = demo.create_demo(ana.db, 6)
    created = study_protection.create_key(ana.db, ana.ctx.paths.root, study.id, PASS)
    planted = plant_texts(ana.db, study.id)
    review_service.submit(ana.db, planted.session_id, "")
    with ana.db.session() as db:
        row = db.get(Note, planted.note_id)
        assert row is not None
        row.text = "Edited-4H after submission"
        db.add(row)
        db.add(Note(session_id=planted.session_id, text="Added-8P after submission"))
    ana.sync()
    held = hub_text(team)
    for plain in ("Edited-4H", "Added-8P", PLANTED):
        assert plain not in held, plain
    audits = hub_data(team, "audit_entry")
    edited = next(a for a in audits if a["row_id"] == planted.note_id and a["field"] == "text")
    assert sealing.is_sealed(edited["before"]) and sealing.is_sealed(edited["after"])
    status = next(a for a in audits if a["field"] == "status")
    assert (status["before"], status["after"]) == ("draft", "submitted")  # not a text
    assert ana.sync().pushed == 0  # the same ciphertext again: nothing to push

    sam.sync()
    exported = tmp_path / "study.key"
    keys.export_study_key(created.locked, exported)
    study_protection.import_key(sam.db, sam.ctx.paths.root, exported, PASS)
    study_protection.open_texts(sam.db, sam.ctx.paths.root, study.id, PASS)
    with sam.db.session() as db:
        entries = db.exec(
            select(AuditEntry).where(AuditEntry.session_id == planted.session_id)
        ).all()
        values = [(e.field, e.before, e.after) for e in entries]
    assert ("text", PLANTED + " (note)", "Edited-4H after submission") in values
    added = [after for field, _b, after in values if field == "created"]
    assert any(isinstance(a, dict) and a.get("text") == "Added-8P after submission" for a in added)
    with sam.db.engine.connect() as conn:
        assert sealing.sealed_count(conn, [study.id]) == 0
    assert sam.sync().pushed == 0  # opening is not a change to push

"""The REFI-QDA export (.qdpx project, .qdc codebook): valid against the official schemas,
every reference and internal file in place, and read back against the database."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import wave
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlmodel import col, select

from cxfield.app import AppContext
from cxfield.export import jobs
from cxfield.export.atomic import ExportPathError
from cxfield.export.filters import FilterRequest
from cxfield.export.layout import ExportCancelled
from cxfield.export.refi_qda.sources import quote_lines
from cxfield.services import demo, participants, transcript
from cxfield.storage.models import (
    Note,
    Participant,
    Recording,
    ResearchSession,
    Step,
    StepCapture,
    Study,
    SurveyResponse,
    TranscriptSegment,
)
from tests.conftest import cli_env
from tests.export_support import ARABIC, CHINESE, SPANISH, VIETNAMESE
from tests.qda_support import NS, QdpxExport, check_qdpx, local, read_qdpx, validate
from tests.test_cli import NO_QT

LINES = [
    (0.0, "interviewer", "Buenos días, ¿cómo fue su visita?"),
    (4.0, "participant", SPANISH),
    (9.5, "participant", CHINESE),
    (14.0, "participant", ARABIC),
    (20.0, "participant", "Then the café was closed, so I waited outside."),
    (26.0, "unknown", VIETNAMESE),
]
SESSION_NOTES = "Her daughter interpreted. Ñandú señaló: ✓\r\nSecond line."


@dataclass
class Prepared:
    study: Study
    audio: ResearchSession  # a recording with its transcript, a quote and linked notes
    missing: ResearchSession  # a recording whose file is gone
    withdrawn: ResearchSession  # its participant withdrew
    wav: Path
    wait_step: Step


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Where exports go (the data directory is beside it, in tmp_path)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def _silence(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * int(16000 * seconds))


def _interviews(ctx: AppContext, study_id: str) -> list[ResearchSession]:
    with ctx.db.session() as db:
        return list(
            db.exec(
                select(ResearchSession)
                .where(ResearchSession.study_id == study_id, ResearchSession.mode == "interview")
                .order_by(col(ResearchSession.started_at))
            )
        )


@pytest.fixture
def prepared(ctx: AppContext) -> Prepared:
    study = demo.create_demo(ctx.db, 14, seed=5)
    audio, missing, withdrawn = _interviews(ctx, study.id)[:3]
    with ctx.db.session() as db:
        wait = db.exec(select(Step).where(Step.study_id == study.id, Step.name == "Wait")).one()
        rec = Recording(session_id=audio.id, path="recordings/a.wav", duration_s=32.0,
                        started_at=audio.started_at)  # fmt: skip
        gone = Recording(session_id=missing.id, path="recordings/gone.wav", duration_s=9.0,
                         started_at=missing.started_at)  # fmt: skip
        lost = Recording(session_id=audio.id, path="recordings/lost.wav", duration_s=5.0,
                         started_at=audio.started_at + timedelta(minutes=30))  # fmt: skip
        db.add_all([rec, gone, lost])
        db.flush()
        for start, speaker, text in LINES:
            db.add(TranscriptSegment(recording_id=rec.id, session_id=audio.id, start_s=start,
                                     end_s=start + 4, text=text, speaker=speaker))  # fmt: skip
        db.add(TranscriptSegment(recording_id=gone.id, session_id=missing.id, start_s=1.0,
                                 end_s=3.0, text=CHINESE))  # fmt: skip
        db.add(Note(session_id=audio.id, text="Mentions the café\r\nclosed\x0b early", tags=[
            "idea", "long_wait"], recording_id=rec.id, recording_offset_frames=16000 * 21,
            session_offset_ms=21_000))  # fmt: skip
        session = db.get(ResearchSession, audio.id)
        assert session is not None
        session.notes = SESSION_NOTES
        db.add(session)
        rec_id, withdrawn_person = rec.id, withdrawn.participant_id
    _silence(ctx.paths.root / "recordings" / "a.wav", 32.0)
    first = transcript.segments(ctx.db, audio.id)[0]
    transcript.edit_text(ctx.db, first.id, "Buenos días, ¿cómo le fue en su visita?")
    transcript.make_quote(ctx.db, audio.id, wait.id, "nadie me explicó nada", 4.0, rec_id)
    assert withdrawn_person is not None
    participants.withdraw(ctx.db, withdrawn_person)
    return Prepared(study, audio, missing, withdrawn, ctx.paths.root / "recordings/a.wav", wait)


def _export(ctx: AppContext, prepared: Prepared, path: Path, **kw: object) -> jobs.ExportResult:
    return jobs.export_study_qdpx(ctx.db, ctx.paths.root, prepared.study.id, path, **kw)  # type: ignore[arg-type]


def _sources(export: QdpxExport) -> list[object]:
    return [s for s in export.root.find("q:Sources", NS)]


def test_project_is_valid_and_complete(ctx: AppContext, prepared: Prepared, out_dir: Path) -> None:
    out = out_dir / "study.qdpx"
    result = _export(ctx, prepared, out)
    assert result.paths == [out]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert any("gone.wav" in m and "goes in as text" in m for m in result.messages)
    assert any("lost.wav" in m and "left out" in m for m in result.messages)
    assert [p.name for p in out_dir.iterdir()] == ["study.qdpx"]  # no temporary file left
    export = read_qdpx(out)
    check_qdpx(export)

    with ctx.db.session() as db:
        sessions = {s.id: s for s in db.exec(select(ResearchSession))}
        people = list(db.exec(select(Participant)))
        notes = list(db.exec(select(Note)))
        captures = list(db.exec(select(StepCapture)))
        steps = {s.id: s for s in db.exec(select(Step))}
    exported = {sid: s for sid, s in sessions.items() if s.id != prepared.withdrawn.id}
    # one source per session (the audio session has one recording), none for the withdrawn
    sources = _sources(export)
    assert len(sources) == len(exported)
    assert [local(s) for s in sources].count("AudioSource") == 1
    code_of = {p.id: p.code for p in people}
    withdrawn_code = code_of[prepared.withdrawn.participant_id or ""]
    assert not any(withdrawn_code in s.get("name") for s in sources)
    cases = export.all("Case")
    assert sorted(c.get("name") for c in cases) == sorted(p.code for p in people if not p.withdrawn)
    users = {u.get("id") for u in export.all("User")}
    assert users == {s.researcher_id for s in exported.values()}

    # every note of a text session is coded where its words are, with its tags and step
    text_sources = {s.get("name"): s for s in export.all("TextSource")}
    codes_by_name = {c.get("name") for c in export.all("Code")}
    assert "long wait" in codes_by_name  # a tag typed on a note joins the codebook
    checked = 0
    for note in notes:
        session = exported.get(note.session_id)
        if session is None or session.id == prepared.audio.id:
            continue
        source = next(v for k, v in text_sources.items() if k.startswith(_who(session, code_of)))
        wanted = {t.replace("_", " ") for t in note.tags}
        if note.step_id:
            wanted.add(steps[note.step_id].name)
        hits = [
            sel for sel in source.iterfind("q:PlainTextSelection", NS)
            if export.selection_text(sel) == " ".join(note.text.split())
        ]  # fmt: skip
        assert hits and wanted <= export.codes_of(hits[0]), note.text
        checked += 1
    assert checked > 10
    # every capture's block is coded with its step, every quote with its step and "quote"
    for capture in captures:
        session = exported.get(capture.session_id)
        if session is None or session.id == prepared.audio.id:
            continue
        source = next(v for k, v in text_sources.items() if k.startswith(_who(session, code_of)))
        step = steps[capture.step_id].name
        coded = [export.codes_of(sel) for sel in source.iterfind("q:PlainTextSelection", NS)]
        assert any(step in codes and "quote" not in codes for codes in coded)
        for quote in quote_lines(capture.quote):
            hits = [
                sel for sel in source.iterfind("q:PlainTextSelection", NS)
                if export.selection_text(sel) == quote
            ]  # fmt: skip
            assert hits and {step, "quote"} <= export.codes_of(hits[0])


def _who(session: ResearchSession, codes: dict[str, str]) -> str:
    who = codes.get(session.participant_id or "") or str(session.mode).capitalize()
    return f"{who} {session.started_at:%Y-%m-%d %H:%M}"


def test_audio_session_with_transcript_quotes_and_memos(
    ctx: AppContext, prepared: Prepared, out_dir: Path
) -> None:
    out = out_dir / "study.qdpx"
    _export(ctx, prepared, out)
    export = read_qdpx(out)
    (audio,) = export.all("AudioSource")
    name = audio.get("path").removeprefix("internal://")
    assert name.endswith(".wav")
    assert export.files[f"sources/{name}"] == prepared.wav.read_bytes()
    (script,) = audio.findall("q:Transcript", NS)
    text = export.text_of(script)
    for _, _, said in LINES[1:]:
        assert said in text  # non-Latin text survives, as UTF-8
    assert "Participant: " + SPANISH in text
    points = script.findall("q:SyncPoint", NS)
    assert len(points) == len(LINES) + 1  # one per segment, one at the end
    assert [int(p.get("timeStamp")) for p in points[:-1]] == [int(t * 1000) for t, _, _ in LINES]
    for point, (_, _, said) in zip(points, LINES, strict=False):
        line = text[int(point.get("position")) :].split("\n", 1)[0]
        assert line.endswith(said) or said.startswith("Buenos")  # the first line was edited

    selections = script.findall("q:TranscriptSelection", NS)
    quote = [s for s in selections if "nadie me explicó nada" in export.selection_text(s)]
    assert len(quote) == 1  # the quote's note and the capture's quote share one selection
    assert "quote" in export.codes_of(quote[0])
    assert prepared.wait_step.name in export.codes_of(quote[0])
    memos = {n.get("guid"): n for n in export.all("Note")}
    linked = [
        s for s in selections
        if any("café" in (memos[r.get("targetGUID")].findtext("q:PlainTextContent", "", NS))
               for r in s.iterfind("q:NoteRef", NS))
    ]  # fmt: skip
    assert len(linked) == 1 and {"idea", "long wait"} <= export.codes_of(linked[0])
    assert "café" in export.selection_text(linked[0])  # the line spoken at the note's time
    memo_text = [m.findtext("q:PlainTextContent", "", NS) for m in memos.values()]
    assert any("closed early" in t and "\x0b" not in t for t in memo_text)
    refs = {r.get("targetGUID") for r in audio.iterfind("q:NoteRef", NS)}
    session_memo = [m for m in memo_text if "Ñandú" in m]
    assert session_memo and session_memo[0].endswith("Second line.")
    assert any("Ñandú" in memos[g].findtext("q:PlainTextContent", "", NS) for g in refs)
    assert any("Journey" in memos[g].findtext("q:PlainTextContent", "", NS) for g in refs)
    # every demo note of the session is coded somewhere on its transcript
    with ctx.db.session() as db:
        count = len(db.exec(select(Note).where(Note.session_id == prepared.audio.id)).all())
    coded_memos = {r.get("targetGUID") for s in selections for r in s.iterfind("q:NoteRef", NS)}
    assert len(coded_memos) == count


def test_a_suggested_speaker_is_written_as_a_suggestion(
    ctx: AppContext, prepared: Prepared, out_dir: Path
) -> None:
    """A speaker suggested from the voices and not yet confirmed labels its line as a
    suggestion; a confirmed one as itself."""
    with ctx.db.session() as db:
        row = db.exec(
            select(TranscriptSegment).where(
                TranscriptSegment.session_id == prepared.audio.id,
                TranscriptSegment.start_s == 26.0,
            )
        ).one()
        row.speaker_suggested = "participant"  # type: ignore[assignment]
        db.add(row)
    out = out_dir / "study.qdpx"
    _export(ctx, prepared, out)
    export = read_qdpx(out)
    check_qdpx(export)
    (audio,) = export.all("AudioSource")
    text = export.text_of(audio.find("q:Transcript", NS))
    assert "Participant (suggested): " + VIETNAMESE in text
    assert "Participant: " + SPANISH in text


def test_missing_audio_falls_back_to_text_with_its_transcript(
    ctx: AppContext, prepared: Prepared, out_dir: Path
) -> None:
    out = out_dir / "study.qdpx"
    _export(ctx, prepared, out)
    export = read_qdpx(out)
    codes = {p.id: p.code for p in _people(ctx)}
    source = next(
        s
        for s in export.all("TextSource")
        if s.get("name").startswith(_who(prepared.missing, codes))
    )
    assert CHINESE in export.text_of(source)


def _people(ctx: AppContext) -> list[Participant]:
    with ctx.db.session() as db:
        return list(db.exec(select(Participant)))


def test_variables_carry_segments_valence_and_a11_answers(
    ctx: AppContext, prepared: Prepared, out_dir: Path
) -> None:
    out = out_dir / "study.qdpx"
    _export(ctx, prepared, out)
    export = read_qdpx(out)
    variables = {v.get("guid"): v for v in export.all("Variable")}

    def values(element: object) -> dict[str, str]:
        found = {}
        for value in element.iterfind("q:VariableValue", NS):  # type: ignore[attr-defined]
            var = variables[value.find("q:VariableRef", NS).get("targetGUID")]
            (typed,) = [c for c in value if local(c) != "VariableRef"]
            kind = {"Text": "TextValue", "Integer": "IntegerValue", "DateTime": "DateTimeValue"}
            assert local(typed) == kind[var.get("typeOfVariable")]
            found[var.get("name")] = typed.text
        return found

    people = {p.code: p for p in _people(ctx)}
    for case in export.all("Case"):
        person = people[case.get("name")]
        got = values(case)
        assert got == {f"Segment: {_label(prepared, k)}": v for k, v in person.segments.items()}
        assert len(case.findall("q:SourceRef", NS)) == 1
    with ctx.db.session() as db:
        captures = list(db.exec(select(StepCapture)))
        surveys = {r.session_id: r for r in db.exec(select(SurveyResponse))}
        steps = {s.id: s.name for s in db.exec(select(Step))}
    codes = {p.id: p.code for p in people.values()}
    checked = 0
    for session in _interviews(ctx, prepared.study.id):
        if session.id == prepared.withdrawn.id:
            continue
        name = _who(session, codes)
        source = next(s for s in _sources(export) if s.get("name").startswith(name))
        got = values(source)
        assert got["Participant"] == codes[session.participant_id or ""]
        assert got["Session start"] == session.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        for c in (c for c in captures if c.session_id == session.id and c.valence is not None):
            (key,) = [k for k in got if k.startswith("Valence: ") and k.endswith(steps[c.step_id])]
            assert int(got[key]) == c.valence
            checked += 1
        survey = surveys.get(session.id)
        if survey is not None:
            assert int(got["A-11: satisfaction"]) == survey.satisfaction
    assert checked > 20


def _label(prepared: Prepared, key: str) -> str:
    labels = {a["key"]: a.get("label") or a["key"] for a in prepared.study.segment_attributes}
    return str(labels.get(key, key))


def test_two_exports_give_the_same_guids(
    ctx: AppContext, prepared: Prepared, out_dir: Path
) -> None:
    first, second = out_dir / "a.qdpx", out_dir / "b.qdpx"
    _export(ctx, prepared, first, now=datetime(2026, 1, 1, tzinfo=UTC))
    _export(ctx, prepared, second, now=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=3))
    a, b = read_qdpx(first), read_qdpx(second)
    assert sorted(a.by_guid) == sorted(b.by_guid)
    assert a.names == b.names
    assert {n: a.files[n] for n in a.names if n != "project.qde"} == {
        n: b.files[n] for n in b.names if n != "project.qde"
    }


def test_filters_and_the_codebook_alone(ctx: AppContext, prepared: Prepared, out_dir: Path) -> None:
    out = out_dir / "approved.qdpx"
    _export(ctx, prepared, out, request=FilterRequest(statuses=("approved",)))
    export = read_qdpx(out)
    check_qdpx(export)
    with ctx.db.session() as db:
        approved = [
            s for s in db.exec(select(ResearchSession).where(ResearchSession.status == "approved"))
            if s.id != prepared.withdrawn.id
        ]  # fmt: skip
    assert approved and len(_sources(export)) == len(approved)
    assert len(export.all("Case")) == len({s.participant_id for s in approved} - {None})

    qdc = out_dir / "codes.qdc"
    jobs.export_study_qdc(ctx.db, prepared.study.id, qdc)
    validate(qdc.read_bytes(), "Codebook.xsd")
    assert stat.S_IMODE(os.stat(qdc).st_mode) == 0o600
    book = etree.fromstring(qdc.read_bytes())
    names = [c.get("name") for c in book.iter("{urn:QDA-XML:codebook:1.0}Code")]
    project_names = [c.get("name") for c in read_qdpx(out_dir / "approved.qdpx").all("Code")]
    full = out_dir / "all.qdpx"
    _export(ctx, prepared, full)
    assert names == [c.get("name") for c in read_qdpx(full).all("Code")]
    assert set(project_names) <= set(names)
    guids = [c.get("guid") for c in book.iter("{urn:QDA-XML:codebook:1.0}Code")]
    assert guids == [c.get("guid") for c in read_qdpx(full).all("Code")]


def test_schema_order_is_enforced_by_the_check(
    ctx: AppContext, prepared: Prepared, out_dir: Path
) -> None:
    # The validation the tests rely on does reject what other exporters get wrong.
    out = out_dir / "study.qdpx"
    _export(ctx, prepared, out)
    root = etree.fromstring(read_qdpx(out).files["project.qde"])
    users = root.find("q:Users", NS)
    root.remove(users)
    root.find("q:CodeBook", NS).addnext(users)  # Users after CodeBook: out of order
    with pytest.raises(AssertionError):
        validate(etree.tostring(root), "Project.xsd")


def test_cancel_and_bad_path_leave_nothing(
    ctx: AppContext, prepared: Prepared, out_dir: Path
) -> None:
    out = out_dir / "study.qdpx"
    with pytest.raises(ExportCancelled):
        _export(ctx, prepared, out, cancelled=lambda: True)
    assert list(out_dir.iterdir()) == []
    with pytest.raises(ExportPathError):
        _export(ctx, prepared, out_dir / "missing" / "study.qdpx")
    assert list(out_dir.iterdir()) == []


def test_command_line_writes_project_and_codebook(data_dir: Path, tmp_path: Path) -> None:
    from cxfield.app import open_app

    ctx = open_app(data_dir)
    try:
        study_id = demo.create_demo(ctx.db, 6, seed=1).id
    finally:
        ctx.close()
    script = NO_QT + "\nfrom cxfield.main import main\nsys.exit(main(sys.argv[1:]))"

    def cx(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, "--data-dir", str(data_dir), *args],
            capture_output=True, text=True, env=cli_env(), timeout=120,
        )  # fmt: skip

    qdpx, qdc = tmp_path / "s.qdpx", tmp_path / "s.qdc"
    done = cx("export", "study", study_id, "--qdpx", str(qdpx), "--qdc", str(qdc))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(qdpx), str(qdc)]
    check_qdpx(read_qdpx(qdpx))
    validate(qdc.read_bytes(), "Codebook.xsd")
    assert zipfile.ZipFile(qdpx).testzip() is None

    bad = cx("export", "study", study_id, "--qdpx", str(tmp_path / "nope" / "s.qdpx"))
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
    assert "does not exist" in bad.stderr
    assert not (tmp_path / "nope").exists()


@pytest.mark.qt
def test_export_dialog_writes_the_project(
    qtbot: object, ctx: AppContext, prepared: Prepared, out_dir: Path
) -> None:
    pytest.importorskip("PySide6")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from cxfield.gui.export_dialog import KINDS, ExportDialog

    dialog = ExportDialog(ctx, prepared.study.id, prepared.study.name, None)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    dialog.show()
    dialog.kind_buttons["report"].setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.kind_buttons["report"])  # type: ignore[attr-defined]
    for _ in KINDS:  # arrow keys move through the kinds, as a user would
        if dialog.kind() == "qdpx":
            break
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)  # type: ignore[attr-defined]
    assert dialog.kind() == "qdpx" and dialog.filter_box.isVisibleTo(dialog)
    assert all(box.isChecked() for box in dialog.status_boxes.values())  # data: every status
    assert dialog.output.text().endswith(".qdpx")
    out = out_dir / "from-dialog.qdpx"
    dialog.output.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.output)  # type: ignore[attr-defined]
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # type: ignore[attr-defined]
    qtbot.keyClicks(QApplication.focusWidget(), str(out))  # type: ignore[attr-defined]
    with qtbot.waitSignal(dialog.runner.finished, timeout=60_000):  # type: ignore[attr-defined]
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # type: ignore[attr-defined]
    assert "Saved to" in dialog.status.text() and "gone.wav" in dialog.status.text()
    export = read_qdpx(out)
    check_qdpx(export)
    assert len(_sources(export)) == len(_interviews(ctx, prepared.study.id)) + 2 - 1

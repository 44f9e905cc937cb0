"""The live session without Qt: start, captures, notes, observation, survey, finish,
resume, the runner lock and a step deleted while a session is open."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cxfield.app import AppContext
from cxfield.domain.errors import ConflictError, NotFoundError, ValidationError
from cxfield.domain.survey import fill
from cxfield.services import (
    capture,
    journey_editor,
    observation,
    participants,
    runner_lock,
    sessions,
    sites,
    studies,
    survey_answers,
    templates,
)
from cxfield.storage.models import Study

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _setup(ctx: AppContext, recording: bool = False) -> tuple[Study, str, list[str]]:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    person = participants.add_participant(ctx.db, study.id, {"language": "Spanish"})
    participants.record_consent(ctx.db, person.id, interview=True, recording=recording)
    steps = [s.id for s in studies.get_journey(ctx.db, study.id).steps]
    return study, person.id, steps


def test_interview_needs_consenting_participant(ctx: AppContext) -> None:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    person = participants.add_participant(ctx.db, study.id)
    with pytest.raises(ValidationError, match="needs a participant"):
        capture.start_session(ctx.db, study.id)
    with pytest.raises(ValidationError, match="not given interview consent"):
        capture.start_session(ctx.db, study.id, participant_id=person.id)
    participants.record_consent(ctx.db, person.id, interview=False, recording=False)
    with pytest.raises(ValidationError, match="not given interview consent"):
        capture.start_session(ctx.db, study.id, participant_id=person.id)
    with pytest.raises(ValidationError, match="Mode"):
        capture.start_session(ctx.db, study.id, mode="telepathy")
    observed = capture.start_session(ctx.db, study.id, mode="observation")
    assert observed.participant_id is None and str(observed.status) == "draft"


def test_captures_persist_each_call_and_validate(ctx: AppContext) -> None:
    study, pid, steps = _setup(ctx)
    site = sites.add_site(ctx.db, "Eastside")
    me = sites.add_researcher(ctx.db, "Ana")
    session = capture.start_session(
        ctx.db, study.id, participant_id=pid, site_id=site.id, researcher_id=me.id
    )
    capture.save_capture(ctx.db, session.id, steps[0], valence=-2)
    capture.save_capture(ctx.db, session.id, steps[0], emotions=["Anxious", "rushed", "anxious"])
    capture.save_capture(ctx.db, session.id, steps[0], intensity=4, pain_point=True)
    capture.save_capture(ctx.db, session.id, steps[0], quote="Nobody told me", notes="kiosk")
    for bad in ({"valence": 3}, {"intensity": 0}, {"colour": "red"}):
        with pytest.raises(ValidationError):
            capture.save_capture(ctx.db, session.id, steps[0], **bad)
    detail = sessions.session_detail(ctx.db, session.id)
    cap = detail["steps"][0]["capture"]
    assert (cap["valence"], cap["emotions"], cap["intensity"], cap["pain_point"]) == (
        -2,
        ["anxious", "rushed"],
        4,
        True,
    )
    assert (cap["quote"], cap["notes"]) == ("Nobody told me", "kiosk")
    assert detail["site"] == "Eastside" and detail["researcher"] == "Ana"
    state = capture.load_runner_state(ctx.db, session.id)
    assert "rushed" in state.emotions and state.emotions[0] == "frustrated"


def test_notes_have_offsets_and_tags(ctx: AppContext) -> None:
    study, pid, steps = _setup(ctx)
    session = capture.start_session(ctx.db, study.id, participant_id=pid, now=T0)
    note = capture.add_note(
        ctx.db,
        session.id,
        " Kiosk only in English ",
        tags=["barrier", "equity"],
        step_id=steps[0],
        at=T0 + timedelta(minutes=2, seconds=5),
    )
    assert note.session_offset_ms == 125_000 and note.text == "Kiosk only in English"
    assert note.recording_id is None
    with pytest.raises(ValidationError, match="Unknown note tag"):
        capture.add_note(ctx.db, session.id, "x", tags=["gossip"])
    with pytest.raises(ValidationError, match="needs some text"):
        capture.add_note(ctx.db, session.id, "   ")
    capture.update_note(ctx.db, note.id, text="Kiosk English only", tags=["barrier"])
    quote = capture.add_note(ctx.db, session.id, "I gave up", tags=["quote"], at=T0)
    capture.delete_note(ctx.db, quote.id)
    notes = sessions.session_detail(ctx.db, session.id)["notes"]
    assert [(n["text"], n["tags"], n["offset_s"]) for n in notes] == [
        ("Kiosk English only", ["barrier"], 125.0)
    ]


def test_finish_and_resume_list(ctx: AppContext) -> None:
    study, pid, steps = _setup(ctx)
    first = capture.start_session(ctx.db, study.id, participant_id=pid)
    second = capture.start_session(ctx.db, study.id, mode="observation")
    assert {s.id for s in capture.unfinished_sessions(ctx.db)} == {first.id, second.id}
    done = capture.finish_session(ctx.db, first.id)
    assert str(done.status) == "submitted" and done.ended_at is not None
    assert [s.id for s in capture.unfinished_sessions(ctx.db)] == [second.id]
    # a submitted session can still be edited until review exists
    capture.save_capture(ctx.db, first.id, steps[1], valence=1)
    capture.forget_unfinished(ctx.db, second.id)
    assert capture.unfinished_sessions(ctx.db) == []


def test_reviewed_session_is_read_only(ctx: AppContext) -> None:
    from cxfield.storage.models import ResearchSession

    study, pid, steps = _setup(ctx)
    session = capture.start_session(ctx.db, study.id, participant_id=pid)
    with ctx.db.session() as db:
        row = db.get(ResearchSession, session.id)
        assert row is not None
        row.status = "approved"  # type: ignore[assignment]
        db.add(row)
    with pytest.raises(ConflictError, match="approved"):
        capture.save_capture(ctx.db, session.id, steps[0], valence=1)


def test_observation_marks_step_and_wait_durations(ctx: AppContext) -> None:
    study, _pid, steps = _setup(ctx)
    session = capture.start_session(ctx.db, study.id, mode="observation", now=T0)
    observation.mark_entered(ctx.db, session.id, steps[0], at=T0)
    observation.mark_entered(ctx.db, session.id, steps[2], at=T0 + timedelta(seconds=90))
    observation.mark_left(ctx.db, session.id, at=T0 + timedelta(seconds=600))
    assert observation.current_step(ctx.db, session.id) is None
    observation.mark_entered(ctx.db, session.id, steps[3], at=T0 + timedelta(seconds=660))
    capture.save_capture(ctx.db, session.id, steps[3], emotions=["anxious"])
    capture.finish_session(ctx.db, session.id, at=T0 + timedelta(seconds=900))
    times = observation.timeline(ctx.db, session.id)
    assert times[steps[0]].step_s == 90 and times[steps[0]].wait_s is None
    assert times[steps[2]].step_s == 510 and times[steps[2]].wait_s == 0
    assert times[steps[3]].wait_s == 60 and times[steps[3]].step_s == 240
    assert steps[1] not in times


def test_observation_revisit_keeps_every_visit(ctx: AppContext) -> None:
    """A customer sent back to the queue: the second visit is added, the first is kept."""
    study, _pid, steps = _setup(ctx)
    wait, desk = steps[0], steps[1]
    session = capture.start_session(ctx.db, study.id, mode="observation", now=T0)
    observation.mark_entered(ctx.db, session.id, wait, at=T0)
    observation.mark_entered(ctx.db, session.id, desk, at=T0 + timedelta(seconds=300))
    # Pressing the mark of the step the customer is in changes nothing.
    observation.mark_entered(ctx.db, session.id, desk, at=T0 + timedelta(seconds=310))
    observation.mark_entered(ctx.db, session.id, wait, at=T0 + timedelta(seconds=400))
    assert observation.current_step(ctx.db, session.id) == wait
    assert observation.last_entered(ctx.db, session.id) == wait
    observation.mark_entered(ctx.db, session.id, desk, at=T0 + timedelta(seconds=1000))
    capture.finish_session(ctx.db, session.id, at=T0 + timedelta(seconds=1200))

    visits = observation.visits(ctx.db, session.id)
    assert [(v.step_id, (v.entered_at - T0).seconds, (v.left_at - T0).seconds) for v in visits] == [
        (wait, 0, 300),
        (desk, 300, 400),
        (wait, 400, 1000),
        (desk, 1000, 1200),
    ]  # type: ignore[operator]
    times = observation.timeline(ctx.db, session.id)
    assert times[wait].visits == 2 and times[wait].step_s == 300 + 600
    assert times[desk].visits == 2 and times[desk].step_s == 100 + 200
    assert times[wait].entered == T0 and times[wait].left == T0 + timedelta(seconds=1000)
    state = capture.load_runner_state(ctx.db, session.id)
    assert state.captures[wait].observed_start == T0  # the summary keeps the first entry
    assert state.captures[desk].observed_end == T0 + timedelta(seconds=1200)
    detail = sessions.session_detail(ctx.db, session.id)
    assert [v["seconds"] for v in detail["observation_visits"]] == [300, 100, 600, 200]


def test_survey_v1_and_v2_exact_wording(ctx: AppContext) -> None:
    study, pid, _steps = _setup(ctx)
    questions = survey_answers.survey_questions(study)
    assert questions[0].text == (
        "I am satisfied with the service I received from Supplemental Nutrition Assistance Program."
    )
    assert [q.text for q in questions][1:3] == [
        fill("This interaction increased my confidence in [Program/Service name].", study.program),
        "My need was addressed.",
    ]
    session = capture.start_session(ctx.db, study.id, participant_id=pid)
    survey_answers.save_survey(ctx.db, session.id, satisfaction=4, ease=2)
    survey_answers.save_survey(ctx.db, session.id, ease=3, comments="ok")
    with pytest.raises(ValidationError):
        survey_answers.save_survey(ctx.db, session.id, ease=6)
    with pytest.raises(ValidationError):
        survey_answers.save_survey(ctx.db, session.id, went_well=["vibes"])
    saved = sessions.session_detail(ctx.db, session.id)["survey"]
    assert (saved["satisfaction"], saved["ease"], saved["comments"]) == (4, 3, "ok")
    assert saved["survey_version"] == "v1"

    v2 = journey_editor.update_study(
        ctx.db, study.id, survey_version="v2", survey_effectiveness_variant="issue"
    )
    keys = [q.key for q in survey_answers.survey_questions(v2)]
    assert keys == ["trust", "went_well", "not_well", "comments"]
    assert survey_answers.survey_questions(v2)[1].text == "What went well?"
    v1 = journey_editor.update_study(ctx.db, study.id, survey_version="v1")
    assert "My issue was resolved." in [q.text for q in survey_answers.survey_questions(v1)]


def test_step_deleted_while_session_open_keeps_typing(ctx: AppContext) -> None:
    study, pid, steps = _setup(ctx)
    session = capture.start_session(ctx.db, study.id, participant_id=pid)
    capture.save_capture(ctx.db, session.id, steps[0], valence=1)
    journey_editor.delete_step(ctx.db, steps[0], confirm=True)
    result = capture.save_capture(ctx.db, session.id, steps[0], quote="still typing")
    assert result.step_removed and result.capture.quote == "still typing"
    state = capture.load_runner_state(ctx.db, session.id)
    assert [s.id for s in state.removed_steps] == [steps[0]]
    assert state.captures[steps[0]].quote == "still typing"
    other = templates.create_from_definition(ctx.db, templates.load_template("online-application"))
    foreign = studies.get_journey(ctx.db, other.id).steps[0].id
    with pytest.raises(ValidationError, match="not part of this session"):
        capture.save_capture(ctx.db, session.id, foreign, valence=1)


def test_second_runner_gets_clear_message(tmp_path: Path) -> None:
    lock = runner_lock.acquire(tmp_path, "abc")
    with pytest.raises(ConflictError, match="already open in another cxfield runner"):
        runner_lock.acquire(tmp_path, "abc")
    runner_lock.acquire(tmp_path, "other").release()
    lock.release()
    assert not runner_lock.lock_path(tmp_path, "abc").exists()
    runner_lock.acquire(tmp_path, "abc").release()


def test_lock_held_by_another_live_process(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], stdout=subprocess.DEVNULL
    )
    try:
        path = runner_lock.lock_path(tmp_path, "s1")
        path.write_text(json.dumps({"pid": child.pid, "host": socket.gethostname()}))
        with pytest.raises(ConflictError, match=f"process {child.pid} on this computer"):
            runner_lock.acquire(tmp_path, "s1")
    finally:
        child.kill()
        child.wait()
    # the holder is gone: its lock is stale and is taken over
    taken = runner_lock.acquire(tmp_path, "s1")
    assert taken.took_over_stale
    assert json.loads(path.read_text())["pid"] == os.getpid()
    taken.release()


def test_lock_from_another_host_is_respected(tmp_path: Path) -> None:
    path = runner_lock.lock_path(tmp_path, "s2")
    path.write_text(json.dumps({"pid": 1, "host": "field-laptop-7"}))
    with pytest.raises(ConflictError, match="computer field-laptop-7"):
        runner_lock.acquire(tmp_path, "s2")


def test_sites_and_researchers(ctx: AppContext) -> None:
    site = sites.add_site(ctx.db, "Eastside", "1200 E Main")
    with pytest.raises(ConflictError):
        sites.add_site(ctx.db, " eastside ")
    with pytest.raises(ValidationError):
        sites.add_researcher(ctx.db, "")
    sites.add_researcher(ctx.db, "Ana", "observer")
    with pytest.raises(ValidationError, match="Role"):
        sites.add_researcher(ctx.db, "Bo", "boss")
    sites.rename_site(ctx.db, site.id, "Eastside Center")
    assert [s.name for s in sites.list_sites(ctx.db)] == ["Eastside Center"]
    sites.delete_site(ctx.db, site.id)
    assert sites.list_sites(ctx.db) == []
    assert [r.name for r in sites.list_researchers(ctx.db)] == ["Ana"]


def test_note_delete_and_restore(ctx: AppContext) -> None:
    study, pid, _steps = _setup(ctx)
    session = capture.start_session(ctx.db, study.id, participant_id=pid, now=T0)
    note = capture.add_note(
        ctx.db, session.id, "Kiosk broke", tags=["barrier"], at=T0 + timedelta(seconds=75)
    )
    capture.delete_note(ctx.db, note.id)
    assert sessions.session_detail(ctx.db, session.id)["notes"] == []
    back = capture.restore_note(ctx.db, note.id)
    assert back.deleted_at is None and back.version > note.version  # the undo syncs too
    [row] = sessions.session_detail(ctx.db, session.id)["notes"]
    assert (row["text"], row["tags"], row["offset_s"]) == ("Kiosk broke", ["barrier"], 75.0)
    with pytest.raises(NotFoundError):
        capture.restore_note(ctx.db, "no-such-note")

"""Notes placed on a recording's clock for the transcript editor (services, no Qt)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from cxfield.app import AppContext
from cxfield.services import demo, transcript
from cxfield.storage.models import Note, Recording, ResearchSession


def _session_with_notes(ctx: AppContext) -> ResearchSession:
    demo.create_demo(ctx.db, 4, seed=3)
    with ctx.db.session() as db:
        for session in db.exec(select(ResearchSession)):
            notes = db.exec(select(Note).where(Note.session_id == session.id)).all()
            if len(notes) >= 2:
                return session
    raise AssertionError("the demo should have a session with notes")


def _offsets(ctx: AppContext, session_id: str) -> list[float]:
    with ctx.db.session() as db:
        notes = db.exec(select(Note).where(Note.session_id == session_id)).all()
    return sorted(n.session_offset_ms / 1000 for n in notes)


def test_notes_keep_their_times_on_an_imported_recording(ctx: AppContext) -> None:
    # An imported file's row is made at import time, weeks after the session: its start
    # says nothing about the session's clock. Every note used to be clamped to 00:00.
    session = _session_with_notes(ctx)
    with ctx.db.session() as db:
        db.add(
            Recording(
                session_id=session.id, path="recordings/x.wav", duration_s=600.0,
                state="imported", started_at=session.started_at + timedelta(days=30),
            )
        )  # fmt: skip
    marks = transcript.notes_on_recording(ctx.db, session.id)
    assert [m.at_s for m in marks] == _offsets(ctx, session.id)
    assert len({m.at_s for m in marks}) > 1


def test_notes_on_a_recording_started_during_the_session(ctx: AppContext) -> None:
    session = _session_with_notes(ctx)
    with ctx.db.session() as db:
        db.add(
            Recording(
                session_id=session.id, path="recordings/y.wav", duration_s=600.0,
                state="complete", started_at=session.started_at + timedelta(seconds=10),
            )
        )  # fmt: skip
    marks = transcript.notes_on_recording(ctx.db, session.id)
    assert [m.at_s for m in marks] == [max(t - 10, 0.0) for t in _offsets(ctx, session.id)]

"""A participant withdrawn on one laptop: the hub (a real one on loopback, SQLite and
PostgreSQL) keeps only content-free tombstones and drops the audio blob; the supervisor's
laptop purges its copy (an unpushed edit of it included) at its next sync; the withdrawal
report on every laptop says where it was applied."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from cxfield.app import AppContext, open_app
from cxfield.hub import storage as hub_tables
from cxfield.hub.config import make_engine
from cxfield.privacy import withdrawal
from cxfield.services import demo, participants, studies
from cxfield.storage.models import Note, Study, TranscriptSegment
from cxfield.sync import connection
from cxfield.sync.client import SyncSummary, sync_once
from tests.hub_support import RunningHub
from tests.privacy_support import plant_texts
from tests.sync_support import submit_decided

AUDIO = b"RIFF-fake-but-unique-audio-" + bytes(range(256)) * 64


class Laptop:
    def __init__(self, root: Path, hub: RunningHub, name: str, role: str) -> None:
        self.ctx: AppContext = open_app(root / name)
        connection.connect(self.ctx.db, self.ctx.paths.root, hub.url, hub.add_user(name, role))

    def sync(self) -> SyncSummary:
        client = connection.open_client(self.ctx.db, self.ctx.paths.root)
        try:
            return sync_once(self.ctx.db, client, data_dir=self.ctx.paths.root)
        finally:
            client.close()


@pytest.fixture
def laptops(hub_server: RunningHub, tmp_path: Path) -> Iterator[tuple[Laptop, Laptop]]:
    ana = Laptop(tmp_path, hub_server, "Ana", "researcher")
    sam = Laptop(tmp_path, hub_server, "Sam", "supervisor")
    yield ana, sam
    ana.ctx.close()
    sam.ctx.close()


def _hub_state(hub: RunningHub, session_id: str) -> tuple[str, list[str], int]:
    """(every record of the session as text, receipts' places, blobs registered)."""
    engine = make_engine(hub.db.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(hub_tables.record.c.data).where(hub_tables.record.c.session_id == session_id)
            ).all()
            receipts = conn.execute(
                select(hub_tables.record.c.data).where(
                    hub_tables.record.c.table_name == "withdrawal_receipt"
                )
            ).all()
            blobs = len(conn.execute(select(hub_tables.blob.c.sha256)).all())
            conflicts = conn.execute(select(hub_tables.conflict.c.winner_data)).all()
            people = conn.execute(
                select(hub_tables.record.c.data).where(
                    hub_tables.record.c.table_name == "participant"
                )
            ).all()
    finally:
        engine.dispose()
    withdrawn = [p.data for p in people if p.data["withdrawn"]]
    text = json.dumps([r.data for r in rows] + [c.winner_data for c in conflicts] + withdrawn)
    return text, sorted(r.data["place"] for r in receipts), blobs


def test_withdrawal_reaches_hub_and_other_laptop(
    laptops: tuple[Laptop, Laptop], hub_server: RunningHub
) -> None:
    ana, sam = laptops
    study = demo.create_demo(ana.ctx.db, 4)
    with ana.ctx.db.session() as db:
        row = db.get(Study, study.id)
        assert row is not None
        row.audio_upload = True
        db.add(row)
    planted = plant_texts(ana.ctx.db, study.id, audio=AUDIO)
    submit_decided(ana.ctx.db)  # a researcher sends the demo's decided sessions submitted
    assert ana.sync().uploaded == 1
    sam.sync()
    # The supervisor's laptop holds the texts and (say, played back) a copy of the audio.
    sam_audio = sam.ctx.paths.root / "recordings" / f"{planted.session_id}.wav"
    sam_audio.parent.mkdir(parents=True, exist_ok=True)
    sam_audio.write_bytes(AUDIO)
    with Session(sam.ctx.db.engine) as db:
        assert "Planted-7Q3X" in db.get(TranscriptSegment, planted.segment_id).text  # type: ignore[union-attr]
    before, places, blobs = _hub_state(hub_server, planted.session_id)
    assert "Planted-7Q3X" in before and places == [] and blobs == 1

    # The supervisor edits a note of that session and has not synced it yet ...
    with sam.ctx.db.session() as db:
        note = db.get(Note, planted.note_id)
        assert note is not None
        note.text = "Supervisor-edit-4T: call back 555-0100"
        db.add(note)
    # ... while the participant withdraws on Ana's laptop.
    done = participants.withdraw(
        ana.ctx.db, planted.participant_id, delete_content=True, data_root=ana.ctx.paths.root
    )
    assert done.sessions_deleted == 1 and done.files_deleted == 1
    ana.sync()
    after, places, blobs = _hub_state(hub_server, planted.session_id)
    assert "Planted-7Q3X" not in after and places == ["hub", "laptop"] and blobs == 0
    assert '"segments": {}' in after  # the withdrawn participant's row keeps no segments
    sha = planted_sha = __import__("hashlib").sha256(AUDIO).hexdigest()
    assert not (hub_server.db.hub_dir / "blobs" / sha[:2] / planted_sha).exists()

    # The supervisor's next sync purges his copy, his unpushed edit and the audio file.
    summary = sam.sync()
    assert summary.withdrawals == 1
    assert not sam_audio.exists()
    with Session(sam.ctx.db.engine) as db:
        assert db.get(TranscriptSegment, planted.segment_id).text == ""  # type: ignore[union-attr]
        edited = db.get(Note, planted.note_id)
        assert edited is not None and edited.text == "" and edited.deleted_at is not None
    after, places, _blobs = _hub_state(hub_server, planted.session_id)
    assert "Supervisor-edit-4T" not in after and "555-0100" not in after
    assert places == ["hub", "laptop", "laptop"]
    assert studies.get_study(sam.ctx.db, study.id).name == study.name  # the study stays

    # The report on Ana's laptop says where the withdrawal was applied.
    ana.sync()
    lines = withdrawal.report(ana.ctx.db, planted.participant_id)
    assert [line.place for line in lines] == ["laptop", "hub", "laptop"]
    assert {line.applied_by for line in lines if line.place == "laptop"} == {
        ana.ctx.db.device_id,
        sam.ctx.db.device_id,
    }
    assert lines[1].files == 1 and lines[0].files == 1 and lines[2].files == 1
    # Nothing churns afterwards.
    assert ana.sync().pushed == 0 and sam.sync().pushed == 0


def test_withdrawal_leaves_no_content_in_the_history(
    laptops: tuple[Laptop, Laptop], hub_server: RunningHub
) -> None:
    """A submitted session whose note was edited (the history holds the text before and
    after) and commented on by the supervisor: after the withdrawal neither the hub nor
    the supervisor's laptop keeps those texts."""
    from cxfield.services import review as review_service
    from cxfield.storage.models import AuditEntry, ReviewComment

    ana, sam = laptops
    study = demo.create_demo(ana.ctx.db, 4)
    planted = plant_texts(ana.ctx.db, study.id)
    review_service.submit(ana.ctx.db, planted.session_id, "")
    with ana.ctx.db.session() as db:
        note = db.get(Note, planted.note_id)
        assert note is not None
        note.text = "History-6W: she lives at 12 Elm Street"
        db.add(note)
    submit_decided(ana.ctx.db)  # a researcher sends the demo's decided sessions submitted
    ana.sync()
    sam.sync()
    review_service.add_comment(
        sam.ctx.db, planted.session_id, "Comment-3R: ask about 12 Elm Street again"
    )
    sam.sync()
    before, _places, _blobs = _hub_state(hub_server, planted.session_id)
    assert "History-6W" in before and "Comment-3R" in before  # the check below can fail
    participants.withdraw(
        ana.ctx.db, planted.participant_id, delete_content=True, data_root=ana.ctx.paths.root
    )
    assert ana.sync().refused == 0
    after, _places, _blobs = _hub_state(hub_server, planted.session_id)
    for plain in ("History-6W", "Comment-3R", "Elm Street", "Planted-7Q3X"):
        assert plain not in after, plain
    assert sam.sync().withdrawals == 1
    for laptop in (ana, sam):
        with Session(laptop.ctx.db.engine) as db:
            kept = [
                json.dumps([e.before, e.after])
                for e in db.exec(
                    select(AuditEntry).where(AuditEntry.session_id == planted.session_id)
                ).scalars()
            ] + [
                c.text
                for c in db.exec(
                    select(ReviewComment).where(ReviewComment.session_id == planted.session_id)
                ).scalars()
            ]
        assert not any("Elm Street" in k or "Planted-7Q3X" in k for k in kept), kept
    # one more round settles the tombstones both sides made; then nothing churns
    assert ana.sync().conflicts == 0 and sam.sync().conflicts == 0
    assert ana.sync().pushed == 0 and sam.sync().pushed == 0

"""Review through a real hub (SQLite and PostgreSQL): two researchers' laptops and a
supervisor; a returned session comes back with its comments, is fixed and approved, and is
read-only everywhere after; the hub refuses decisions from researchers and the late one of
two supervisors deciding at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cxfield.domain.errors import ConflictError
from cxfield.domain.review import AnchorKind, ReviewAction
from cxfield.services import (
    capture,
    history,
    participants,
    review,
    review_queue,
    sessions,
    studies,
    templates,
)
from cxfield.storage.models import ResearchSession, ReviewEvent
from cxfield.sync import conflicts, protocol
from tests.hub_support import HubDatabase, hub_database  # noqa: F401
from tests.sync_support import Laptop, Team


@pytest.fixture
def team(hub_database: HubDatabase, tmp_path: Path) -> Iterator[Team]:  # noqa: F811
    made = Team(tmp_path, url=hub_database.url)
    yield made
    made.close()


def _submitted_session(laptop: Laptop, study_id: str) -> tuple[str, list[str]]:
    person = participants.add_participant(laptop.db, study_id)
    participants.record_consent(laptop.db, person.id, interview=True, recording=False)
    steps = [s.id for s in studies.get_journey(laptop.db, study_id).steps]
    session = capture.start_session(laptop.db, study_id, participant_id=person.id)
    capture.save_capture(laptop.db, session.id, steps[0], valence=1, quote="Fine.")
    capture.save_capture(laptop.db, session.id, steps[1], valence=-1)
    capture.finish_session(laptop.db, session.id)
    return session.id, steps


def _hub_rows(team: Team, table: str) -> list[dict[str, object]]:
    from cxfield.hub import storage

    with team.app.state.hub.engine.connect() as conn:
        found = conn.execute(
            select(storage.record.c.data).where(storage.record.c.table_name == table)
        )
        return [row.data for row in found]


def _status(laptop: Laptop, session_id: str) -> str:
    return str(sessions.session_detail(laptop.db, session_id)["status"])


def test_return_fix_resubmit_approve_across_laptops(team: Team) -> None:
    ana, minh, sam = team.laptop("Ana"), team.laptop("Minh"), team.laptop("Sam", "supervisor")
    study = templates.create_from_definition(
        ana.db, templates.load_template("benefits-office-visit")
    )
    ana_sid, steps = _submitted_session(ana, study.id)
    ana.sync()
    minh.sync()
    minh_sid, _ = _submitted_session(minh, study.id)
    minh.sync()

    sam.sync()
    queue = [item.session.id for item in review_queue.review_queue(sam.db)]
    assert sorted(queue) == sorted([ana_sid, minh_sid])
    assert review_queue.waiting_count(sam.db).line == "2 to review"
    remark = review.add_comment(
        sam.db, ana_sid, "Was this the long queue?", anchor=AnchorKind.STEP, anchor_id=steps[1]
    )
    review.move(sam.db, ana_sid, ReviewAction.RETURN, "One step needs a look.")
    review.move(sam.db, minh_sid, ReviewAction.APPROVE)
    assert sam.sync().refused == 0

    ana.sync()
    assert _status(ana, ana_sid) == "has_issues"
    assert review_queue.waiting_count(ana.db).line == "1 returned to you"
    [got] = review.comments_of(ana.db, ana_sid)
    assert (got.id, got.anchor, got.anchor_id, got.author_name) == (
        remark.id,
        AnchorKind.STEP,
        steps[1],
        "Sam",
    )
    assert review.events_of(ana.db, ana_sid)[-1].comment == "One step needs a look."
    capture.save_capture(ana.db, ana_sid, steps[1], valence=-2, pain_point=True)
    review.add_comment(ana.db, ana_sid, "Yes, two hours.", reply_to=remark.id)
    review.submit(ana.db, ana_sid, "Marked the pain point.")
    assert ana.sync().refused == 0
    # Minh never sees Ana's session, comments or history.
    minh.sync()
    assert [s.id for s in sessions.list_sessions(minh.db)] == [minh_sid]
    assert _status(minh, minh_sid) == "approved"

    sam.sync()
    assert _status(sam, ana_sid) == "submitted"
    [thread] = review.threads(review.comments_of(sam.db, ana_sid))
    assert [r.text for r in thread.replies] == ["Yes, two hours."]
    review.move(sam.db, ana_sid, ReviewAction.APPROVE)
    sam.sync()

    ana.sync()
    assert _status(ana, ana_sid) == "approved"
    with pytest.raises(ConflictError, match="approved"):
        capture.save_capture(ana.db, ana_sid, steps[0], valence=2)
    trail = [(e.actor, e.table, e.field, e.after) for e in history.session_history(ana.db, ana_sid)]
    assert ("Sam", "session", "status", "has_issues") in trail
    assert ("Ana", "step_capture", "valence", -2) in trail
    assert ("Ana", "step_capture", "pain_point", True) in trail
    assert ("Ana", "session", "status", "submitted") in trail
    assert ("Sam", "session", "status", "approved") in trail
    # every laptop that sees the session holds the same history
    assert history.session_history(sam.db, ana_sid) == history.session_history(ana.db, ana_sid)


def test_offline_edit_after_approval_is_flagged_not_applied(team: Team) -> None:
    ana, sam = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    study = templates.create_from_definition(
        ana.db, templates.load_template("benefits-office-visit")
    )
    sid, steps = _submitted_session(ana, study.id)
    ana.sync()
    sam.sync()
    review.move(sam.db, sid, ReviewAction.APPROVE)
    sam.sync()
    # Ana has not synced: she still sees it submitted and edits a step.
    capture.save_capture(ana.db, sid, steps[0], valence=-2)
    summary = ana.sync()
    assert summary.refused >= 1
    assert any("approved on the hub and read-only" in m for m in summary.messages)
    flagged = [c for c in conflicts.list_conflicts(ana.db) if c.table == "step_capture"]
    assert flagged and flagged[0].kind == "refused" and flagged[0].mine["valence"] == -2  # type: ignore[index]
    assert _status(ana, sid) == "approved"
    on_hub = [d for d in _hub_rows(team, "step_capture") if d["step_id"] == steps[0]]
    assert [d["valence"] for d in on_hub] == [1]  # the approved content stands
    assert not any(
        d["field"] == "valence" and d["after"] == -2 for d in _hub_rows(team, "audit_entry")
    )
    # A transcription finishing after the approval still reaches the hub (audio and the
    # machine's transcript are added, nothing is changed); a new note is refused.
    from cxfield.storage.models import Note, Recording, TranscriptSegment

    with ana.db.session() as db:
        rec = Recording(session_id=sid, path="recordings/late.wav", duration_s=4.0)
        db.add(rec)
        db.flush()
        db.add(TranscriptSegment(recording_id=rec.id, session_id=sid, start_s=0, end_s=2,
                                 text="Late words."))  # fmt: skip
    with pytest.raises(ConflictError, match="approved"):
        capture.add_note(ana.db, sid, "After the approval")
    with ana.db.session() as db:
        db.add(Note(session_id=sid, text="Written past the service"))
    late = ana.sync()
    assert [d["text"] for d in _hub_rows(team, "transcript_segment")] == ["Late words."]
    assert not [d for d in _hub_rows(team, "note") if d["text"] == "Written past the service"]
    assert any("note" in m and "read-only" in m for m in late.messages)


def _row(laptop: Laptop, table: str, obj: object, base: int, **changes: object) -> protocol.RowIn:
    data = protocol.encode_row(protocol.TABLES[table], obj)
    data.update(changes)
    return protocol.RowIn(
        table=table,
        id=str(data["id"]),
        base=base,
        hash=protocol.content_hash(data, table),
        data=data,
    )


def test_researcher_cannot_approve_through_the_api(team: Team) -> None:
    ana = team.laptop("Ana")
    study = templates.create_from_definition(
        ana.db, templates.load_template("benefits-office-visit")
    )
    sid, _ = _submitted_session(ana, study.id)
    ana.sync()
    with ana.db.session() as db:
        session = db.get(ResearchSession, sid)
    event = ReviewEvent(
        session_id=sid, action="approve", from_status="submitted", to_status="approved"
    )
    client = ana.client()
    answer = client.push(
        protocol.PushRequest(
            device_id=ana.db.device_id,
            rows=[
                _row(ana, "session", session, 1, status="approved"),
                _row(ana, "review_event", event, 0),
            ],
        )
    )
    assert [r.status for r in answer.results] == ["forbidden", "forbidden"]
    assert "Only a supervisor or an admin" in str(answer.results[0].message)
    assert [d["status"] for d in _hub_rows(team, "session")] == ["submitted"]
    assert _hub_rows(team, "review_event") == [
        d for d in _hub_rows(team, "review_event") if d["action"] == "submit"
    ]
    status = client.http.post(
        f"/v1/sessions/{sid}/review",
        json={"protocol": 1, "action": "approve"},
        headers=client._headers(),
    )
    assert status.status_code == 403 and "Only a supervisor" in status.json()["detail"]


def test_a_researcher_cannot_send_a_session_that_arrives_already_decided(team: Team) -> None:
    """Arriving approved (or returned, or rejected) at the hub is deciding it: a
    researcher's laptop may send a new session only as a draft or submitted, and is told;
    sent again submitted, it arrives with everything it holds."""
    ana = team.laptop("Ana")
    study = templates.create_from_definition(
        ana.db, templates.load_template("benefits-office-visit")
    )
    ana.sync()
    sid, _ = _submitted_session(ana, study.id)
    with ana.db.session() as db:  # as if decided on the laptop (a copied database, a script)
        session = db.get(ResearchSession, sid)
        assert session is not None
        session.status = "approved"
        db.add(session)
        db.commit()
    summary = ana.sync()
    assert summary.refused >= 1, summary
    assert sid not in {d["id"] for d in _hub_rows(team, "session")}
    refused = {c.row_id: c for c in conflicts.list_conflicts(ana.db)}
    message = refused[sid].message
    assert message.startswith("Only a supervisor or an admin can send the hub a session that")
    assert "already approved" in message and "demo --submitted" in message
    assert "\n" not in message and any(message in m for m in summary.messages)
    # the same session submitted goes through
    with ana.db.session() as db:
        session = db.get(ResearchSession, sid)
        assert session is not None
        session.status = "submitted"
        db.add(session)
        db.commit()
    ana.sync()
    assert [d["status"] for d in _hub_rows(team, "session") if d["id"] == sid] == ["submitted"]
    assert len([d for d in _hub_rows(team, "step_capture") if d["session_id"] == sid]) == 2
    sam = team.laptop("Sam", role="supervisor")
    sam.sync()
    assert sid in {q.session.id for q in review_queue.review_queue(sam.db)}


def test_two_supervisors_decide_at_once_one_wins_the_other_is_told(team: Team) -> None:
    ana = team.laptop("Ana")
    sam, kim = team.laptop("Sam", "supervisor"), team.laptop("Kim", "supervisor")
    study = templates.create_from_definition(
        ana.db, templates.load_template("benefits-office-visit")
    )
    sid, _ = _submitted_session(ana, study.id)
    ana.sync()
    sam.sync()
    kim.sync()
    review.move(sam.db, sid, ReviewAction.APPROVE)
    review.move(kim.db, sid, ReviewAction.RETURN, "Missing the survey.")
    assert sam.sync().refused == 0
    told = kim.sync()
    assert told.refused >= 1
    assert any(
        "before your decision arrived (it is now approved, by Sam)" in m for m in told.messages
    )
    # one decision on the hub, and both supervisors see it
    decisions = [d["action"] for d in _hub_rows(team, "review_event") if d["action"] != "submit"]
    assert decisions == ["approve"]
    assert _status(kim, sid) == "approved" and _status(sam, sid) == "approved"
    ana.sync()
    assert _status(ana, sid) == "approved"
    assert all(e.after != "has_issues" for e in history.session_history(ana.db, sid))


def test_two_supervisors_on_the_hub_api_at_the_same_moment(team: Team) -> None:
    import threading

    ana = team.laptop("Ana")
    sam, kim = team.laptop("Sam", "supervisor"), team.laptop("Kim", "supervisor")
    study = templates.create_from_definition(
        ana.db, templates.load_template("benefits-office-visit")
    )
    sid, _ = _submitted_session(ana, study.id)
    ana.sync()
    start = threading.Barrier(2)
    answers: dict[str, tuple[int, str]] = {}

    def decide(laptop: Laptop, action: str, comment: str) -> None:
        client = laptop.client()
        start.wait()
        answer = client.http.post(
            f"/v1/sessions/{sid}/review",
            json={"protocol": 1, "action": action, "comment": comment},
            headers=client._headers(),
        )
        answers[laptop.name] = (answer.status_code, answer.text)

    threads = [
        threading.Thread(target=decide, args=(sam, "approve", "")),
        threading.Thread(target=decide, args=(kim, "reject", "No consent on file.")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    codes = sorted(code for code, _text in answers.values())
    assert codes == [200, 409], answers
    loser = next(text for code, text in answers.values() if code == 409)
    # told either way: its push met the newer version, or it read the decided state first
    assert "changed on the hub before your decision arrived" in loser or (
        "Cannot " in loser and "a session that is" in loser
    )
    decisions = [d["action"] for d in _hub_rows(team, "review_event") if d["action"] != "submit"]
    assert len(decisions) == 1
    winner = next(name for name, (code, _t) in answers.items() if code == 200)
    ana.sync()
    expected = "approved" if winner == "Sam" else "rejected"
    assert _status(ana, sid) == expected
    assert [e.after for e in history.session_history(ana.db, sid) if e.field == "status"][-1] == (
        expected
    )


def test_offline_supervisor_profile_reviews_then_syncs(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from cxfield.app import open_app
    from cxfield.hub import accounts
    from cxfield.sync import connection
    from tests.sync_support import BASE_URL

    ctx = open_app(team.root / "field-laptop")
    http = httpx.Client(transport=team.transport, base_url=BASE_URL)
    offline = Laptop("Sam", ctx, http)
    team.laptops.append(offline)
    # No hub yet: the laptop's profile is a supervisor, who reviews what the laptop holds.
    review.use_profile(ctx.db, "Sam", "supervisor")
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    sid, steps = _submitted_session(offline, study.id)
    review.add_comment(ctx.db, sid, "Good notes.", anchor=AnchorKind.STEP, anchor_id=steps[0])
    review.move(ctx.db, sid, ReviewAction.APPROVE)
    # Later the laptop joins the team hub with Sam's supervisor account and syncs.
    _info, token = accounts.add_user(team.app.state.hub.engine, "Sam", "supervisor")
    connection.connect(ctx.db, ctx.paths.root, BASE_URL, token, http=http)
    # in batches of 5 rows: the approved session is on the hub before what it holds
    monkeypatch.setattr(protocol, "MAX_PUSH_ROWS", 5)
    assert offline.sync().refused == 0
    monkeypatch.undo()
    kim = team.laptop("Kim", "supervisor")
    kim.sync()
    assert _status(kim, sid) == "approved"
    assert [e.action for e in review.events_of(kim.db, sid)] == [
        ReviewAction.SUBMIT,
        ReviewAction.APPROVE,
    ]
    assert [c.text for c in review.comments_of(kim.db, sid)] == ["Good notes."]
    assert ("Sam", "status", "approved") in [
        (e.actor, e.field, e.after) for e in history.session_history(kim.db, sid)
    ]


def test_withdrawal_erases_an_approved_session_and_its_review_everywhere(team: Team) -> None:
    ana, sam = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    study = templates.create_from_definition(
        ana.db, templates.load_template("benefits-office-visit")
    )
    sid, steps = _submitted_session(ana, study.id)
    capture.save_capture(ana.db, sid, steps[0], quote="My neighbour Rosa drove me.")
    ana.sync()
    sam.sync()
    review.add_comment(sam.db, sid, "Rosa? Keep names out.", anchor=AnchorKind.QUOTE,
                       anchor_id=steps[0])  # fmt: skip
    review.move(sam.db, sid, ReviewAction.APPROVE)
    sam.sync()
    ana.sync()
    assert any(
        e.after == "My neighbour Rosa drove me." for e in history.session_history(ana.db, sid)
    )
    participant = sessions.session_detail(ana.db, sid)["participant_code"]
    person = next(
        p.participant for p in participants.list_participants(ana.db, study.id)
        if p.participant.code == participant
    )  # fmt: skip
    participants.withdraw(ana.db, person.id, delete_content=True)
    assert ana.sync().refused == 0
    sam.sync()
    # nothing the participant said survives on the hub or on either laptop
    for table in ("step_capture", "review_comment", "audit_entry", "review_event"):
        for data in _hub_rows(team, table):
            if data["session_id"] == sid:
                assert data["deleted_at"] is not None or table == "audit_entry", table
                assert "Rosa" not in str(data), table
    for laptop in (ana, sam):
        with laptop.db.engine.connect() as conn:
            for table in ("step_capture", "review_comment", "audit_entry"):
                rows = conn.exec_driver_sql(f"SELECT * FROM {table}").all()
                assert not any("Rosa" in str(tuple(r)) for r in rows), (laptop.name, table)


def test_a_comment_with_personal_details_sent_to_the_hub_is_refused(team: Team) -> None:
    """A decision made on the hub itself (a script, a page): its comment is checked for
    personal details as a laptop checks its own; refused in one line naming the kinds,
    nothing changed; the same decision without them goes through."""
    ana, sam = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    study = templates.create_from_definition(
        ana.db, templates.load_template("benefits-office-visit")
    )
    sid, _ = _submitted_session(ana, study.id)
    ana.sync()
    client = sam.client()

    def decide(comment: str) -> object:
        return client.http.post(
            f"/v1/sessions/{sid}/review",
            json={"protocol": 1, "action": "return", "comment": comment},
            headers=client._headers(),
        )

    refused = decide("Call her back on 555-867-5309, SSN 123-45-6789 is on the form.")
    assert refused.status_code == 422, refused.text  # type: ignore[attr-defined]
    detail = refused.json()["detail"]  # type: ignore[attr-defined]
    assert "[PHONE]" in detail and "[SSN]" in detail and "Nothing changed" in detail
    assert "555-867-5309" not in detail and "\n" not in detail
    assert [d["status"] for d in _hub_rows(team, "session")] == ["submitted"]
    assert [d["action"] for d in _hub_rows(team, "review_event")] == ["submit"]
    fine = decide("The wait at check-in has no rating; please add it.")
    assert fine.status_code == 200, fine.text  # type: ignore[attr-defined]
    assert [d["status"] for d in _hub_rows(team, "session")] == ["has_issues"]

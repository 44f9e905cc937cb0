"""Staff members as participants: S- codes from the same code generator as customers' P-
codes, a role from the study's list, staff segment attributes apart from customers', roles
per step; and `cxfield participants add/list/withdraw` as a user runs them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import AppContext, open_app
from cxfield.domain.errors import ValidationError
from cxfield.domain.journey import staff_takes_part
from cxfield.domain.rules import device_prefix, pseudonym_code, pseudonym_kind, pseudonym_number
from cxfield.domain.vocabulary import ParticipantKind
from cxfield.services import (
    analysis,
    capture,
    demo,
    journey_editor,
    ops_analysis,
    participants,
    staff_research,
    studies,
    templates,
)
from cxfield.services.analysis import SessionFilter
from cxfield.storage import migrate
from cxfield.storage.models import Participant, ResearchSession, StepCapture
from tests.staff_support import T0, interview, office
from tests.test_cli import run

STAFF = ParticipantKind.STAFF


def test_one_code_generator_for_customers_and_staff() -> None:
    assert pseudonym_code(1) == "P-001" and pseudonym_code(12, kind=STAFF) == "S-012"
    # with the sync branch's device prefix, staff codes get it the same way
    assert pseudonym_code(3, "7KQ2", STAFF) == "S-7KQ2-003"
    assert pseudonym_kind("S-7KQ2-003") is STAFF and pseudonym_number("S-7KQ2-003") == 3
    assert pseudonym_kind("P-001") is ParticipantKind.CUSTOMER
    assert pseudonym_kind("X-001") is None and pseudonym_number("S-1") is None
    with pytest.raises(ValidationError):
        pseudonym_code(0, kind=STAFF)


def test_staff_codes_roles_and_segments(ctx: AppContext) -> None:
    study, _steps = office(ctx)
    customer = participants.add_participant(ctx.db, study.id, {"language": "Spanish"})
    worker = participants.add_participant(
        ctx.db,
        study.id,
        {"years_in_post": "over 5", "office": "Eastside"},  # an open attribute: any office
        kind=STAFF,
        role="Caseworker",
    )
    pre = device_prefix(ctx.db.device_id)  # this laptop's series: P-7KQ2-001, S-7KQ2-001
    assert (customer.code, worker.code) == (f"P-{pre}-001", f"S-{pre}-001")
    assert worker.role == "caseworker" and worker.kind is STAFF  # the study's spelling
    assert participants.add_participant(ctx.db, study.id).code == f"P-{pre}-002"  # own series
    assert participants.add_participant(ctx.db, study.id, kind=STAFF, role="supervisor").code == (
        f"S-{pre}-002"
    )
    with pytest.raises(ValidationError, match="needs a role; this study has: front desk"):
        participants.add_participant(ctx.db, study.id, kind=STAFF)
    with pytest.raises(ValidationError, match="Unknown staff role 'janitor'"):
        participants.add_participant(ctx.db, study.id, kind=STAFF, role="janitor")
    with pytest.raises(ValidationError, match="Only staff members have a role"):
        participants.add_participant(ctx.db, study.id, role="caseworker")
    # each side answers its own attributes
    with pytest.raises(ValidationError, match="Unknown segment attribute 'language'"):
        participants.add_participant(
            ctx.db, study.id, {"language": "Spanish"}, kind=STAFF, role="caseworker"
        )
    with pytest.raises(ValidationError, match="Unknown segment attribute 'years_in_post'"):
        participants.add_participant(ctx.db, study.id, {"years_in_post": "over 5"})
    with pytest.raises(ValidationError, match="must look like S-001 or S-7KQ2-001"):
        participants.add_participant(ctx.db, study.id, code="P-009", kind=STAFF, role="caseworker")
    listed = participants.list_participants(ctx.db, study.id)
    assert [i.participant.code for i in listed] == [
        f"{kind}-{pre}-00{n}" for kind in "PS" for n in (1, 2)
    ]
    assert participants.update_role(ctx.db, worker.id, "supervisor").role == "supervisor"


def test_roles_per_step_decide_a_staff_members_steps(ctx: AppContext) -> None:
    study, steps = office(ctx)
    journey = studies.get_journey(ctx.db, study.id)
    by_name = {s.name: s for s in journey.steps}
    # the template says who takes part where; user steps without roles are the customer's
    wait, triage = by_name["Wait"], by_name["Greet and triage"]
    assert wait.staff_roles == ["front desk", "supervisor"]
    assert staff_takes_part(wait.lane, wait.staff_roles, "front desk")
    assert not staff_takes_part(wait.lane, wait.staff_roles, "caseworker")
    assert not staff_takes_part(by_name["Notice by mail"].lane, [], "caseworker")
    assert staff_takes_part("backstage", [], "caseworker")  # no roles named: everyone
    edited = journey_editor.update_step(ctx.db, triage.id, staff_roles=["Caseworker", " "])
    assert edited.staff_roles == ["caseworker"]
    with pytest.raises(ValidationError, match="Unknown staff role"):
        journey_editor.update_step(ctx.db, triage.id, staff_roles=["janitor"])
    # a study definition carries the roles and the roles per step, checked on import
    definition = templates.export_definition(ctx.db, study.id)
    assert definition["study"]["staff_roles"][0] == "front desk"
    definition["study"]["name"] = "Copy"
    copy = templates.create_from_definition(ctx.db, definition)
    copied = {s.name: s.staff_roles for s in studies.get_journey(ctx.db, copy.id).steps}
    assert copied["Greet and triage"] == ["caseworker"] and copied["Wait"] == wait.staff_roles
    definition["study"]["name"] = "Broken"
    definition["stages"][0]["steps"][0]["staff_roles"] = ["janitor"]
    with pytest.raises(ValidationError, match="Unknown staff role 'janitor'"):
        templates.create_from_definition(ctx.db, definition)
    journey_editor.set_staff_profile(
        ctx.db, study.id, ["Nurse", "Clerk"], [{"label": "Shift", "values": []}]
    )
    edited_study = studies.get_study(ctx.db, study.id)
    assert edited_study.staff_roles == ["Nurse", "Clerk"]
    assert edited_study.staff_segment_attributes == [
        {"key": "shift", "label": "Shift", "values": []}
    ]
    with pytest.raises(ValidationError, match="listed twice"):
        journey_editor.set_staff_profile(ctx.db, study.id, ["Nurse", "nurse"], [])


def test_upgrade_from_0004_makes_everyone_a_customer(data_dir: Path) -> None:
    db_path = data_dir / "cxfield.sqlite"
    migrate.upgrade_to(db_path, "0004")
    conn = sqlite3.connect(db_path)
    now = "2026-01-05T10:00:00.000000Z"
    sync = "created_at, updated_at, version, device_id"
    conn.execute(
        f"INSERT INTO study (id, {sync}, name, program, description, consent_text, "
        "consent_version, segment_attributes, extra_emotions, survey_version, "
        "survey_trust_variant, survey_effectiveness_variant, agency, a11_population, "
        f"audio_upload) VALUES ('s1', '{now}', '{now}', 1, 'd', 'Old', '', '', 'c', 1, '[]', "
        "'[]', 'v1', 'confidence', 'need', '', '', 0)"
    )
    conn.execute(
        f"INSERT INTO participant (id, {sync}, study_id, code, segments, withdrawn) VALUES "
        f"('p1', '{now}', '{now}', 1, 'd', 's1', 'P-001', '{{}}', 0)"
    )
    conn.commit()
    conn.close()
    ctx = open_app(data_dir)
    try:
        info = participants.list_participants(ctx.db, "s1")[0]
        assert info.participant.kind is ParticipantKind.CUSTOMER and info.participant.role == ""
        study = studies.get_study(ctx.db, "s1")
        assert "caseworker" in study.staff_roles
        assert [a["key"] for a in study.staff_segment_attributes] == ["years_in_post", "office"]
        # the next staff member of the old study is the first of this laptop's staff series
        added = participants.add_participant(ctx.db, "s1", kind=STAFF, role="caseworker")
        assert added.code == f"S-{device_prefix(ctx.db.device_id)}-001"
    finally:
        ctx.close()


def test_participants_cli_add_list_withdraw(data_dir: Path) -> None:
    ctx = open_app(data_dir)
    study, steps = office(ctx)
    pre = device_prefix(ctx.db.device_id)
    ctx.close()
    added = run(
        "participants", "add", study.id, "--staff", "--role", "caseworker",
        "--segment", "years_in_post=1–5", "--segment", "office=Riverside",
        "--consent", "interview,recording", data_dir=data_dir,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"S-{pre}-001"
    customer = run("participants", "add", study.id, "--segment", "language=Arabic",
                   data_dir=data_dir)  # fmt: skip
    assert customer.stdout.strip() == f"P-{pre}-001"
    assert "no consent yet" in customer.stderr
    # bad input: one line, nothing added
    for args, message in (
        (["--staff"], "needs a role"),
        (["--role", "caseworker"], "Only staff members have a role"),
        (["--consent", "recording"], "Recording consent needs interview consent"),
        (["--consent", "audio"], "must be interview or interview,recording"),
        (["--segment", "language"], "must be KEY=VALUE"),
        (["--staff", "--role", "caseworker", "--segment", "language=Arabic"], "Unknown segment"),
    ):
        bad = run("participants", "add", study.id, *args, data_dir=data_dir)
        assert bad.returncode == 1 and message in bad.stderr, (args, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1 and not bad.stdout
    listed = json.loads(run("participants", "list", study.id, "--json", data_dir=data_dir).stdout)
    assert [(p["code"], p["kind"], p["role"]) for p in listed] == [
        (f"P-{pre}-001", "customer", ""),
        (f"S-{pre}-001", "staff", "caseworker"),
    ]
    staff = listed[1]
    assert staff["segments"] == {"years_in_post": "1–5", "office": "Riverside"}
    assert staff["interview_consent"] and staff["recording_consent"]
    assert not listed[0]["interview_consent"]
    text = run("participants", "list", study.id, data_dir=data_dir).stdout
    assert f"S-{pre}-001  staff     caseworker" in text

    # the staff member's interview, then withdrawal with --purge blanks it
    ctx = open_app(data_dir)
    session = capture.start_session(ctx.db, study.id, participant_id=staff["id"], now=T0).id
    capture.save_capture(ctx.db, session, steps["Intake interview"], valence=-1, notes="slow")
    ctx.close()
    gone = run("participants", "withdraw", f"s-{pre.lower()}-001", "--study", study.id, "--purge",
               data_dir=data_dir)  # fmt: skip
    assert gone.returncode == 0, gone.stderr
    assert f"S-{pre}-001 withdrawn; the content of 1 session(s)" in gone.stdout
    missing = run("participants", "withdraw", "S-009", "--study", study.id, data_dir=data_dir)
    assert missing.returncode == 1 and "No participant S-009" in missing.stderr
    ctx = open_app(data_dir)
    with ctx.db.session() as db:
        kept = db.exec(select(StepCapture).where(StepCapture.session_id == session)).one()
    ctx.close()
    assert kept.deleted_at is not None and kept.notes == "" and kept.valence is None
    after = json.loads(run("participants", "list", study.id, "--json", data_dir=data_dir).stdout)
    assert [p["withdrawn"] for p in after] == [False, True]


def test_staff_interview_needs_consent_as_customers_do(ctx: AppContext) -> None:
    study, _steps = office(ctx)
    worker = participants.add_participant(ctx.db, study.id, kind=STAFF, role="front desk")
    with pytest.raises(ValidationError, match="interview consent"):
        capture.start_session(ctx.db, study.id, participant_id=worker.id)
    assert interview(ctx, study, T0, role="front desk")


def test_demo_includes_staff_interviews_and_a_queue_export(ctx: AppContext) -> None:
    study = demo.create_demo(ctx.db, 12, seed=7, staff=6, queue_rows=600)
    journey = studies.get_journey(ctx.db, study.id)
    by_id = {s.id: s for s in journey.steps}
    with ctx.db.session() as db:
        staff = db.exec(
            select(Participant).where(Participant.kind == STAFF, Participant.study_id == study.id)
        ).all()
        captures = db.exec(
            select(StepCapture, Participant.role)
            .join(ResearchSession, ResearchSession.id == StepCapture.session_id)
            .join(Participant, Participant.id == ResearchSession.participant_id)
            .where(Participant.kind == STAFF)
        ).all()
    assert sorted(p.code for p in staff) == [f"S-00{n}" for n in range(1, 7)]
    assert {p.role for p in staff} == {
        "caseworker",
        "front desk",
        "eligibility worker",
        "supervisor",
    }
    # every staff capture is at a step the member's role takes part in
    assert captures and all(
        staff_takes_part(by_id[c.step_id].lane, by_id[c.step_id].staff_roles, role)
        for c, role in captures
    )
    side = staff_research.staff_side(ctx.db, study.id)
    assert side.interviews == 6 and sum(side.roles.values()) == 6
    summary = ops_analysis.ops_summary(ctx.db, study.id)
    assert summary.records == 600 and summary.imports == 1
    # the customer demo is unchanged by its staff side: the same as without it
    plain = demo.create_demo(ctx.db, 12, seed=7)
    with_staff = analysis.step_aggregates(ctx.db, study.id, SessionFilter(kind="customer"))
    without = analysis.step_aggregates(ctx.db, plain.id)
    names = {s.id: s.name for s in journey.steps}
    plain_names = {s.id: s.name for s in studies.get_journey(ctx.db, plain.id).steps}
    assert {names[k]: (v.captures, v.valence.counts) for k, v in with_staff.items()} == {
        plain_names[k]: (v.captures, v.valence.counts) for k, v in without.items()
    }

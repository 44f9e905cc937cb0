"""Study and journey-map editing, export/import (services, no Qt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.domain.errors import ConflictError, NotFoundError, ValidationError
from cxfield.services import capture, journey_editor, participants, studies, templates
from cxfield.storage.models import ConsentRecord, ConsentText, StepCapture, Study


def _office(ctx: AppContext, name: str = "Office study") -> Study:
    return templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit"), name=name
    )


def test_templates_ship_three_journeys_with_lanes_and_channels(ctx: AppContext) -> None:
    names = [t.name for t in templates.list_templates()]
    assert len(names) >= 3 and any("office" in n for n in names)
    assert {"phone-contact-centre-call", "online-application"} <= set(names)
    for name in names:
        study = templates.create_from_definition(ctx.db, templates.load_template(name))
        journey = studies.get_journey(ctx.db, study.id)
        assert len(journey.stages) >= 3
        assert {str(s.lane) for s in journey.steps} >= {"user", "backstage", "support"}
        assert len({str(s.channel) for s in journey.steps}) >= 2


def test_template_with_an_empty_name_is_refused(ctx: AppContext) -> None:
    # `studies create --name ""` must not quietly fall back to the template's name.
    definition = templates.load_template("benefits-office-visit")
    for blank in ("", "   "):
        with pytest.raises(ValidationError, match="must not be empty"):
            templates.create_from_definition(ctx.db, definition, name=blank)
    assert studies.list_studies(ctx.db) == []


def test_edit_study_fields_and_duplicate_name(ctx: AppContext) -> None:
    study = _office(ctx)
    _office(ctx, "Other")
    updated = journey_editor.update_study(
        ctx.db,
        study.id,
        name="  Renamed   study ",
        program="SNAP",
        extra_emotions=["Rushed", "rushed", "frustrated", " ignored "],
        survey_version="v2",
        survey_effectiveness_variant="issue",
    )
    assert updated.name == "Renamed study" and updated.program == "SNAP"
    assert updated.extra_emotions == ["rushed", "ignored"]  # base emotions are not repeated
    with pytest.raises(ConflictError, match="already exists"):
        journey_editor.update_study(ctx.db, study.id, name="Other")
    with pytest.raises(ValidationError, match="must not be empty"):
        journey_editor.update_study(ctx.db, study.id, name="   ")
    with pytest.raises(ValidationError, match="Trust variant"):
        journey_editor.update_study(ctx.db, study.id, survey_trust_variant="nope")
    assert studies.get_study(ctx.db, study.id).name == "Renamed study"


def test_consent_text_versions_keep_old_consents(ctx: AppContext) -> None:
    study = _office(ctx)
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    journey_editor.set_consent_text(ctx.db, study.id, study.consent_text)  # unchanged: no version
    assert studies.get_study(ctx.db, study.id).consent_version == 1
    changed = journey_editor.set_consent_text(ctx.db, study.id, "New wording.")
    assert changed.consent_version == 2
    history = journey_editor.consent_history(ctx.db, study.id)
    assert [(c.consent_version, c.text) for c in history][-1] == (2, "New wording.")
    assert history[0].text == study.consent_text
    with ctx.db.session() as db:
        assert db.exec(select(ConsentRecord)).one().consent_version == 1
        assert len(db.exec(select(ConsentText)).all()) == 2
    with pytest.raises(ValidationError):
        journey_editor.set_consent_text(ctx.db, study.id, "  ")


def test_segment_attributes_validated(ctx: AppContext) -> None:
    study = _office(ctx)
    saved = journey_editor.set_segment_attributes(
        ctx.db,
        study.id,
        [{"label": "Age band", "values": ["18-44", "45+", "prefer not to say"]}],
    )
    assert saved.segment_attributes == [
        {"key": "age_band", "label": "Age band", "values": ["18-44", "45+"]}
    ]
    for bad in (
        [{"label": "", "values": ["a"]}],
        [{"label": "A", "values": []}],
        [{"label": "A", "values": ["x", "x"]}],
        [{"label": "A", "values": ["x"]}, {"label": "a", "values": ["y"]}],
        [{"key": "9bad", "label": "A", "values": ["x"]}],
    ):
        with pytest.raises(ValidationError):
            journey_editor.set_segment_attributes(ctx.db, study.id, bad)
    assert len(studies.get_study(ctx.db, study.id).segment_attributes) == 1


def _names(ctx: AppContext, study_id: str) -> list[list[str]]:
    journey = studies.get_journey(ctx.db, study_id)
    return [[step.name for step in stage.steps] for stage in journey.stages]


def test_stages_and_steps_add_rename_reorder_move(ctx: AppContext) -> None:
    study = studies.create_study(ctx.db, Study(name="Empty"))
    a = studies.add_stage(ctx.db, study.id, "Apply")
    b = studies.add_stage(ctx.db, study.id, "Decide")
    s1 = studies.add_step(ctx.db, a.id, "One")
    s2 = studies.add_step(ctx.db, a.id, "Two")
    s3 = studies.add_step(ctx.db, b.id, "Three")
    journey_editor.update_step(
        ctx.db, s1.id, name="First", description="d", lane="backstage", channel="phone"
    )
    step = studies.get_journey(ctx.db, study.id).steps[0]
    assert (step.name, step.description, str(step.lane), str(step.channel)) == (
        "First",
        "d",
        "backstage",
        "phone",
    )
    journey_editor.move_step(ctx.db, s2.id, a.id, 0)
    assert _names(ctx, study.id) == [["Two", "First"], ["Three"]]
    journey_editor.shift_step(ctx.db, s1.id, +1)  # crosses into the next stage
    assert _names(ctx, study.id) == [["Two"], ["First", "Three"]]
    journey_editor.shift_step(ctx.db, s3.id, +1)  # already last: stays
    journey_editor.shift_step(ctx.db, s1.id, -1)
    assert _names(ctx, study.id) == [["Two", "First"], ["Three"]]
    journey_editor.move_stage(ctx.db, b.id, 0)
    assert [s.stage.name for s in studies.get_journey(ctx.db, study.id).stages] == [
        "Decide",
        "Apply",
    ]
    journey_editor.update_stage(ctx.db, b.id, name="Decision", description="outcome")
    with pytest.raises(ValidationError):
        journey_editor.update_stage(ctx.db, b.id, name=" ")
    with pytest.raises(ValidationError):
        journey_editor.update_step(ctx.db, s1.id, lane="ceiling")
    with pytest.raises(ConflictError, match="still has steps"):
        journey_editor.delete_stage(ctx.db, b.id)
    other = studies.create_study(ctx.db, Study(name="Other"))
    foreign = studies.add_stage(ctx.db, other.id, "X")
    with pytest.raises(ValidationError, match="same study"):
        journey_editor.move_step(ctx.db, s1.id, foreign.id, 0)


def test_delete_step_with_captures_needs_confirm_and_keeps_data(ctx: AppContext) -> None:
    study = _office(ctx)
    step = studies.get_journey(ctx.db, study.id).steps[0]
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    session = capture.start_session(ctx.db, study.id, participant_id=person.id)
    capture.save_capture(ctx.db, session.id, step.id, valence=-2, quote="Awful")
    with pytest.raises(ConflictError, match="1 capture"):
        journey_editor.delete_step(ctx.db, step.id)
    assert step.id in {s.id for s in studies.get_journey(ctx.db, study.id).steps}
    result = journey_editor.delete_step(ctx.db, step.id, confirm=True)
    assert result.captures == 1
    assert step.id not in {s.id for s in studies.get_journey(ctx.db, study.id).steps}
    with ctx.db.session() as db:
        kept = db.exec(select(StepCapture).where(StepCapture.step_id == step.id)).one()
        assert kept.deleted_at is None and kept.quote == "Awful"
    empty = studies.get_journey(ctx.db, study.id).steps[0]
    assert journey_editor.delete_step(ctx.db, empty.id).captures == 0

    # Both can come back: newest deletion first, captures counted.
    gone = journey_editor.deleted_steps(ctx.db, study.id)
    assert [(d.step_id, d.captures) for d in gone] == [(empty.id, 0), (step.id, 1)]
    restored = journey_editor.restore_step(ctx.db, step.id)
    journey = studies.get_journey(ctx.db, study.id)
    home = next(v for v in journey.stages if v.stage.id == restored.stage_id)
    assert home.steps[-1].id == step.id  # at the end of its own stage
    assert [s.position for s in home.steps] == list(range(len(home.steps)))
    # A step whose stage was deleted meanwhile comes back in the last stage.
    stage_id = empty.stage_id
    for other in next(v for v in journey.stages if v.stage.id == stage_id).steps:
        journey_editor.delete_step(ctx.db, other.id, confirm=True)
    journey_editor.delete_stage(ctx.db, stage_id)
    back = journey_editor.restore_step(ctx.db, empty.id)
    last = studies.get_journey(ctx.db, study.id).stages[-1]
    assert back.stage_id == last.stage.id and last.steps[-1].id == empty.id
    with pytest.raises(NotFoundError):
        journey_editor.restore_step(ctx.db, "no-such-step")


def test_export_import_round_trip(ctx: AppContext, tmp_path: Path) -> None:
    study = _office(ctx)
    journey_editor.set_consent_text(ctx.db, study.id, "Version two text.")
    path = templates.write_definition(ctx.db, study.id, tmp_path / "study.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "cxfield-study" and "id" not in data["study"]
    copy = templates.import_definition(ctx.db, path, name="Copy")
    assert copy.consent_text == "Version two text." and copy.consent_version == 1
    assert _names(ctx, copy.id) == _names(ctx, study.id)
    assert copy.segment_attributes == study.segment_attributes


def test_commitment_trust_question_needs_its_population(ctx: AppContext, tmp_path: Path) -> None:
    study = _office(ctx)
    with pytest.raises(ValidationError, match="A-11 population"):
        journey_editor.update_study(ctx.db, study.id, survey_trust_variant="commitment")
    assert studies.get_study(ctx.db, study.id).survey_trust_variant == "confidence"
    journey_editor.update_study(
        ctx.db, study.id, survey_trust_variant="commitment", a11_population=" veterans "
    )
    path = templates.write_definition(ctx.db, study.id, tmp_path / "study.json")
    copy = templates.import_definition(ctx.db, path, name="Copy")
    assert (copy.survey_trust_variant, copy.a11_population) == ("commitment", "veterans")
    with pytest.raises(ValidationError, match="A-11 population"):
        journey_editor.update_study(ctx.db, copy.id, a11_population="  ")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["study"].pop("a11_population")
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError, match="A-11 population"):
        templates.import_definition(ctx.db, path, name="Third")
    assert [s.name for s in studies.list_studies(ctx.db)].count("Third") == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not utf8", "not a JSON"),
        (b"{ broken", "not a JSON"),
        (b"[1, 2]", "Not a cxfield study"),
        (b'{"format": "cxfield-study", "format_version": 99}', "version 99"),
        (
            b'{"format": "cxfield-study", "format_version": 1, "study": {"name": "X"},'
            b' "stages": [{"name": "S", "steps": [{"name": "A", "lane": "roof"}]}]}',
            "Invalid study definition",
        ),
        (
            b'{"format": "cxfield-study", "format_version": 1, "study": {"name": "X",'
            b' "segment_attributes": [{"label": "L", "values": []}]}, "stages": []}',
            "needs at least one value",
        ),
    ],
)
def test_import_rejects_bad_files_and_creates_nothing(
    ctx: AppContext, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message):
        templates.import_definition(ctx.db, path)
    assert studies.list_studies(ctx.db) == []


def test_import_missing_file(ctx: AppContext, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="Cannot read"):
        templates.import_definition(ctx.db, tmp_path / "nope.json")

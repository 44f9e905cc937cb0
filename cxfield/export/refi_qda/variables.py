"""Variables (attributes): participants' segments on their cases; each session's facts,
per-step valence and A-11 answers on the session's sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cxfield.export.data import SURVEY_ITEMS, StudyRows
from cxfield.export.refi_qda.guids import guid
from cxfield.export.refi_qda.qdaxml import when
from cxfield.storage.models import Participant, ResearchSession

Value = str | int | datetime


@dataclass(frozen=True)
class Variable:
    guid: str
    name: str
    #: typeOfVariable: Text, Integer or DateTime
    kind: str
    description: str = ""


@dataclass
class StudyVariables:
    segments: dict[str, Variable]
    session: dict[str, Variable]
    valence: dict[str, Variable]  # by step id
    survey: dict[str, Variable]  # by A-11 item

    def __post_init__(self) -> None:
        self.order = {var.guid: index for index, var in enumerate(self.all())}

    def all(self) -> list[Variable]:
        return [
            *self.session.values(),
            *self.segments.values(),
            *self.valence.values(),
            *self.survey.values(),
        ]


_SESSION_FACTS = (
    ("participant", "Participant", "Text", "The participant's code."),
    ("started", "Session start", "DateTime", "When the session started (UTC)."),
    ("mode", "Mode", "Text", "interview or observation"),
    ("status", "Status", "Text", "Review status: draft, submitted, approved, has_issues..."),
    ("site", "Site", "Text", ""),
    ("researcher", "Researcher", "Text", ""),
)


def study_variables(rows: StudyRows) -> StudyVariables:
    """The variables this export uses (valence only for steps that have one, A-11 items
    only when answered), in a stable order."""
    study = rows.study.id
    labels = {
        str(a.get("key")): str(a.get("label") or a.get("key"))
        for a in rows.study.segment_attributes
    }
    segments = {
        key: Variable(
            guid("variable", study, "segment", key),
            f"Segment: {labels.get(key, key)}",
            "Text",
            f"Segment attribute {key}.",
        )
        for key in rows.segment_keys
    }
    session = {
        key: Variable(guid("variable", study, "session", key), name, kind, about)
        for key, name, kind, about in _SESSION_FACTS
    }
    rated = {c.step_id for caps in rows.captures.values() for c in caps if c.valence is not None}
    stages = rows.stage_names
    valence = {
        step.id: Variable(
            guid("variable", study, "valence", step.id),
            f"Valence: {stages.get(step.id, '')} › {step.name}",
            "Integer",
            "How the step felt, -2 (very negative) to 2 (very positive).",
        )
        for step in rows.journey.steps
        if step.id in rated
    }
    answered = {
        item for r in rows.surveys.values() for item in SURVEY_ITEMS if getattr(r, item) is not None
    }
    survey = {
        item: Variable(
            guid("variable", study, "a11", item),
            f"A-11: {item}",
            "Integer",
            "A-11 survey answer, 1 (strongly disagree) to 5 (strongly agree).",
        )
        for item in SURVEY_ITEMS
        if item in answered
    }
    return StudyVariables(segments, session, valence, survey)


def case_values(variables: StudyVariables, person: Participant) -> list[tuple[Variable, Value]]:
    return [
        (var, str(person.segments[key]))
        for key, var in variables.segments.items()
        if person.segments.get(key) not in (None, "")
    ]


def session_values(
    rows: StudyRows, variables: StudyVariables, session: ResearchSession, codes: dict[str, str]
) -> list[tuple[Variable, Value]]:
    """``codes``: participant id → code (``rows.participant_codes()``, made once)."""
    site = rows.sites.get(session.site_id or "")
    person = rows.researchers.get(session.researcher_id or "")
    facts: dict[str, Value | None] = {
        "participant": codes.get(session.participant_id or ""),
        "started": session.started_at,
        "mode": str(session.mode),
        "status": str(session.status),
        "site": site.name if site else None,
        "researcher": person.name if person else None,
    }
    values: list[tuple[Variable, Value]] = [
        (variables.session[key], value) for key, value in facts.items() if value
    ]
    for capture in rows.captures.get(session.id, []):
        var = variables.valence.get(capture.step_id)
        if var is not None and capture.valence is not None:
            values.append((var, capture.valence))
    values.sort(key=lambda pair: variables.order[pair[0].guid])
    survey = rows.surveys.get(session.id)
    for item, var in variables.survey.items():
        answer = getattr(survey, item) if survey is not None else None
        if answer is not None:
            values.append((var, int(answer)))
    return values


def value_element(kind: str, value: Value) -> tuple[str, str]:
    """The element that carries a value of this type, and its text."""
    if kind == "Integer":
        return "IntegerValue", str(int(value))  # type: ignore[arg-type]
    if kind == "DateTime" and isinstance(value, datetime):
        return "DateTimeValue", when(value) or ""
    return "TextValue", str(value)

"""The A-11 post-transaction survey of a session: the study's questions with the exact
wording (program and agency names filled in) and the answers, saved on every change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from cxfield.domain.errors import ValidationError
from cxfield.domain.rules import check_likert
from cxfield.domain.survey import (
    TRUST_VARIANTS,
    V1_ITEMS,
    V2_DRIVERS,
    V2_FREE_TEXT,
    V2_NOT_WELL,
    V2_WENT_WELL,
    SurveyVersion,
    fill,
    v1_items,
)
from cxfield.services.capture import editable_session
from cxfield.storage.database import Database
from cxfield.storage.models import Study, SurveyResponse

LIKERT_KEYS = tuple(item.key for item in V1_ITEMS)


@dataclass(frozen=True)
class SurveyQuestion:
    key: str  # the SurveyResponse field
    driver: str
    text: str  # exact wording, names filled in
    kind: str  # "likert" | "drivers" | "text"


def survey_questions(study: Study) -> list[SurveyQuestion]:
    """The questions the study asks, in order (v1 drivers, or v2 trust + went well/not)."""

    def named(wording: str) -> str:
        return fill(wording, study.program, study.agency, study.a11_population)

    if study.survey_version == SurveyVersion.V2:
        trust = TRUST_VARIANTS.get(study.survey_trust_variant, TRUST_VARIANTS["confidence"])
        return [
            SurveyQuestion("trust", "Trust", named(trust), "likert"),
            SurveyQuestion("went_well", "What went well", V2_WENT_WELL, "drivers"),
            SurveyQuestion("not_well", "What didn't go so well", V2_NOT_WELL, "drivers"),
            SurveyQuestion("comments", "Comments", V2_FREE_TEXT, "text"),
        ]
    items = v1_items(study.survey_trust_variant, study.survey_effectiveness_variant)
    questions = [SurveyQuestion(i.key, i.driver, named(i.wording), "likert") for i in items]
    questions.append(SurveyQuestion("comments", "Comments", V2_FREE_TEXT, "text"))
    return questions


def _drivers(values: Iterable[str], what: str) -> list[str]:
    result: list[str] = []
    for value in values:
        if value not in V2_DRIVERS:
            raise ValidationError(f"{value!r} is not a driver for {what!r}.")
        if value not in result:
            result.append(value)
    return result


def save_survey(database: Database, session_id: str, **answers: Any) -> SurveyResponse:
    """Create or update the session's survey response with the given answers
    (Likert items 1..5 or None, ``went_well``/``not_well`` driver lists, ``comments``)."""
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        if key in LIKERT_KEYS:
            clean[key] = check_likert(value, key)
        elif key in ("went_well", "not_well"):
            clean[key] = _drivers(value or [], key)
        elif key == "comments":
            clean[key] = str(value or "")
        else:
            raise ValidationError(f"Unknown survey answer {key!r}.")
    with database.session() as db:
        session = editable_session(db, session_id)
        study = db.get(Study, session.study_id)
        assert study is not None
        response = db.exec(
            select(SurveyResponse).where(SurveyResponse.session_id == session_id)
        ).first()
        if response is None:
            response = SurveyResponse(
                session_id=session_id,
                survey_version=study.survey_version,
                trust_variant=study.survey_trust_variant,
                effectiveness_variant=study.survey_effectiveness_variant,
            )
        response.deleted_at = None
        for key, value in clean.items():
            setattr(response, key, value)
        db.add(response)
        return response


def get_survey(database: Database, session_id: str) -> SurveyResponse | None:
    with database.session() as db:
        return db.exec(
            select(SurveyResponse).where(
                SurveyResponse.session_id == session_id, col(SurveyResponse.deleted_at).is_(None)
            )
        ).first()

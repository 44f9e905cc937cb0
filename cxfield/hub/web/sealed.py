"""Studies encrypted end to end on the hub's pages: the hub holds their texts only sealed
(``cxsealed:1:…``), so it shows no quotes and no pain-point wording for them — only what
stays readable (ratings, counts, times) — and says so instead of printing ciphertext."""

from __future__ import annotations

from sqlalchemy import select

from cxfield.hub import storage as t
from cxfield.services.step_records import RankedText, merge_sealed
from cxfield.storage.database import Database

#: what stands in for the wording of sealed pain points (their counts stay)
SEALED_TEXT = "(encrypted text: readable only with the study key)"
#: the line on the page and in the report's selection
NOTICE = (
    "This study is encrypted end to end: the hub cannot read its quotes, notes or "
    "transcripts, so none are shown; ratings, pain-point counts and times are."
)


def study_encrypted(database: Database, study_id: str) -> bool:
    protection = t.projection["study_protection"]
    with database.engine.connect() as conn:
        found = conn.execute(
            select(protection.c.encrypt).where(
                protection.c.study_id == study_id, protection.c.deleted_at.is_(None)
            )
        ).scalar()
    return bool(found)


def readable(items: list[RankedText]) -> list[RankedText]:
    """Ranked texts with every sealed one of a step counted under one placeholder."""
    return merge_sealed(items, SEALED_TEXT)[0]

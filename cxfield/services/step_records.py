"""What the journey map and the study report count, defined once for both.

* A **capture** is what one interview recorded about one step: a rating, emotions, the
  pain-point flag, notes or a quote in the step's fields, or a note taken at that step.
  Observation sessions are timed, not captured: they count only in observed times.
* A **pain point** is a capture flagged as a pain point, or with a note tagged pain point at
  that step; it counts once per interview and step, whichever way (or both) it was recorded.
  What it says is the step's notes when the step is flagged, else the first note tagged pain
  point, else nothing ("no description").
* A **quote** is text in a step's quote field or a note tagged quote (Ctrl+Q, or quoted from
  the transcript), from any session; the same words in both places of one session count once.
* Customers and staff are counted apart (each side its own captures, pain points and n).
  **Both sides flag a step as painful** when, on each side, at least a quarter
  (:data:`AGREE_SHARE`) of that side's captures of the step are pain points.

Counts stay in SQL (GROUP BY over the session × step pairs); only quotes are folded in Python,
one row per quote, because a quote field can hold several quotes, one per line."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Select,
    Subquery,
    Text,
    case,
    func,
    literal,
    or_,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session
from sqlmodel import col

from cxfield.domain.vocabulary import NoteTag
from cxfield.storage.models import Note, StepCapture

#: Note.tags is stored as JSON text (``["pain_point", "quote"]``); tags are checked against
#: the vocabulary when saved, so the quoted name matches that tag only.
_PAIN_TAG = f'%"{NoteTag.PAIN_POINT.value}"%'
_QUOTE_TAG = f'%"{NoteTag.QUOTE.value}"%'
# The JSON columns compared as the text they are stored as (a plain comparison would run
# the pattern through the column's JSON encoding first).
_TAGS = type_coerce(col(Note.tags), Text)
_EMOTIONS = type_coerce(col(StepCapture.emotions), Text)
#: quote marks people type (or the transcript adds) around a quote
_QUOTE_MARKS = " \t\"'“”„‟«»‹›「」『』"


#: the share of a side's captures of a step that must be pain points for that side to
#: "flag the step as painful" (staff and customers agree a step hurts when both do)
AGREE_SHARE = 0.25


def flags_pain(pain_points: int, captures: int) -> bool:
    """Does one side (customers or staff) flag a step as painful?"""
    return captures > 0 and pain_points > 0 and pain_points / captures >= AGREE_SHARE


@dataclass(frozen=True)
class RankedText:
    step_id: str
    text: str
    count: int


def merge_sealed(items: list[RankedText], shown: str) -> tuple[list[RankedText], int]:
    """Ranked texts with the sealed ones of each step counted under one ``shown`` text (a
    study whose key is not open here), and how many sealed texts there were."""
    from cxfield.privacy.sealed_texts import is_sealed

    merged: dict[str, int] = {}
    kept: list[RankedText] = []
    sealed = 0
    for item in items:
        if is_sealed(item.text):
            merged[item.step_id] = merged.get(item.step_id, 0) + item.count
            sealed += 1
        else:
            kept.append(item)
    if not merged:
        return items, 0
    kept.extend(RankedText(step, shown, n) for step, n in merged.items())
    return sorted(kept, key=lambda r: -r.count), sealed


def records(session_ids: Select[Any]) -> Subquery:
    """What the given sessions recorded about their steps: rows of (session_id, step_id,
    pain), one per capture with data and one per note at a step, so a (session, step) pair
    may come more than once; :func:`counted` turns them into captures and pain points."""
    cap, note = StepCapture, Note
    has_data = or_(
        col(cap.valence).is_not(None),
        col(cap.intensity).is_not(None),
        col(cap.pain_point),
        func.trim(col(cap.notes)) != "",
        func.trim(col(cap.quote)) != "",
        func.coalesce(_EMOTIONS, "[]") != "[]",
    )
    from_captures = sa_select(
        col(cap.session_id).label("session_id"),
        col(cap.step_id).label("step_id"),
        case((col(cap.pain_point), 1), else_=0).label("pain"),
    ).where(col(cap.session_id).in_(session_ids), col(cap.deleted_at).is_(None), has_data)
    from_notes = sa_select(
        col(note.session_id),
        col(note.step_id),
        case((_TAGS.like(_PAIN_TAG), 1), else_=0),
    ).where(
        col(note.session_id).in_(session_ids),
        col(note.deleted_at).is_(None),
        col(note.step_id).is_not(None),
    )
    return union_all(from_captures, from_notes).subquery()


def counted(rec: Subquery) -> tuple[Any, Any]:
    """Aggregate expressions over :func:`records` grouped by step: the number of captures
    (sessions that recorded the step) and of pain points (sessions where it was one).
    Counting distinct sessions per step is one GROUP BY (about as fast as counting rows)."""
    captures = func.count(func.distinct(rec.c.session_id))
    pains = func.count(func.distinct(case((rec.c.pain == 1, rec.c.session_id))))
    return captures, pains


def pain_descriptions(session_ids: Select[Any]) -> Subquery:
    """One row per pain point: (session_id, step_id, text), text "" when nothing was written."""
    all_records = records(session_ids)
    rec = (
        sa_select(all_records.c.session_id, all_records.c.step_id)
        .where(all_records.c.pain == 1)
        .distinct()
        .subquery()
    )
    cap, note = StepCapture, Note
    flagged_notes = (
        sa_select(func.trim(col(cap.notes)))
        .where(
            col(cap.session_id) == rec.c.session_id,
            col(cap.step_id) == rec.c.step_id,
            col(cap.deleted_at).is_(None),
            col(cap.pain_point),
            func.trim(col(cap.notes)) != "",
        )
        .limit(1)
        .scalar_subquery()
    )
    first_pain_note = (
        sa_select(func.trim(col(note.text)))
        .where(
            col(note.session_id) == rec.c.session_id,
            col(note.step_id) == rec.c.step_id,
            col(note.deleted_at).is_(None),
            _TAGS.like(_PAIN_TAG),
        )
        .order_by(col(note.session_offset_ms), col(note.created_at))
        .limit(1)
        .scalar_subquery()
    )
    return sa_select(
        rec.c.session_id,
        rec.c.step_id,
        func.coalesce(flagged_notes, first_pain_note, literal("")).label("text"),
    ).subquery()


def ranked_pain_points(db: Session, session_ids: Select[Any], limit: int) -> list[RankedText]:
    """Pain points grouped by step and what they say (case-insensitive), most frequent first."""
    pains = pain_descriptions(session_ids)
    key = func.lower(pains.c.text)
    rows = db.execute(
        sa_select(pains.c.step_id, func.min(pains.c.text), func.count())
        .group_by(pains.c.step_id, key)
        .order_by(func.count().desc(), key, pains.c.step_id)
        .limit(limit)
    ).all()
    return [RankedText(step_id, text, n) for step_id, text, n in rows]


def clean_quote(text: str) -> str:
    """One quote without the quote marks around it and with single spaces."""
    return " ".join(text.split()).strip(_QUOTE_MARKS)


def quote_rows(db: Session, session_ids: Select[Any]) -> list[tuple[str, str, str]]:
    """Every quote of the sessions as (step_id or "", session_id, text), each quote once per
    session and step, from the steps' quote fields and from notes tagged quote.  SQL's UNION
    drops the exact repeats (a Ctrl+Q note that is also in the quote field); Python splits
    quote fields holding several quotes and folds quote marks, spaces and case."""
    cap, note = StepCapture, Note
    fields = sa_select(
        func.coalesce(col(cap.step_id), ""), col(cap.session_id), func.trim(col(cap.quote))
    ).where(
        col(cap.session_id).in_(session_ids),
        col(cap.deleted_at).is_(None),
        func.trim(col(cap.quote)) != "",
    )
    notes = sa_select(
        func.coalesce(col(note.step_id), ""), col(note.session_id), func.trim(col(note.text))
    ).where(
        col(note.session_id).in_(session_ids),
        col(note.deleted_at).is_(None),
        _TAGS.like(_QUOTE_TAG),
    )
    # Core rows, not ORM ones: a study of thousands of sessions has tens of thousands
    rows = db.connection().execute(union(fields, notes)).all()
    seen: set[tuple[str, str, str]] = set()
    result: list[tuple[str, str, str]] = []
    for step_id, session_id, raw in rows:
        for line in raw.splitlines():
            text = clean_quote(line)
            key = (step_id, session_id, text.casefold())
            if text and key not in seen:
                seen.add(key)
                result.append((step_id, session_id, text))
    return result


def tagged_note_rows(
    db: Session, session_ids: Select[Any], tag: NoteTag
) -> list[tuple[str, str, str]]:
    """Every note of the sessions tagged ``tag`` (a workaround, an idea …) as (step_id or "",
    session_id, text), the same words once per session and step, for :func:`rank_quotes`."""
    note = Note
    rows = db.connection().execute(
        sa_select(
            func.coalesce(col(note.step_id), ""), col(note.session_id), func.trim(col(note.text))
        ).where(
            col(note.session_id).in_(session_ids),
            col(note.deleted_at).is_(None),
            _TAGS.like(f'%"{NoteTag(tag).value}"%'),
        )
    )
    seen: set[tuple[str, str, str]] = set()
    result: list[tuple[str, str, str]] = []
    for step_id, session_id, text in rows:
        key = (step_id, session_id, text.casefold())
        if text and key not in seen:
            seen.add(key)
            result.append((step_id, session_id, text))
    return result


def rank_quotes(rows: list[tuple[str, str, str]], per_step: int) -> dict[str, list[RankedText]]:
    """Up to ``per_step`` quotes per step ("" = no step), the most often heard first; the same
    words in another case count as the same quote."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    shown: dict[tuple[str, str], str] = {}
    for step_id, _session, text in rows:
        key = text.casefold()
        counts[step_id][key] += 1
        current = shown.get((step_id, key))
        shown[(step_id, key)] = text if current is None else min(current, text)
    result: dict[str, list[RankedText]] = {}
    for step_id, counter in counts.items():
        items = [RankedText(step_id, shown[(step_id, k)], n) for k, n in counter.items()]
        items.sort(key=lambda q: (-q.count, q.text))
        result[step_id] = items[:per_step]
    return result

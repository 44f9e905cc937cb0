"""The whole study (or a selection of its sessions) as one JSON document.

Shape: ``{"format": "cxfield-study-export", "format_version": 1, "exported_at", "filters",
"study", "stages": [{..., "steps": [...]}], "sites", "researchers", "participants",
"sessions": [{..., "captures", "observation_visits", "notes", "recordings", "transcript",
"survey", "review": {"events", "comments"}, "history"}]}``.
Records keep their ids, UTC ISO timestamps and sync fields, so the document can be joined
back to the CSV tables.  :func:`write_json` writes it one session at a time, so a large
study never sits in memory as one dict and one string."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any

from sqlmodel import SQLModel

from cxfield.export.data import StudyRows, iso, ordered_captures

FORMAT = "cxfield-study-export"
FORMAT_VERSION = 1
_HIDDEN = {"device_id"}


def record(obj: SQLModel, *drop: str) -> dict[str, Any]:
    data = obj.model_dump(mode="json")
    for key in (*_HIDDEN, *drop):
        data.pop(key, None)
    return data


def document(
    rows: StudyRows, exported_at: datetime, check: Callable[[], None] | None = None
) -> dict[str, Any]:
    """The whole document as one dict (:func:`write_json` writes the same, streamed)."""
    return header(rows, exported_at) | {"sessions": list(session_entries(rows, check))}


def header(rows: StudyRows, exported_at: datetime) -> dict[str, Any]:
    """Everything but the sessions, in the document's key order ("sessions" comes last)."""
    used_sites = {s.site_id for s in rows.sessions}
    used_people = {s.researcher_id for s in rows.sessions}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": iso(exported_at),
        "filters": rows.filters,
        "study": record(rows.study),
        "stages": [
            record(view.stage) | {"steps": [record(step) for step in view.steps]}
            for view in rows.journey.stages
        ],
        "sites": [record(site) for sid, site in rows.sites.items() if sid in used_sites],
        "researchers": [
            record(person) for pid, person in rows.researchers.items() if pid in used_people
        ],
        "participants": [record(p) for p in rows.participants],
    }


def session_entries(
    rows: StudyRows, check: Callable[[], None] | None = None
) -> Iterator[dict[str, Any]]:
    """Each session's entry with its captures, notes, recordings, transcript and survey,
    one at a time; ``check`` (the cancel check) runs every 200 sessions."""
    codes = rows.participant_codes()
    for index, s in enumerate(rows.sessions):
        if check is not None and index % 200 == 0:
            check()
        survey = rows.surveys.get(s.id)
        entry = record(s)
        entry["participant_code"] = codes.get(s.participant_id or "")
        entry["captures"] = [record(c, "session_id") for c in ordered_captures(rows, s.id)]
        entry["observation_visits"] = [record(v, "session_id") for v in rows.visits.get(s.id, [])]
        entry["notes"] = [record(n, "session_id") for n in rows.notes.get(s.id, [])]
        entry["recordings"] = [record(r, "session_id") for r in rows.recordings.get(s.id, [])]
        entry["transcript"] = [record(t, "session_id") for t in rows.transcript.get(s.id, [])]
        entry["survey"] = None if survey is None else record(survey, "session_id")
        entry["review"] = {
            "events": [record(e, "session_id") for e in rows.review_events.get(s.id, [])],
            "comments": [record(c, "session_id") for c in rows.review_comments.get(s.id, [])],
        }
        entry["history"] = [record(h, "session_id") for h in rows.history.get(s.id, [])]
        yield entry


def write_json(
    handle: IO[str], rows: StudyRows, exported_at: datetime, check: Callable[[], None] | None = None
) -> None:
    """Write :func:`document` as ``json.dumps(document(...), ensure_ascii=False)`` would,
    byte for byte, but one session at a time: only one session's entry and its text are
    in memory at once, not the whole document and its string."""
    # Compact on purpose: with an indent, json falls back to its pure-Python encoder
    # (several times slower on a 2,000-session study); any JSON tool pretty-prints.
    head = json.dumps(header(rows, exported_at), ensure_ascii=False)
    handle.write(head[:-1])  # without its closing brace: the sessions come last
    handle.write(', "sessions": [')
    for index, entry in enumerate(session_entries(rows, check)):
        if index:
            handle.write(", ")
        handle.write(json.dumps(entry, ensure_ascii=False))
    handle.write("]}\n")

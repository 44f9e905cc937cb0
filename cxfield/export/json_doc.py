"""The whole study (or a selection of its sessions) as one JSON document.

Shape: ``{"format": "cxfield-study-export", "format_version": 1, "exported_at", "filters",
"study", "stages": [{..., "steps": [...]}], "sites", "researchers", "participants",
"sessions": [{..., "captures", "notes", "recordings", "transcript", "survey"}]}``.
Records keep their ids, UTC ISO timestamps and sync fields, so the document can be joined
back to the CSV tables."""

from __future__ import annotations

import json
from collections.abc import Callable
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
    codes = rows.participant_codes()
    used_sites = {s.site_id for s in rows.sessions}
    used_people = {s.researcher_id for s in rows.sessions}
    sessions = []
    for index, s in enumerate(rows.sessions):
        if check is not None and index % 200 == 0:
            check()
        survey = rows.surveys.get(s.id)
        entry = record(s)
        entry["participant_code"] = codes.get(s.participant_id or "")
        entry["captures"] = [record(c, "session_id") for c in ordered_captures(rows, s.id)]
        entry["notes"] = [record(n, "session_id") for n in rows.notes.get(s.id, [])]
        entry["recordings"] = [record(r, "session_id") for r in rows.recordings.get(s.id, [])]
        entry["transcript"] = [record(t, "session_id") for t in rows.transcript.get(s.id, [])]
        entry["survey"] = None if survey is None else record(survey, "session_id")
        sessions.append(entry)
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
        "sessions": sessions,
    }


def write_json(
    handle: IO[str], rows: StudyRows, exported_at: datetime, check: Callable[[], None] | None = None
) -> None:
    # Compact on purpose: with an indent, json falls back to its pure-Python encoder
    # (several times slower on a 2,000-session study); any JSON tool pretty-prints.
    handle.write(json.dumps(document(rows, exported_at, check), ensure_ascii=False))
    handle.write("\n")

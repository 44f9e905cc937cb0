"""Words for sync conflicts: what a record is ("Site “Eastside Service Center”", "Note “Lobby
crowded…” in the interview with P-7KQ2-001"), field names and values as a person reads them,
and "last synced …" for the status bar.  Qt-free; reads names from the local database."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from cxfield.storage.database import Database
from cxfield.sync.conflicts import ConflictView
from cxfield.sync.protocol import UNHASHED_COLUMNS
from cxfield.sync.state import table_of

KIND_WORDS = {
    "conflict": "Changed on two devices",
    "refused": "Refused by the hub",
    "clash": "Clashes with a record here",
}
#: columns that say nothing to a person in the side-by-side view
HIDDEN_FIELDS = frozenset({"id", "version", "created_at", *UNHASHED_COLUMNS})
FIELD_WORDS = {
    "deleted_at": "Deleted",
    "location": "Address / location",
    "a11_population": "A-11 population",
    "session_offset_ms": "Time in session",
    "step_id": "Journey step",
    "stage_id": "Stage",
    "site_id": "Site",
    "researcher_id": "Researcher",
    "participant_id": "Participant",
    "study_id": "Study",
    "session_id": "Session",
    "recording_id": "Recording",
}


#: a sync message about one row: "session 81189e82-…: Only a supervisor …"
_ROW_MESSAGE = re.compile(r"^(?P<table>[a-z_]+) (?P<id>[\w-]+): (?P<reason>.+)$")


def grouped_messages(messages: list[str]) -> list[str]:
    """A sync's messages for a person: rows of one kind refused for one reason are one line
    ("4 sessions: Only a supervisor …"), where the first of them was; other messages, and a
    reason given once, as they are."""
    counts: dict[tuple[str, str], int] = {}
    first: dict[tuple[str, str], str] = {}
    for message in messages:
        match = _ROW_MESSAGE.match(message)
        key = (match["table"], match["reason"]) if match else ("", message)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, message)
    return [
        f"{counts[key]} {key[0].replace('_', ' ')}s: {key[1]}"
        if key[0] and counts[key] > 1
        else message
        for key, message in first.items()
    ]


def _short(text: Any, limit: int = 48) -> str:
    words = " ".join(str(text or "").split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def _lookup(database: Database, table: str, row_id: Any, column: str) -> str | None:
    if not row_id:
        return None
    t = table_of(table)
    with database.engine.connect() as conn:
        value = conn.execute(select(t.c[column]).where(t.c.id == row_id)).scalar()
    return None if value is None else str(value)


def _session_words(database: Database, session_id: Any) -> str:
    t = table_of("session")
    with database.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == session_id)).first()
    if row is None:
        return "a session not on this laptop"
    who = _lookup(database, "participant", row.participant_id, "code") or "no participant"
    mode = str(getattr(row.mode, "value", row.mode))
    when = f" on {row.started_at:%Y-%m-%d}" if row.started_at else ""
    return f"the {mode} with {who}{when}"


def describe_record(database: Database, table: str, data: dict[str, Any] | None) -> str:
    """One phrase naming the record, from either version of it."""
    d = data or {}
    study = _lookup(database, "study", d.get("study_id"), "name")
    of_study = f" of study “{_short(study, 40)}”" if study else ""
    step = _lookup(database, "step", d.get("step_id"), "name")
    in_session = f" in {_session_words(database, d.get('session_id'))}"
    match table:
        case "study":
            return f"Study “{_short(d.get('name'))}”"
        case "consent_text":
            return f"Consent wording {d.get('consent_version', '')}{of_study}".replace("  ", " ")
        case "stage":
            return f"Stage “{_short(d.get('name'))}”{of_study}"
        case "step":
            return f"Journey step “{_short(d.get('name'))}”{of_study}"
        case "site":
            return f"Site “{_short(d.get('name'))}”"
        case "researcher":
            return f"Researcher “{_short(d.get('name'))}”"
        case "participant":
            return f"Participant {d.get('code', '')}{of_study}"
        case "consent_record":
            who = _lookup(database, "participant", d.get("participant_id"), "code") or "?"
            return f"Consent of participant {who}"
        case "session":
            words = _session_words(database, d.get("id")).removeprefix("the ")
            return words[:1].upper() + words[1:]
        case "step_capture":
            return f"Capture of step “{_short(step, 40)}”{in_session}"
        case "observation_visit":
            return f"Visit to step “{_short(step, 40)}”{in_session}"
        case "note":
            return f"Note “{_short(d.get('text'), 40)}”{in_session}"
        case "recording":
            return f"Recording{in_session}"
        case "transcript_segment":
            return f"Transcript line “{_short(d.get('text'), 40)}”{in_session}"
        case "survey_response":
            return f"A-11 survey answers{in_session}"
    return f"{table.replace('_', ' ').capitalize()} {d.get('id', '')}".strip()


def field_words(column: str) -> str:
    return FIELD_WORDS.get(column, column.replace("_", " ").capitalize())


def value_words(column: str, value: Any) -> str:
    """A stored value as a person reads it (times in local time, yes/no, lists)."""
    if value is None or value == "":
        return "—" if column != "deleted_at" else "No"
    if column == "deleted_at":
        return f"Yes ({_local_time(value)})"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items()) or "—"
    if isinstance(value, str) and column.endswith(("_at", "_start", "_end")):
        return _local_time(value)
    return str(value)


def _local_time(text: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def compared_fields(conflict: ConflictView) -> list[str]:
    """Columns to show side by side: those that differ (all content columns of a one-sided
    record, i.e. a refused row or a clash)."""
    if conflict.mine is not None and conflict.theirs is not None:
        return [f for f in conflict.fields if f not in HIDDEN_FIELDS]
    data = conflict.mine or conflict.theirs or {}
    return [f for f in data if f not in HIDDEN_FIELDS]


def last_synced_words(iso: str | None, now: datetime | None = None) -> str:
    """For the status bar: "Last synced just now", "… 5 min ago", "… today 14:05",
    "… yesterday 09:12", "… 2025-03-04 14:05"."""
    if not iso:
        return "Never synced"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return "Never synced"
    now = (now or datetime.now().astimezone()).astimezone()
    age = now - moment
    if age < timedelta(minutes=1):
        return "Last synced just now"
    if age < timedelta(hours=1):
        return f"Last synced {int(age.total_seconds() // 60)} min ago"
    if moment.date() == now.date():
        return f"Last synced today {moment:%H:%M}"
    if moment.date() == (now - timedelta(days=1)).date():
        return f"Last synced yesterday {moment:%H:%M}"
    return f"Last synced {moment:%Y-%m-%d %H:%M}"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def status_words(info: dict[str, Any], *, syncing: bool = False) -> str:
    """The status bar's line from :func:`cxfield.sync.connection.status`: "Last synced 5 min
    ago · 3 changes waiting · 1 conflict"."""
    if not info.get("hub"):
        return "Not connected to a hub"
    parts = ["Syncing…" if syncing else last_synced_words(info.get("last_synced_at"))]
    waiting = int(info.get("changes_waiting") or 0)
    parts.append(
        _plural(waiting, "change waiting", "changes waiting") if waiting else "nothing waiting"
    )
    audio = int(info.get("audio_waiting") or 0)
    if audio:
        parts.append(_plural(audio, "recording to upload", "recordings to upload"))
    open_conflicts = int(info.get("conflicts") or 0)
    if open_conflicts:
        parts.append(_plural(open_conflicts, "conflict", "conflicts"))
    held = len(info.get("held_for_review") or [])
    if held:
        parts.append(_plural(held, "session held for review", "sessions held for review"))
    return " · ".join(parts)

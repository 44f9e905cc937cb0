"""CSV tables of a study: one file per table, columns documented in the README.

Files are UTF-8 with a byte-order mark, because Excel only detects UTF-8 with one (without
it accented, Vietnamese, Chinese and Arabic text turns into mojibake); Python's csv module,
pandas (``encoding="utf-8-sig"``) and R read it too.  Fields with commas, quotes or line
breaks are quoted (RFC 4180).  Free-text cells that Excel would run as a formula get a leading
apostrophe (OWASP "CSV injection"; the rule is :func:`cxfield.export.csv_format.safe`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from cxfield.export.atomic import AtomicFileSet, ExportPathError
from cxfield.export.csv_format import csv_writer, flag, joined, safe
from cxfield.export.data import SURVEY_ITEMS, StudyRows, iso, ordered_captures

Row = list[Any]
Table = tuple[str, list[str], Callable[[StudyRows], Iterable[Row]]]


def _num(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{round(value, digits):g}"


SESSION_COLUMNS = [
    "session_id", "study_id", "started_at", "ended_at", "duration_s", "mode", "status",
    "participant_id", "participant_code", "site_id", "site", "researcher_id", "researcher",
    "steps_captured", "notes_count", "survey_answered", "session_notes", "updated_at",
]  # fmt: skip


def session_rows(rows: StudyRows) -> Iterator[Row]:
    codes = rows.participant_codes()
    for s in rows.sessions:
        site = rows.sites.get(s.site_id or "")
        person = rows.researchers.get(s.researcher_id or "")
        duration = (s.ended_at - s.started_at).total_seconds() if s.ended_at else None
        yield [
            s.id, s.study_id, iso(s.started_at), iso(s.ended_at), _num(duration, 0),
            str(s.mode), str(s.status), s.participant_id or "",
            codes.get(s.participant_id or "", ""), s.site_id or "", safe(site.name if site else ""),
            s.researcher_id or "", safe(person.name if person else ""),
            len(rows.captures.get(s.id, [])), len(rows.notes.get(s.id, [])),
            flag(s.id in rows.surveys), safe(s.notes), iso(s.updated_at),
        ]  # fmt: skip


def participant_columns(rows: StudyRows) -> list[str]:
    return [
        "participant_id", "code", "sessions", "withdrawn", "withdrawn_at", "created_at", "kind",
        "role",
    ] + [f"segment_{key}" for key in rows.segment_keys]  # fmt: skip


def participant_rows(rows: StudyRows) -> Iterator[Row]:
    counts: dict[str, int] = {}
    for s in rows.sessions:
        if s.participant_id:
            counts[s.participant_id] = counts.get(s.participant_id, 0) + 1
    keys = rows.segment_keys
    for p in rows.participants:
        yield [
            p.id, p.code, counts.get(p.id, 0), flag(p.withdrawn), iso(p.withdrawn_at),
            iso(p.created_at), str(p.kind), safe(p.role),
            *[safe(p.segments.get(k, "")) for k in keys],
        ]  # fmt: skip


CAPTURE_COLUMNS = [
    "capture_id", "session_id", "participant_code", "stage", "step_id", "step", "step_order",
    "lane", "channel", "valence", "emotions", "intensity", "pain_point", "notes", "quote",
    "observed_start", "observed_end",
]  # fmt: skip


def capture_rows(rows: StudyRows) -> Iterator[Row]:
    codes, order, stages = rows.participant_codes(), rows.step_order, rows.stage_names
    steps = {s.id: s for s in rows.journey.steps}
    for session in rows.sessions:
        for c in ordered_captures(rows, session.id):
            step = steps.get(c.step_id)
            yield [
                c.id, session.id, codes.get(session.participant_id or "", ""),
                safe(stages.get(c.step_id, "")), c.step_id, safe(step.name if step else ""),
                order.get(c.step_id, ""), str(step.lane) if step else "",
                str(step.channel) if step else "", "" if c.valence is None else c.valence,
                joined(c.emotions), "" if c.intensity is None else c.intensity,
                flag(c.pain_point), safe(c.notes), safe(c.quote), iso(c.observed_start),
                iso(c.observed_end),
            ]  # fmt: skip


NOTE_COLUMNS = [
    "note_id", "session_id", "participant_code", "step_id", "step", "text", "tags",
    "session_offset_s", "recording_id", "recording_offset_s", "created_at",
]  # fmt: skip


def note_rows(rows: StudyRows) -> Iterator[Row]:
    codes = rows.participant_codes()
    names = {s.id: s.name for s in rows.journey.steps}
    rates = {r.id: r.sample_rate for recs in rows.recordings.values() for r in recs}
    for session in rows.sessions:
        for n in rows.notes.get(session.id, []):
            audio = None
            if n.recording_offset_frames is not None and n.recording_id in rates:
                audio = n.recording_offset_frames / max(1, rates[n.recording_id])
            yield [
                n.id, session.id, codes.get(session.participant_id or "", ""), n.step_id or "",
                safe(names.get(n.step_id or "", "")), safe(n.text), joined(n.tags),
                _num(n.session_offset_ms / 1000), n.recording_id or "", _num(audio),
                iso(n.created_at),
            ]  # fmt: skip


SURVEY_COLUMNS = [
    "response_id", "session_id", "participant_code", "survey_version", "trust_variant",
    "effectiveness_variant", *SURVEY_ITEMS, "went_well", "not_well", "comments", "responded_at",
]  # fmt: skip


def survey_rows(rows: StudyRows) -> Iterator[Row]:
    codes = rows.participant_codes()
    for session in rows.sessions:
        r = rows.surveys.get(session.id)
        if r is None:
            continue
        answers = [getattr(r, item) for item in SURVEY_ITEMS]
        yield [
            r.id, session.id, codes.get(session.participant_id or "", ""), str(r.survey_version),
            r.trust_variant, r.effectiveness_variant, *["" if a is None else a for a in answers],
            joined(r.went_well), joined(r.not_well), safe(r.comments), iso(r.responded_at),
        ]  # fmt: skip


OBSERVATION_COLUMNS = [
    "session_id", "stage", "step_id", "step", "step_order", "visit", "entered_at", "left_at",
    "seconds",
]  # fmt: skip


def observation_rows(rows: StudyRows) -> Iterator[Row]:
    """One row per visit of a step, in time order (``visit`` counts a step's visits)."""
    order, stages = rows.step_order, rows.stage_names
    names = {s.id: s.name for s in rows.journey.steps}
    for session in rows.sessions:
        seen: dict[str, int] = {}
        for v in rows.visits.get(session.id, []):
            seen[v.step_id] = seen.get(v.step_id, 0) + 1
            seconds = (v.left_at - v.entered_at).total_seconds() if v.left_at else None
            yield [
                session.id, safe(stages.get(v.step_id, "")), v.step_id,
                safe(names.get(v.step_id, "")), order.get(v.step_id, ""), seen[v.step_id],
                iso(v.entered_at), iso(v.left_at), _num(seconds),
            ]  # fmt: skip


def tables(rows: StudyRows) -> list[tuple[str, list[str], Iterable[Row]]]:
    """(file name, header, rows) of every table, in the documented order."""
    return [
        ("sessions.csv", SESSION_COLUMNS, session_rows(rows)),
        ("participants.csv", participant_columns(rows), participant_rows(rows)),
        ("captures.csv", CAPTURE_COLUMNS, capture_rows(rows)),
        ("notes.csv", NOTE_COLUMNS, note_rows(rows)),
        ("survey_answers.csv", SURVEY_COLUMNS, survey_rows(rows)),
        ("observation_times.csv", OBSERVATION_COLUMNS, observation_rows(rows)),
    ]


def write_csv_tables(
    folder: Path,
    rows: StudyRows,
    *,
    on_table: Callable[[int, int], None] | None = None,
    check: Callable[[], None] | None = None,
) -> list[Path]:
    """Write every table into ``folder``; all files appear together or none does."""
    parts = tables(rows)
    try:
        return _write(folder, parts, on_table, check)
    except OSError as exc:
        raise ExportPathError(f"Cannot write to {folder}: {exc.strerror or exc}.") from exc


def _write(
    folder: Path,
    parts: list[tuple[str, list[str], Iterable[Row]]],
    on_table: Callable[[int, int], None] | None,
    check: Callable[[], None] | None,
) -> list[Path]:
    with AtomicFileSet(folder) as files:
        for index, (name, header, body) in enumerate(parts):
            with files.open(name, "w", encoding="utf-8-sig", newline="") as handle:
                writer = csv_writer(handle)
                writer.writerow(header)
                for count, row in enumerate(body):
                    if check is not None and count % 500 == 0:
                        check()
                    writer.writerow(row)
            if on_table is not None:
                on_table(index + 1, len(parts))
        return files.commit()

"""Export use cases: what the CLI and the GUI call.

Each job takes plain callbacks, ``on_progress(done, total)`` and ``cancelled() -> bool``,
so a front end can show a progress bar and offer Cancel without this code knowing about
Qt.  Cancelling raises :class:`ExportCancelled`; like any error it leaves no file behind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cxfield.export.atomic import atomic_file, check_target
from cxfield.export.filters import FilterRequest, resolve_filter
from cxfield.export.layout import ExportCancelled
from cxfield.export.redacted import session_export, study_export
from cxfield.storage.database import Database

if TYPE_CHECKING:
    from cxfield.export.data import StudyRows

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

#: progress is reported in these units: gathering data takes the first tenth
SCALE = 1000


@dataclass
class ExportResult:
    paths: list[Path]
    #: what a user should know (e.g. "no sessions match"), one line each
    messages: list[str] = field(default_factory=list)
    pages: int | None = None


def _noop_progress(done: int, total: int) -> None:
    return None


def _never() -> bool:
    return False


def _check(cancelled: Cancelled) -> None:
    if cancelled():
        raise ExportCancelled("Export cancelled; no file was written.")


def _scaled(on_progress: Progress, start: int, end: int) -> Progress:
    def report(done: int, total: int) -> None:
        on_progress(start + (end - start) * done // max(1, total), SCALE)

    return report


@study_export
def export_study_pdf(
    database: Database,
    study_id: str,
    path: Path,
    request: FilterRequest | None = None,
    *,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write the study report PDF (filters as typed by the user)."""
    from cxfield.export.study_data import gather
    from cxfield.export.study_pdf import write_study_pdf

    on_progress = on_progress or _noop_progress
    cancelled = cancelled or _never
    check_target(path)
    resolved = resolve_filter(database, study_id, request or FilterRequest())
    on_progress(0, SCALE)
    data = gather(database, study_id, resolved.flt, resolved.description)
    _check(cancelled)
    on_progress(SCALE // 10, SCALE)
    result = ExportResult([Path(path).expanduser().absolute()])
    if data.overview.sessions == 0:
        result.messages.append(
            "No sessions match this selection; the report shows the journey map and says so."
        )
    if data.sealed:
        from cxfield.privacy.sealed_texts import how_to_read

        result.messages.append(how_to_read(data.sealed, study_id))
    with atomic_file(path) as handle:
        result.pages = write_study_pdf(
            handle,
            data,
            exported_at=now or datetime.now(UTC),
            on_progress=_scaled(on_progress, SCALE // 10, SCALE),
            cancelled=cancelled,
        )
    on_progress(SCALE, SCALE)
    return result


@session_export
def export_session_pdf(
    database: Database,
    session_id: str,
    path: Path,
    *,
    transcript: bool = True,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write the session summary PDF (with the transcript appendix unless switched off)."""
    from cxfield.export.session_pdf import write_session_pdf
    from cxfield.privacy.sealed_texts import how_to_read, shown_tree
    from cxfield.services.sessions import session_detail
    from cxfield.services.studies import get_study

    on_progress = on_progress or _noop_progress
    cancelled = cancelled or _never
    check_target(path)
    detail, sealed = shown_tree(session_detail(database, session_id))
    study = get_study(database, detail["study"]["id"])
    on_progress(SCALE // 10, SCALE)
    result = ExportResult([Path(path).expanduser().absolute()])
    if sealed:
        result.messages.append(how_to_read(sealed, detail["study"]["id"]))
    with atomic_file(path) as handle:
        result.pages = write_session_pdf(
            handle,
            detail,
            study,
            exported_at=now or datetime.now(UTC),
            transcript=transcript,
            on_progress=_scaled(on_progress, SCALE // 10, SCALE),
            cancelled=cancelled,
        )
    on_progress(SCALE, SCALE)
    return result


def _load(
    database: Database, study_id: str, request: FilterRequest | None
) -> tuple[StudyRows, list[str]]:
    from cxfield.export.data import hide_sealed, load_rows
    from cxfield.privacy.sealed_texts import how_to_read

    request = request or FilterRequest()
    resolved = resolve_filter(database, study_id, request, default_all=True)
    rows = load_rows(
        database, study_id, resolved.flt, resolved.description, all_participants=request.empty
    )
    messages = []
    if not rows.sessions:
        messages.append("No sessions match; the tables hold only their header rows.")
    sealed = hide_sealed(rows)
    if sealed:
        messages.append(how_to_read(sealed, study_id))
    return rows, messages


@study_export
def export_study_csv(
    database: Database,
    study_id: str,
    folder: Path,
    request: FilterRequest | None = None,
    *,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExportResult:
    """Write the study's tables as CSV files into ``folder`` (all or none)."""
    from cxfield.export.atomic import check_folder
    from cxfield.export.csv_tables import write_csv_tables

    on_progress = on_progress or _noop_progress
    cancelled = cancelled or _never
    check_folder(folder, create=False)
    on_progress(0, SCALE)
    rows, messages = _load(database, study_id, request)
    _check(cancelled)
    on_progress(SCALE // 2, SCALE)
    paths = write_csv_tables(
        Path(folder),
        rows,
        on_table=_scaled(on_progress, SCALE // 2, SCALE),
        check=lambda: _check(cancelled),
    )
    return ExportResult(paths, messages)


@study_export
def export_study_json(
    database: Database,
    study_id: str,
    path: Path,
    request: FilterRequest | None = None,
    *,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write the whole study as one JSON document."""
    from cxfield.export.json_doc import write_json

    on_progress = on_progress or _noop_progress
    cancelled = cancelled or _never
    check_target(path)
    on_progress(0, SCALE)
    rows, messages = _load(database, study_id, request)
    _check(cancelled)
    on_progress(SCALE // 2, SCALE)
    with atomic_file(path, "w", encoding="utf-8") as handle:
        write_json(handle, rows, now or datetime.now(UTC), lambda: _check(cancelled))
    on_progress(SCALE, SCALE)
    return ExportResult([Path(path).expanduser().absolute()], messages)


def export_a11_csv(
    database: Database,
    study_id: str,
    quarter: str,
    path: Path,
    *,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExportResult:
    """Write the A-11 quarterly counts (q1..q7 at points 1..5, sessions, responses)."""
    from cxfield.export.a11_csv import write_a11_csv
    from cxfield.services.analysis import a11_quarter_counts
    from cxfield.services.studies import get_study

    on_progress = on_progress or _noop_progress
    cancelled = cancelled or _never
    check_target(path)
    study = get_study(database, study_id)
    counts = a11_quarter_counts(database, study_id, quarter)
    _check(cancelled)
    with atomic_file(path, "w", encoding="utf-8-sig", newline="") as handle:
        write_a11_csv(handle, study, counts)
    on_progress(SCALE, SCALE)
    messages = []
    if counts.responses == 0:
        messages.append(f"No survey responses in {counts.quarter}; every count is 0.")
    return ExportResult([Path(path).expanduser().absolute()], messages)


@study_export
def export_study_qdpx(
    database: Database,
    data_root: Path,
    study_id: str,
    path: Path,
    request: FilterRequest | None = None,
    *,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write the study as a REFI-QDA project (``.qdpx``) for NVivo, MAXQDA, ATLAS.ti and
    QualCoder: sessions as sources (audio with its transcript, or text), codings, cases,
    variables, users and memos.  ``data_root`` holds the recordings."""
    from cxfield.export.refi_qda.project import ProjectWriter

    on_progress = on_progress or _noop_progress
    cancelled = cancelled or _never
    check_target(path)
    on_progress(0, SCALE)
    rows, messages = _load(database, study_id, request)
    _check(cancelled)
    on_progress(SCALE // 10, SCALE)
    writer = ProjectWriter(rows, Path(data_root), lambda: _check(cancelled))
    on_progress(SCALE // 2, SCALE)
    progress = _scaled(on_progress, SCALE // 2, SCALE)
    done = 0

    def check() -> None:
        nonlocal done
        _check(cancelled)
        done += 1
        progress(done, max(1, len(rows.sessions)))

    with atomic_file(path) as handle:
        writer.write(handle, now or datetime.now(UTC), check)
    on_progress(SCALE, SCALE)
    return ExportResult([Path(path).expanduser().absolute()], messages + writer.messages)


@study_export
def export_study_qdc(
    database: Database,
    study_id: str,
    path: Path,
    request: FilterRequest | None = None,
    *,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExportResult:
    """Write the study's codebook alone as a REFI-QDA ``.qdc`` file (tags, stages, steps)."""
    from cxfield.export.refi_qda.codebook import build_codebook, codebook_document
    from cxfield.export.refi_qda.project import ORIGIN

    on_progress = on_progress or _noop_progress
    cancelled = cancelled or _never
    check_target(path)
    rows, _ = _load(database, study_id, request)
    _check(cancelled)
    with atomic_file(path) as handle:
        handle.write(codebook_document(build_codebook(rows), ORIGIN))
    on_progress(SCALE, SCALE)
    return ExportResult([Path(path).expanduser().absolute()])


@study_export
def export_study_xlsx(
    database: Database,
    study_id: str,
    path: Path,
    request: FilterRequest | None = None,
    *,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExportResult:
    """Write the CSV tables as the sheets of one Excel workbook with typed cells."""
    from cxfield.export.xlsx_workbook import write_workbook

    on_progress = on_progress or _noop_progress
    cancelled = cancelled or _never
    check_target(path)
    on_progress(0, SCALE)
    rows, messages = _load(database, study_id, request)
    _check(cancelled)
    on_progress(SCALE // 2, SCALE)
    with atomic_file(path) as handle:
        messages += write_workbook(
            handle,
            rows,
            on_table=_scaled(on_progress, SCALE // 2, SCALE),
            check=lambda: _check(cancelled),
        )
    return ExportResult([Path(path).expanduser().absolute()], messages)


@session_export
def export_session_transcript(database: Database, session_id: str, fmt: str, path: Path) -> Path:
    """A session's stored transcript in one of whisper's formats (txt, srt, vtt, json, tsv)."""
    from cxfield.services import transcript

    return transcript.export_session(database, session_id, fmt, path)


@session_export
def export_session_docx(
    database: Database,
    session_id: str,
    path: Path,
    *,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write a session's transcript as a Word document (notes at their times)."""
    from cxfield.export.docx_transcript import write_transcript_docx
    from cxfield.privacy.sealed_texts import how_to_read, shown, shown_tree
    from cxfield.services import transcript
    from cxfield.services.sessions import session_detail

    on_progress = on_progress or _noop_progress
    cancelled = cancelled or _never
    check_target(path)
    detail, sealed = shown_tree(session_detail(database, session_id))
    segments = [
        replace(s, text=shown(s.text), original_text=shown(s.original_text))
        for s in transcript.segments(database, session_id)
    ]
    notes = [
        replace(n, text=shown(n.text)) for n in transcript.notes_on_recording(database, session_id)
    ]
    _check(cancelled)
    with atomic_file(path) as handle:
        write_transcript_docx(handle, detail, segments, notes, exported_at=now)
    on_progress(SCALE, SCALE)
    result = ExportResult([Path(path).expanduser().absolute()])
    if sealed:
        result.messages.append(how_to_read(sealed, detail["study"]["id"]))
    return result

"""Export use cases: what the CLI and the GUI call.

Each job takes plain callbacks, ``on_progress(done, total)`` and ``cancelled() -> bool``,
so a front end can show a progress bar and offer Cancel without this code knowing about
Qt.  Cancelling raises :class:`ExportCancelled`; like any error it leaves no file behind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cxfield.export.atomic import atomic_file, check_target
from cxfield.export.filters import FilterRequest, resolve_filter
from cxfield.export.layout import ExportCancelled
from cxfield.storage.database import Database

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

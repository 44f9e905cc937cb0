"""Importing operations records (queue tickets, case dates, call times) into a study.

Each mapped column holds the time a customer entered a step; a step lasts until the next
mapped column that has a time, the end column ends the last one.  The whole file is checked
before anything is stored: a file with bad rows is refused, naming them, and nothing is
imported.  A file already imported (same SHA-256) adds nothing; a row already imported from
another file (same cells) is not added twice."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import col, select

from cxfield.domain.errors import ValidationError
from cxfield.domain.ids import utcnow
from cxfield.domain.operations import OutOfOrder, TimeFormatError, parse_time, row_intervals
from cxfield.services.common import get_live
from cxfield.services.ops_files import Cell, OpsTable, cell_text, read_table
from cxfield.services.studies import get_journey
from cxfield.storage.database import Database, insert_new_rows
from cxfield.storage.models import OpsImport, OpsRecord, OpsStepTime, Step, Study

#: how many bad lines the refusal names (then "and N more")
NAMED_BAD_LINES = 5
_NAMESPACE = uuid.UUID("6c1f4a53-2f4e-4d84-9c0b-7f1e0f6b8a21")


@dataclass(frozen=True)
class StepColumn:
    column: str
    step: Step


@dataclass(frozen=True)
class OpsImportResult:
    source: str
    rows: int
    added: int
    #: rows already in the study (from an earlier import, or twice in this file)
    duplicates: int
    #: the file itself was imported before (then nothing is added): when
    already_imported_at: datetime | None = None


def content_id(kind: str, *parts: str) -> str:
    """An id made from the content: the same file or row imported on two laptops is the
    same record when they sync."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join((kind, *parts))))


def find_step(steps: Sequence[Step], numbers: dict[str, int], ref: str) -> Step:
    """A step by its number on the journey map (3), its id, or its name (any case)."""
    wanted = ref.strip()
    if wanted.isdigit():
        for step in steps:
            if numbers[step.id] == int(wanted):
                return step
        raise ValidationError(f"There is no step {wanted} on the journey map (1–{len(steps)}).")
    for step in steps:
        if step.id == wanted:
            return step
    named = [s for s in steps if s.name.casefold() == wanted.casefold()]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValidationError(f"Several steps are named {wanted!r}; give the step's number.")
    raise ValidationError(f"No step named {wanted!r} on the journey map.")


def _column_index(table: OpsTable, name: str, what: str) -> int:
    wanted = name.strip().casefold()
    for index, column in enumerate(table.columns):
        if column.casefold() == wanted:
            return index
    raise ValidationError(
        f"{what} {name!r} is not a column of {table.name}; it has: {', '.join(table.columns)}."
    )


def resolve_mapping(
    database: Database, study_id: str, pairs: Sequence[tuple[str, str]]
) -> list[StepColumn]:
    """(COLUMN, STEP) pairs as typed (``--map COLUMN=STEP``) -> columns and steps, in the
    order given, which is the order a customer goes through them."""
    if not pairs:
        raise ValidationError("Map at least one column to a step (--map COLUMN=STEP).")
    journey = get_journey(database, study_id)
    numbers = {step.id: i for i, step in enumerate(journey.steps, start=1)}
    result: list[StepColumn] = []
    for column, ref in pairs:
        if not column.strip() or not ref.strip():
            raise ValidationError(f"--map {column}={ref} must be COLUMN=STEP.")
        step = find_step(journey.steps, numbers, ref)
        if any(s.step.id == step.id for s in result):
            raise ValidationError(f"Two columns are mapped to the step {step.name!r}.")
        if any(s.column.casefold() == column.strip().casefold() for s in result):
            raise ValidationError(f"The column {column.strip()!r} is mapped twice.")
        result.append(StepColumn(column.strip(), step))
    return result


def parse_map_argument(text: str) -> tuple[str, str]:
    """``COLUMN=STEP`` (the column's name may hold "=": the last one splits)."""
    column, sep, step = text.rpartition("=")
    if not sep or not column.strip() or not step.strip():
        raise ValidationError(f"--map {text!r} must be COLUMN=STEP, e.g. called=Wait.")
    return column.strip(), step.strip()


@dataclass(frozen=True)
class _Row:
    line: int
    digest: str
    site: str
    intervals: list[tuple[Step, datetime, datetime | None]]


def _check_rows(
    table: OpsTable,
    mapping: Sequence[StepColumn],
    end_column: str | None,
    site_column: str | None,
) -> list[_Row]:
    """Every row read and checked; raises one ValidationError naming the bad lines."""
    indexes = [_column_index(table, m.column, "Mapped column") for m in mapping]
    end = _column_index(table, end_column, "--end") if end_column else None
    site = _column_index(table, site_column, "--site") if site_column else None
    used = [i for i in (*indexes, end, site) if i is not None]
    if len(set(used)) != len(used):
        raise ValidationError("A column is used twice (mapped, --end or --site); use it once.")
    names = table.columns
    good: list[_Row] = []
    bad: list[str] = []
    for line, cells in table.rows:
        problem = None
        if len(cells) > len(names) and any(cell_text(c) for c in cells[len(names) :]):
            problem = f"{len(cells)} cells, the header has {len(names)}"
        times: list[datetime | None] = []
        end_time = None
        try:
            if problem is None:
                times = [parse_time(_cell(cells, i)) for i in indexes]
                end_time = parse_time(_cell(cells, end)) if end is not None else None
                if all(t is None for t in times):
                    problem = "no time in any mapped column"
        except TimeFormatError as exc:
            problem = str(exc)
        intervals: list[tuple[Step, datetime, datetime | None]] = []
        if problem is None:
            try:
                for interval in row_intervals(times, end_time):
                    step = mapping[interval.position].step
                    intervals.append((step, interval.entered_at, interval.left_at))
            except OutOfOrder as exc:
                later = names[indexes[exc.after]] if exc.after is not None else end_column
                problem = f"{later!r} is earlier than {names[indexes[exc.before]]!r}"
        if problem is not None:
            bad.append(f"line {line}: {problem}")
            continue
        digest = hashlib.sha256(
            "\x1f".join(cell_text(c) for c in cells).encode("utf-8")
        ).hexdigest()
        where = cell_text(_cell(cells, site))[:200] if site is not None else ""
        good.append(_Row(line, digest, " ".join(where.split()), intervals))
    if bad:
        named = "; ".join(bad[:NAMED_BAD_LINES])
        more = f"; and {len(bad) - NAMED_BAD_LINES} more" if len(bad) > NAMED_BAD_LINES else ""
        raise ValidationError(
            f"{table.name}: {len(bad)} bad line{'' if len(bad) == 1 else 's'}, nothing "
            f"imported — {named}{more}."
        )
    if not good:
        raise ValidationError(f"{table.name} has no data rows; nothing imported.")
    return good


def _cell(cells: list[Cell], index: int | None) -> Cell:
    if index is None or index >= len(cells):
        return None
    return cells[index]


def import_operations(
    database: Database,
    study_id: str,
    path: Path,
    pairs: Sequence[tuple[str, str]],
    *,
    end_column: str | None = None,
    site_column: str | None = None,
) -> OpsImportResult:
    """Check the whole file, then store its new rows in one transaction (all or nothing)."""
    with database.session() as db:
        get_live(db, Study, study_id, "study")
    mapping = resolve_mapping(database, study_id, pairs)
    table = read_table(path)
    rows = _check_rows(table, mapping, end_column, site_column)
    import_id = content_id("ops-import", study_id, table.sha256)
    with database.session() as db:
        earlier = db.exec(
            select(OpsImport).where(
                OpsImport.study_id == study_id,
                OpsImport.sha256 == table.sha256,
                col(OpsImport.deleted_at).is_(None),
            )
        ).first()
        if earlier is not None:
            return OpsImportResult(table.name, len(rows), 0, len(rows), earlier.imported_at)
        known = set(db.exec(select(OpsRecord.row_hash).where(OpsRecord.study_id == study_id)).all())
        records: list[dict[str, object]] = []
        times: list[dict[str, object]] = []
        for row in rows:
            if row.digest in known:
                continue
            known.add(row.digest)
            record_id = content_id("ops-record", study_id, row.digest)
            records.append(
                {
                    "id": record_id,
                    "study_id": study_id,
                    "import_id": import_id,
                    "row_hash": row.digest,
                    "line": row.line,
                    "site": row.site,
                    "started_at": row.intervals[0][1],
                }
            )
            for step, entered, left in row.intervals:
                times.append(
                    {
                        "id": content_id("ops-step", record_id, step.id),
                        "record_id": record_id,
                        "study_id": study_id,
                        "step_id": step.id,
                        "site": row.site,
                        "entered_at": entered,
                        "left_at": left,
                        "seconds": None if left is None else (left - entered).total_seconds(),
                    }
                )
        db.add(
            OpsImport(
                id=import_id,
                study_id=study_id,
                source_name=table.name[:255],
                sha256=table.sha256,
                mapping=[[m.column, m.step.id] for m in mapping],
                end_column=end_column or "",
                site_column=site_column or "",
                rows=len(rows),
                added=len(records),
                imported_at=utcnow(),
            )
        )
        db.flush()  # the file before its rows (foreign keys)
        # one statement per table, stamped like every new row (storage.database)
        insert_new_rows(db, OpsRecord, records)
        insert_new_rows(db, OpsStepTime, times)
        added = len(records)
    return OpsImportResult(table.name, len(rows), added, len(rows) - added)

"""Study definition files that keep the study's identity: the study, its consent texts,
stages and steps travel with their ids, positions and timestamps, so every laptop that
imports the file holds the very same rows (their captures meet in one journey map, and
two laptops syncing the same imported study send duplicates, not conflicts).

``revision`` is the newest ``updated_at`` of those rows: importing a study that exists
already updates it when the file is newer and otherwise changes nothing — never a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sm_select

from cxfield.domain.errors import ConflictError, ValidationError
from cxfield.domain.rules import clean_name
from cxfield.storage.database import Database
from cxfield.storage.models import ConsentText, Stage, Step, Study, StudyProtection

#: per-row metadata a definition file carries for every row
STAMPS = ("id", "created_at", "updated_at")
_NOT_COPIED = ("version", "device_id")


@dataclass(frozen=True)
class StudyImport:
    study: Study
    #: created | updated | unchanged (same revision) | older (this laptop's copy is newer)
    outcome: str


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def stamps(row: Any) -> dict[str, Any]:
    return {"id": row.id, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def revision(db: Session, study_id: str) -> datetime | None:
    """The newest change of the study's definition rows (tombstoned ones included)."""
    newest = [
        db.execute(
            select(func.max(table.c.updated_at)).where(
                table.c["id" if name == "study" else "study_id"] == study_id
            )
        ).scalar()
        for name, table in _tables().items()
    ]
    found = [value for value in newest if value is not None]
    if not found:
        return None
    return max(_as_datetime(v) for v in found)


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def identity_parts(db: Session, study: Study, shown_steps: set[str]) -> dict[str, Any]:
    """What a definition file adds to the map it shows to keep every row: the consent
    texts, and the stages and steps the map does not show (tombstoned, or left under a
    removed stage), each with its stamps."""
    texts = db.exec(sm_select(ConsentText).where(ConsentText.study_id == study.id)).all()
    stages = db.exec(
        sm_select(Stage).where(Stage.study_id == study.id, col(Stage.deleted_at).is_not(None))
    ).all()
    steps = db.exec(sm_select(Step).where(Step.study_id == study.id)).all()
    return {
        "consent_texts": [
            stamps(t)
            | {"consent_version": t.consent_version, "text": t.text}
            | {"deleted_at": iso(t.deleted_at)}
            for t in texts
        ],
        "hidden": {
            "stages": [
                stamps(s)
                | {"position": s.position, "name": s.name}
                | {"description": s.description, "deleted_at": iso(s.deleted_at)}
                for s in stages
            ],
            "steps": [
                step_entry(t) | {"stage_id": t.stage_id, "deleted_at": iso(t.deleted_at)}
                for t in steps
                if t.id not in shown_steps
            ],
        },
    }


def stage_stamps(stage: Stage) -> dict[str, Any]:
    return stamps(stage) | {"position": stage.position}


def step_entry(step: Step) -> dict[str, Any]:
    return stamps(step) | {
        "position": step.position,
        "name": step.name,
        "description": step.description,
        "lane": str(step.lane),
        "channel": str(step.channel),
        "staff_roles": list(step.staff_roles),
    }


#: the study_protection columns a definition file carries (the private key never)
PROTECTION_COLUMNS = (
    "encrypt", "public_key", "key_id", "audio_days", "audio_clock", "transcript_days",
)  # fmt: skip


def protection_entry(db: Session, study_id: str) -> dict[str, Any] | None:
    """The study's protection row (encryption with its public key, retention) with its
    stamps, or None when the study has none."""
    row = db.exec(
        sm_select(StudyProtection).where(
            StudyProtection.study_id == study_id, col(StudyProtection.deleted_at).is_(None)
        )
    ).first()
    if row is None:
        return None
    return stamps(row) | {k: getattr(row, k) for k in PROTECTION_COLUMNS}


def has_identity(data: dict[str, Any]) -> bool:
    return isinstance(data.get("study"), dict) and "id" in data["study"]


def _model_row(model: type[SQLModel], values: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        row = model.model_validate(values)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise ValidationError(f"Invalid study definition ({what}): {first}") from exc
    dumped = row.model_dump()
    for key in _NOT_COPIED:
        dumped.pop(key, None)
    return dumped


def _text(item: dict[str, Any], key: str, what: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value or len(value) > 36:
        raise ValidationError(f"Invalid study definition: {what} has no valid {key}.")
    return value


def file_rows(data: dict[str, Any], fields: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every row the file describes, validated, as column values (parents first)."""
    study = data["study"]
    study_id = _text(study, "id", "the study")
    base = {k: study.get(k) for k in STAMPS} | {"deleted_at": None}
    rows: dict[str, list[dict[str, Any]]] = {
        "study": [
            _model_row(
                Study,
                fields | base | {"consent_version": study.get("consent_version", 1)},
                "study",
            )
        ],
        "consent_text": [],
        "study_protection": [],
        "stage": [],
        "step": [],
    }
    protection = data.get("protection")
    if isinstance(protection, dict):
        _text(protection, "id", "the protection settings")
        values = {k: protection.get(k) for k in STAMPS} | {
            k: protection[k] for k in PROTECTION_COLUMNS
        }
        rows["study_protection"].append(
            _model_row(
                StudyProtection, values | {"study_id": study_id, "deleted_at": None}, "protection"
            )
        )
    for text in data.get("consent_texts") or []:
        _text(text, "id", "a consent text")
        rows["consent_text"].append(
            _model_row(ConsentText, text | {"study_id": study_id}, "consent text")
        )
    hidden = data.get("hidden") or {}
    for stage in list(data["stages"]) + list(hidden.get("stages", [])):
        stage_id = _text(stage, "id", f"stage {stage.get('name')!r}")
        values = {k: v for k, v in stage.items() if k != "steps"} | {"study_id": study_id}
        rows["stage"].append(_model_row(Stage, values, f"stage {stage.get('name')!r}"))
        for step in stage.get("steps", []):
            _text(step, "id", f"step {step.get('name')!r}")
            values = step | {"study_id": study_id, "stage_id": stage_id}
            rows["step"].append(_model_row(Step, values, f"step {step.get('name')!r}"))
    for step in hidden.get("steps", []):
        _text(step, "id", f"step {step.get('name')!r}")
        _text(step, "stage_id", f"step {step.get('name')!r}")
        rows["step"].append(
            _model_row(Step, step | {"study_id": study_id}, f"step {step.get('name')!r}")
        )
    return rows


def _tables() -> dict[str, Table]:
    """The definition tables, parents first."""
    return {
        model.__tablename__: model.__table__  # type: ignore[misc,union-attr]
        for model in (Study, ConsentText, StudyProtection, Stage, Step)
    }


def import_identified(
    database: Database, data: dict[str, Any], fields: dict[str, Any]
) -> StudyImport:
    """Create the study with the file's ids, or update it when the file is newer."""
    rows = file_rows(data, fields)
    wanted = rows["study"][0]
    try:
        file_revision = _as_datetime(data["study"].get("revision"))
    except (TypeError, ValueError) as exc:
        raise ValidationError("Invalid study definition: the study has no valid revision.") from exc
    with database.session() as db:
        existing = db.get(Study, wanted["id"])
        if existing is not None:
            local = revision(db, existing.id)
            if local is not None and file_revision <= local:
                return StudyImport(existing, "unchanged" if file_revision == local else "older")
            if "redaction" not in fields:  # an older file: the study keeps its settings
                wanted["redaction"] = existing.redaction
            _same_protection_row(db, rows["study_protection"], existing.id)
        else:
            name = clean_name(wanted["name"], "Study name")
            clash = db.exec(
                sm_select(Study).where(Study.name == name, col(Study.deleted_at).is_(None))
            ).first()
            if clash is not None:
                raise ConflictError(f"A study named {name!r} already exists.")
        for name, table in _tables().items():
            _upsert(db, table, rows[name], database.device_id)
    with database.session() as db:
        study = db.get(Study, wanted["id"])
        assert study is not None
        return StudyImport(study, "created" if existing is None else "updated")


def _same_protection_row(db: Session, items: list[dict[str, Any]], study_id: str) -> None:
    """A study has one protection row: when this laptop made its own before the file came,
    the file's settings go into that row (a second one would clash)."""
    mine = db.exec(
        sm_select(StudyProtection).where(
            StudyProtection.study_id == study_id, col(StudyProtection.deleted_at).is_(None)
        )
    ).first()
    for item in items:
        if mine is not None and mine.id != item["id"]:
            item["id"], item["created_at"] = mine.id, mine.created_at


def _upsert(db: Session, table: Table, items: list[dict[str, Any]], device_id: str) -> None:
    """Write rows exactly as the file has them (Core, so the stamps stay the file's); a row
    that changes gets the next local version and waits to sync."""
    for item in items:
        current = db.execute(select(table).where(table.c.id == item["id"])).first()
        if current is None:
            db.execute(table.insert().values(**item, version=1, device_id=device_id))
            continue
        now = {k: getattr(current, k) for k in item}
        if _same(now, item):
            continue
        changes = {k: v for k, v in item.items() if k != "id"}
        db.execute(
            table.update()
            .where(table.c.id == item["id"])
            .values(**changes, version=current.version + 1, device_id=device_id)
        )


def _same(now: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(now[k] == v for k, v in wanted.items() if k != "updated_at")

"""Schema creation and upgrade only through Alembic; foreign/newer files stay untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from cxfield.app import open_app
from cxfield.domain.errors import DataDirError
from cxfield.services import observation, sessions, studies
from cxfield.storage import migrate


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_models_match_migrations(data_dir: Path) -> None:
    ctx = open_app(data_dir)
    with ctx.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    ctx.close()
    assert diff == []


def test_upgrade_from_first_revision_keeps_data_and_backs_up(data_dir: Path) -> None:
    db_path = data_dir / "cxfield.sqlite"
    migrate.upgrade_to(db_path, "0001")
    conn = sqlite3.connect(db_path)
    now = "2026-01-05T10:00:00.000000Z"
    sync = "created_at, updated_at, version, device_id"
    conn.execute(
        f"INSERT INTO study (id, {sync}, name, program, description, consent_text, "
        "consent_version, segment_attributes, extra_emotions, survey_version, "
        "survey_trust_variant, survey_effectiveness_variant, agency) VALUES "
        f"('s1', '{now}', '{now}', 1, 'd', 'Old study', 'P', '', 'c', 1, '[]', '[]', 'v1', "
        "'confidence', 'need', '')"
    )
    conn.execute(
        f"INSERT INTO session (id, {sync}, study_id, mode, status, started_at, notes) VALUES "
        f"('x1', '{now}', '{now}', 1, 'd', 's1', 'interview', 'submitted', '{now}', 'kept')"
    )
    # A stage, a step and an observed step time (0001 kept one start/end pair per step).
    conn.execute(
        f"INSERT INTO stage (id, {sync}, study_id, position, name, description) VALUES "
        f"('g1', '{now}', '{now}', 1, 'd', 's1', 1, 'Arrive', '')"
    )
    conn.execute(
        f"INSERT INTO step (id, {sync}, study_id, stage_id, position, name, description, lane, "
        f"channel) VALUES ('t1', '{now}', '{now}', 1, 'd', 's1', 'g1', 1, 'Wait', '', 'user', "
        "'in_person')"
    )
    conn.execute(
        f"INSERT INTO step_capture (id, {sync}, session_id, step_id, emotions, pain_point, notes, "
        f"quote, observed_start, observed_end) VALUES ('c1', '{now}', '{now}', 1, 'd', 'x1', "
        "'t1', '[]', 0, '', '', '2026-01-05T10:01:00.000000Z', '2026-01-05T10:31:00.000000Z')"
    )
    conn.commit()
    conn.close()
    assert migrate.current_revision(db_path) == "0001"
    before = _digest(db_path)

    ctx = open_app(data_dir)
    assert ctx.upgrade is not None and ctx.upgrade.from_revision == "0001"
    assert ctx.upgrade.to_revision == migrate.head_revision()
    assert ctx.upgrade.backup is not None and ctx.upgrade.backup.exists()
    assert migrate.current_revision(ctx.upgrade.backup) == "0001"
    assert ctx.messages and "backup" in ctx.messages[0]
    rows = sessions.list_sessions(ctx.db)
    assert [r.id for r in rows] == ["x1"] and rows[0].study == "Old study"
    with ctx.db.engine.connect() as conn2:
        names = {r[1] for r in conn2.exec_driver_sql("PRAGMA index_list('step_capture')")}
    assert "ix_step_capture_step_valence" in names
    # 0003: the observed pair became one visit; the study has an empty A-11 population.
    times = observation.timeline(ctx.db, "x1")
    assert times["t1"].step_s == 1800 and times["t1"].visits == 1
    assert studies.get_study(ctx.db, "s1").a11_population == ""
    ctx.close()
    # The backup is a faithful copy of the pre-upgrade file's content.
    assert before != _digest(db_path)


def test_not_sqlite_is_left_untouched(data_dir: Path) -> None:
    db_path = data_dir / "cxfield.sqlite"
    db_path.write_bytes(b"this is a text file, not a database\n" * 10)
    before = _digest(db_path)
    with pytest.raises(DataDirError, match="not an SQLite database"):
        open_app(data_dir)
    assert _digest(db_path) == before
    assert not (data_dir / "backups").exists()


def test_foreign_sqlite_is_left_untouched(data_dir: Path) -> None:
    db_path = data_dir / "cxfield.sqlite"
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = _digest(db_path)
    with pytest.raises(DataDirError, match="another program"):
        open_app(data_dir)
    assert _digest(db_path) == before


def test_newer_schema_is_left_untouched(data_dir: Path) -> None:
    ctx = open_app(data_dir)
    ctx.close()
    db_path = data_dir / "cxfield.sqlite"
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _digest(db_path)
    with pytest.raises(DataDirError, match="newer than this cxfield"):
        open_app(data_dir)
    assert _digest(db_path) == before

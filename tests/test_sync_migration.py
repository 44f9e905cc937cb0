"""Migration 0004: consent_text's wording number leaves the sync counter; sync tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from cxfield.app import open_app
from cxfield.services import journey_editor, studies
from cxfield.storage import migrate
from cxfield.storage.models import ConsentText

NOW = "2026-01-05T10:00:00.000000Z"
SYNC = "created_at, updated_at, version, device_id"


def _old_database(db_path: Path) -> None:
    """A 0003 file with a study whose consent text has two wordings."""
    migrate.upgrade_to(db_path, "0003")
    conn = sqlite3.connect(db_path)
    conn.execute(
        f"INSERT INTO study (id, {SYNC}, name, program, description, consent_text, "
        "consent_version, segment_attributes, extra_emotions, survey_version, "
        "survey_trust_variant, survey_effectiveness_variant, agency, a11_population) VALUES "
        f"('s1', '{NOW}', '{NOW}', 3, 'd', 'Old study', 'P', '', 'Second wording.', 2, '[]', "
        "'[]', 'v1', 'confidence', 'need', '', '')"
    )
    # 0003: `version` of consent_text is the wording number (it shadowed the sync counter).
    for row_id, number, text in (("c1", 1, "First wording."), ("c2", 2, "Second wording.")):
        conn.execute(
            f"INSERT INTO consent_text (id, created_at, updated_at, device_id, study_id, "
            f"version, text) VALUES ('{row_id}', '{NOW}', '{NOW}', 'd', 's1', {number}, "
            f"'{text}')"
        )
    conn.commit()
    conn.close()


def test_upgrade_from_0003_keeps_consent_wordings(data_dir: Path) -> None:
    db_path = data_dir / "cxfield.sqlite"
    _old_database(db_path)
    ctx = open_app(data_dir)
    try:
        assert ctx.upgrade is not None and ctx.upgrade.from_revision == "0003"
        assert ctx.upgrade.backup is not None
        assert migrate.current_revision(ctx.upgrade.backup) == "0003"
        history = journey_editor.consent_history(ctx.db, "s1")
        assert [(c.id, c.consent_version, c.version, c.text) for c in history] == [
            ("c1", 1, 1, "First wording."),
            ("c2", 2, 1, "Second wording."),
        ]
        study = studies.get_study(ctx.db, "s1")
        assert study.audio_upload is False and study.consent_version == 2
        # A new wording is number 3; its sync counter starts at 1 and counts changes.
        journey_editor.set_consent_text(ctx.db, "s1", "Third wording.")
        with ctx.db.session() as db:
            third = db.exec(select(ConsentText).where(ConsentText.consent_version == 3)).one()
            assert third.version == 1
            third.text = "Third wording, fixed."
            db.add(third)
        with ctx.db.session() as db:
            assert db.get(ConsentText, third.id).version == 2  # type: ignore[union-attr]
        # The wording number is still unique per study.
        with pytest.raises(IntegrityError), ctx.db.session() as db:
            db.add(ConsentText(study_id="s1", consent_version=2, text="Clash"))
        with ctx.db.engine.connect() as conn:
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
            create = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'sync_row'"
            ).scalar()
        assert {"sync_row", "sync_conflict", "sync_upload"} <= tables
        assert "WITHOUT ROWID" in str(create)
    finally:
        ctx.close()


def test_downgrade_to_0003_gives_the_wording_number_back(data_dir: Path) -> None:
    db_path = data_dir / "cxfield.sqlite"
    _old_database(db_path)
    open_app(data_dir).close()
    from alembic import command

    from cxfield.storage.database import make_engine

    engine = make_engine(db_path)
    with engine.begin() as connection:
        config = migrate.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    engine.dispose()
    conn = sqlite3.connect(db_path)
    rows = conn.execute("SELECT id, version FROM consent_text ORDER BY id").fetchall()
    columns = {r[1] for r in conn.execute("PRAGMA table_info('study')")}
    conn.close()
    assert rows == [("c1", 1), ("c2", 2)] and "audio_upload" not in columns

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy.exc import IntegrityError

from cxfield.app import AppContext
from cxfield.storage.models import Participant, Site, Study


def test_sync_fields_are_stamped_and_versioned(ctx: AppContext) -> None:
    with ctx.db.session() as db:
        site = Site(name="Eastside")
        db.add(site)
    assert site.version == 1
    assert site.device_id == ctx.db.device_id and len(site.id) == 36
    assert site.created_at.tzinfo is not None
    first_update = site.updated_at
    time.sleep(0.01)
    with ctx.db.session() as db:
        row = db.get(Site, site.id)
        assert row is not None
        row.name = "Eastside Service Center"
        db.add(row)
    with ctx.db.session() as db:
        row = db.get(Site, site.id)
        assert row is not None
        assert row.version == 2
        assert row.updated_at > first_update
        assert row.updated_at.tzinfo is not None
        # An unchanged save does not bump the version.
        db.add(row)
    with ctx.db.session() as db:
        again = db.get(Site, site.id)
        assert again is not None and again.version == 2


def test_device_id_is_stable(ctx: AppContext) -> None:
    from cxfield.storage.database import Database

    assert Database(ctx.paths.database).device_id == ctx.db.device_id


def test_wal_and_foreign_keys(ctx: AppContext) -> None:
    with ctx.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(IntegrityError), ctx.db.session() as db:
        db.add(Participant(study_id="no-such-study", code="P-001"))


def test_participant_code_unique_per_study(ctx: AppContext) -> None:
    with ctx.db.session() as db:
        study = Study(name="S")
        db.add(study)
    with ctx.db.session() as db:
        db.add(Participant(study_id=study.id, code="P-001"))
    with pytest.raises(IntegrityError), ctx.db.session() as db:
        db.add(Participant(study_id=study.id, code="P-001"))


def test_times_stored_as_utc_text(ctx: AppContext) -> None:
    with ctx.db.session() as db:
        db.add(Site(name="X"))
    raw = sqlite3.connect(ctx.paths.database).execute("SELECT created_at FROM site").fetchone()
    assert raw[0].endswith("Z")

"""The hub's schema exists only through its own Alembic history, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from cxfield.hub import storage
from cxfield.hub.app import create_app
from cxfield.hub.config import HubConfig, HubError, make_engine
from cxfield.hub.migrate import downgrade_hub, head_revision, upgrade_hub
from tests.hub_support import HubDatabase

HUB_TABLES = {
    "hub_record",
    "hub_conflict",
    "hub_counter",
    "hub_setting",
    "hub_account",
    "hub_token",
    "hub_audit",
    "hub_blob",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_the_schema_once_and_downgrade_removes_it(
    hub_database: HubDatabase,
) -> None:
    url = hub_database.url
    first = upgrade_hub(url)
    assert (first.from_revision, first.to_revision) == (None, head_revision())
    assert HUB_TABLES | {"alembic_version"} <= _tables(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        counter = conn.execute(select(storage.counter)).all()
        hub_id = conn.execute(select(storage.setting.c.value)).scalar_one()
    engine.dispose()
    assert [(row.name, row.value) for row in counter] == [("changes", 0)]

    again = upgrade_hub(url)
    assert again.from_revision == again.to_revision == head_revision()

    downgrade_hub(url, "base")
    assert not HUB_TABLES & _tables(url)
    upgrade_hub(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(storage.setting.c.value)).scalar_one() != hub_id
    engine.dispose()


def test_the_migrations_build_exactly_the_tables_the_code_uses(hub_database: HubDatabase) -> None:
    upgrade_hub(hub_database.url)
    engine = make_engine(hub_database.url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, storage.metadata) == []
    finally:
        engine.dispose()


def test_a_database_of_an_unknown_schema_is_left_untouched(hub_database: HubDatabase) -> None:
    upgrade_hub(hub_database.url)
    engine = make_engine(hub_database.url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'h9999'"))
    engine.dispose()
    with pytest.raises(HubError, match="h9999.*does not know"):
        upgrade_hub(hub_database.url)
    engine = make_engine(hub_database.url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "h9999"
    engine.dispose()


def test_the_app_refuses_a_database_that_was_not_upgraded(hub_database: HubDatabase) -> None:
    with pytest.raises(HubError, match="hub db upgrade"):
        create_app(HubConfig(hub_database.hub_dir, hub_database.url))


def test_hub_processes_starting_together_upgrade_one_after_the_other(
    hub_database: HubDatabase,
) -> None:
    results: list[object] = []
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            results.append(upgrade_hub(hub_database.url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == 3
    assert sorted(r.from_revision is None for r in results) == [False, False, True]  # type: ignore[attr-defined]


def test_a_new_sqlite_hub_file_busy_in_another_process_waits_for_it(tmp_path) -> None:
    """SQLite refuses to switch a file to WAL while another connection is writing, and
    says "database is locked" at once, without waiting: a hub starting beside another
    one on a new file must wait its turn instead (it failed 1 start in 30)."""
    path = tmp_path / "hub.db"
    busy = threading.Event()
    done = threading.Event()

    def hold_the_writer_lock() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("CREATE TABLE other_program (x)")
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO other_program VALUES (1)")
        busy.set()
        done.wait(0.5)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_the_writer_lock)
    holder.start()
    busy.wait(10)
    try:
        engine = make_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        engine.dispose()
    finally:
        done.set()
        holder.join(10)


def test_the_fact_indexes_carry_the_filtered_columns_on_postgresql(
    hub_database: HubDatabase,
) -> None:
    """A date range, site or researcher filter on the page reads the fact index alone
    (h0006); an index built before h0006 gains the columns on upgrade, and a downgrade
    takes them away again."""
    if not hub_database.url.startswith("postgresql"):
        pytest.skip("INCLUDE columns are PostgreSQL's")

    def definitions() -> dict[str, str]:
        engine = make_engine(hub_database.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
                         "('ix_hub_fact_step_study', 'ix_hub_fact_step_segment_study')")
                ).all()  # fmt: skip
                return dict(rows)  # type: ignore[arg-type]
        finally:
            engine.dispose()

    include = "INCLUDE (started_at, site_id, researcher_id, session_id)"
    upgrade_hub(hub_database.url)
    assert len(definitions()) == 2 and all(include in d for d in definitions().values())
    downgrade_hub(hub_database.url, "h0005")  # the indexes as a hub before h0006 had them
    assert len(definitions()) == 2 and not any(include in d for d in definitions().values())
    upgrade_hub(hub_database.url)
    assert len(definitions()) == 2 and all(include in d for d in definitions().values())


def test_h0009_gives_the_projection_the_transcript_check(hub_database: HubDatabase) -> None:
    """A hub whose projection predates laptop migration 0010 (downgraded to h0008): the
    upgrade adds the columns and refills the recording and study_protection tables from
    hub_record, so retention reads the mark the laptops pushed."""
    from datetime import UTC, datetime

    from cxfield.domain.ids import new_id
    from cxfield.storage.models import Recording, StudyProtection
    from cxfield.sync.protocol import content_hash, encode_row

    url = hub_database.url
    upgrade_hub(url)
    downgrade_hub(url, "h0008")
    engine = make_engine(url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("recording")}
        assert "transcript_checked_at" not in columns
        checked = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
        recording = Recording(
            session_id=new_id(),
            path="recordings/x.wav",
            transcript_checked_at=checked,
            transcript_checked_by="Ana",
        )
        protection = StudyProtection(study_id=new_id(), audio_days=30, audio_clock="checked")
        with engine.begin() as conn:
            for seq, (name, row) in enumerate(
                (("recording", recording), ("study_protection", protection)), 1
            ):
                data = encode_row(type(row), row.model_dump())
                conn.execute(
                    storage.record.insert().values(
                        table_name=name, row_id=row.id, owner_account_id="a", version=1,
                        content_hash=content_hash(data, name), data=data, deleted=False,
                        seq=seq, updated_by="a", updated_by_device="d",
                        updated_at=datetime.now(UTC),
                    )
                )  # fmt: skip
    finally:
        engine.dispose()
    upgrade_hub(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rec = storage.projection["recording"]
            got = conn.execute(
                select(rec.c.transcript_checked_at, rec.c.transcript_checked_by)
            ).one()
            clock = conn.execute(select(storage.projection["study_protection"].c.audio_clock))
            assert clock.scalar_one() == "checked"
    finally:
        engine.dispose()
    assert (got.transcript_checked_at.astimezone(UTC), got.transcript_checked_by) == (
        checked,
        "Ana",
    )

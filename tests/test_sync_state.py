"""What waits to be pushed: rows never synced, rows changed since; one indexed query per
table; rows written by a pull do not wait."""

from __future__ import annotations

from sqlalchemy import text

from cxfield.app import AppContext
from cxfield.services import demo, sites
from cxfield.storage.models import Site
from cxfield.sync import protocol
from cxfield.sync.rows import PULL_VERSION_STEP, update_row, wire
from cxfield.sync.state import (
    mark_synced,
    table_of,
    waiting_counts,
    waiting_rows,
    write_transaction,
)


def _push_all_locally(ctx: AppContext) -> None:
    """What a push does with "applied" answers, without a hub."""
    with write_transaction(ctx.db) as conn:
        for name in protocol.TABLE_ORDER:
            for row in waiting_rows(conn, name):
                mark_synced(
                    conn,
                    name,
                    row["id"],
                    local_version=row["version"],
                    hub_version=1,
                    hub_hash=protocol.content_hash(wire(name, row), name),
                )


def test_new_and_changed_rows_wait_and_synced_ones_do_not(ctx: AppContext) -> None:
    demo.create_demo(ctx.db, 3)
    counts = waiting_counts(ctx.db)
    with ctx.db.engine.connect() as conn:
        for name in protocol.TABLE_ORDER:
            real = conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar()
            assert counts.get(name, 0) == real, name
            assert len(waiting_rows(conn, name)) == real
    assert counts["session"] == 3 and counts["observation_visit"] > 0
    _push_all_locally(ctx)
    assert waiting_counts(ctx.db) == {}
    # A local change (through the app's services) waits again, with its hub base.
    site = sites.list_sites(ctx.db)[0]
    sites.rename_site(ctx.db, site.id, site.name, "Across the street")
    assert waiting_counts(ctx.db) == {"site": 1}
    with ctx.db.engine.connect() as conn:
        (row,) = waiting_rows(conn, "site")
    assert row["id"] == site.id and row["_base"] == 1 and row["location"] == "Across the street"
    # A deletion is a change too.
    other = next(s for s in sites.list_sites(ctx.db) if s.id != site.id)
    sites.delete_site(ctx.db, other.id)
    assert sum(waiting_counts(ctx.db).values()) == 2


def test_a_pulled_change_does_not_wait_but_an_edit_on_top_of_it_does(ctx: AppContext) -> None:
    site = sites.add_site(ctx.db, "Eastside", "old address")
    _push_all_locally(ctx)
    with write_transaction(ctx.db, foreign_keys=False) as conn:
        data = wire("site", {**site.model_dump(), "location": "from the hub"})
        assert update_row(conn, "site", site.id, data, site.version + PULL_VERSION_STEP)
        mark_synced(
            conn,
            "site",
            site.id,
            local_version=site.version + PULL_VERSION_STEP,
            hub_version=2,
            hub_hash=protocol.content_hash(data, "site"),
        )
    assert waiting_counts(ctx.db) == {}
    # An object loaded before the pull and saved after it (the ORM adds 1 to what it loaded)
    # is still a change: the pull's version step is 2, so the versions differ.
    with ctx.db.session() as db:
        stale = Site.model_validate(site.model_dump())
        stale.location = "typed before the pull arrived"
        db.merge(stale)
    assert waiting_counts(ctx.db) == {"site": 1}


def test_the_waiting_query_is_one_scan_with_key_lookups(ctx: AppContext) -> None:
    from sqlalchemy.dialects import sqlite

    from cxfield.sync.state import SYNC_ROW, _joined, _waiting_condition

    table = table_of("step_capture")
    query = (
        table.select()
        .with_only_columns(table.c.id)
        .select_from(_joined(table))
        .where(_waiting_condition(table))
    )
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with ctx.db.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    # one pass over the table, one primary-key lookup per row (sync_row is clustered on it)
    assert "SEARCH sync_row USING PRIMARY KEY (table_name=? AND row_id=?)" in plan, plan
    assert SYNC_ROW.name == "sync_row"


def test_a_conflict_about_an_older_push_is_still_this_laptops(ctx: AppContext) -> None:
    """The laptop pushed version 1 of a row, then version 2; the hub reports that version 1
    met another device's version (it pulls that only now): the laptop is still a party."""
    from cxfield.sync.client import SyncSummary
    from cxfield.sync.conflicts import list_conflicts
    from cxfield.sync.pull import _note_conflict

    site = sites.add_site(ctx.db, "Eastside", "v1")
    first = wire("site", site.model_dump())
    theirs = first | {"location": "someone else's"}
    with write_transaction(ctx.db) as conn:  # version 1 pushed
        digest = protocol.content_hash(first, "site")
        mark_synced(
            conn,
            "site",
            site.id,
            local_version=1,
            hub_version=1,
            hub_hash=digest,
            pushed_hash=digest,
        )
    second = wire("site", sites.rename_site(ctx.db, site.id, "Eastside", "v2").model_dump())
    with write_transaction(ctx.db) as conn:  # version 2 pushed: the laptop holds it, synced
        digest = protocol.content_hash(second, "site")
        mark_synced(
            conn,
            "site",
            site.id,
            local_version=2,
            hub_version=2,
            hub_hash=digest,
            pushed_hash=digest,
        )
    hashes = [protocol.content_hash(d, "site") for d in (first, second, theirs)]
    info = protocol.ConflictInfo(
        id="c-1",
        seq=9,
        table="site",
        row_id=site.id,
        winner_hash=max(hashes[0], hashes[2]),
        loser_hash=min(hashes[0], hashes[2]),
        winner_data=first if hashes[0] > hashes[2] else theirs,
        loser_data=theirs if hashes[0] > hashes[2] else first,
        created_at="2026-12-01T10:00:00.000000Z",
    )
    with write_transaction(ctx.db) as conn:
        _note_conflict(conn, info, SyncSummary(), ctx.db.device_id)
    (found,) = list_conflicts(ctx.db)
    assert found.mine == first and found.theirs == theirs

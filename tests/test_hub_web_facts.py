"""The page's facts and running totals follow every change a push brings (a session
rejected, a capture deleted, a participant's segment changed), equal what a rebuild from
the stored rows gives, and work the same on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col
from sqlmodel import select as sm_select

from cxfield.app import open_app
from cxfield.domain.ids import utcnow
from cxfield.hub import accounts, facts
from cxfield.hub import storage as t
from cxfield.services.demo import create_demo
from cxfield.storage.models import Participant, ResearchSession, StepCapture, Study
from cxfield.sync.protocol import TABLE_ORDER, TABLES
from tests.hub_support import InProcessHub, push_body, wire
from tests.test_hub_web import _bearer, _steps_table
from tests.web_support import (
    SyncedStudy,
    ratings,
    sessions_selected,
    step_names,
    two_laptops,
)

pytestmark = pytest.mark.timeout(300)


def _snapshot(engine: Any) -> dict[str, set[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: {tuple(row) for row in conn.execute(select(table))}
            for table in (*t.FACT_TABLES, *t.TOTAL_TABLES)
        }


def _expected(engine: Any, study_id: str, **only: Any) -> dict[str, int]:
    names = step_names(engine, study_id)
    chosen = sessions_selected(engine, study_id, **only)
    return {names[s]: len(v) for s, v in ratings(engine, chosen).items()}


def _page_n(client: TestClient, study_id: str, headers: dict[str, str], query: str = "") -> Any:
    page = client.get(f"/studies/{study_id}{query}", headers=headers)
    assert page.status_code == 200, page.text[:300]
    # steps only staff rate are in the table with the customers' n = 0
    return {name: n for name, (n, _mean) in _steps_table(page.text).items() if n}


def _staff_n(client: TestClient, study_id: str, headers: dict[str, str], query: str) -> Any:
    """step name -> the staff's n, from the page's steps table."""
    import re

    page = client.get(f"/studies/{study_id}{query}", headers=headers).text
    body = page.split('id="steps-table"', 1)[1].split("</table>", 1)[0]
    return {
        name: int(n)
        for name, n in re.findall(
            r'<th scope="row">\d+\. ([^<]+)</th>.*?data-staff-n="[^"]+">(\d+)<', body
        )
        if int(n)
    }


def _push_everything(hub_app: InProcessHub, ctx: Any) -> None:
    """Every row of a laptop pushed to the hub by a supervisor, 500 at a time."""
    rows = []
    with ctx.db.session() as db:
        for name in TABLE_ORDER:
            rows += [wire(obj) for obj in db.exec(sm_select(TABLES[name])).all()]
    pusher = hub_app.device("Sam", role="supervisor")
    for start in range(0, len(rows), 500):
        answer = hub_app.client.post(
            "/v1/push", json=push_body(rows[start : start + 500]), headers=pusher.headers
        )
        assert answer.status_code == 200
        assert {r["status"] for r in answer.json()["results"]} == {"applied"}


def test_totals_follow_edits_and_equal_a_rebuild(tmp_path: Path) -> None:
    synced: SyncedStudy = two_laptops(tmp_path)
    try:
        ana = synced.team.laptops[0]
        with ana.db.session() as db:
            approved = db.exec(
                sm_select(ResearchSession).where(
                    ResearchSession.study_id == synced.study_id,
                    ResearchSession.status == "approved",
                    ResearchSession.mode == "interview",
                )
            ).all()
            assert len(approved) >= 3
            approved[0].status = "rejected"  # type: ignore[assignment]
            db.add(approved[0])
            capture = db.exec(
                sm_select(StepCapture).where(
                    StepCapture.session_id == approved[1].id, col(StepCapture.valence).is_not(None)
                )
            ).first()
            assert capture is not None
            capture.deleted_at = utcnow()
            db.add(capture)
            person = db.get(Participant, approved[2].participant_id)
            assert person is not None
            person.segments = {**person.segments, "language": "Tagalog"}
            db.add(person)
            study = db.get(Study, synced.study_id)
            assert study is not None
            study.segment_attributes = [
                *study.segment_attributes,
                {"key": "visit_reason", "label": "Reason", "values": ["renewal"]},
            ]
            db.add(study)
        ana.sync()
        _info, enrol = accounts.add_user(synced.engine, "Facts Viewer", "viewer")
        token, _id, _a = accounts.enrol(synced.engine, enrol, "facts-viewer", "x")
        client = TestClient(synced.team.app)
        headers = _bearer(token)
        assert _page_n(client, synced.study_id, headers) == _expected(
            synced.engine, synced.study_id
        )
        # the facts path (a date range) gives the same
        dated = "?from=2000-01-01&to=2100-12-31"
        assert _page_n(client, synced.study_id, headers, dated) == _expected(
            synced.engine, synced.study_id
        )
        page = client.get(f"/studies/{synced.study_id}", headers=headers).text
        assert "Tagalog (1 sessions)" in page
        # a segment attribute added to the study: every session is "not recorded" for it
        lens = client.get(f"/studies/{synced.study_id}?lens=visit_reason", headers=headers).text
        interviews = len(sessions_selected(synced.engine, synced.study_id))
        assert f"Not recorded ({interviews} sessions)" in lens
        kept = _snapshot(synced.engine)
        with synced.engine.begin() as conn:
            facts.rebuild(conn)
        assert _snapshot(synced.engine) == kept
    finally:
        synced.team.close()


def test_pushed_rows_make_the_same_page_on_sqlite_and_postgresql(
    hub_app: InProcessHub, tmp_path: Path
) -> None:
    ctx = open_app(tmp_path / "laptop")
    try:
        study = create_demo(ctx.db, 30, seed=3, staff=6)
        _push_everything(hub_app, ctx)
    finally:
        ctx.close()
    viewer = hub_app.device("Vic", role="viewer")
    statuses = "?status=approved&status=submitted"
    chosen = ("approved", "submitted")
    want = _expected(hub_app.engine, study.id, statuses=chosen, kind="customer")
    staff = _expected(hub_app.engine, study.id, statuses=chosen, kind="staff")
    assert want and staff
    assert _page_n(hub_app.client, study.id, viewer.headers, statuses) == want
    assert _staff_n(hub_app.client, study.id, viewer.headers, statuses) == staff
    dated = statuses + "&from=2000-01-01"
    assert _page_n(hub_app.client, study.id, viewer.headers, dated) == want
    pdf = hub_app.client.get(f"/studies/{study.id}/report.pdf{statuses}", headers=viewer.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = hub_app.client.get(f"/studies/{study.id}/equity.csv{statuses}", headers=viewer.headers)
    assert csv.status_code == 200 and "language" in csv.text
    # a hub upgraded to h0003 with rows already stored makes the same page from them
    from cxfield.hub.migrate import downgrade_hub, upgrade_hub

    before = _snapshot(hub_app.engine)
    hub_app.engine.dispose()
    downgrade_hub(hub_app.db.url, "h0001")
    upgrade_hub(hub_app.db.url)
    viewer = hub_app.device("Val", role="viewer")
    assert _page_n(hub_app.client, study.id, viewer.headers, statuses) == want
    assert _staff_n(hub_app.client, study.id, viewer.headers, statuses) == staff
    assert _snapshot(hub_app.engine) == before


def test_date_ranges_read_whole_months_from_the_monthly_totals(
    hub_app: InProcessHub, tmp_path: Path
) -> None:
    """A date range is read as its whole months (monthly totals) plus the days of the
    months it cuts (facts): the page counts what the oracle counts, and every aggregate
    equals the one made from the facts alone, for ranges that cut months or do not."""
    import dataclasses
    from datetime import timedelta

    from cxfield.hub.web import aggregates
    from cxfield.services.analysis import SessionFilter
    from tests.web_support import started_day, stored

    ctx = open_app(tmp_path / "laptop")
    try:
        study = create_demo(ctx.db, 40, seed=5)
        with ctx.db.session() as db:
            sessions = db.exec(
                sm_select(ResearchSession).where(ResearchSession.study_id == study.id)
            ).all()
        # spread the sessions over seven months, so ranges cut months and hold others (as
        # a table update: approved sessions are read-only to the app)
        table = ResearchSession.__table__  # type: ignore[attr-defined]
        with ctx.db.engine.begin() as conn:
            for i, session in enumerate(sessions):
                moved = session.started_at - timedelta(days=5 * i)
                conn.execute(
                    table.update().where(table.c.id == session.id).values(started_at=moved)
                )
        _push_everything(hub_app, ctx)
    finally:
        ctx.close()
    days = sorted(started_day(s) for s in stored(hub_app.engine, "session"))
    first, last = days[0], days[-1]
    mid = first + (last - first) / 2
    ranges = [
        (first + timedelta(days=9), last - timedelta(days=9)),  # cuts both ends
        (mid.replace(day=1), last),  # starts on a month's first day
        (None, mid),  # open before
        (mid, None),  # open after
        (first.replace(day=1), (mid.replace(day=1) - timedelta(days=1))),  # whole months
        (mid.replace(day=3), mid.replace(day=20)),  # inside one month: facts only
    ]
    viewer = hub_app.device("Vic", role="viewer")
    statuses = ("approved", "submitted")
    segment = ("language", "Spanish")
    for lo, hi in ranges:
        query = "?status=approved&status=submitted"
        query += f"&from={lo.isoformat()}" if lo else ""
        query += f"&to={hi.isoformat()}" if hi else ""
        want = _expected(hub_app.engine, study.id, statuses=statuses, date_from=lo, date_to=hi)
        assert _page_n(hub_app.client, study.id, viewer.headers, query) == want, (lo, hi)
        flt = SessionFilter(date_from=lo, date_to=hi, statuses=statuses)
        whole = aggregates.month_parts(flt)
        assert (whole is None) == ((lo, hi) == ranges[-1]), (lo, hi)
        with hub_app.engine.connect() as conn:
            for chosen in (flt, dataclasses.replace(flt, segment=segment)):
                from_months = aggregates.step_aggregates(conn, study.id, chosen)
                from_facts = aggregates._fold(aggregates._step_facts(conn, study.id, chosen)).get(
                    "", {}
                )
                assert from_months == from_facts, (lo, hi, chosen.segment)
            attribute = {"key": "language", "label": "Language"}
            lens = aggregates.segment_view(conn, study.id, attribute, flt)
            facts_lens = aggregates._fold(
                aggregates._lens_facts(conn, study.id, "language", flt, [])
            )
            assert lens.curves.curves == facts_lens, (lo, hi)

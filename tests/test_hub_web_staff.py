"""The hub's shared map of a study with customer and staff interviews and an imported queue
export: the customers' curve leaves staff out, the staff's curve has its own n, the steps
both sides flag as painful are listed, and the operations lane shows the synced records —
each number checked against the stored rows (not through the page's code)."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cxfield.hub import accounts, facts
from cxfield.services.demo import create_demo
from cxfield.services.step_records import AGREE_SHARE
from tests.sync_support import Team
from tests.web_support import ratings, sessions_selected, step_names, stored

pytestmark = pytest.mark.timeout(300)

EVERY_STATE = "?status=approved&status=submitted&status=draft&status=has_issues"
STATES = ("approved", "submitted", "draft", "has_issues")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Any:
    team = Team(tmp_path_factory.mktemp("staffweb"))
    ana = team.laptop("Ana")
    study = create_demo(ana.db, 24, seed=7, staff=8, queue_rows=600)
    team.sync_for_review(ana)  # a supervisor decides the demo's decided sessions
    _info, enrol = accounts.add_user(team.app.state.hub.engine, "Vi Viewer", "viewer")
    token, _id, _account = accounts.enrol(team.app.state.hub.engine, enrol, "script", "script")
    client = TestClient(team.app, follow_redirects=False)
    client.headers["Authorization"] = f"Bearer {token}"
    yield team, study.id, client
    team.close()


def _sides(engine: Any, study_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The selection's customers' and staff's interview sessions, from the stored rows."""
    chosen = sessions_selected(engine, study_id, STATES)
    kind = {p["id"]: p.get("kind", "customer") for p in stored(engine, "participant")}
    staff = {k: v for k, v in chosen.items() if kind.get(v["participant_id"] or "") == "staff"}
    return {k: v for k, v in chosen.items() if k not in staff}, staff


def _table(html: str) -> dict[str, tuple[int, int | None]]:
    """step name -> (customers' n, staff n) from the page's steps table."""
    body = html.split('id="steps-table"', 1)[1].split("</table>", 1)[0]
    out: dict[str, tuple[int, int | None]] = {}
    for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", body):
        name = re.search(r'<th scope="row">\d+\. ([^<]+)</th>', row)
        n = re.search(r'data-n="[^"]+">(\d+)<', row)
        staff = re.search(r'data-staff-n="[^"]+">(\d+)<', row)
        assert name and n, row
        out[name.group(1)] = (int(n.group(1)), int(staff.group(1)) if staff else None)
    return out


def test_the_page_draws_both_curves_with_their_own_n(hub: Any) -> None:
    team, study_id, client = hub
    engine = team.app.state.hub.engine
    page = client.get(f"/studies/{study_id}{EVERY_STATE}")
    assert page.status_code == 200
    customers, staff = _sides(engine, study_id)
    assert customers and len(staff) == 8
    names = step_names(engine, study_id)
    want_customers = {names[s]: len(v) for s, v in ratings(engine, customers).items()}
    want_staff = {names[s]: len(v) for s, v in ratings(engine, staff).items()}
    table = _table(page.text)
    assert {k: n for k, (n, _s) in table.items() if n} == want_customers
    assert {k: s for k, (_n, s) in table.items() if s} == want_staff
    # the steps CSV: the same numbers, the staff's beside the customers'
    import csv
    import io

    answer = client.get(f"/studies/{study_id}/steps.csv{EVERY_STATE}")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert {r["step"]: int(r["n"]) for r in rows if int(r["n"])} == want_customers
    assert {r["step"]: int(r["staff_n"]) for r in rows if int(r["staff_n"])} == want_staff
    # backstage steps only staff rate are on the curve, with customers' n = 0
    assert any(want_staff.get(k) and not want_customers.get(k) for k in table)
    # the staff's dashed curve with square points, and each side's n under the steps
    chart = page.text.split('id="curve"', 1)[1].split("</svg>", 1)[0]
    assert 'class="staff"' in chart and "<rect" in chart
    assert chart.count("staff n = ") == len(table)
    assert "staff, dashed with square points (8 interviews" in page.text
    assert "8 of them with staff" in page.text


def test_the_page_lists_where_staff_and_customers_agree_a_step_hurts(hub: Any) -> None:
    team, study_id, client = hub
    engine = team.app.state.hub.engine
    page = client.get(f"/studies/{study_id}{EVERY_STATE}").text
    customers, staff = _sides(engine, study_id)
    pains: dict[tuple[str, str], set[str]] = defaultdict(set)
    captured: dict[tuple[str, str], set[str]] = defaultdict(set)
    side_of = {**{k: "c" for k in customers}, **{k: "s" for k in staff}}
    for c in stored(engine, "step_capture"):
        side = side_of.get(c["session_id"])
        if side is None or c["deleted_at"]:
            continue
        captured[(side, c["step_id"])].add(c["session_id"])
        if c["pain_point"]:
            pains[(side, c["step_id"])].add(c["session_id"])
    for n in stored(engine, "note"):  # a note tagged pain point at a step is one too
        side = side_of.get(n["session_id"])
        if side and n["step_id"] and not n["deleted_at"]:
            captured[(side, n["step_id"])].add(n["session_id"])
            if "pain_point" in (n["tags"] or []):
                pains[(side, n["step_id"])].add(n["session_id"])

    def hurts(side: str, step: str) -> bool:
        whole = len(captured[(side, step)])
        return whole > 0 and len(pains[(side, step)]) / whole >= AGREE_SHARE

    want = {s for s in step_names(engine, study_id) if hurts("c", s) and hurts("s", s)}
    listed = set(re.findall(r'<li class="agree" data-step="([^"]+)">', page))
    assert listed == want and want
    for step in want:
        item = page.split(f'data-step="{step}">', 1)[1].split("</li>", 1)[0]
        assert (
            f"customers: {len(pains[('c', step)])} of {len(captured[('c', step)])} captures" in item
        )
        assert f"staff: {len(pains[('s', step)])} of {len(captured[('s', step)])}" in item


def test_the_operations_lane_shows_the_synced_queue_export(hub: Any) -> None:
    team, study_id, client = hub
    engine = team.app.state.hub.engine
    page = client.get(f"/studies/{study_id}{EVERY_STATE}").text
    times: dict[str, list[float]] = defaultdict(list)
    for row in stored(engine, "ops_step_time"):
        if row["study_id"] == study_id and not row["deleted_at"]:
            times[row["step_id"]].append(row["seconds"])
    assert len(times) == 3 and sum(map(len, times.values())) > 1500
    body = page.split('id="ops-table"', 1)[1].split("</table>", 1)[0]
    for step_id, values in times.items():
        row = body.split(f'data-step="{step_id}">', 1)[1].split("</tr>", 1)[0]
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        median = statistics.median(values)
        shown = [int(x) for x in cells[0].split(":")]
        assert abs(sum(v * 60**k for k, v in enumerate(reversed(shown))) - median) < 1
        assert int(cells[2]) == len(values)
    assert "Correlation is not cause" in page and 'id="correlations"' in page
    assert re.search(r"r = [−+]\d\.\d\d across \d+ weeks", page)


def test_an_older_hubs_facts_are_made_again_with_the_staff_side(hub: Any) -> None:
    """Facts made before h0008 counted staff interviews as customers'; a rebuild (what the
    migration runs) puts them on their own side, and the page's numbers follow."""
    from sqlalchemy import delete, update

    from cxfield.hub import storage as t

    team, study_id, client = hub
    engine = team.app.state.hub.engine
    before = _table(client.get(f"/studies/{study_id}{EVERY_STATE}").text)
    with engine.begin() as conn:  # the facts and totals as h0007 made them
        for table in t.FACT_TABLES:
            if "mode" in table.c:
                conn.execute(
                    update(table).where(table.c.mode == t.STAFF_SIDE).values(mode="interview")
                )
        for total in t.TOTAL_TABLES:
            conn.execute(delete(total))
        facts.fill(conn, t.TOTAL_TABLES)
    mixed = _table(client.get(f"/studies/{study_id}{EVERY_STATE}").text)
    assert mixed != before  # the old facts mixed staff into the customers' curve
    with engine.begin() as conn:
        facts.rebuild(conn)
    assert _table(client.get(f"/studies/{study_id}{EVERY_STATE}").text) == before


def test_without_staff_or_operations_the_page_says_so(tmp_path: Path) -> None:
    team = Team(tmp_path)
    try:
        ana = team.laptop("Ana")
        study = create_demo(ana.db, 6, seed=3)
        team.sync_for_review(ana)
        engine = team.app.state.hub.engine
        _info, enrol = accounts.add_user(engine, "Vo Viewer", "viewer")
        token, _id, _a = accounts.enrol(engine, enrol, "script", "script")
        page = (
            TestClient(team.app)
            .get(f"/studies/{study.id}{EVERY_STATE}", headers={"Authorization": f"Bearer {token}"})
            .text
        )
        assert 'class="staff"' not in page and "data-staff-n" not in page
        assert 'id="agree"' not in page
        assert "No operations data" in page
    finally:
        team.close()


def test_the_hubs_report_pdf_says_what_the_page_says(hub: Any, tmp_path: Path) -> None:
    import subprocess

    team, study_id, client = hub
    page = client.get(f"/studies/{study_id}{EVERY_STATE}").text
    pdf = client.get(f"/studies/{study_id}/report.pdf{EVERY_STATE}")
    assert pdf.status_code == 200
    (tmp_path / "r.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    flat = " ".join(text.split())
    assert "staff (8 interviews)" in flat and "Customers and staff, step by step" in flat
    # the same steps agree on the page and in the PDF, with the same counts
    for item in re.findall(r'<li class="agree" data-step="[^"]+">(.+?)</li>', page):
        head = item.split(" Customers:", 1)[0].replace("&#x27;", "'")
        number, rest = head.split(". ", 1)
        _name, counts = rest.split(" — ", 1)
        assert f"{number}. " in flat and counts in flat, (head, flat[:400])
    assert "Operations data beside the experience" in flat

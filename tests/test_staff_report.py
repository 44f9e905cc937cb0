"""Customer and staff journeys together, and operations data beside them, in the study
report (read back with pdftotext), the journey map's data, the A-11 quarterly CSV and the
participants table: each side with its own n, where both agree a step hurts, the operations
lane and the correlation with its caution — numbers recomputed here from what was entered."""

from __future__ import annotations

import csv
import statistics
from datetime import timedelta
from pathlib import Path

import pytest

from cxfield.app import AppContext
from cxfield.domain.clock import duration_text
from cxfield.domain.operations import CORRELATION_CAUTION
from cxfield.domain.rules import device_prefix
from cxfield.export import jobs
from cxfield.services import ops_import, sites, survey_answers
from cxfield.services.step_records import flags_pain
from tests.export_support import normal, pdf_text
from tests.staff_support import NOW, T0, interview, office, rate, ticket, write_queue

#: the customers' Wait, one interview a week, and that week's waits in the queue export
WEEKLY_VALENCE = [-2, -2, -2, 0]
WEEKLY_WAIT_S = [3600, 3000, 1800, 600]


def _study_with_both_sides(ctx: AppContext, tmp_path: Path) -> tuple[str, dict[str, str]]:
    study, steps = office(ctx)
    east = sites.add_site(ctx.db, "Eastside").id
    for week, valence in enumerate(WEEKLY_VALENCE):
        sid = interview(ctx, study, T0 + timedelta(weeks=week), site_id=east)
        rate(ctx, sid, steps["Wait"], valence, pain=valence < 0)  # 3 of 4 pain points
        rate(ctx, sid, steps["Check in"], 1)
        rate(ctx, sid, steps["Document verification"], -1, pain=week == 0)  # 1 of 4
        if week < 2:
            survey_answers.save_survey(ctx.db, sid, satisfaction=4)
    # staff: the front desk at the Wait (2 of 2 pain points), a caseworker backstage
    for hour in (1, 2):
        sid = interview(ctx, study, T0 + timedelta(hours=hour), role="front desk")
        rate(ctx, sid, steps["Wait"], -1, pain=True)
    worker = interview(ctx, study, T0 + timedelta(hours=3), role="caseworker")
    rate(ctx, worker, steps["Caseworker enters application"], -2, pain=True)
    rate(ctx, worker, steps["Document verification"], 0)
    rows = []
    for week, wait in enumerate(WEEKLY_WAIT_S):
        for n in range(2):
            issued = T0 + timedelta(weeks=week, hours=n + 1)
            rows.append(ticket(len(rows) + 1, "Eastside", issued, wait, 900))
    path = write_queue(tmp_path / "queue.csv", rows)
    ops_import.import_operations(
        ctx.db, study.id, path, [("issued", "Wait"), ("called", "Intake interview")],
        end_column="closed", site_column="office",
    )  # fmt: skip
    return study.id, steps


def _pearson(xs: list[float], ys: list[float]) -> float:
    return statistics.correlation(xs, ys)


def test_report_shows_both_sides_agreement_and_the_operations_lane(
    ctx: AppContext, tmp_path: Path
) -> None:
    study_id, steps = _study_with_both_sides(ctx, tmp_path)
    out = tmp_path / "report.pdf"
    jobs.export_study_pdf(ctx.db, study_id, out, now=NOW)
    plain = normal(pdf_text(out))
    # the customers' curve is the customers' own (with staff it would be n=6, mean −1.33)
    assert "Hardest step: Arrive › Wait (mean −1.50, n=4; pain point in 3 of 4 captures" in plain
    assert "Staff interviews 3 (counted apart from customers')" in plain
    assert "7 (7 interviews, 0 observations)" in plain
    # the staff section: its own n beside the customers'
    assert "4 customer interviews and 3 staff interviews (caseworker 1, front desk 2)" in plain
    assert "3. Arrive › Wait −1.5 (n=4) 3 of 4 (75%) −1.0 (n=2) 2 of 2 (100%)" in plain
    assert "5. Interview › Caseworker enters application – – −2.0 (n=1) 1 of 1 (100%)" in plain
    # where both agree it hurts: the Wait only (document verification: customers 25 %,
    # staff none; the caseworker's backstage step: no customer captures)
    assert flags_pain(1, 4) and not flags_pain(0, 1)
    agreed = plain.split("Staff and customers agree this step hurts")[-1].split("Pain points,")[0]
    assert "3. Arrive › Wait — customers: 3 of 4 captures (75%); staff: 2 of 2 (100%)" in agreed
    assert "Document verification —" not in agreed and "Caseworker enters" not in agreed
    assert "Staff and customers agree these steps hurt: 3. Arrive › Wait." in plain  # findings

    # the operations lane beside observed times and feelings
    waits = sorted(float(w) for w in WEEKLY_WAIT_S for _ in range(2))
    median, p90 = statistics.median(waits), statistics.quantiles(waits, n=10, method="inclusive")[8]
    assert "8 customer records from 1 imported file, 2026-11-02 to 2026-11-23" in plain
    row = f"3. Arrive › Wait {duration_text(median)} {duration_text(p90)} 8 2.0 – −1.5 (n=4)"
    assert row in plain, plain[plain.find("Operations data beside") :][:900]
    r = _pearson([float(w) for w in WEEKLY_WAIT_S], [float(v) for v in WEEKLY_VALENCE])
    words = f"r = {r:+.2f} across 4 weeks".replace("-", "−")
    assert f"3. Arrive › Wait: longer times went strongly with worse feelings ({words})" in plain
    assert normal(CORRELATION_CAUTION) in plain
    assert "Customers per site" in plain and "busiest: 2026-11-02 (2)" in plain
    # the journey map page carries both sides' rows and the operations lane
    assert "Staff ratings" in plain and "Ops median · p90" in plain
    assert "customers (4 interviews)" in plain and "staff (3 interviews)" in plain


def test_journey_map_data_gives_the_same_numbers(ctx: AppContext, tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    from cxfield.gui.journey.journey_map_canvas import load_map_data
    from cxfield.gui.journey.journey_map_rows import correlation_text, ops_text
    from cxfield.gui.journey.journey_map_view import sides_text

    study_id, steps = _study_with_both_sides(ctx, tmp_path)
    data = load_map_data(ctx.db, study_id, None)
    wait = steps["Wait"]
    assert (data.customer_interviews, data.staff_interviews) == (4, 3)
    assert (data.aggregates[wait].valence.n, data.aggregates[wait].pain_points) == (4, 3)
    assert (data.staff[wait].valence.n, data.staff[wait].pain_points) == (2, 2)
    assert [a.step_id for a in data.agreement] == [wait]
    assert "Staff and customers agree this step hurts" in sides_text(data)
    assert "3. Wait (customers 3 of 4, staff 2 of 2)" in sides_text(data)
    assert "Correlation is not cause" in sides_text(data)
    waits = sorted(float(w) for w in WEEKLY_WAIT_S for _ in range(2))
    assert ops_text(data, wait).splitlines() == [
        f"median {duration_text(statistics.median(waits))}",
        f"p90 {duration_text(statistics.quantiles(waits, n=10, method='inclusive')[8])}",
        "8 customers, 2.0 a day",
    ]
    r = _pearson([float(w) for w in WEEKLY_WAIT_S], [float(v) for v in WEEKLY_VALENCE])
    assert correlation_text(data, wait) == (
        f"r = {r:+.2f}, 4 weeks\nlonger: felt worse".replace("-", "−")
    )
    # the equity lens and the quotes stay the customers'
    assert data.segments is None
    with_lens = load_map_data(ctx.db, study_id, "language")
    assert with_lens.segments is not None and sum(with_lens.segments.sessions.values()) == 4


def test_a11_csv_gains_hisp_fields_and_counts_customers_only(
    ctx: AppContext, tmp_path: Path
) -> None:
    study_id, _steps = _study_with_both_sides(ctx, tmp_path)
    out = tmp_path / "a11.csv"
    jobs.export_a11_csv(ctx.db, study_id, "2026Q4", out)
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7
    first = rows[0]
    assert first["sessions"] == "4"  # the 3 staff interviews are not the customers'
    assert first["responses"] == "2" and first["surveys_offered"] == "4"
    assert first["customers_served"] == "8"  # tickets issued in the quarter
    assert first["channel"] == "In person; Mail"
    assert rows[0]["count_4"] == "2"
    earlier = tmp_path / "a11-q3.csv"
    jobs.export_a11_csv(ctx.db, study_id, "2026Q3", earlier)
    with earlier.open(encoding="utf-8-sig") as handle:
        q3 = next(csv.DictReader(handle))
    assert (q3["customers_served"], q3["sessions"]) == ("0", "0")  # imported, none that quarter


def test_a11_without_operations_data_leaves_customers_served_empty(
    ctx: AppContext, tmp_path: Path
) -> None:
    study, steps = office(ctx)
    sid = interview(ctx, study, T0)
    rate(ctx, sid, steps["Wait"], -1)
    out = tmp_path / "a11.csv"
    jobs.export_a11_csv(ctx.db, study.id, "2026Q4", out)
    with out.open(encoding="utf-8-sig") as handle:
        first = next(csv.DictReader(handle))
    assert first["customers_served"] == "" and first["surveys_offered"] == "1"


def test_participants_csv_has_kind_role_and_staff_segments(ctx: AppContext, tmp_path: Path) -> None:
    study_id, _steps = _study_with_both_sides(ctx, tmp_path)
    jobs.export_study_csv(ctx.db, study_id, tmp_path / "csv")
    with (tmp_path / "csv" / "participants.csv").open(encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        columns = reader.fieldnames or []
    assert columns[:8] == [
        "participant_id", "code", "sessions", "withdrawn", "withdrawn_at", "created_at", "kind",
        "role",
    ]  # fmt: skip
    assert "segment_language" in columns and "segment_years_in_post" in columns
    kinds = sorted((r["code"], r["kind"], r["role"]) for r in rows)
    pre = device_prefix(ctx.db.device_id)
    assert kinds[:1] == [(f"P-{pre}-001", "customer", "")]
    assert kinds[-3:] == [
        (f"S-{pre}-001", "staff", "front desk"),
        (f"S-{pre}-002", "staff", "front desk"),
        (f"S-{pre}-003", "staff", "caseworker"),
    ]


def test_report_says_what_staff_said_and_their_workarounds(ctx: AppContext, tmp_path: Path) -> None:
    from cxfield.services import capture

    study, steps = office(ctx)
    desk = []
    for hour in (1, 2):
        sid = interview(ctx, study, T0 + timedelta(hours=hour), role="front desk")
        capture.save_capture(
            ctx.db, sid, steps["Wait"], valence=-1, quote="Nobody can tell them how long."
        )
        capture.add_note(
            ctx.db, sid, "Writes the wait on the whiteboard.", tags=["workaround"],
            step_id=steps["Wait"],
        )  # fmt: skip
        desk.append(sid)
    capture.add_note(  # the same session's same words again: heard once per session
        ctx.db, desk[0], "writes the wait on the whiteboard.", tags=["workaround"],
        step_id=steps["Wait"],
    )  # fmt: skip
    worker = interview(ctx, study, T0 + timedelta(hours=3), role="caseworker")
    capture.add_note(
        ctx.db, worker, "Copies answers from the paper form.", tags=["workaround"],
        step_id=steps["Caseworker enters application"],
    )  # fmt: skip
    capture.add_note(  # an idea is not a workaround
        ctx.db, worker, "A second screen would help.", tags=["idea"],
        step_id=steps["Caseworker enters application"],
    )  # fmt: skip
    customer = interview(ctx, study, T0 + timedelta(hours=4))
    rate(ctx, customer, steps["Wait"], -2)
    capture.add_note(  # a customer's workaround is not the staff's
        ctx.db, customer, "Brought a book.", tags=["workaround"], step_id=steps["Wait"]
    )
    out = tmp_path / "report.pdf"
    jobs.export_study_pdf(ctx.db, study.id, out, now=NOW)
    plain = normal(pdf_text(out))
    part = plain.split("What staff said, and their workarounds")[1].split("Pain points,")[0]
    assert (
        "3. Arrive › Wait “Nobody can tell them how long.” (heard 2×) "
        "“Writes the wait on the whiteboard.” (heard 2×)"
    ) in part, part[:600]
    assert (
        "5. Interview › Caseworker enters application – “Copies answers from the paper form.”"
        in (part)
    )
    assert "Brought a book" not in part and "second screen" not in part

"""The README's walk-through of customer and staff journeys with a queue export, run line by
line as a user types it: the demo writes its queue export to a file, `ops import` brings it
in (twice: nothing doubles), and the report PDF shows both curves, the operations lane and
where staff and customers agree a step hurts — each number read back from the PDF's text and
checked against the file and the stored rows, not against the code that made them."""

from __future__ import annotations

import json
import re
import shlex
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import open_app
from cxfield.domain.clock import duration_text
from cxfield.storage.models import (
    Note,
    OpsRecord,
    Participant,
    ResearchSession,
    Step,
    StepCapture,
)
from tests.test_cli import cli_env

pytestmark = pytest.mark.timeout(300)
README = Path(__file__).resolve().parents[1] / "README.md"


def readme_lines() -> list[str]:
    """The shell lines of the README's block after "To try it end to end"."""
    text = README.read_text(encoding="utf-8")
    block = text.split("To try it end to end", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("   #", 1)[0].split("  # ", 1)[0].strip() for line in block.splitlines()]


def _run(line: str, data_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    words = shlex.split(line)
    assert words[0] == "cxfield", line
    return subprocess.run(
        [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), *words[1:]],
        capture_output=True, text=True, env=cli_env(), timeout=120, cwd=cwd,
    )  # fmt: skip


def _queue_times(path: Path) -> dict[str, list[float]]:
    """step -> seconds in it, straight from the workbook: a step runs from its column's time
    to the next filled mapped column's, the last to `closed`."""
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    head = [str(c) for c in rows[0]]
    mapped = [
        ("issued", "Wait"),
        ("called", "Intake interview"),
        ("verify", "Document verification"),
    ]
    out: dict[str, list[float]] = defaultdict(list)
    for row in rows[1:]:
        cells = dict(zip(head, row, strict=True))
        filled = [(step, cells[col]) for col, step in mapped if cells[col] is not None]
        ends = [t for _s, t in filled[1:]] + [cells["closed"]]
        for (step, start), end in zip(filled, ends, strict=True):
            assert isinstance(start, datetime) and isinstance(end, datetime)
            out[step].append((end - start).total_seconds())
    return out


def _agreeing_steps(data_dir: Path, study_id: str) -> dict[str, tuple[int, int, int, int]]:
    """step name -> (customer pains, captures, staff pains, captures) where at least a quarter
    of each side's captures of the step are pain points (the report's selection: every
    interview but rejected ones, withdrawn participants left out)."""
    ctx = open_app(data_dir)
    try:
        with ctx.db.session() as db:
            names = {s.id: s.name for s in db.exec(select(Step).where(Step.study_id == study_id))}
            side = {}
            for s, p in db.exec(
                select(ResearchSession, Participant).join(
                    Participant, Participant.id == ResearchSession.participant_id
                )
            ):
                chosen = s.study_id == study_id and s.mode == "interview"
                if chosen and s.status != "rejected" and not p.withdrawn and not s.deleted_at:
                    side[s.id] = p.kind
            captured: dict[tuple[str, str], set[str]] = defaultdict(set)
            pains: dict[tuple[str, str], set[str]] = defaultdict(set)
            for c in db.exec(select(StepCapture)):
                if c.session_id in side and c.deleted_at is None:
                    captured[(side[c.session_id], c.step_id)].add(c.session_id)
                    if c.pain_point:
                        pains[(side[c.session_id], c.step_id)].add(c.session_id)
            for n in db.exec(select(Note)):
                if n.session_id in side and n.step_id and n.deleted_at is None:
                    captured[(side[n.session_id], n.step_id)].add(n.session_id)
                    if "pain_point" in (n.tags or []):
                        pains[(side[n.session_id], n.step_id)].add(n.session_id)
    finally:
        ctx.close()

    def counts(kind: str, step: str) -> tuple[int, int]:
        return len(pains[(kind, step)]), len(captured[(kind, step)])

    out = {}
    for step, name in names.items():
        (cp, cc), (sp, sc) = counts("customer", step), counts("staff", step)
        if cc and sc and cp / cc >= 0.25 and sp / sc >= 0.25:
            out[name] = (cp, cc, sp, sc)
    return out


def test_the_readme_walk_through_gives_both_curves_the_ops_lane_and_agreement(
    tmp_path: Path,
) -> None:
    data_dir, work = tmp_path / "data", tmp_path / "work"
    work.mkdir()
    lines = readme_lines()
    assert len(lines) == 6 and lines[0].startswith("cxfield demo --queue-export")
    # the demo: customer and staff interviews; the export written, not imported
    made = _run(lines[0], data_dir, work)
    assert made.returncode == 0, made.stderr
    study_id = made.stdout.strip()
    export = work / "queue-export.xlsx"
    assert export.exists() and "cxfield ops import " + study_id in made.stderr
    before = _run(f"cxfield ops show {study_id}", data_dir, work)
    assert "No operations data" in before.stdout
    lines = [line.replace("STUDY_ID", study_id) for line in lines]
    first = _run(lines[1], data_dir, work)
    assert first.returncode == 0 and "600 rows, 600 new" in first.stdout, first.stderr
    again = _run(lines[2], data_dir, work)
    assert again.returncode == 0 and "nothing added" in again.stdout, again.stderr
    ctx = open_app(data_dir)
    with ctx.db.session() as db:
        assert len(db.exec(select(OpsRecord).where(OpsRecord.study_id == study_id)).all()) == 600
    ctx.close()
    # ops show: the medians and volumes of the file itself
    want = _queue_times(export)
    shown = json.loads(_run(f"cxfield ops show {study_id} --json", data_dir, work).stdout)
    got = {s["step"]: s for s in shown["steps"]}
    for step, seconds in want.items():
        assert got[step]["customers"] == len(seconds)
        assert got[step]["median_s"] == pytest.approx(statistics.median(seconds))
    table = _run(lines[3], data_dir, work).stdout
    assert re.search(rf"Wait\s+600\s+600\s+{duration_text(statistics.median(want['Wait']))}", table)
    # the correlation in words with its n, and the caution that it is not cause
    wait = got["Wait"]["correlation"]
    r = f"{wait['r']:+.2f}".replace("-", "\u2212")
    assert f"{got['Wait']['number']}. Wait: " in table
    assert f"(r = {r} across {wait['n']} {wait['across']})" in table and wait["n"] >= 4
    assert "Correlation is not cause" in table
    people = _run(lines[4], data_dir, work).stdout
    assert re.search(r"^S-\d{3}\s+staff\s+caseworker", people, re.M)
    customers = re.findall(r"^(P-\d{3})\s+customer", people, re.M)
    staff = re.findall(r"^(S-\d{3})\s+staff", people, re.M)
    assert customers == [f"P-{n:03d}" for n in range(1, 11)]  # 12 sessions, 2 observations
    assert staff == [f"S-{n:03d}" for n in range(1, 7)]
    # the report: both curves, the operations lane, and where both sides agree it hurts
    done = _run(lines[5], data_dir, work)
    assert done.returncode == 0, done.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(work / "report.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Customers and staff, step by step" in text
    assert re.search(r"customers \(\d+ interviews\)\s+staff \(6 interviews\)", text)
    ops = text.split("Operations data beside the experience", 1)[1]
    assert "600 customer records from 1 imported file" in ops
    for step, seconds in want.items():
        median = duration_text(statistics.median(seconds))
        row = rf"^\s*{got[step]['number']}\. [^\n]*?\s{median}\s+\S+\s+{len(seconds)}\s"
        assert re.search(row, ops, re.M), (step, median)  # the name may wrap: its number
    assert "Correlation is not cause" in ops
    agree = " ".join(
        text.split("Staff and customers agree this step hurts", 1)[1]
        .split("Pain points, ranked", 1)[0]
        .split()
    )
    expected = _agreeing_steps(data_dir, study_id)
    assert expected, "the demo should have steps both sides find painful"
    listed = re.findall(
        r"\d+\. \w+ › ([^—]+?) — customers: (\d+) of (\d+) captures \(\d+%\); "
        r"staff: (\d+) of (\d+)",
        agree,
    )
    assert {name: tuple(map(int, rest)) for name, *rest in listed} == expected


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_written_queue_export_is_the_one_the_demo_imports(tmp_path: Path, suffix: str) -> None:
    from datetime import UTC

    from cxfield.services import demo, demo_staff, ops_analysis, ops_import

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    imported, written = open_app(tmp_path / "a"), open_app(tmp_path / "b")
    try:
        one = demo.create_demo(imported.db, 12, staff=6, queue_rows=600, now=lambda: now)
        path = tmp_path / f"queue{suffix}"
        two = demo.create_demo(
            written.db, 12, staff=6, queue_rows=600, now=lambda: now, queue_export=path
        )
        assert ops_analysis.ops_summary(written.db, two.id).empty and path.exists()
        ops_import.import_operations(
            written.db, two.id, path, list(demo_staff.QUEUE_MAP), end_column="closed",
            site_column="site",
        )  # fmt: skip
        a, b = (
            ops_analysis.ops_summary(imported.db, one.id),
            ops_analysis.ops_summary(written.db, two.id),
        )
        names_a = {s.id: s.name for s in _steps(imported, one.id)}
        names_b = {s.id: s.name for s in _steps(written, two.id)}
        assert a.records == b.records == 600
        figures = {
            names_a[k]: (v.volume, v.median_s, v.p90_s, v.per_site) for k, v in a.steps.items()
        }
        assert figures == {
            names_b[k]: (v.volume, v.median_s, v.p90_s, v.per_site) for k, v in b.steps.items()
        }
        assert {names_a[k]: round(c.r, 6) for k, c in a.correlations.items()} == {
            names_b[k]: round(c.r, 6) for k, c in b.correlations.items()
        }
    finally:
        imported.close()
        written.close()


def _steps(ctx: object, study_id: str) -> list[Step]:
    with ctx.db.session() as db:  # type: ignore[attr-defined]
        return list(db.exec(select(Step).where(Step.study_id == study_id)).all())


def test_a_queue_export_that_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    taken = tmp_path / "taken.csv"
    taken.write_text("mine\n", encoding="utf-8")
    for target, says in (
        (taken, "already exists"),
        (tmp_path / "queue.txt", "written as .csv or .xlsx"),
        (tmp_path / "no" / "queue.csv", "No folder"),
    ):
        done = _run(f"cxfield demo --queue-export {target}", data_dir, tmp_path)
        assert done.returncode == 1 and says in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and not done.stdout
    assert taken.read_text(encoding="utf-8") == "mine\n"  # never written over
    listed = _run("cxfield studies list --json", data_dir, tmp_path)
    assert json.loads(listed.stdout) == []  # no demo study was made
    empty = _run(
        f"cxfield demo --sessions 0 --queue-export {tmp_path / 'q.csv'}", data_dir, tmp_path
    )
    assert empty.returncode == 0 and "no queue export was written" in empty.stderr
    assert not (tmp_path / "q.csv").exists()

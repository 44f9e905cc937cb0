"""Operations data: `cxfield ops import` from CSV and XLSX, whole-file checks naming the bad
lines (nothing half-imported), no double counting of a file or of its rows, and the
per-step figures (median, p90, per day, per site) read back from `cxfield ops show`."""

from __future__ import annotations

import json
import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from cxfield.app import AppContext, open_app
from cxfield.domain.clock import duration_text
from cxfield.domain.errors import ValidationError
from cxfield.domain.operations import parse_time, pearson, quantile, row_intervals
from cxfield.services import ops_analysis, ops_files, ops_import
from cxfield.storage.models import OpsImport, OpsRecord, OpsStepTime
from tests.staff_support import T0, office, stamp, ticket, write_queue
from tests.test_cli import run

#: (office, minutes after T0, wait s, serve s): two days, two offices
TICKETS = [
    ("Eastside", 0, 600, 300),
    ("Eastside", 10, 1200, 240),
    ("Riverside", 20, 1800, 600),
    ("Riverside", 30, 2400, 420),
    ("Eastside", 24 * 60 + 5, 300, 180),
    ("Riverside", 24 * 60 + 15, 3600, 900),
    ("Riverside", 24 * 60 + 25, 900, 360),
]


def _rows(tickets: list[tuple[str, int, int, int]] = TICKETS) -> list[tuple[str, ...]]:
    return [
        ticket(n, where, T0 + timedelta(minutes=m), wait, serve)
        for n, (where, m, wait, serve) in enumerate(tickets, start=1)
    ]


def _count(ctx: AppContext, model: type) -> int:
    with ctx.db.session() as db:
        return int(db.exec(select(func.count()).select_from(model)).one())


def test_times_and_statistics() -> None:
    assert stamp(parse_time("2026-03-01 09:15")) == "2026-03-01 09:15:00"  # type: ignore[arg-type]
    assert parse_time("2026-03-01T10:15:30+01:00") == parse_time("2026-03-01 09:15:30Z")
    assert parse_time("") is None
    for bad in ("03/01/2026 09:15", "soon", "2026-02-30 10:00"):
        with pytest.raises(ValueError):
            parse_time(bad)
    a, b, c = (parse_time(f"2026-03-01 09:{m:02d}") for m in (0, 10, 30))
    got = row_intervals([a, None, b], c)  # the customer was never "called"
    assert [(i.position, i.seconds) for i in got] == [(0, 600.0), (2, 1200.0)]
    with pytest.raises(ValueError):
        row_intervals([b, a], None)
    values = sorted([5.0, 1.0, 9.0, 3.0, 7.0, 2.0])
    assert quantile(values, 0.5) == statistics.median(values)
    assert quantile(values, 0.9) == pytest.approx(
        statistics.quantiles(values, n=10, method="inclusive")[8]
    )
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 1, 1], [1, 2, 3]) is None


def test_import_from_the_cli_and_read_the_numbers_back(data_dir: Path, tmp_path: Path) -> None:
    ctx = open_app(data_dir)
    study, steps = office(ctx)
    ctx.close()
    path = write_queue(tmp_path / "queue.csv", _rows())
    maps = ["--map", "issued=Wait", "called=4"]  # by name and by the map's number
    done = run("ops", "import", study.id, str(path), *maps, "--end", "closed", "--site",
               "office", data_dir=data_dir)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Imported queue.csv: 7 rows, 7 new, 0 already in the study."

    shown = json.loads(run("ops", "show", study.id, "--json", data_dir=data_dir).stdout)
    assert shown["records"] == 7 and shown["imports"] == 1
    assert (shown["first_day"], shown["last_day"]) == ("2026-11-02", "2026-11-03")
    by_step = {s["step"]: s for s in shown["steps"]}
    waits = sorted(float(w) for _o, _m, w, _s in TICKETS)
    serves = sorted(float(s) for _o, _m, _w, s in TICKETS)
    wait, intake = by_step["Wait"], by_step["Intake interview"]
    assert wait["number"] == 3 and intake["number"] == 4
    assert wait["customers"] == 7 and wait["timed"] == 7
    assert wait["median_s"] == statistics.median(waits) == 1200
    assert wait["p90_s"] == pytest.approx(statistics.quantiles(waits, n=10, method="inclusive")[8])
    assert intake["median_s"] == statistics.median(serves)
    assert wait["per_day"] == {"2026-11-02": 4, "2026-11-03": 3}
    assert wait["per_site"] == {"Riverside": 4, "Eastside": 3}
    assert wait["mean_per_day"] == 3.5
    text = run("ops", "show", study.id, data_dir=data_dir).stdout
    assert "7 records from 1 file(s), 2026-11-02 to 2026-11-03" in text
    p90 = duration_text(statistics.quantiles(waits, n=10, method="inclusive")[8])
    assert f"3 Wait 7 7 20:00 {p90} 3.5" in " ".join(text.split())

    # the same file again: nothing added; an export that overlaps adds only its new rows
    again = run("ops", "import", study.id, str(path), *maps, "--end", "closed", data_dir=data_dir)
    assert again.returncode == 0 and "was imported on" in again.stdout
    assert "nothing added" in again.stdout
    more = _rows() + [ticket(99, "Eastside", T0 + timedelta(days=2), 60, 60)]
    bigger = write_queue(tmp_path / "queue-week.csv", more)
    grown = run("ops", "import", study.id, str(bigger), *maps, "--end", "closed", "--site",
                "office", data_dir=data_dir)  # fmt: skip
    assert "8 rows, 1 new, 7 already in the study" in grown.stdout
    shown = json.loads(run("ops", "show", study.id, "--json", data_dir=data_dir).stdout)
    assert shown["records"] == 8 and shown["imports"] == 2


def test_a_file_with_bad_rows_is_refused_whole(ctx: AppContext, tmp_path: Path) -> None:
    study, _steps = office(ctx)
    rows = _rows()
    rows[1] = ("A0002", "Eastside", "yesterday", rows[1][3], rows[1][4])  # line 3
    rows[3] = ("A0004", "Riverside", rows[3][2], "2026-11-02 08:00:00", rows[3][4])  # line 5
    rows[5] = ("A0006", "Riverside", "", "", "")  # line 7: no time at all
    path = write_queue(tmp_path / "bad.csv", rows)
    pairs = [("issued", "Wait"), ("called", "Intake interview")]
    with pytest.raises(ValidationError) as refused:
        ops_import.import_operations(ctx.db, study.id, path, pairs, end_column="closed")
    message = str(refused.value)
    assert message.startswith("bad.csv: 3 bad lines, nothing imported — line 3: 'yesterday'")
    assert "line 5: 'called' is earlier than 'issued'" in message
    assert "line 7: no time in any mapped column" in message
    assert "\n" not in message
    assert (_count(ctx, OpsImport), _count(ctx, OpsRecord), _count(ctx, OpsStepTime)) == (0, 0, 0)
    for wrong, expected in (
        ([("issued", "Wait"), ("queue", "4")], "'queue' is not a column of bad.csv"),
        ([("issued", "Wait"), ("called", "Wait")], "Two columns are mapped to the step"),
        ([("issued", "42")], "There is no step 42"),
        ([], "Map at least one column"),
    ):
        with pytest.raises(ValidationError, match=expected):
            ops_import.import_operations(ctx.db, study.id, path, wrong)
    assert _count(ctx, OpsRecord) == 0


def test_xlsx_gives_the_same_numbers_as_csv(ctx: AppContext, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    study, steps = office(ctx)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ticket", "office", "issued", "called", "closed"])
    for n, (where, minutes, wait, serve) in enumerate(TICKETS, start=1):
        issued = (T0 + timedelta(minutes=minutes)).replace(tzinfo=None)  # sheets have no zone
        called = issued + timedelta(seconds=wait)
        sheet.append([f"A{n:04d}", where, issued, called, called + timedelta(seconds=serve)])
    sheet.append([None, None, None, None, None])  # an empty row at the end is no row
    book.save(tmp_path / "queue.xlsx")
    preview = ops_files.preview(tmp_path / "queue.xlsx")
    assert preview.rows == 7
    guessed = {c.name: (c.looks_like_times, c.looks_like_site) for c in preview.columns}
    assert guessed == {
        "ticket": (False, False),
        "office": (False, True),
        "issued": (True, False),
        "called": (True, False),
        "closed": (True, False),
    }
    result = ops_import.import_operations(
        ctx.db, study.id, tmp_path / "queue.xlsx", [("issued", "Wait")], end_column="called",
        site_column="office",
    )  # fmt: skip
    assert (result.rows, result.added) == (7, 7)
    wait = ops_analysis.ops_summary(ctx.db, study.id).steps[steps["Wait"]]
    assert wait.median_s == 1200 and wait.per_site == {"Riverside": 4, "Eastside": 3}
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ValidationError, match="not a readable XLSX workbook"):
        ops_files.read_table(broken)


def test_the_same_rows_get_the_same_ids_on_every_laptop(tmp_path: Path) -> None:
    """Ops tables sync: two laptops importing one export of a shared study make the same
    records (ids from the study and the row's content), never two of each."""
    path = write_queue(tmp_path / "queue.csv", _rows())
    hashes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        ctx = open_app(tmp_path / name)
        study, _steps = office(ctx)
        ops_import.import_operations(ctx.db, study.id, path, [("issued", "Wait")])
        with ctx.db.session() as db:
            records = list(db.exec(select(OpsRecord)))
            imports = list(db.exec(select(OpsImport)))
            times = list(db.exec(select(OpsStepTime)))
        device = ctx.db.device_id
        ctx.close()
        # written in bulk, yet stamped like every synced row: this device, version 1
        for row in [*records, *imports, *times]:
            assert (row.device_id, row.version, row.deleted_at) == (device, 1, None)
            assert row.updated_at is not None and row.created_at is not None
        assert all(
            r.id == ops_import.content_id("ops-record", study.id, r.row_hash) for r in records
        )
        assert imports[0].id == ops_import.content_id("ops-import", study.id, imports[0].sha256)
        hashes.append(sorted(r.row_hash for r in records))
    assert hashes[0] == hashes[1] and len(hashes[0]) == 7


def test_the_preview_keeps_each_row_whole_when_a_column_has_gaps(tmp_path: Path) -> None:
    """A ticket that skipped a step has an empty cell: the preview's rows are still the
    file's rows (a column's values are not moved up into the rows above)."""
    header = ("ticket", "office", "issued", "verify", "closed")
    rows = [
        ("A1", "East", "2026-11-02 09:00:00", "", "2026-11-02 09:40:00"),
        ("A2", "East", "2026-11-02 10:00:00", "2026-11-02 10:20:00", "2026-11-02 10:30:00"),
        ("A3", "West", "2026-11-02 11:00:00", "2026-11-02 11:25:00", "2026-11-02 11:30:00"),
    ]
    preview = ops_files.preview(write_queue(tmp_path / "gaps.csv", rows, header))
    shown = list(zip(*(c.samples for c in preview.columns), strict=True))
    assert shown == rows
    verify = next(c for c in preview.columns if c.name == "verify")
    assert verify.example == "2026-11-02 10:20:00" and verify.looks_like_times

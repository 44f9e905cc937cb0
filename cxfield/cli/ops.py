"""`cxfield ops ...`: operations data (queue tickets, case dates, call times) beside the
emotions: import a CSV or XLSX export, and show the per-step figures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, print_json, print_table, status
from cxfield.domain.clock import duration_text
from cxfield.domain.operations import CORRELATION_CAUTION, correlation_words
from cxfield.services import ops_analysis, ops_import, studies
from cxfield.services.ops_analysis import OpsSummary


def register(subparsers: Any) -> None:
    sub = group(subparsers, "ops", "operations data: queue, case and call-centre times")
    p = command(sub, "import", _import, "import operations records from a CSV or XLSX file")
    p.add_argument("study", metavar="STUDY_ID", help="study id")
    p.add_argument("file", metavar="FILE", type=Path, help="CSV (UTF-8) or XLSX file")
    p.add_argument(
        "--map",
        action="extend",
        nargs="+",
        required=True,
        metavar="COLUMN=STEP",
        help="the column holding the time a customer entered STEP (its number on the journey "
        "map, or its name); repeat or list several, in the order customers go through them",
    )
    p.add_argument("--end", metavar="COLUMN", help="the column holding when the last step ends")
    p.add_argument("--site", metavar="COLUMN", help="the column naming the site or office")
    p = command(sub, "show", _show, "per-step times (median, p90) and volumes, per site/day")
    p.add_argument("study", metavar="STUDY_ID", help="study id")
    p.add_argument("--json", action="store_true", help="print JSON (per day and site too)")
    p.add_argument("--by-day", action="store_true", help="also print the volume per day")


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    pairs = [ops_import.parse_map_argument(text) for text in args.map]
    result = ops_import.import_operations(
        ctx.db, args.study, args.file, pairs, end_column=args.end, site_column=args.site
    )
    if result.already_imported_at is not None:
        print(
            f"{result.source} was imported on {result.already_imported_at:%Y-%m-%d %H:%M} UTC; "
            "nothing added."
        )
        return 0
    print(
        f"Imported {result.source}: {result.rows} rows, {result.added} new, "
        f"{result.duplicates} already in the study."
    )
    status(f"See the figures with: cxfield ops show {args.study}")
    return 0


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    journey = studies.get_journey(ctx.db, args.study)
    summary = ops_analysis.ops_summary(ctx.db, args.study)
    numbers = {step.id: i for i, step in enumerate(journey.steps, start=1)}
    names = {step.id: step.name for step in journey.steps}
    ordered = sorted(summary.steps.values(), key=lambda s: numbers.get(s.step_id, 10**6))
    if args.json:
        print_json(_as_json(summary, numbers, names, ordered))
        return 0
    if summary.empty:
        print("No operations data in this study: import some with `cxfield ops import`.")
        return 0
    print(
        f"{summary.records} records from {summary.imports} file(s), "
        f"{summary.first_day} to {summary.last_day}"
    )
    print_table(
        ["STEP", "NAME", "CUSTOMERS", "TIMED", "MEDIAN", "P90", "PER DAY"],
        [
            (
                numbers.get(s.step_id, "-"),
                names.get(s.step_id, "(removed step)"),
                s.volume,
                s.timed,
                duration_text(s.median_s) if s.median_s is not None else "-",
                duration_text(s.p90_s) if s.p90_s is not None else "-",
                f"{s.mean_per_day:.1f}",
            )
            for s in ordered
        ],
    )
    print()
    sites = sorted({site for s in ordered for site in s.per_site})
    print_table(
        ["STEP", *[site or "(no site)" for site in sites]],
        [(numbers.get(s.step_id, "-"), *[s.per_site.get(x, 0) for x in sites]) for s in ordered],
    )
    if args.by_day:
        print()
        days = sorted({day for s in ordered for day in s.per_day})
        print_table(
            ["DAY", *[str(numbers.get(s.step_id, "-")) for s in ordered]],
            [(day, *[s.per_day.get(day, 0) for s in ordered]) for day in days],
        )
    print()
    print("Time and feeling together:")
    found = [
        (s, summary.correlations[s.step_id]) for s in ordered if s.step_id in summary.correlations
    ]
    for s, c in found:
        whose = "customers'" if c.side == "customers" else "staff's"
        print(
            f"  {numbers.get(s.step_id, '-')}. {names.get(s.step_id, '(removed step)')}: "
            f"{correlation_words(c.r, c.n, c.by)}, each {c.by[:-1]}'s median time against "
            f"its {whose} mean rating"
        )
    if not found:
        print("  too few sites or weeks with both times and ratings at a step (at least 4)")
    print(CORRELATION_CAUTION)
    return 0


def _as_json(
    summary: OpsSummary,
    numbers: dict[str, int],
    names: dict[str, str],
    ordered: list[ops_analysis.OpsStepStats],
) -> dict[str, Any]:
    return {
        "imports": summary.imports,
        "records": summary.records,
        "first_day": summary.first_day,
        "last_day": summary.last_day,
        "correlation_caution": CORRELATION_CAUTION,
        "steps": [
            {
                "step_id": s.step_id,
                "step": names.get(s.step_id),
                "number": numbers.get(s.step_id),
                "customers": s.volume,
                "timed": s.timed,
                "median_s": s.median_s,
                "p90_s": s.p90_s,
                "mean_per_day": s.mean_per_day,
                "per_day": s.per_day,
                "per_site": s.per_site,
                "correlation": _correlation(summary, s.step_id),
            }
            for s in ordered
        ],
    }


def _correlation(summary: OpsSummary, step_id: str) -> dict[str, Any] | None:
    found = summary.correlations.get(step_id)
    if found is None:
        return None
    return {"with": found.side, "across": found.by, "n": found.n, "r": found.r}

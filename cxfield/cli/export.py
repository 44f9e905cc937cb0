"""`cxfield export ...`: PDF session summaries and study reports, CSV/JSON data, A-11 counts.

Each written file's path is printed on stdout (one per line); notes go to stderr."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, status
from cxfield.domain.errors import ValidationError
from cxfield.export import jobs
from cxfield.export.filters import FilterRequest


def register(subparsers: Any) -> None:
    sub = group(
        subparsers,
        "export",
        "export PDF reports, CSV/JSON/Excel data, REFI-QDA projects and A-11 counts",
    )

    p = command(sub, "session", _session, "PDF summary of one session")
    p.add_argument("id", metavar="ID", help="session id")
    p.add_argument("--pdf", metavar="OUT", required=True, help="PDF file to write")
    p.add_argument("--no-transcript", action="store_true", help="leave out the transcript appendix")

    p = command(
        sub,
        "study",
        _study,
        "study report (PDF), data tables (CSV files or one Excel workbook), one JSON document "
        "or a REFI-QDA project for NVivo, MAXQDA, ATLAS.ti and QualCoder",
    )
    p.add_argument("id", metavar="ID", help="study id")
    p.add_argument("--pdf", metavar="OUT", help="write the study report PDF")
    p.add_argument("--csv", metavar="DIR", help="write the CSV tables into this folder")
    p.add_argument("--json", metavar="OUT", help="write the whole study as one JSON file")
    p.add_argument("--xlsx", metavar="OUT", help="write the tables as sheets of one workbook")
    p.add_argument(
        "--qdpx", metavar="OUT", help="write a REFI-QDA project (.qdpx) for QDA software"
    )
    p.add_argument("--qdc", metavar="OUT", help="write the codebook alone (REFI-QDA .qdc)")
    f = p.add_argument_group("filters (sessions to include)")
    f.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
    f.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD")
    f.add_argument("--site", metavar="SITE", help="site id or name")
    f.add_argument("--researcher", metavar="NAME", help="researcher id or name")
    f.add_argument("--segment", metavar="KEY=VALUE", help="e.g. language=Spanish")
    f.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="STATUS",
        help="draft, submitted, approved, has_issues, rejected (repeat or comma-separate); "
        "default: reports leave rejected sessions out, data exports keep every status",
    )
    f.add_argument(
        "--approved-only",
        action="store_true",
        help="only sessions a supervisor approved (the same as --status approved)",
    )

    p = command(sub, "a11", _a11, "A-11 quarterly counts per question (CSV)")
    p.add_argument("id", metavar="STUDY_ID", help="study id")
    p.add_argument("--quarter", required=True, metavar="YYYYQN", help="e.g. 2026Q4")
    p.add_argument("--csv", metavar="OUT", required=True, help="CSV file to write")


def _report(result: jobs.ExportResult) -> int:
    for message in result.messages:
        status(f"cxfield: note: {message}")
    for path in result.paths:
        print(path)
    return 0


def _session(ctx: AppContext, args: argparse.Namespace) -> int:
    result = jobs.export_session_pdf(
        ctx.db, args.id, Path(args.pdf), transcript=not args.no_transcript
    )
    return _report(result)


def _study(ctx: AppContext, args: argparse.Namespace) -> int:
    if not (args.pdf or args.csv or args.json or args.xlsx or args.qdpx or args.qdc):
        raise ValidationError(
            "Say what to export: --pdf OUT, --csv DIR, --json OUT, --xlsx OUT, --qdpx OUT "
            "and/or --qdc OUT."
        )
    if args.approved_only and args.status:
        raise ValidationError("Give --approved-only or --status, not both.")
    request = FilterRequest(
        date_from=args.date_from,
        date_to=args.date_to,
        site=args.site,
        researcher=args.researcher,
        segment=args.segment,
        statuses=("approved",) if args.approved_only else tuple(args.status),
    )
    if args.pdf:
        _report(jobs.export_study_pdf(ctx.db, args.id, Path(args.pdf), request))
    if args.csv:
        _report(jobs.export_study_csv(ctx.db, args.id, Path(args.csv), request))
    if args.json:
        _report(jobs.export_study_json(ctx.db, args.id, Path(args.json), request))
    if args.xlsx:
        _report(jobs.export_study_xlsx(ctx.db, args.id, Path(args.xlsx), request))
    if args.qdpx:
        _report(jobs.export_study_qdpx(ctx.db, ctx.paths.root, args.id, Path(args.qdpx), request))
    if args.qdc:
        _report(jobs.export_study_qdc(ctx.db, args.id, Path(args.qdc), request))
    return 0


def _a11(ctx: AppContext, args: argparse.Namespace) -> int:
    return _report(jobs.export_a11_csv(ctx.db, args.id, args.quarter, Path(args.csv)))

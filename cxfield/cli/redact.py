"""`cxfield redact ...`: find personal details in sessions, review them, mute audio."""

from __future__ import annotations

import argparse
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, print_json, print_table, status
from cxfield.domain.errors import NotFoundError, ValidationError


def register(subparsers: Any) -> None:
    sub = group(subparsers, "redact", "find, review and apply redactions of personal details")
    p = command(sub, "scan", _scan, "scan sessions for personal details (keeps decisions)")
    _scope(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "list", _list, "list redaction candidates")
    _scope(p)
    p.add_argument("--state", choices=("pending", "accepted", "rejected"))
    p.add_argument("--json", action="store_true", help="print JSON")
    for name, verb in (("accept", "accepted"), ("reject", "rejected"), ("undo", "pending")):
        p = command(sub, name, _decide, f"mark candidates {verb}")
        p.add_argument("ids", metavar="CANDIDATE_ID", nargs="+")
        p.set_defaults(decision=verb)
    p = command(sub, "apply", _apply, "accept every pending candidate at or above the threshold")
    p.add_argument("--session", metavar="ID", required=True)
    p.add_argument("--threshold", type=float, help="default: the study's threshold")
    p = command(sub, "add", _add, "redact text a person marks (every occurrence in the field)")
    p.add_argument("table", choices=_tables(), metavar="TABLE", help=", ".join(_tables()))
    p.add_argument("row_id", metavar="ROW_ID")
    p.add_argument("--text", required=True, help="the text to redact, as it is written")
    p.add_argument("--field", help="the text field (default: the table's only or first one)")
    p.add_argument("--kind", default="other", help="ssn, phone, email, name ... (default other)")
    p = command(sub, "names", _names, "the names listed for a session (laptop only)")
    p.add_argument("session", metavar="SESSION_ID")
    p.add_argument("--add", metavar="NAME", action="append", default=[])
    p.add_argument("--remove", metavar="NAME", action="append", default=[])
    p = command(sub, "settings", _settings, "a study's redaction settings")
    p.add_argument("study", metavar="STUDY_ID")
    p.add_argument("--review", choices=("on", "off"), help="review before sync and export")
    p.add_argument("--threshold", type=float)
    p.add_argument("--case-pattern", action="append", metavar="REGEX", dest="case_patterns")
    p.add_argument("--no-case-patterns", action="store_true")
    p.add_argument("--word", action="append", metavar="WORD", dest="words")
    p.add_argument("--no-words", action="store_true")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "status", _status, "which sessions wait for review before sync and export")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "mute", _mute, "mute a stretch of a recording in its redacted copy")
    p.add_argument("recording", metavar="RECORDING_ID")
    p.add_argument("start", type=float, metavar="START_S")
    p.add_argument("end", type=float, metavar="END_S")
    p = command(sub, "audio", _audio, "make the redacted copies of a session's recordings")
    p.add_argument("--session", metavar="ID", required=True)


def _tables() -> list[str]:
    from cxfield.privacy.texts import FIELDS_BY_TABLE

    return list(FIELDS_BY_TABLE)


def _scope(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--study", metavar="ID")
    scope.add_argument("--session", metavar="ID")


def _print_candidates(rows: list[Any], as_json: bool) -> None:
    from cxfield.privacy.review import as_json as candidate_json
    from cxfield.privacy.review import where

    if as_json:
        print_json([candidate_json(r) for r in rows])
        return
    print_table(
        ["ID", "SESSION", "WHERE", "AT", "KIND", "SCORE", "STATE", "TEXT"],
        [
            (
                r.id,
                r.session_id[:8],
                where(r),
                f"{r.start}-{r.end}",
                r.kind,
                f"{r.score:.2f}",
                r.state,
                r.text,
            )
            for r in rows
        ],
    )


def _scan(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import review, store

    ids = review.session_ids(ctx.db, study_id=args.study, session_id=args.session)
    report = store.scan_sessions(ctx.db, ids)
    status(f"scanned {report.sessions} sessions: {report.found} candidates ({report.new} new)")
    _print_candidates(store.candidates(ctx.db, session_ids=ids), args.json)
    return 0


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import review, store

    ids = None
    if args.study or args.session:
        ids = review.session_ids(ctx.db, study_id=args.study, session_id=args.session)
    _print_candidates(store.candidates(ctx.db, session_ids=ids, state=args.state), args.json)
    return 0


def _decide(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import store

    known = {r.id for r in store.candidates(ctx.db, session_ids=None)}
    unknown = [i for i in args.ids if i not in known]
    if unknown:  # nothing changes when one id is wrong
        raise NotFoundError(f"No redaction candidate {unknown[0]}.")
    for candidate_id in args.ids:
        row = store.decide(ctx.db, candidate_id, args.decision)
        print(f"{row.id} {row.state}: {row.kind} {row.text!r}")
    return 0


def _apply(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import review, store

    review.session_ids(ctx.db, study_id=None, session_id=args.session)
    threshold = args.threshold
    if threshold is None:
        threshold = review.session_threshold(ctx.db, args.session)
    elif not 0.0 <= threshold <= 1.0:
        raise ValidationError("The threshold must be between 0 and 1.")
    store.scan_sessions(ctx.db, [args.session])
    accepted = store.accept_above(ctx.db, args.session, threshold)
    left = len(store.candidates(ctx.db, session_id=args.session, state="pending"))
    print(f"accepted {accepted} candidates scored {threshold:.2f} or more; {left} still pending")
    return 0


def _add(ctx: AppContext, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from cxfield.privacy import store
    from cxfield.privacy.kinds import parse_kind
    from cxfield.privacy.texts import FIELDS_BY_TABLE, table

    try:
        kind = parse_kind(args.kind)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    field = args.field or FIELDS_BY_TABLE[args.table][0]
    if field not in FIELDS_BY_TABLE[args.table]:
        raise ValidationError(
            f"{args.table} has no text field {field!r}; "
            f"use {', '.join(FIELDS_BY_TABLE[args.table])}."
        )
    t = table(args.table)
    with ctx.db.engine.connect() as conn:
        row = conn.execute(select(t.c[field]).where(t.c.id == args.row_id)).first()
    if row is None:
        raise NotFoundError(f"No {args.table} {args.row_id}.")
    text = row[0] or ""
    starts = []
    index = text.find(args.text) if args.text else -1
    while index >= 0:
        starts.append(index)
        index = text.find(args.text, index + len(args.text))
    if not starts:
        raise ValidationError(f"{args.text!r} is not in that {args.table}'s {field}.")
    for start in starts:
        try:
            print(
                store.add_manual(
                    ctx.db, args.table, args.row_id, field, start, start + len(args.text), kind
                )
            )
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
    return 0


def _names(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import review, store

    review.session_ids(ctx.db, study_id=None, session_id=args.session)
    try:
        for name in args.add:
            store.add_name(ctx.db, args.session, name)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    for name in args.remove:
        if not store.remove_name(ctx.db, args.session, name):
            status(f"cxfield: note: {name!r} was not listed")
    with ctx.db.engine.connect() as conn:
        for name in store.listed_names(conn, [args.session])[args.session]:
            print(name)
    return 0


def _settings(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import review

    changes: dict[str, Any] = {}
    if args.review:
        changes["review"] = args.review == "on"
    if args.threshold is not None:
        changes["threshold"] = args.threshold
    if args.no_case_patterns or args.case_patterns:
        changes["case_patterns"] = [] if args.no_case_patterns else args.case_patterns
    if args.no_words or args.words:
        changes["words"] = [] if args.no_words else args.words
    if changes:
        settings = review.set_settings(ctx.db, args.study, **changes)
    else:
        settings = review.get_settings(ctx.db, args.study)
    if args.json:
        print_json(settings.as_json())
    else:
        print(f"review before sync and export: {'on' if settings.review else 'off'}")
        print(f"threshold: {settings.threshold:.2f}")
        print(f"case-number patterns: {', '.join(settings.case_patterns) or '-'}")
        print(f"word list: {', '.join(settings.words) or '-'}")
    return 0


def _status(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import outgoing

    held = outgoing.prepare(ctx.db, scan=False).held
    lines = outgoing.describe(ctx.db, held)
    if args.json:
        print_json({"held": [{"session_id": k, "reason": v} for k, v in held.items()]})
    elif lines:
        for line in lines:
            print(line)
    else:
        print("No session waits for a redaction review.")
    return 0


def _mute(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import audio

    try:
        audio.add_mute(ctx.db, args.recording, args.start, args.end)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    print(f"muted {args.start:.2f}–{args.end:.2f} s of {args.recording} in its redacted copy")
    return 0


def _audio(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import audio, review

    review.session_ids(ctx.db, study_id=None, session_id=args.session)
    results = audio.redact_session_audio(ctx.db, ctx.paths.root, args.session)
    blocked = 0
    for result in results:
        if result.problem:
            blocked += 1
            status(f"cxfield: {result.recording_id}: {result.problem}")
        else:
            print(f"{result.recording_id}: {result.path} ({len(result.windows)} muted stretches)")
    return 1 if blocked else 0

"""`cxfield sessions ...`"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, print_json, print_table, status
from cxfield.domain.rating import rating_text
from cxfield.services import sessions


def register(subparsers: Any) -> None:
    sub = group(subparsers, "sessions", "list and inspect sessions")
    p = command(sub, "list", _list, "list sessions, newest first")
    p.add_argument("--study", metavar="ID", help="only sessions of this study")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "show", _show, "show one session with captures, notes, recording")
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "submit", _submit, "submit a session for review (or resubmit a returned one)")
    p.add_argument("id", metavar="ID")
    p.add_argument("--comment", metavar="TEXT", default="", help="an answer to the reviewer")
    p = command(sub, "history", _history, "every change after the session was first submitted")
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "attach-audio", _attach_audio, "import a recording (WAV, FLAC, MP3, M4A, OGG)")
    p.add_argument("id", metavar="ID")
    p.add_argument("file", metavar="FILE", type=Path)
    p = command(sub, "original", _original, "write an imported recording's original as it came")
    p.add_argument("recording", metavar="RECORDING_ID")
    p.add_argument("--out", metavar="FILE", type=Path, required=True, help="a new file")


def _original(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services.recording import save_original

    size = save_original(ctx.db, ctx.paths.root, args.recording, args.out)
    status(f"wrote {args.out} ({size:,} bytes, the original as it was imported)")
    return 0


def _attach_audio(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services.recording import attach_audio

    summary = attach_audio(ctx.db, ctx.paths.root, args.id, args.file)
    status(f"attached {args.file.name}: {summary['duration_s']:.1f} s (original kept)")
    print(summary["id"])
    return 0


def _submit(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services import review

    event = review.submit(ctx.db, args.id, args.comment)
    status(f"session {args.id}: {event.from_status.value} → {event.to_status.value}")
    return 0


def _history(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services.history import session_history, short

    entries = session_history(ctx.db, args.id)
    if args.json:
        print_json([e.as_json() for e in entries])
        return 0
    print_table(
        ["WHEN", "WHO", "WHAT", "BEFORE", "AFTER"],
        [
            (e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.what, short(e.before), e.after_text())
            for e in entries
        ],
    )
    return 0


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    rows = sessions.list_sessions(ctx.db, args.study)
    if args.json:
        print_json([s.as_json() for s in rows])
    else:
        print_table(
            ["ID", "STARTED", "MODE", "STATUS", "PARTICIPANT", "STUDY"],
            [
                (
                    s.id,
                    s.started_at.strftime("%Y-%m-%d %H:%M"),
                    s.mode,
                    s.status,
                    s.participant_code or "-",
                    s.study,
                )
                for s in rows
            ],
        )
    return 0


def _fmt_offset(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    detail = sessions.session_detail(ctx.db, args.id)
    if args.json:
        print_json(detail)
        return 0
    study = detail["study"]["name"] if detail["study"] else "?"
    print(f"Session {detail['id']}")
    print(f"  study:       {study}")
    segments = ", ".join(f"{k}={v}" for k, v in (detail["participant_segments"] or {}).items())
    print(f"  participant: {detail['participant_code'] or '-'}  {segments}".rstrip())
    print(f"  mode:        {detail['mode']}    status: {detail['status']}")
    print(f"  started:     {detail['started_at']}    ended: {detail['ended_at'] or '-'}")
    print(f"  researcher:  {detail['researcher'] or '-'}    site: {detail['site'] or '-'}")
    said = _comment_lines(ctx, detail)
    if detail["status"] in ("has_issues", "rejected", "approved"):
        print(_decision_line(ctx, detail["id"]))
    for line in said.get(None, []):
        print(f"  {line}")
    print("Steps:")
    visits: dict[str, list[dict[str, Any]]] = {}
    for visit in detail["observation_visits"]:
        visits.setdefault(visit["step_id"], []).append(visit)
    for row in detail["steps"]:
        cap = row["capture"]
        if cap is None:
            print(f"  {row['stage']} / {row['step']}: -")
            continue
        valence = rating_text(cap["valence"])
        extra = " PAIN" if cap["pain_point"] else ""
        emotions = ", ".join(cap["emotions"])
        print(f"  {row['stage']} / {row['step']}: {valence} {emotions}{extra}".rstrip())
        if cap["quote"]:
            print(f"      \u201c{cap['quote']}\u201d")
        for line in said.get(row["step_id"], []):
            print(f"      {line}")
        for visit in visits.get(row["step_id"], []):
            print(f"      observed {visit['entered_at']} .. {visit['left_at'] or '?'}")
    if detail["notes"]:
        print("Notes:")
        for note in detail["notes"]:
            tags = f" [{', '.join(note['tags'])}]" if note["tags"] else ""
            print(f"  {_fmt_offset(note['offset_s'])} {note['text']}{tags}")
            for line in said.get(note["id"], []):
                print(f"      {line}")
    for rec in detail["recordings"]:
        checked = rec["transcript_checked_at"]
        mark = f"; transcript checked {checked[:16].replace('T', ' ')}" if checked else ""
        what = f"{rec['duration_s']:.1f} s, {rec['state']}{mark}"
        print(f"Recording {rec['id']}: {rec['path']} ({what})")
    if detail["transcript"]:
        print(f"Transcript: {len(detail['transcript'])} segments")
        for seg in detail["transcript"]:
            for line in said.get(seg["id"], []):
                print(f"  {_fmt_offset(seg['start_s'])} {seg['text'][:60]}\n      {line}")
    if detail["survey"]:
        print("A-11 survey: answered")
    return 0


def _comment_lines(ctx: AppContext, detail: dict[str, Any]) -> dict[str | None, list[str]]:
    """Review comments by the id of what they are about (None: the session itself); a
    step's capture or quote shows under the step, replies under their comment."""
    from cxfield.services import review

    lines: dict[str | None, list[str]] = {}
    for thread in review.threads(review.comments_of(ctx.db, detail["id"])):
        first = thread.comment
        about = "quote: " if first.anchor.value == "quote" else ""
        key = first.anchor_id if first.anchor.value != "session" else None
        found = lines.setdefault(key, [])
        found.append(f"\u25b8 {about}{first.author_name}: {first.text}  [{first.id}]")
        found += [f"    \u21b3 {r.author_name}: {r.text}" for r in thread.replies]
    return lines


def _decision_line(ctx: AppContext, session_id: str) -> str:
    from cxfield.services import review

    events = [e for e in review.events_of(ctx.db, session_id) if e.action.value != "submit"]
    if not events:
        return "Review: no decision recorded on this laptop"
    last = events[-1]
    head = "Returned to you" if last.to_status.value == "has_issues" else last.to_status.value
    said = f": {last.comment}" if last.comment else ""
    return f"{head.capitalize()} by {last.actor_name or '?'} on {last.at:%Y-%m-%d}{said}"

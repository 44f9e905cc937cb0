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
    p = command(sub, "attach-audio", _attach_audio, "import a recording (WAV, FLAC, MP3, M4A, OGG)")
    p.add_argument("id", metavar="ID")
    p.add_argument("file", metavar="FILE", type=Path)


def _attach_audio(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services.recording import attach_audio

    summary = attach_audio(ctx.db, ctx.paths.root, args.id, args.file)
    status(f"attached {args.file.name}: {summary['duration_s']:.1f} s (original kept)")
    print(summary["id"])
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
        for visit in visits.get(row["step_id"], []):
            print(f"      observed {visit['entered_at']} .. {visit['left_at'] or '?'}")
    if detail["notes"]:
        print("Notes:")
        for note in detail["notes"]:
            tags = f" [{', '.join(note['tags'])}]" if note["tags"] else ""
            print(f"  {_fmt_offset(note['offset_s'])} {note['text']}{tags}")
    for rec in detail["recordings"]:
        print(f"Recording: {rec['path']} ({rec['duration_s']:.1f} s, {rec['state']})")
    if detail["transcript"]:
        print(f"Transcript: {len(detail['transcript'])} segments")
    if detail["survey"]:
        print("A-11 survey: answered")
    return 0

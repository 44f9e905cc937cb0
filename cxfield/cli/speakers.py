"""`cxfield speakers (FILE | --session ID) [--speakers N] [--json]`, and voice enrolment."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, print_json, print_table, status
from cxfield.domain.errors import NotFoundError, ValidationError


def register(subparsers: Any) -> None:
    p = command(
        subparsers,
        "speakers",
        _speakers,
        "who speaks when in an audio file (suggested from the voices, offline)",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", metavar="FILE", help="an audio file (any format)")
    source.add_argument(
        "--session", metavar="ID", help="suggest speakers for a session's stored transcript"
    )
    p.add_argument("--speakers", type=int, default=2, metavar="N", help="voices (default 2)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--interviewer", metavar="RESEARCHER",
        help="name the enrolled voice of this researcher (id or name) as the interviewer",
    )  # fmt: skip
    p.add_argument(
        "--enrol", metavar="RESEARCHER",
        help="store FILE (10-30 s of their speech) as this researcher's voice instead",
    )  # fmt: skip


def _researcher(ctx: AppContext, value: str) -> str:
    from cxfield.services import sites

    wanted = value.strip().casefold()
    for researcher in sites.list_researchers(ctx.db):
        if researcher.id == value or researcher.name.casefold() == wanted:
            return researcher.id
    raise NotFoundError(f"No researcher {value!r}; see the names in the app's start dialog.")


def _speakers(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services import speakers as service
    from cxfield.transcribe import speakers

    speakers.check_speakers(args.speakers)
    if args.session:
        n = service.suggest_for_session(ctx.db, ctx.paths.root, args.session, args.speakers)
        status(f"Suggested a speaker for {n} segment(s). {service.CHECK_NOTE}")
        return 0
    path = Path(args.file).expanduser()
    if not path.is_file():
        raise ValidationError(f"Audio file {path} does not exist.")
    if args.enrol:
        researcher_id = _researcher(ctx, args.enrol)
        seconds = service.enrol_voice(ctx.db, researcher_id, path)
        status(f"Stored the interviewer voice of {args.enrol} ({seconds} s sample).")
        return 0
    from cxfield.transcribe.audio_source import open_audio

    voice = (
        service.voice_of(ctx.db, _researcher(ctx, args.interviewer)) if args.interviewer else None
    )
    if args.interviewer and voice is None:
        raise ValidationError(
            f"{args.interviewer} has no enrolled voice; run `cxfield speakers SAMPLE --enrol "
            f"{args.interviewer!r}` first."
        )
    settings = speakers.SpeakerSettings(args.speakers, voice, roles=voice is not None)
    found = speakers.diarize_source(open_audio(path), settings)
    if args.json:
        print_json([t.as_json() for t in found.turns])
    else:
        print_table(
            ["START", "END", "SPEAKER"],
            [(f"{t.start:.2f}", f"{t.end:.2f}", t.speaker) for t in found.turns],
        )
    if not found.turns:
        status("No speech found.")
    return 0

"""`cxfield participants ...`: customers and staff members of a study, their consent, and
withdrawal."""

from __future__ import annotations

import argparse
import unicodedata
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, print_json, print_table, status
from cxfield.domain.errors import ValidationError
from cxfield.domain.vocabulary import ParticipantKind
from cxfield.services import participants
from cxfield.services.participants import ParticipantInfo


def register(subparsers: Any) -> None:
    sub = group(subparsers, "participants", "add, list and withdraw a study's participants")
    p = command(sub, "add", _add, "add a customer or a staff member (prints the new code)")
    p.add_argument("study", metavar="STUDY_ID", help="study id")
    p.add_argument("--staff", action="store_true", help="a staff member (code S-001 …)")
    p.add_argument("--role", metavar="ROLE", help="the staff member's role (one of the study's)")
    p.add_argument(
        "--segment",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a segment answer (repeat for several); staff answer the staff attributes",
    )
    p.add_argument(
        "--consent",
        metavar="interview[,recording]",
        help="consent given now, to the study's current consent text",
    )
    p = command(sub, "list", _list, "list a study's participants (customers, then staff)")
    p.add_argument("study", metavar="STUDY_ID", help="study id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "withdraw", _withdraw, "withdraw a participant's consent")
    p.add_argument("code", metavar="CODE", help="participant code, e.g. P-003 or S-001")
    p.add_argument("--study", required=True, metavar="STUDY_ID", help="study id")
    p.add_argument(
        "--purge",
        action="store_true",
        help="also delete what their sessions hold (captures, notes, transcripts, survey "
        "answers, audio files); cannot be undone",
    )


def parse_consent(text: str | None) -> tuple[bool, bool] | None:
    """``interview`` or ``interview,recording`` -> (interview, recording); None: not given."""
    if text is None:
        return None
    parts = {p.strip().lower() for p in text.split(",") if p.strip()}
    unknown = parts - {"interview", "recording"}
    if unknown or not parts:
        raise ValidationError(f"--consent {text!r} must be interview or interview,recording.")
    if "recording" in parts and "interview" not in parts:
        raise ValidationError("Recording consent needs interview consent as well.")
    return True, "recording" in parts


def parse_segments(values: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values:
        key, sep, answer = value.partition("=")
        # a terminal may hand over "tamaño" decomposed (NFD); keys are stored composed
        key = unicodedata.normalize("NFC", key.strip())
        if not sep or not key or not answer.strip():
            raise ValidationError(f"--segment {value!r} must be KEY=VALUE, e.g. language=Spanish.")
        if key in result:
            raise ValidationError(f"--segment gives {key!r} twice.")
        result[key] = " ".join(answer.split())
    return result


def _add(ctx: AppContext, args: argparse.Namespace) -> int:
    consent = parse_consent(args.consent)
    segments = parse_segments(args.segment)
    kind = ParticipantKind.STAFF if args.staff else ParticipantKind.CUSTOMER
    person = participants.add_participant(ctx.db, args.study, segments, kind=kind, role=args.role)
    if consent is not None:
        participants.record_consent(ctx.db, person.id, interview=consent[0], recording=consent[1])
    else:
        status(f"{person.code} has no consent yet: record it before an interview.")
    print(person.code)
    return 0


def _consent_text(info: ParticipantInfo) -> str:
    if info.withdrawn:
        return "withdrawn"
    if info.recording_consent:
        return "interview, recording"
    return "interview" if info.interview_consent else "none"


def _as_json(info: ParticipantInfo) -> dict[str, Any]:
    p = info.participant
    return {
        "id": p.id,
        "code": p.code,
        "kind": str(p.kind),
        "role": p.role,
        "segments": p.segments,
        "interview_consent": info.interview_consent,
        "recording_consent": info.recording_consent,
        "consent_version": info.consent.consent_version if info.consent else None,
        "sessions": info.sessions,
        "withdrawn": p.withdrawn,
        "withdrawn_at": p.withdrawn_at.isoformat() if p.withdrawn_at else None,
        "created_at": p.created_at.isoformat(),
    }


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    infos = participants.list_participants(ctx.db, args.study)
    if args.json:
        print_json([_as_json(i) for i in infos])
        return 0
    print_table(
        ["CODE", "KIND", "ROLE", "SEGMENTS", "CONSENT", "SESSIONS"],
        [
            (
                i.participant.code,
                str(i.participant.kind),
                i.participant.role or "-",
                ", ".join(f"{k}={v}" for k, v in i.participant.segments.items()) or "-",
                _consent_text(i),
                i.sessions,
            )
            for i in infos
        ],
    )
    return 0


def _withdraw(ctx: AppContext, args: argparse.Namespace) -> int:
    person = participants.find_by_code(ctx.db, args.study, args.code)
    result = participants.withdraw(
        ctx.db, person.id, delete_content=args.purge, data_root=ctx.paths.root
    )
    line = f"{person.code} withdrawn"
    if args.purge:
        line += (
            f"; the content of {result.sessions_deleted} session(s) and "
            f"{result.files_deleted} audio file(s) deleted"
        )
    else:
        line += "; their sessions are kept but left out of every report and export"
    print(line + ".")
    return 0

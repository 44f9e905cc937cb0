"""`cxfield keys ...`, `cxfield retention ...`, `cxfield withdrawal report`: protecting
participants — study keys for end-to-end encryption, retention, where a withdrawal went.

Passphrases are asked for on the terminal (twice when a key is made), or read from the
environment variable ``CXFIELD_KEY_PASSPHRASE`` (scripts, tests); never from an argument,
which other users could see in the process list."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import add_data_dir, command, print_json, print_table, status
from cxfield.domain.errors import ValidationError

PASSPHRASE_ENV = "CXFIELD_KEY_PASSPHRASE"


def _days(text: str) -> int | None:
    if text.strip().lower() in ("none", "keep", "off"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of days (or 'none' to keep)"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: days cannot be negative")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="study keys for end-to-end encryption, and this laptop's recording key",
        description="A study's key pair: texts and audio leave this laptop sealed with its "
        "public key; only laptops holding the private key (behind a passphrase) open them. "
        "The laptop's recording key encrypts recordings at rest (export-laptop, "
        "import-laptop, encrypt-recordings).",
    )
    add_data_dir(parser)
    sub = parser.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    p = command(sub, "create", _create, "make the study's key pair and turn encryption on")
    p.add_argument("--study", required=True, metavar="ID")
    p.add_argument("--export", metavar="FILE", type=Path, help="also export the key to FILE")
    p = command(sub, "export", _export, "write the study's locked key to a file")
    p.add_argument("--study", required=True, metavar="ID")
    p.add_argument("--out", required=True, metavar="FILE", type=Path)
    p = command(sub, "import", _import, "keep an exported study key on this laptop")
    p.add_argument("file", metavar="FILE", type=Path)
    p = command(sub, "open", _open, "unseal this laptop's sealed texts of a study")
    p.add_argument("--study", required=True, metavar="ID")
    p = command(sub, "encryption", _encryption, "turn a study's encryption on or off")
    p.add_argument("--study", required=True, metavar="ID")
    p.add_argument("state", choices=("on", "off"))
    p = command(sub, "status", _status, "per study: encryption, key id, key here, sealed")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "export-laptop", _export_laptop, "write this laptop's recording key to a file")
    p.add_argument("--out", required=True, metavar="FILE", type=Path)
    p = command(sub, "import-laptop", _import_laptop, "use an exported recording key here")
    p.add_argument("file", metavar="FILE", type=Path)
    p = command(
        sub, "encrypt-recordings", _encrypt_recordings, "encrypt new recordings here (on/off)"
    )
    p.add_argument("state", choices=("on", "off"))

    parser = subparsers.add_parser(
        "retention",
        help="how long audio and transcripts are kept (set, show, run)",
        description="Per study: audio deleted N days after a session was approved (or, "
        "--audio-clock checked, after its transcript was checked, or approved if that comes "
        "first), transcripts M days after approval.",
    )
    add_data_dir(parser)
    sub = parser.add_subparsers(dest="retention_command", metavar="COMMAND", required=True)
    p = command(sub, "set", _set, "set a study's retention ('none' keeps)")
    p.add_argument("--study", required=True, metavar="ID")
    p.add_argument("--audio-days", type=_days, metavar="N", default=argparse.SUPPRESS)
    p.add_argument("--transcript-days", type=_days, metavar="M", default=argparse.SUPPRESS)
    p.add_argument(
        "--audio-clock",
        choices=("approved", "checked"),
        default=argparse.SUPPRESS,
        help="when the audio's days start: the session approved (default) or its transcript "
        "checked (cxfield transcripts check), whichever comes first",
    )
    p = command(sub, "show", _show, "a study's retention")
    p.add_argument("--study", required=True, metavar="ID")
    p = command(sub, "run", _run, "delete what is due now (--dry-run: only list it)")
    p.add_argument("--dry-run", action="store_true", help="list what would go; change nothing")
    p.add_argument("--json", action="store_true", help="print JSON")

    parser = subparsers.add_parser(
        "withdrawal", help="where a participant's withdrawal was applied"
    )
    add_data_dir(parser)
    sub = parser.add_subparsers(dest="withdrawal_command", metavar="COMMAND", required=True)
    p = command(sub, "report", _report, "the laptops and hub that removed the participant")
    p.add_argument("participant", metavar="PARTICIPANT_ID")
    p.add_argument("--json", action="store_true", help="print JSON")


def _passphrase(confirm: bool = False) -> str:
    given = os.environ.get(PASSPHRASE_ENV)
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise ValidationError(
            f"No passphrase: run this in a terminal, or set {PASSPHRASE_ENV}; nothing changed."
        )
    first = getpass.getpass("Passphrase for the study key: ")
    if confirm and getpass.getpass("The same passphrase again: ") != first:
        raise ValidationError("The two passphrases differ; nothing changed.")
    return first


def _create(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import keys, study_protection

    if args.export is not None and args.export.exists():
        raise ValidationError(f"{args.export} exists already; give a new file name.")
    created = study_protection.create_key(
        ctx.db, ctx.paths.root, args.study, _passphrase(confirm=True)
    )
    status(f"Warning: {keys.LOST_KEY_WARNING}")
    status(f"The locked key is kept in {created.store.where}.")
    if args.export is not None:
        keys.export_study_key(created.locked, args.export)
        status(f"Exported to {args.export} (it still needs the passphrase).")
    else:
        status(f"Export it: cxfield keys export --study {args.study} --out FILE")
    print(f"Encryption is on for study {args.study} (key id {created.protection.key_id}).")
    return 0


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import keys

    if args.out.exists():
        raise ValidationError(f"{args.out} exists already; give a new file name.")
    locked = keys.load_study_key(ctx.paths.root, args.study, ctx.db.device_id)
    if locked is None:
        raise keys.StudyKeyError(f"This laptop holds no key for study {args.study}.")
    keys.export_study_key(locked, args.out)
    print(f"Exported the key of study {args.study} (key id {locked.key_id}) to {args.out}.")
    return 0


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import keys, study_protection

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise keys.StudyKeyError(f"Cannot read {args.file}: {exc}.") from None
    locked = keys.parse_key(text, str(args.file))  # a wrong file is said before the prompt
    store = study_protection.import_key(ctx.db, ctx.paths.root, args.file, _passphrase())
    print(
        f"Imported the key of study {locked.study_id} (key id {locked.key_id}); "
        f"kept in {store.where}."
    )
    return 0


def _open(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import study_protection

    opened = study_protection.open_texts(ctx.db, ctx.paths.root, args.study, _passphrase())
    print(f"Opened {opened} sealed texts of study {args.study}.")
    return 0


def _encryption(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import study_protection

    done = study_protection.set_encrypt(ctx.db, args.study, args.state == "on")
    print(f"Encryption is {'on' if done.encrypt else 'off'} for study {args.study}.")
    return 0


def _status(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import keys, sealing, study_protection
    from cxfield.services import studies

    rows = []
    for study in studies.list_studies(ctx.db):
        info = study_protection.get_protection(ctx.db, study.id)
        held = keys.load_study_key(ctx.paths.root, study.id, ctx.db.device_id) is not None
        with ctx.db.engine.connect() as conn:
            sealed = sealing.sealed_count(conn, [study.id])
        rows.append(
            {
                "study_id": study.id,
                "name": study.name,
                "encrypt": info.encrypt,
                "key_id": info.key_id,
                "key_here": held,
                "sealed_here": sealed,
            }
        )
    if args.json:
        print_json(rows)
        return 0
    print_table(
        ["study", "name", "encrypt", "key id", "key here", "sealed"],
        [
            [
                r["study_id"],
                r["name"],
                "on" if r["encrypt"] else "off",
                r["key_id"] or "-",
                "yes" if r["key_here"] else "no",
                r["sealed_here"],
            ]
            for r in rows
        ],
    )
    return 0


def _export_laptop(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import keys
    from cxfield.services import at_rest

    if args.out.exists() or args.out.is_symlink():
        raise ValidationError(f"{args.out} exists already; give a new file name.")
    if at_rest.encrypts_recordings(ctx.db):  # exported before the first recording, too
        _key, made = keys.laptop_key_made(ctx.paths.root, ctx.db.device_id)
        if made is not None:
            status(f"Warning: {keys.LAPTOP_KEY_WARNING.format(where=made.where)}")
    keys.export_laptop_key(ctx.paths.root, ctx.db.device_id, args.out)
    print(
        f"Exported this laptop's recording key to {args.out} (readable by you only). "
        "Whoever holds this file can open the recordings: keep it away from the laptop."
    )
    return 0


def _import_laptop(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import keys

    store = keys.import_laptop_key(ctx.paths.root, ctx.db.device_id, args.file)
    print(f"Imported the recording key; kept in {store.where}.")
    return 0


def _encrypt_recordings(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services import at_rest

    at_rest.set_encrypt_recordings(ctx.db, args.state == "on")
    if args.state == "on":
        print("New recordings on this laptop are encrypted (older ones stay as they are).")
    else:
        print("New recordings on this laptop are plain WAV files (encrypted ones stay so).")
    return 0


def _days_text(value: int | None, clock: str = "approved") -> str:
    from cxfield.privacy.retention import CLOCK_PHRASES

    return "kept" if value is None else f"{value} days {CLOCK_PHRASES[clock]}"


def _set(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import study_protection

    changes = {
        k: getattr(args, k)
        for k in ("audio_days", "transcript_days", "audio_clock")
        if hasattr(args, k)
    }
    if not changes:
        raise ValidationError(
            "Give --audio-days N, --transcript-days M ('none' keeps) and/or --audio-clock."
        )
    done = study_protection.set_retention(ctx.db, args.study, **changes)
    print(
        f"audio: {_days_text(done.audio_days, done.audio_clock)}; "
        f"transcripts: {_days_text(done.transcript_days)}"
    )
    return 0


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import study_protection

    info = study_protection.get_protection(ctx.db, args.study)
    print(f"audio: {_days_text(info.audio_days, info.audio_clock)}")
    print(f"transcripts: {_days_text(info.transcript_days)}")
    return 0


def _run(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import retention

    report = retention.run(ctx.db, ctx.paths.root, dry_run=args.dry_run)
    if args.json:
        print_json(
            {
                "dry_run": report.dry_run,
                "files_removed": report.files_removed,
                "items": [
                    {
                        "kind": i.kind,
                        "study_id": i.study_id,
                        "session_id": i.session_id,
                        "due_at": i.due_at.isoformat(),
                        "files": list(i.files),
                        "segments": i.segments,
                    }
                    for i in report.items
                ],
            }
        )
        return 0
    for item in report.items:
        what = ", ".join(item.files) if item.kind == "audio" else f"{item.segments} segments"
        print(f"{item.kind}\t{item.session_id}\tdue {item.due_at:%Y-%m-%d}\t{what}")
    print(report.line())
    return 0


def _report(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.privacy import withdrawal

    lines = withdrawal.report(ctx.db, args.participant)
    if args.json:
        print_json([vars(line) for line in lines])
        return 0
    if not lines:
        print("No withdrawal of this participant is recorded here.")
        return 0
    mine = ctx.db.device_id
    print_table(
        ["where", "by", "applied", "sessions", "rows", "files"],
        [
            [
                line.place + (" (this laptop)" if line.applied_by == mine else ""),
                line.applied_by,
                f"{line.applied_at:%Y-%m-%d %H:%M}",
                line.sessions,
                line.rows,
                line.files,
            ]
            for line in lines
        ],
    )
    return 0


def open_after_sync(ctx: AppContext) -> None:
    """After a pull: open the sealed texts of the studies whose key this laptop holds (with
    ``CXFIELD_KEY_PASSPHRASE``), or say how to."""
    from cxfield.privacy import keys, sealing, study_protection

    with ctx.db.engine.connect() as conn:
        waiting = {s: sealing.sealed_count(conn, [s]) for s in sealing.protections(conn)}
    for study_id, count in waiting.items():
        if not count or keys.load_study_key(ctx.paths.root, study_id, ctx.db.device_id) is None:
            continue
        given = os.environ.get(PASSPHRASE_ENV)
        if given is None:
            status(
                f"sync: {count} sealed texts of study {study_id}: "
                f"cxfield keys open --study {study_id}"
            )
            continue
        opened = study_protection.open_texts(ctx.db, ctx.paths.root, study_id, given)
        status(f"sync: opened {opened} sealed texts of study {study_id}")

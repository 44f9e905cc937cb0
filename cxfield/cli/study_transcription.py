"""`cxfield studies transcription (ID | --default) [--engine E] [--model NAME] …`

The transcription options a study's sessions are transcribed with (engine, model, speaker
suggestions and how many voices, …): the study's own where it sets them, else the
installation's (``--default``).  The transcript tab and the models page set the same."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, print_json, print_table, status

ENGINES = ("openai-whisper", "ctranslate2")
#: options this command shows, in order
SHOWN = (
    "engine", "model", "compute_type", "speaker_labels", "speakers", "live", "skip_silence",
    "language", "translate", "word_timestamps",
)  # fmt: skip


def register_under(sub: Any) -> None:
    p = command(
        sub, "transcription", _transcription,
        "show or set how a study's sessions are transcribed (engine, model, speakers)",
    )  # fmt: skip
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", metavar="ID", help="study id")
    which.add_argument(
        "--default", action="store_true",
        help="the installation's options (for every study that does not set its own)",
    )  # fmt: skip
    p.add_argument("--engine", choices=ENGINES, help="openai-whisper or ctranslate2")
    p.add_argument("--model", metavar="NAME", help="installed model name")
    p.add_argument("--compute-type", choices=("int8", "float32"), help="ctranslate2 arithmetic")
    speakers = p.add_mutually_exclusive_group()
    speakers.add_argument(
        "--speakers", type=int, metavar="N",
        help="suggest speakers after every transcription, telling N voices apart (2: an "
        "interviewer and a participant; 3 or more for a family or an interpreter)",
    )  # fmt: skip
    speakers.add_argument("--no-speakers", action="store_true", help="stop suggesting speakers")
    live = p.add_mutually_exclusive_group()
    live.add_argument("--live", action="store_true", help="transcribe while recording")
    live.add_argument("--no-live", action="store_true", help="transcribe after recording only")
    p.add_argument("--json", action="store_true", help="print JSON")


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.engine:
        changes["engine"] = args.engine
    if args.model:
        changes["model"] = args.model
    if args.compute_type:
        changes["compute_type"] = args.compute_type
    if args.speakers is not None:
        from cxfield.transcribe.speakers import check_speakers

        changes.update(speaker_labels=True, speakers=check_speakers(args.speakers))
    if args.no_speakers:
        changes["speaker_labels"] = False
    if args.live or args.no_live:
        changes["live"] = bool(args.live)
    return changes


def _transcription(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services import transcription
    from cxfield.services.common import get_live
    from cxfield.storage.models import Study

    study_id = None if args.default else args.id
    if study_id is not None:
        with ctx.db.session() as db:
            get_live(db, Study, study_id, "study")
    changes = _changes(args)
    if changes and study_id is not None:
        transcription.update_study_options(ctx.db, study_id, **changes)
    elif changes:
        installation = transcription.get_options(ctx.db)
        for key, value in changes.items():
            setattr(installation, key, value)
        transcription.set_options(ctx.db, installation)  # checks every value first
    options = asdict(transcription.get_options(ctx.db, study_id))
    own = (
        set(ctx.db.get_setting(f"{transcription.OPTIONS_KEY}.{study_id}", {}) or {})
        if study_id
        else set()
    )
    where = {k: ("study" if k in own else "installation") for k in SHOWN}
    if args.json:
        print_json({k: {"value": options[k], "from": where[k]} for k in SHOWN})
    else:
        print_table(["OPTION", "VALUE", "FROM"], [(k, options[k], where[k]) for k in SHOWN])
    _warn_not_installed(ctx, options["model"], options["engine"])
    if changes:
        scope = f"study {study_id}" if study_id else "this installation"
        status(f"Saved for {scope}: {', '.join(f'{k}={v}' for k, v in changes.items())}.")
    return 0


def _warn_not_installed(ctx: AppContext, model: str, engine: str) -> None:
    from cxfield.transcribe.model_store import ModelStore

    if engine not in ModelStore(ctx.paths.models).engines_of(model):
        hint = (
            f"`cxfield models import DIR` or `cxfield models convert {model} --to ctranslate2`"
            if engine == "ctranslate2"
            else "`cxfield models import PATH`"
        )
        status(f"Note: {model} is not installed for {engine} yet; install it with {hint}.")

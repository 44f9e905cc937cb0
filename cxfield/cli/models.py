"""`cxfield models list|import|convert|download|verify|remove`"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, print_json, print_table, status
from cxfield.transcribe.model_store import CTRANSLATE2, OPENAI_WHISPER, ModelStore

ENGINES = (OPENAI_WHISPER, CTRANSLATE2)


def register(subparsers: Any) -> None:
    sub = group(subparsers, "models", "Whisper models installed on this computer")
    p = command(sub, "list", _list, "list installed models")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(
        sub, "import", _import,
        "install a .pt checkpoint or a CTranslate2 model folder (e.g. from a USB stick)",
    )  # fmt: skip
    p.add_argument("path", metavar="PATH|DIR")
    p.add_argument(
        "--name",
        help="install under this name (default: the file's name; a folder "
        "faster-whisper-small installs as small)",
    )
    p = command(
        sub, "convert", _convert, "make the CTranslate2 version of an installed .pt (offline)"
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--to", choices=("ctranslate2",), default="ctranslate2", help="target engine")
    p.add_argument(
        "--quantization", choices=("auto", "float32", "float16", "int8"), default="auto",
        help="stored precision (default: the checkpoint's own, so nothing is lost)",
    )  # fmt: skip
    p = command(sub, "download", _download, "download an official model (needs the internet)")
    p.add_argument("name", metavar="NAME", help="e.g. tiny, base, small, medium, turbo")
    p = command(sub, "verify", _verify, "check an installed model's file again")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--engine", choices=ENGINES, help="which form (default: every installed one)")
    p = command(sub, "remove", _remove, "delete an installed model")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--engine", choices=ENGINES, help="which form, when both are installed")


def _store(ctx: AppContext) -> ModelStore:
    return ModelStore(ctx.paths.models)


def _bytes_bar(label: str) -> Any:
    state = {"tenth": -1}

    def progress(done: int, total: int) -> None:
        share = done / total if total else 1.0
        if sys.stderr.isatty():
            sys.stderr.write(
                f"\r{label} {share * 100:3.0f}%  {done / 1e6:,.1f} / {total / 1e6:,.1f} MB"
            )
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif int(share * 10) > state["tenth"]:
            state["tenth"] = int(share * 10)
            status(f"{label} {share * 100:3.0f}%")

    return progress


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    models = _store(ctx).list()
    if args.json:
        print_json([m.as_json() for m in models])
        return 0
    if not models:
        status(
            f"No models installed in {ctx.paths.models}. Run `cxfield models import PATH` "
            "with a .pt file or a CTranslate2 folder, or `cxfield models download NAME` "
            "when online."
        )
        return 0
    print_table(
        ["NAME", "SIZE", "LANGUAGES", "VERIFIED", "ENGINE", "NOTE"],
        [
            (
                m.name,
                f"{m.size_bytes / 1e6:,.0f} MB",
                m.languages,
                ("yes, official" if m.official else "yes") if m.verified else "no",
                m.engine,
                m.problem,
            )
            for m in models
        ],
    )
    return 0


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    source = Path(args.path).expanduser()
    if source.is_dir():
        model = _store(ctx).import_folder(source, args.name, _bytes_bar("Copying"))
        status(
            f"Installed {model.name} for the ctranslate2 engine "
            f"({model.size_bytes / 1e6:,.0f} MB, folder checked and loaded)."
        )
        return 0
    model = _store(ctx).import_file(source, args.name, _bytes_bar("Copying"))
    kind = "official checksum matches" if model.official else "checkpoint checked"
    status(f"Installed {model.name} ({model.size_bytes / 1e6:,.0f} MB, {kind}).")
    return 0


def _convert(ctx: AppContext, args: argparse.Namespace) -> int:
    model = _store(ctx).convert(
        args.name, args.quantization, on_step=lambda text: status(f"{args.name}: {text}…")
    )
    status(
        f"Installed {model.name} for the ctranslate2 engine ({model.size_bytes / 1e6:,.0f} MB); "
        f"use it with `cxfield transcribe … --engine ctranslate2 --model {model.name}`."
    )
    return 0


def _download(ctx: AppContext, args: argparse.Namespace) -> int:
    model = _store(ctx).download(args.name, on_progress=_bytes_bar("Checking"))
    status(f"Installed {model.name} ({model.size_bytes / 1e6:,.0f} MB).")
    return 0


def _verify(ctx: AppContext, args: argparse.Namespace) -> int:
    store = _store(ctx)
    engines = [args.engine] if args.engine else store.engines_of(args.name) or [OPENAI_WHISPER]
    for engine in engines:
        model = store.verify(args.name, _bytes_bar("Verifying"), engine)
        official = " (official checksum)" if model.official and engine == OPENAI_WHISPER else ""
        status(f"{model.name} ({engine}): verified{official}.")
    return 0


def _remove(ctx: AppContext, args: argparse.Namespace) -> int:
    engine = _store(ctx).remove(args.name, args.engine)
    status(f"Removed {args.name} ({engine}).")
    return 0

"""`cxfield models list|import|download|verify|remove`"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, print_json, print_table, status
from cxfield.transcribe.model_store import ModelStore


def register(subparsers: Any) -> None:
    sub = group(subparsers, "models", "Whisper models installed on this computer")
    p = command(sub, "list", _list, "list installed models")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "import", _import, "install a .pt checkpoint (e.g. from a USB stick)")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--name", help="install under this name (default: the file's name)")
    p = command(sub, "download", _download, "download an official model (needs the internet)")
    p.add_argument("name", metavar="NAME", help="e.g. tiny, base, small, medium, turbo")
    p = command(sub, "verify", _verify, "check an installed model's file again")
    p.add_argument("name", metavar="NAME")
    p = command(sub, "remove", _remove, "delete an installed model")
    p.add_argument("name", metavar="NAME")


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
            "with a .pt file, or `cxfield models download NAME` when online."
        )
        return 0
    print_table(
        ["NAME", "SIZE", "LANGUAGES", "VERIFIED", "NOTE"],
        [
            (
                m.name,
                f"{m.size_bytes / 1e6:,.0f} MB",
                m.languages,
                ("yes, official" if m.official else "yes") if m.verified else "no",
                m.problem,
            )
            for m in models
        ],
    )
    return 0


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    model = _store(ctx).import_file(Path(args.path), args.name, _bytes_bar("Copying"))
    kind = "official checksum matches" if model.official else "checkpoint checked"
    status(f"Installed {model.name} ({model.size_bytes / 1e6:,.0f} MB, {kind}).")
    return 0


def _download(ctx: AppContext, args: argparse.Namespace) -> int:
    model = _store(ctx).download(args.name, on_progress=_bytes_bar("Checking"))
    status(f"Installed {model.name} ({model.size_bytes / 1e6:,.0f} MB).")
    return 0


def _verify(ctx: AppContext, args: argparse.Namespace) -> int:
    model = _store(ctx).verify(args.name, _bytes_bar("Verifying"))
    status(f"{model.name}: verified{' (official checksum)' if model.official else ''}.")
    return 0


def _remove(ctx: AppContext, args: argparse.Namespace) -> int:
    _store(ctx).remove(args.name)
    status(f"Removed {args.name}.")
    return 0

"""`cxfield studies ...`"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli import study_transcription
from cxfield.cli.common import command, group, print_json, print_table, status
from cxfield.services import studies, templates


def register(subparsers: Any) -> None:
    sub = group(subparsers, "studies", "list and manage studies")
    p = command(sub, "list", _list, "list studies")
    p.add_argument("--json", action="store_true", help="print JSON")
    command(
        sub,
        "templates",
        _templates,
        "list the shipped study templates (one name per line)",
        needs_db=False,
    )
    p = command(sub, "create", _create, "create a study from a template (prints its id)")
    p.add_argument("--template", required=True, metavar="NAME", help="template name")
    p.add_argument("--name", required=True, metavar="TEXT", help="the new study's name")
    p = command(sub, "export", _export, "write a study definition (journey map) to a JSON file")
    p.add_argument("id", metavar="ID", help="study id")
    p.add_argument("--out", required=True, metavar="FILE", help="JSON file to write")
    p = command(
        sub,
        "import",
        _import,
        "bring in a study definition file: the same study (same ids) as where it was "
        "exported, updated if the file is newer, never a copy (prints its id)",
    )
    p.add_argument("file", metavar="FILE", help="JSON study definition")
    p.add_argument("--name", metavar="TEXT", help="name for a study made from a file without ids")
    study_transcription.register_under(sub)


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    rows = studies.list_studies(ctx.db)
    if args.json:
        print_json(
            [
                {
                    "id": s.id,
                    "name": s.name,
                    "program": s.program,
                    "sessions": s.sessions,
                    "participants": s.participants,
                    "updated_at": s.updated_at.isoformat(),
                }
                for s in rows
            ]
        )
    else:
        print_table(
            ["ID", "NAME", "PROGRAM", "SESSIONS"],
            [(s.id, s.name, s.program, s.sessions) for s in rows],
        )
    return 0


def _templates(_ctx: AppContext | None, _args: argparse.Namespace) -> int:
    for template in templates.list_templates():
        print(template.name)
    return 0


def _create(ctx: AppContext, args: argparse.Namespace) -> int:
    definition = templates.load_template(args.template)
    study = templates.create_from_definition(ctx.db, definition, name=args.name)
    status(f"Created study {study.name!r} from template {args.template}.")
    print(study.id)
    return 0


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
    path = templates.write_definition(ctx.db, args.id, Path(args.out))
    status(f"Wrote {path}.")
    return 0


IMPORT_OUTCOMES = {
    "created": "Imported study {name!r}.",
    "updated": "Updated study {name!r} to the file's newer revision.",
    "unchanged": "Study {name!r} is already up to date; nothing changed.",
    "older": "This laptop's copy of study {name!r} is newer than the file; nothing changed.",
}


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    result = templates.import_study(ctx.db, Path(args.file), name=args.name)
    status(IMPORT_OUTCOMES[result.outcome].format(name=result.study.name))
    print(result.study.id)
    return 0

"""`cxfield review ...`: the supervisor's queue, decisions and comments."""

from __future__ import annotations

import argparse
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, print_json, print_table, status
from cxfield.domain.review import AnchorKind, ReviewAction
from cxfield.domain.vocabulary import SessionStatus
from cxfield.services import review, review_queue

STATES = [s.value for s in SessionStatus]


def register(subparsers: Any) -> None:
    sub = group(subparsers, "review", "review submitted sessions (supervisors)")
    p = command(sub, "list", _list, "sessions waiting for review, oldest submission first")
    p.add_argument(
        "--state",
        choices=STATES,
        action="append",
        metavar="STATE",
        help=f"only sessions in this state (repeatable; default submitted): {', '.join(STATES)}",
    )
    p.add_argument("--study", metavar="ID", help="only sessions of this study")
    p.add_argument("--site", metavar="NAME", help="only sessions at this site (name or id)")
    p.add_argument("--researcher", metavar="NAME", help="only this researcher's (name or id)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(sub, "approve", _decide(ReviewAction.APPROVE), "approve a submitted session")
    p.add_argument("id", metavar="ID")
    p.add_argument("--comment", metavar="TEXT", default="", help="optional comment")
    for name, action, text in (
        ("return", ReviewAction.RETURN, "return a session to its researcher (has issues)"),
        ("reject", ReviewAction.REJECT, "reject a submitted session"),
        ("reopen", ReviewAction.REOPEN, "reopen an approved or rejected session"),
    ):
        p = command(sub, name, _decide(action), text)
        p.add_argument("id", metavar="ID")
        p.add_argument("--comment", metavar="TEXT", required=True, help="why (required)")
    p = command(sub, "comment", _comment, "comment on a session, a step, a note or a segment")
    p.add_argument("id", metavar="ID", help="session id")
    p.add_argument("text", metavar="TEXT")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--step", metavar="STEP_ID", help="about this step's capture (its id or its name)"
    )
    where.add_argument(
        "--quote", metavar="STEP_ID", help="about this step's quote (its id or its name)"
    )
    where.add_argument("--note", metavar="NOTE_ID", help="about this note")
    where.add_argument("--segment", metavar="SEGMENT_ID", help="about this transcript segment")
    where.add_argument("--reply-to", metavar="COMMENT_ID", help="answer this comment")
    p = command(sub, "profile", _profile, "show (or, offline, choose) who you are on this laptop")
    p.add_argument("name", metavar="NAME", nargs="?", help="a researcher's name (made if new)")
    p.add_argument("--role", choices=["researcher", "supervisor"], help="for a new profile")
    p = command(sub, "comments", _comments, "a session's review comments, threaded")
    p.add_argument("id", metavar="ID", help="session id")
    p.add_argument("--json", action="store_true", help="print JSON")


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    items = review_queue.review_queue(
        ctx.db,
        args.state or [SessionStatus.SUBMITTED.value],
        study_id=args.study,
        site=args.site,
        researcher=args.researcher,
    )
    if args.json:
        print_json([item.as_json() for item in items])
        return 0
    print_table(
        ["ID", "SUBMITTED", "STATUS", "RESEARCHER", "SITE", "PARTICIPANT", "COMMENTS"],
        [
            (
                i.session.id,
                i.submitted_at.strftime("%Y-%m-%d %H:%M"),
                i.session.status,
                i.session.researcher or "-",
                i.session.site or "-",
                i.session.participant_code or "-",
                i.comments,
            )
            for i in items
        ],
    )
    return 0


def _decide(action: ReviewAction) -> Any:
    def handler(ctx: AppContext, args: argparse.Namespace) -> int:
        event = review.move(ctx.db, args.id, action, args.comment)
        status(f"session {args.id}: {event.from_status.value} → {event.to_status.value}")
        return 0

    return handler


def _comment(ctx: AppContext, args: argparse.Namespace) -> int:
    anchor, anchor_id = AnchorKind.SESSION, None
    for kind, value in (
        (AnchorKind.STEP, args.step),
        (AnchorKind.QUOTE, args.quote),
        (AnchorKind.NOTE, args.note),
        (AnchorKind.SEGMENT, args.segment),
    ):
        if value:
            anchor, anchor_id = kind, value
    made = review.add_comment(
        ctx.db, args.id, args.text, anchor=anchor, anchor_id=anchor_id, reply_to=args.reply_to
    )
    print(made.id)
    return 0


def _comments(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services.sessions import session_detail

    detail = session_detail(ctx.db, args.id)
    found = review.threads(review.comments_of(ctx.db, args.id))
    if args.json:
        print_json(
            [
                {
                    **_comment_json(t.comment),
                    "about": review.anchor_label(detail, t.comment),
                    "replies": [_comment_json(r) for r in t.replies],
                }
                for t in found
            ]
        )
        return 0
    for thread in found:
        for depth, c in [(0, thread.comment)] + [(1, r) for r in thread.replies]:
            about = review.anchor_label(detail, c)
            indent = "    " * depth
            print(f"{indent}{c.at:%Y-%m-%d %H:%M} {c.author_name} on {about}: {c.text}")
    return 0


def _comment_json(c: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "anchor": c.anchor.value,
        "anchor_id": c.anchor_id,
        "reply_to": c.reply_to,
        "text": c.text,
        "author": c.author_name,
        "author_role": c.author_role,
        "at": c.at.isoformat(),
    }


def _profile(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.name:
        actor = review.use_profile(ctx.db, args.name, args.role)
    else:
        actor = review.current_actor(ctx.db)
    if not actor.known:
        print("nobody (cxfield review profile NAME --role supervisor|researcher)")
        return 0
    print(f"{actor.name} ({actor.role})")
    return 0

"""The real app under a real X server, typed at by real X key events (issue 10).

Xvfb at 1366×768 on a free display, ``python -m cxfield`` on a prepared data directory with
the xcb platform, and xdotool for every key: a whole interview (ratings, chips, Tab into
the quote with letters that are also chip keys, notes, the step list, note editing, the
survey, finish), then an observation; the database is read back field by field.  Each key
of the README's runner table is pressed at least once.  Screenshots of the whole screen go
to CXFIELD_SCREENSHOTS (or the test's temporary directory).

There is no window manager: when a window appears the test gives it the X input focus,
as a window manager would."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxfield.app import AppContext
from cxfield.services import participants, sessions, studies, survey_answers
from tests.conftest import PYTHON
from tests.xvfb_support import (
    HAVE_X,
    SKIP_REASON,
    Screen,
    app_env,
    running_app,
    wait_for,
    xvfb_screen,
)

pytestmark = [pytest.mark.qt, pytest.mark.slow]

if not HAVE_X:
    pytest.skip(SKIP_REASON, allow_module_level=True)

SCREEN = (1366, 768)
QUOTE = "Embarrassed, hopeful, relieved, respected, ignored: she read every word."


@pytest.fixture
def screen(tmp_path: Path) -> Iterator[Screen]:
    with xvfb_screen(Path(os.environ.get("CXFIELD_SCREENSHOTS") or tmp_path), SCREEN) as shown:
        yield shown


@pytest.fixture
def app(screen: Screen, ctx: AppContext, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A study from a template made with the CLI, a participant with interview consent, and
    the real app on that data directory."""
    root = str(ctx.paths.root)
    made = subprocess.run(
        [PYTHON, "-m", "cxfield", "--data-dir", root, "studies", "create"]
        + ["--template", "benefits-office-visit", "--name", "Field test"],
        env=app_env(screen),
        capture_output=True,
        text=True,
        check=True,
    )
    person = participants.add_participant(ctx.db, made.stdout.strip())
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    with running_app(screen, ctx.paths.root, tmp_path / "app.log") as process:
        yield process


def _only_session(ctx: AppContext, mode: str) -> dict[str, Any]:
    found = [s for s in sessions.list_sessions(ctx.db) if s.mode == mode]
    assert len(found) == 1, found
    return sessions.session_detail(ctx.db, found[0].id)


def _captures(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["step"]: row["capture"] for row in detail["steps"] if row["capture"]}


def test_a_whole_interview_typed_under_x(screen: Screen, app: Any, ctx: AppContext) -> None:
    main = screen.wait_window("^cxfield [0-9]")
    screen.shot("main")
    screen.keys("ctrl+r")
    screen.wait_window("^Start a session")
    screen.shot("start-dialog")
    screen.keys("alt+s")  # Start: the study, Interview and P-001 are already chosen
    runner = screen.wait_window("cxfield runner")
    assert screen.fits(runner)
    screen.shot("runner-opened")

    # Check in: the sequence from the issue, then Tab into the quote and a sentence whose
    # letters are chip keys; Tab on into the notes, Esc back to the keys
    screen.keys("2", "f", "c", "p", "plus", "plus", "Tab")
    screen.type(QUOTE)
    screen.keys("Tab")
    screen.type("asked for a pen")
    screen.shot("check-in-typed")
    screen.keys("Escape", "Next")
    # Greet and triage: 5, 0 clears, 4; chips; − on no intensity sets the middle
    screen.keys("5", "0", "4", "h", "r", "minus", "alt+Right")
    # Wait: Shift+Tab goes round the other way (notes first, then the quote)
    screen.keys("1", "a", "g", "p", "equal", "equal", "equal", "shift+Tab")
    screen.type("Two hours in the queue")
    screen.keys("shift+Tab")
    screen.type("Nobody told us anything, 2 hours")
    screen.keys("Escape", "ctrl+Return")
    # Intake interview: a timestamped quote; back and forth with Alt+← / PgUp
    screen.keys("3", "ctrl+q")
    screen.type("I did not understand the income questions")
    screen.keys("Return", "alt+Left", "Prior", "Next", "Next")
    # the step list: Down to the backstage step, rate it there, Esc back to the keys
    screen.keys("ctrl+g", "Down", "2", "Escape", "Next")
    # Document verification: a note with a #tag
    screen.keys("2", "c", "ctrl+n")
    screen.type("Kiosk only in English #barrier")
    screen.keys("Return", "Next")
    screen.keys("5", "s", "t", "Next")  # Eligibility decision
    screen.keys("3")  # Notice by mail
    screen.shot("notice-by-mail")
    # the notes list: F2 edits the latest note, Delete removes it, Ctrl+Z brings it back
    screen.keys("ctrl+l", "F2")
    screen.wait_window("^Edit note")
    screen.shot("edit-note")
    screen.keys("ctrl+a")
    screen.type("Kiosk only in English and Spanish #barrier")
    screen.keys("Return")
    screen.wait_gone("^Edit note")
    runner = screen.wait_window("cxfield runner")
    notes = lambda: len(_only_session(ctx, "interview")["notes"])  # noqa: E731
    screen.keys("ctrl+l", "Delete")
    wait_for(lambda: notes() == 1, 20, "Delete to remove the note")
    screen.keys("ctrl+z")
    wait_for(lambda: notes() == 2, 20, "Ctrl+Z to bring it back")
    screen.keys("Escape", "F5", "F1")
    screen.wait_window("^Keyboard")
    screen.shot("help")
    screen.keys("Return")
    screen.wait_gone("^Keyboard")
    runner = screen.wait_window("cxfield runner")
    # the survey: keys 1–5 answer a row and move on; then the comments field
    study = studies.get_study(ctx.db, studies.list_studies(ctx.db)[0].id)
    questions = survey_answers.survey_questions(study)
    likert = [q.key for q in questions if q.kind == "likert"]
    answers = "45342355"[: len(likert)]
    assert questions[len(likert)].kind == "text"  # the comments come after the last row
    screen.keys("ctrl+u", *answers)
    screen.type("Thank you, 4 stars")
    screen.shot("survey")
    screen.keys("ctrl+shift+f")
    screen.wait_window("^Finish session")
    screen.shot("finish")
    screen.keys("Return")
    wait_for(lambda: _only_session(ctx, "interview")["status"] == "submitted", 30, "the submit")
    screen.wait_window("^Session ")  # the session view opens
    screen.shot("session-view")

    detail = _only_session(ctx, "interview")
    got = _captures(detail)
    assert _main(got["Check in"]) == (
        -1,
        ["frustrated", "confused"],
        4,
        True,
        QUOTE,
        "asked for a pen",
    )
    assert _main(got["Greet and triage"]) == (1, ["hopeful", "relieved"], 3, False, "", "")
    assert _main(got["Wait"]) == (
        -2,
        ["anxious", "angry"],
        5,
        True,
        "Nobody told us anything, 2 hours",
        "Two hours in the queue",
    )
    assert _main(got["Intake interview"]) == (0, [], None, False, "", "")
    assert _main(got["Caseworker enters application"]) == (-1, [], None, False, "", "")
    assert _main(got["Document verification"]) == (-1, ["confused"], None, False, "", "")
    assert _main(got["Eligibility decision"]) == (
        2,
        ["respected", "satisfied"],
        None,
        False,
        "",
        "",
    )
    assert _main(got["Notice by mail"]) == (0, [], None, False, "", "")
    assert "Eligibility system" not in got  # the headers and the support step were passed
    step_of = {row["step_id"]: row["step"] for row in detail["steps"]}
    assert [(n["text"], n["tags"], step_of.get(n["step_id"])) for n in detail["notes"]] == [
        ("I did not understand the income questions", ["quote"], "Intake interview"),
        ("Kiosk only in English and Spanish", ["barrier"], "Document verification"),
    ]
    survey = detail["survey"]
    assert {key: survey[key] for key in likert} == dict(zip(likert, map(int, answers), strict=True))
    assert survey["comments"] == "Thank you, 4 stars"

    # An observation: Alt+O in the start dialog, N follows the customer's path, W, M, Ctrl+W
    screen.xdotool("windowfocus", "--sync", main)
    screen.keys("ctrl+r")
    screen.wait_window("^Start a session")
    screen.keys("alt+o", "alt+s")
    screen.wait_window("^Observation")
    screen.keys("n", "n", "n", "n", "n", "w", "ctrl+u", "1")
    screen.shot("observation")
    screen.keys("n", "w", "m", "ctrl+w")  # sent back: M enters the step again
    screen.wait_gone("^Observation")
    seen = _only_session(ctx, "observation")
    assert seen["status"] == "draft" and seen["participant_code"] is None
    assert [step_of[v["step_id"]] for v in seen["observation_visits"]] == [
        "Check in",
        "Greet and triage",
        "Wait",
        "Intake interview",
        "Document verification",
        "Eligibility decision",
        "Eligibility decision",
    ]
    assert seen["observation_visits"][4]["left_at"] is not None  # W: left (waiting)
    assert _captures(seen)["Document verification"]["valence"] == -2  # Ctrl+U did nothing
    assert seen["survey"] is None


def _main(cap: dict[str, Any]) -> tuple[Any, ...]:
    fields = ("valence", "emotions", "intensity", "pain_point", "quote", "notes")
    return tuple(cap[k] for k in fields)

"""The privacy screens of the real app under a real X server, typed at by real X key
events (issue 14): the study's Privacy tab (the review switch, a case-number pattern, a
word list; a bad pattern refused in one line with nothing written), then the redaction
review of a session with planted details (A accept, R reject, Alt+F to mute a stretch of
the recording by hand, Enter).  The database is read back afterwards.  Keys go to whatever
has focus; both screens, 1366×768 and 1920×1080, are photographed
($CXFIELD_SHOTS/privacy, else the test's temporary directory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("presidio_analyzer")

from sqlmodel import col, select  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.domain.vocabulary import AudioClock  # noqa: E402
from cxfield.privacy import review, store, study_protection  # noqa: E402
from cxfield.services import capture, studies, templates  # noqa: E402
from cxfield.services import review as review_service  # noqa: E402
from cxfield.storage.models import Note, Recording, RedactionMute  # noqa: E402
from tests.redaction_support import EMAIL, PHONE, SSN, Planted, planted_session  # noqa: E402
from tests.xvfb_support import (  # noqa: E402
    HAVE_X,
    SIZES,
    SKIP_REASON,
    Screen,
    area_screen,
    running_app,
    size_id,
    wait_for,
)

pytestmark = [pytest.mark.qt, pytest.mark.slow]
if not HAVE_X:
    pytest.skip(SKIP_REASON, allow_module_level=True)

CASE = "SNAP-20461937"
OFFICE = "Eastside"
#: in a review comment (the researcher's answer): comments are scanned like notes
SON = "773-555-0142"
PATTERN = r"SNAP-\d{8}"


@pytest.fixture(params=SIZES, ids=size_id)
def screen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Screen]:
    with area_screen("privacy", request.param, tmp_path) as shown:
        yield shown


@pytest.fixture
def planted(ctx: AppContext) -> Planted:
    """A study from a template and one session with an SSN, a phone, an email, a case
    number and the office's name in its texts, a phone number in a review comment, and a
    two-minute recording."""
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit"), name="Privacy keys"
    )
    found = planted_session(ctx.db, study_id=study.id)
    with ctx.db.session() as db:
        db.add(Note(session_id=found.session_id, text=f"Case {CASE}, seen at {OFFICE}."))
        recording = db.get(Recording, found.recording_id)
        assert recording is not None
        recording.duration_s = 120.0
        db.add(recording)
    review_service.use_profile(ctx.db, "Ana Morales", "researcher")
    review_service.add_comment(ctx.db, found.session_id, f"Her son calls from {SON}")
    return found


def _mutes(ctx: AppContext, recording_id: str) -> list[tuple[float, float]]:
    with ctx.db.session() as db:
        rows = db.exec(
            select(RedactionMute)
            .where(RedactionMute.recording_id == recording_id)
            .order_by(col(RedactionMute.start_s))
        ).all()
        return [(row.start_s, row.end_s) for row in rows]


def _checked(ctx: AppContext, recording_id: str) -> bool:
    with ctx.db.session() as db:
        recording = db.get(Recording, recording_id)
        return recording is not None and recording.transcript_checked_at is not None


def _states(ctx: AppContext, session_id: str) -> dict[str, str]:
    return {row.text: row.state for row in store.candidates(ctx.db, session_id=session_id)}


def test_privacy_tab_and_review_typed_under_x(
    screen: Screen, ctx: AppContext, planted: Planted, tmp_path: Path
) -> None:
    study_before = studies.get_study(ctx.db, planted.study_id).model_dump()
    with running_app(screen, ctx.paths.root, tmp_path / "app.log"):
        main = screen.wait_window("^cxfield [0-9]")
        screen.keys("ctrl+shift+e")
        editor = screen.wait_window("^Edit study")
        assert screen.fits(editor)
        # Alt+R opens the Privacy tab (focus on its tab); Tab walks the page in reading
        # order: Create key, Import key (the disabled ones are passed), the audio's days,
        # its clock, the transcripts' days, the review switch (Space turns it off), the
        # patterns, the word list
        screen.keys("alt+r")
        screen.shot("privacy-tab")
        screen.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "space", "Tab")
        screen.type("SNAP-(")
        screen.keys("Tab")
        screen.type(OFFICE)
        screen.shot("privacy-tab-typed")
        screen.keys("Return")  # Enter saves the dialog: refused, in one line
        screen.wait_window("^cxfield$")
        screen.shot("bad-pattern")
        assert review.get_settings(ctx.db, planted.study_id).as_json() == {
            "review": True,
            "threshold": 0.5,
            "case_patterns": [],
            "words": [],
        }
        assert studies.get_study(ctx.db, planted.study_id).model_dump() == study_before
        screen.keys("Return")  # closes the message; the editor is still open
        screen.wait_gone("^cxfield$")
        screen.wait_window("^Edit study")
        screen.keys("alt+p", "ctrl+a")
        screen.type(PATTERN)
        # Alt+L: the audio's clock; Down picks "when its transcript is checked"
        screen.keys("alt+l", "Down")
        screen.shot("privacy-clock-chosen")
        screen.keys("Return")
        screen.wait_gone("^Edit study")
        settings = review.get_settings(ctx.db, planted.study_id)
        assert (settings.review, settings.case_patterns, settings.words) == (
            False,
            (PATTERN,),
            (OFFICE,),
        )
        clock = study_protection.get_protection(ctx.db, planted.study_id).audio_clock
        assert clock == AudioClock.CHECKED.value

        # The session's review: Tab from the studies into the sessions, Home selects it
        screen.xdotool("windowfocus", "--sync", main)
        screen.keys("Tab", "Home", "ctrl+shift+r")
        window = screen.wait_window("^Review redactions", timeout=90)
        assert screen.fits(window)
        wait_for(lambda: _states(ctx, planted.session_id), 60, "the scan")
        screen.shot("review-opened")
        states = _states(ctx, planted.session_id)
        assert {SSN, PHONE, EMAIL, CASE, OFFICE, SON} <= set(states), states
        # A, R, A, A, A, A: each moves on to the next pending candidate
        screen.keys("a", "r", "a", "a", "a", "a")
        wait_for(
            lambda: "pending" not in _states(ctx, planted.session_id).values(),
            20,
            "every candidate decided",
        )
        # Alt+F: the mute's "from"; Tab to "to"; Shift+Tab back to mend "from"; Tab, Enter
        # in "to" mutes
        screen.keys("alt+f")
        screen.type("80")
        screen.keys("Tab")
        screen.type("1:30.25")
        screen.keys("shift+Tab", "ctrl+a")
        screen.type("83.5")
        screen.keys("Tab", "Return")
        wait_for(lambda: _mutes(ctx, planted.recording_id), 20, "the muted stretch")
        screen.shot("review-muted")
        screen.keys("Escape")
        screen.wait_gone("^Review redactions")

        # The interview finished (a draft opens in the runner): F5 shows it, Ctrl+O opens
        # the session; Alt+T its transcript; Ctrl+K marks it checked
        capture.finish_session(ctx.db, planted.session_id)
        screen.xdotool("windowfocus", "--sync", main)
        screen.keys("F5", "ctrl+o")
        view = screen.wait_window("^Session ")
        screen.keys("alt+t", "ctrl+k")
        wait_for(lambda: _checked(ctx, planted.recording_id), 20, "the transcript checked")
        assert screen.fits(view)
        screen.shot("transcript-checked")

    # in the window's order (the store's): A, R, A, A, A, A
    decided = [row.state for row in store.candidates(ctx.db, session_id=planted.session_id)]
    assert decided == ["accepted", "rejected", "accepted", "accepted", "accepted", "accepted"]
    assert _states(ctx, planted.session_id)[SON] == "accepted"  # the review comment's
    assert _mutes(ctx, planted.recording_id) == [(83.5, 90.25)]

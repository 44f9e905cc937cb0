"""A supervisor's laptop that pulled an encrypted study without opening its key, in the real
app under a real X server, typed at by real X key events: the session window says how many
texts are encrypted and shows the placeholder, never ciphertext; F2 on a sealed note is
refused; Privacy → Import a recording key… refuses a file that is no key in one line, then
takes the saved key typed into the file dialog.  The database and the key store are read
back afterwards; both screens, 1366×768 and 1920×1080, are photographed
($CXFIELD_SHOTS/sealed, else the test's temporary directory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cxfield.app import open_app
from cxfield.privacy import keys, sealing, study_protection
from cxfield.services import capture, demo, studies
from cxfield.services import sessions as session_service
from tests.privacy_support import plant_texts
from tests.sync_support import Team, submit_decided
from tests.xvfb_support import (
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


@pytest.fixture(params=SIZES, ids=size_id)
def screen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Screen]:
    with area_screen("sealed", request.param, tmp_path) as shown:
        yield shown


def test_sealed_texts_and_the_recording_key_typed_under_x(
    screen: Screen, team: Team, tmp_path: Path
) -> None:
    ana, sam = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    study = demo.create_demo(ana.db, 4)
    study_protection.create_key(ana.db, ana.ctx.paths.root, study.id, "correct horse battery")
    planted = plant_texts(ana.db, study.id)
    capture.finish_session(ana.db, planted.session_id)  # a draft would open in the runner
    submit_decided(ana.db)
    ana.sync()
    sam.sync()
    stored = session_service.session_detail(sam.db, planted.session_id)
    sealed_notes = [n["text"] for n in stored["notes"] if sealing.is_sealed(n["text"])]
    assert sealed_notes
    row = [s.id for s in session_service.list_sessions(sam.db, study.id)].index(planted.session_id)
    # the recording key saved on an old laptop, and a file that is no key
    old_root = tmp_path / "old-laptop"
    old_root.mkdir()
    old = open_app(old_root)
    try:
        old_key, _ = keys.laptop_key_made(old.paths.root, old.db.device_id)
        saved = tmp_path / "old.key"
        keys.export_laptop_key(old.paths.root, old.db.device_id, saved)
    finally:
        old.close()
    not_a_key = tmp_path / "notes.txt"
    not_a_key.write_text("not a key")
    root, device = sam.ctx.paths.root, sam.db.device_id
    assert not keys.has_laptop_key(root, device)

    sam.db.set_setting(studies.LAST_STUDY_SETTING, "")  # set again once the app shows it
    with running_app(screen, root, tmp_path / "app.log"):
        main = screen.wait_window("^cxfield [0-9]")
        # the data folder opens behind the first window; the study shown is then remembered
        wait_for(lambda: studies.remembered_study(sam.db) == study.id, 60, "the study shown")
        screen.xdotool("windowfocus", "--sync", main)
        # Tab from the studies into the sessions; Ctrl+Home, then Down to the planted one
        screen.keys("Tab", "ctrl+Home", *["Down"] * row)
        screen.shot("session-chosen")
        screen.keys("ctrl+o")
        view = screen.wait_window("^(Review — )?Session ")
        assert screen.fits(view)
        screen.shot("session-sealed")
        # Alt+N: Notes and quotes; Tab to its tab, Tab into the table, Home: the first note;
        # F2 (edit) is refused: the status bar says why (in the screenshot), no dialog opens
        screen.keys("alt+n", "Tab", "Tab", "Home", "F2")
        screen.shot("note-f2-refused")
        assert not screen.windows("^Edit note"), "an edit dialog opened on a sealed note"
        screen.xdotool("windowfocus", "--sync", main)

        # Privacy (Alt+P) → Import a recording key… (I): a file that is no key first
        for source in (not_a_key, saved):
            screen.keys("alt+p", "i")
            dialog = screen.wait_window("^Import a recording key")
            screen.keys("ctrl+a")
            screen.type(str(source))
            screen.keys("Return")
            # the one-line answer, in a message box of the same title
            wait_for(
                lambda d=dialog: [w for w in screen.windows("^Import a recording key") if w != d],
                20,
                "the answer",
            )
            screen.shot(f"import-{source.stem}")
            if source == not_a_key:
                assert not keys.has_laptop_key(root, device)  # nothing changed
            screen.keys("Return")
            screen.wait_gone("^Import a recording key")
            screen.xdotool("windowfocus", "--sync", main)

    here, made = keys.laptop_key_made(root, device)
    assert made is None and here == old_key
    # nothing stored changed: the notes are still sealed, none written with the placeholder
    assert session_service.session_detail(sam.db, planted.session_id) == stored

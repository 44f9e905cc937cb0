"""The Sync menu of the desktop app against a real hub (uvicorn in a subprocess on loopback):
connect through the dialog, Ctrl+Shift+S, "Last synced" in the status bar, the calm
messages when the hub is down or the token revoked, the conflicts dialog, Cancel, and a GUI
that keeps ticking while a slow hub answers.

Keys go to whatever widget has focus (QApplication.focusWidget()).  Screenshots are written
when CXFIELD_SCREENSHOTS names a folder."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("httpx")

from sqlalchemy import create_engine, func, select  # noqa: E402

from PySide6.QtCore import QPoint, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QPainter  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from cxfield.app import AppContext, open_app  # noqa: E402
from cxfield.gui.main_window import MainWindow  # noqa: E402
from cxfield.gui.sync.connect_dialog import ENROL_REFUSED  # noqa: E402
from cxfield.gui.sync.describe import (  # noqa: E402
    describe_record,
    last_synced_words,
    status_words,
)
from cxfield.gui.sync.sync_worker import REVOKED_TEXT, UNREACHABLE_TEXT  # noqa: E402
from cxfield.services import capture, demo, sessions, sites  # noqa: E402
from cxfield.sync import conflicts, connection, state  # noqa: E402
from cxfield.sync.client import sync_once  # noqa: E402
from tests.hub_support import RunningHub, free_port, hub_cli  # noqa: E402
from tests.sync_support import submit_decided  # noqa: E402

pytestmark = pytest.mark.qt
#: the app does not care what the hub stores in; its own tests cover PostgreSQL
sqlite_hub = pytest.mark.parametrize("hub_database", ["sqlite"], indirect=True)

SIZES = ((1366, 768), (1920, 1080))
Ctrl = Qt.KeyboardModifier.ControlModifier
Shift = Qt.KeyboardModifier.ShiftModifier
Alt = Qt.KeyboardModifier.AltModifier


# --- helpers ------------------------------------------------------------------------------


def focus() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has focus"
    return widget


def key(k: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focus(), k, modifiers)


def type_text(text: str) -> None:
    QTest.keyClicks(focus(), text)


def focus_in(qtbot: Any, window: QWidget) -> None:
    """Wait until the keyboard focus is inside ``window``."""
    window.activateWindow()
    qtbot.waitUntil(
        lambda: (
            QApplication.focusWidget() is not None
            and (QApplication.focusWidget() is window or window.isAncestorOf(focus()))
        ),
        timeout=5000,
    )


def shot(name: str, window: QWidget, dialog: QWidget | None = None) -> None:
    """The main window at both screen sizes, with ``dialog`` drawn centred over it."""
    folder = os.environ.get("CXFIELD_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        window.resize(width, height)
        QApplication.processEvents()
        picture = window.grab()
        if dialog is not None:
            fit = getattr(dialog, "fit_to", None)
            if fit is not None:
                fit(width, height)
                QApplication.processEvents()
            assert dialog.width() <= width and dialog.height() <= height, "dialog off screen"
            over = dialog.grab()
            painter = QPainter(picture)
            painter.drawPixmap(
                QPoint((width - over.width()) // 2, (height - over.height()) // 2), over
            )
            painter.end()
        assert picture.save(os.path.join(folder, f"{name}-{width}x{height}.png"))


def hub_rows(hub: RunningHub) -> int:
    engine = create_engine(hub.db.url)
    try:
        from cxfield.hub import storage

        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(storage.record)).scalar_one())
    finally:
        engine.dispose()


def waiting(ctx: AppContext) -> int:
    return sum(state.waiting_counts(ctx.db).values())


@pytest.fixture
def window(qtbot: Any, ctx: AppContext) -> MainWindow:
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    focus_in(qtbot, win)
    return win


def sync_by_key(qtbot: Any, window: MainWindow, timeout: int = 60_000) -> list[Any]:
    """Ctrl+Shift+S from the focused widget; the summary (or failure) once it stopped."""
    runner = window.sync_actions.runner
    got: list[Any] = []

    def failed(kind: str, message: str) -> None:
        got.append((kind, message))

    runner.finished.connect(got.append)
    runner.failed.connect(failed)
    focus_in(qtbot, window)
    key(Qt.Key.Key_S, Ctrl | Shift)
    try:
        qtbot.waitUntil(lambda: bool(got), timeout=timeout)
    finally:
        runner.finished.disconnect(got.append)
        runner.failed.disconnect(failed)
    return got


class SlowHub:
    """A TCP relay on loopback in front of the hub that holds every chunk the laptop sends
    for ``delay`` seconds: a slow hub, as the laptop sees it."""

    def __init__(self, hub_url: str, delay: float) -> None:
        self.target = int(hub_url.rsplit(":", 1)[1])
        self.delay = delay
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                laptop, _ = self.server.accept()
            except OSError:
                return
            hub = socket.create_connection(("127.0.0.1", self.target))
            self.open += [laptop, hub]
            threading.Thread(target=self._pump, args=(laptop, hub, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(hub, laptop, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, slow: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if slow and self.delay:
                    time.sleep(self.delay)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.server.close()
        for s in self.open:
            s.close()


# --- tests --------------------------------------------------------------------------------


@sqlite_hub
def test_connect_sync_revoked_and_hub_down(
    qtbot: Any, ctx: AppContext, window: MainWindow, hub_server: RunningHub
) -> None:
    win = window
    study = demo.create_demo(ctx.db, 3)
    submit_decided(ctx.db)  # a researcher sends the demo's decided sessions submitted
    win.refresh()
    actions = win.sync_actions
    assert actions.status_label.text() == "Not connected to a hub"
    menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "S&ync")
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Sync &now",
        "&Connect to hub…",
        "Con&flicts…",
        "&Disconnect",
    ]
    assert actions.actions["sync"].shortcut().toString() == "Ctrl+Shift+S"

    # Connect through the dialog: address, Tab, token, Enter.
    token = hub_server.add_user("Ana", "researcher")
    dialog = actions.connect_hub()
    assert dialog is not None
    focus_in(qtbot, dialog)
    assert focus() is dialog.url
    type_text(hub_server.url)
    key(Qt.Key.Key_Tab)
    assert focus() is dialog.token
    type_text(secrets.token_urlsafe(32))  # the right shape, but not one the hub made
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: dialog.url.isEnabled() and "…" not in dialog.message.text(), timeout=30_000
    )
    assert dialog.message.text() == ENROL_REFUSED
    assert dialog.isVisible() and ctx.db.get_setting(state.HUB_URL) is None
    assert focus() is dialog.token
    key(Qt.Key.Key_A, Ctrl)
    type_text(token)
    dialog.message.clear()
    shot("connect-dialog", win, dialog)
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: actions.connect_dialog is None, timeout=30_000)
    assert dialog.connected is not None and dialog.connected.account.name == "Ana"
    assert ctx.db.get_setting(state.HUB_URL) == hub_server.url
    assert "Connected to" in win.statusBar().currentMessage()
    before = waiting(ctx)
    assert actions.status_label.text() == f"Never synced · {before} changes waiting"

    # Ctrl+Shift+S: everything reaches the hub; the status bar says so.
    (summary,) = sync_by_key(qtbot, win)
    assert summary.pushed == before and not summary.cancelled
    assert hub_rows(hub_server) == before
    assert actions.status_label.text() == "Last synced just now · nothing waiting"
    qtbot.waitUntil(lambda: actions.dialog is None)  # a clean sync closes its window
    shot("main-window-synced", win)

    # The token is revoked on the hub: one calm line, connect again with a new token.
    hub_cli(hub_server.db, "tokens", "revoke", "--user", "Ana")
    draft = next(s for s in sessions.list_sessions(ctx.db, study.id) if s.status == "draft")
    capture.add_note(ctx.db, draft.id, "Queue reached the door")
    actions.timer.timeout.emit()  # the half-minute refresh, counted off the GUI thread
    qtbot.waitUntil(lambda: actions.status_label.text().endswith("· 1 change waiting"))
    (failure,) = sync_by_key(qtbot, win)
    assert failure == ("revoked", REVOKED_TEXT)
    assert actions.dialog is not None and actions.dialog.outcome.text() == REVOKED_TEXT
    assert "Traceback" not in actions.dialog.outcome.text()
    focus_in(qtbot, actions.dialog)
    key(Qt.Key.Key_Escape)  # Close
    qtbot.waitUntil(lambda: actions.dialog is None)
    assert waiting(ctx) == 1  # nothing lost
    again = hub_cli(hub_server.db, "users", "enrol", "Ana").stdout.strip()
    dialog = actions.connect_hub()
    assert dialog is not None
    focus_in(qtbot, dialog)
    assert dialog.url.text() == hub_server.url and focus() is dialog.token  # prefilled
    type_text(again)
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: actions.connect_dialog is None, timeout=30_000)
    (summary,) = sync_by_key(qtbot, win)
    assert summary.pushed == 1 and hub_rows(hub_server) == before + 1

    # The hub goes down (normal in the field): the calm message, nothing changed or lost.
    hub_server.stop()
    capture.add_note(ctx.db, draft.id, "Second window opened")
    last = ctx.db.get_setting(state.LAST_SYNCED)
    (failure,) = sync_by_key(qtbot, win)
    assert failure == ("unreachable", UNREACHABLE_TEXT)
    progress = actions.dialog
    assert progress is not None and progress.heading.text() == "Not synced"
    assert progress.outcome.text() == "Hub not reachable — nothing changed; try again later."
    assert ctx.db.get_setting(state.LAST_SYNCED) == last and waiting(ctx) == 1
    assert actions.status_label.text() == "Last synced just now · 1 change waiting"
    shot("sync-hub-down", win, progress)
    focus_in(qtbot, progress)
    key(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: actions.dialog is None)

    # Disconnect (asked first): the hub is forgotten, the data stays.
    box = actions.disconnect_hub()
    assert box is not None
    focus_in(qtbot, box)
    key(Qt.Key.Key_Y, Alt)
    qtbot.waitUntil(lambda: actions.status_label.text() == "Not connected to a hub")
    assert ctx.db.get_setting(state.HUB_URL) is None
    assert not (ctx.paths.root / "sync-token").exists()
    assert len(sessions.list_sessions(ctx.db, study.id)) == 3


@sqlite_hub
def test_conflicts_dialog_keep_theirs_then_mine(
    qtbot: Any, ctx: AppContext, window: MainWindow, hub_server: RunningHub, tmp_path: Path
) -> None:
    office = sites.add_site(ctx.db, "Eastside Service Center", "1200 E Main St")
    connection.connect(
        ctx.db, ctx.paths.root, hub_server.url, hub_server.add_user("Ana", "researcher")
    )
    minh = open_app(tmp_path / "minh")
    try:
        connection.connect(
            minh.db, minh.paths.root, hub_server.url, hub_server.add_user("Minh", "researcher")
        )

        def minh_sync() -> None:
            client = connection.open_client(minh.db, minh.paths.root)
            try:
                sync_once(minh.db, client)
            finally:
                client.close()

        actions = window.sync_actions
        sync_by_key(qtbot, window)
        minh_sync()
        # Both change the site's address before either syncs; Minh's reaches the hub first.
        sites.rename_site(ctx.db, office.id, office.name, "1200 East Main Street")
        sites.rename_site(minh.db, office.id, office.name, "Suite 4, 1200 E Main St")
        minh_sync()
        (summary,) = sync_by_key(qtbot, window)
        assert not isinstance(summary, tuple), summary
        assert summary.conflicts == 1
        assert actions.status_label.text().endswith("· 1 conflict")
        progress = actions.dialog
        assert progress is not None and progress.conflicts_button.isVisible()
        shot("sync-done-with-conflict", window, progress)

        # From the progress window: Alt+C shows the conflicts.
        focus_in(qtbot, progress)
        key(Qt.Key.Key_C, Alt)
        qtbot.waitUntil(lambda: actions.conflicts_dialog is not None)
        dialog = actions.conflicts_dialog
        assert dialog is not None
        focus_in(qtbot, dialog)
        assert focus() is dialog.table
        assert dialog.model.rowCount() == 1
        record = dialog.model.index(0, 0).data()
        assert record == "Site “Eastside Service Center”"
        assert dialog.model.index(0, 2).data() == "Address / location"
        sides = [dialog.sides.item(0, column).text() for column in range(3)]
        assert sides == ["Address / location", "1200 East Main Street", "Suite 4, 1200 E Main St"]
        shot("conflicts-dialog", window, dialog)

        key(Qt.Key.Key_T, Alt)  # Keep theirs (a mnemonic clicks after a short animation)
        qtbot.waitUntil(lambda: dialog.choices == 1)
        assert dialog.model.index(0, 3).data() == "Theirs kept — sent at the next sync"
        assert sites.list_sites(ctx.db)[0].location == "Suite 4, 1200 E Main St"
        got: list[Any] = []
        actions.runner.finished.connect(got.append)
        key(Qt.Key.Key_Escape)  # closing the window sends the choice
        qtbot.waitUntil(lambda: bool(got), timeout=60_000)
        assert conflicts.list_conflicts(ctx.db) == []
        assert actions.status_label.text() == "Last synced just now · nothing waiting"
        minh_sync()
        assert conflicts.list_conflicts(minh.db) == []
        assert sites.list_sites(minh.db)[0].location == "Suite 4, 1200 E Main St"

        # Again, and this time Ana keeps hers: Minh's laptop gets it.
        sites.rename_site(ctx.db, office.id, office.name, "Door B, 1200 E Main St")
        sites.rename_site(minh.db, office.id, office.name, "Door C, 1200 E Main St")
        minh_sync()
        (summary,) = sync_by_key(qtbot, window)
        assert summary.conflicts == 1
        focus_in(qtbot, actions.dialog)
        key(Qt.Key.Key_Escape)  # close the progress window; open the list from the menu
        dialog = actions.show_conflicts()
        focus_in(qtbot, dialog)
        key(Qt.Key.Key_M, Alt)  # Keep mine
        qtbot.waitUntil(lambda: dialog.choices == 1)
        assert dialog.model.index(0, 3).data() == "Mine kept — sent at the next sync"
        got.clear()
        key(Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: bool(got), timeout=60_000)
        minh_sync()
        assert sites.list_sites(minh.db)[0].location == "Door B, 1200 E Main St"
        assert conflicts.list_conflicts(minh.db) == [] == conflicts.list_conflicts(ctx.db)
    finally:
        minh.close()


@sqlite_hub
def test_slow_hub_keeps_the_gui_ticking_and_cancel_stops_cleanly(
    qtbot: Any, ctx: AppContext, window: MainWindow, hub_server: RunningHub
) -> None:
    study = demo.create_demo(ctx.db, 80, submitted=True)  # a researcher sends them submitted
    capture.start_session(ctx.db, study.id, mode="observation")  # and one she is running
    slow = SlowHub(hub_server.url, delay=0.4)
    try:
        connection.connect(
            ctx.db, ctx.paths.root, slow.url, hub_server.add_user("Ana", "researcher")
        )
        total = waiting(ctx)
        assert total > 2 * 500  # three push batches
        actions = window.sync_actions
        ticks: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(10)
        phases: list[tuple[str, int, int]] = []
        actions.runner.progress.connect(lambda p, d, t: phases.append((p, d, t)))
        result: list[Any] = []
        actions.runner.finished.connect(result.append)

        focus_in(qtbot, window)
        key(Qt.Key.Key_S, Ctrl | Shift)
        qtbot.waitUntil(
            lambda: any(p == "push" and d >= 500 for p, d, _t in phases), timeout=60_000
        )
        assert actions.runner.running and actions.status_label.text().startswith("Syncing…")
        progress = actions.dialog
        assert progress is not None and "of" in progress.phase.text()
        shot("sync-progress", window, progress)
        # The runner's writes are not held up by the sync.
        draft = next(s for s in sessions.list_sessions(ctx.db, study.id) if s.status == "draft")
        started = time.monotonic()
        capture.add_note(ctx.db, draft.id, "Written while syncing")
        assert time.monotonic() - started < 1.0
        # The event loop kept ticking all along: no gap near the hub's delays.
        during = [t for t in ticks if t >= ticks[0]]
        gaps = [b - a for a, b in zip(during, during[1:], strict=False)]
        assert len(during) > 30 and max(gaps) < 0.25, max(gaps)

        # Cancel (Esc in the progress window): stops at the next batch, nothing half-done.
        focus_in(qtbot, progress)
        key(Qt.Key.Key_Escape)
        assert progress.phase.text().startswith("Cancelling")
        qtbot.waitUntil(lambda: bool(result), timeout=60_000)
        (summary,) = result
        assert summary.cancelled and 500 <= summary.pushed < total
        assert progress.heading.text() == "Sync cancelled"
        assert ctx.db.get_setting(state.LAST_SYNCED) is None
        assert hub_rows(hub_server) == summary.pushed
        left = waiting(ctx)
        assert left == total + 1 - summary.pushed
        assert actions.status_label.text() == f"Never synced · {left} changes waiting"
        focus_in(qtbot, progress)
        key(Qt.Key.Key_Escape)
        timer.stop()

        # The next sync sends the rest: nothing lost, nothing twice.
        slow.delay = 0
        (summary,) = sync_by_key(qtbot, window)
        assert not summary.cancelled and summary.pushed == left
        assert hub_rows(hub_server) == total + 1 and waiting(ctx) == 0
    finally:
        slow.close()


def test_connect_dialog_refuses_bad_input_and_changes_nothing(
    qtbot: Any, ctx: AppContext, window: MainWindow
) -> None:
    dialog = window.sync_actions.connect_hub()
    assert dialog is not None
    focus_in(qtbot, dialog)

    def attempt(url: str, token: str = secrets.token_urlsafe(32), ca: str = "") -> str:
        dialog.message.clear()
        dialog.url.setFocus()
        key(Qt.Key.Key_A, Ctrl)
        type_text(url)
        key(Qt.Key.Key_Tab)
        key(Qt.Key.Key_A, Ctrl)
        type_text(token) if token else key(Qt.Key.Key_Delete)
        dialog.ca_file.setText(ca)
        key(Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda: dialog.message.text() != "" and dialog.url.isEnabled(), timeout=30_000
        )
        return dialog.message.text()

    text = attempt("http://192.0.2.10:8000")
    assert "plain http to another machine" in text and "“Allow plain http”" in text
    assert focus() is dialog.url
    assert "is not a hub address" in attempt("ftp://hub.example.org")
    assert attempt("http://127.0.0.1:8000", token="") == (
        "Paste the enrolment token the hub's admin gave you."
    )
    missing = ctx.paths.root / "no-such-ca.pem"
    assert attempt("https://hub.example.org", ca=str(missing)) == (
        f"No CA certificate file at {missing}."
    )
    text = attempt(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert text.startswith("Hub not reachable at") and "try again later" in text
    assert "Traceback" not in text and dialog.isVisible()
    assert ctx.db.get_setting(state.HUB_URL) is None and not list(
        ctx.paths.root.glob("sync-token*")
    )
    key(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.sync_actions.connect_dialog is None)
    assert window.sync_actions.status_label.text() == "Not connected to a hub"
    # Sync now without a hub opens the connect window instead.
    focus_in(qtbot, window)
    key(Qt.Key.Key_S, Ctrl | Shift)
    assert window.sync_actions.connect_dialog is not None
    assert not window.sync_actions.runner.running
    window.sync_actions.connect_dialog.reject()


def test_words_for_records_and_last_synced(ctx: AppContext) -> None:
    from datetime import datetime, timedelta

    study = demo.create_demo(ctx.db, 6)
    interview = next(s for s in sessions.list_sessions(ctx.db, study.id) if s.participant_code)
    data = {"session_id": interview.id, "text": "The queue   reached the door and people left"}
    words = describe_record(ctx.db, "note", data)
    day = interview.started_at.strftime("%Y-%m-%d")
    assert words == (
        "Note “The queue reached the door and people l…” in the interview with "
        f"{interview.participant_code} on {day}"
    )
    session_words = describe_record(ctx.db, "session", {"id": interview.id})
    assert session_words == f"Interview with {interview.participant_code} on {day}"
    assert describe_record(ctx.db, "study", {"name": study.name}) == f"Study “{study.name}”"

    now = datetime(2025, 3, 4, 15, 0).astimezone()
    at = (now - timedelta(seconds=20)).isoformat()
    assert last_synced_words(at, now) == "Last synced just now"
    assert (
        last_synced_words((now - timedelta(minutes=7)).isoformat(), now) == "Last synced 7 min ago"
    )
    two_days = now - timedelta(days=2)
    assert last_synced_words(two_days.isoformat(), now) == f"Last synced {two_days:%Y-%m-%d %H:%M}"
    assert last_synced_words(None, now) == "Never synced"
    info = {"hub": "https://hub", "last_synced_at": None, "changes_waiting": 1}
    assert status_words({**info, "audio_waiting": 2, "conflicts": 3}) == (
        "Never synced · 1 change waiting · 2 recordings to upload · 3 conflicts"
    )
    assert status_words({**info, "changes_waiting": 0}, syncing=True) == (
        "Syncing… · nothing waiting"
    )
    assert status_words({"hub": None}) == "Not connected to a hub"


def test_summary_in_words() -> None:
    from cxfield.gui.sync.sync_dialog import is_clean, summary_words
    from cxfield.sync.client import SyncSummary

    assert summary_words(SyncSummary(pushed=1, pulled=30)) == (
        "Sent 1 change, received 30 from the team."
    )
    assert summary_words(SyncSummary()) == "Nothing to send, nothing new from the team."
    conflicted = SyncSummary(pulled=1, conflicts=1)
    assert summary_words(conflicted) == (
        "Received 1 from the team. 1 to look at: Sync → Conflicts…"
    )
    assert is_clean(SyncSummary(pushed=3)) and not is_clean(conflicted)
    assert not is_clean(SyncSummary(cancelled=True))


def test_a_row_the_hub_refused_is_listed_and_closed_by_keyboard(
    qtbot: Any, ctx: AppContext, window: MainWindow
) -> None:
    from cxfield.gui.sync.conflicts_dialog import ConflictsDialog
    from cxfield.storage.models import Step
    from cxfield.sync.protocol import TABLES, encode_row
    from cxfield.sync.state import write_transaction

    study = demo.create_demo(ctx.db, 1)
    with ctx.db.session() as db:
        step = db.scalars(select(Step).where(Step.study_id == study.id)).first()
        assert step is not None
        data = encode_row(TABLES["step"], step)
    reason = "Only the study's owner or a supervisor can change its journey map."
    with write_transaction(ctx.db) as conn:
        conflicts.record_local(
            conn, "refused-1", "refused", "step", step.id, mine=data, theirs=None, message=reason
        )
    dialog = ConflictsDialog(ctx, window)
    qtbot.addWidget(dialog)
    dialog.open()
    focus_in(qtbot, dialog)
    assert dialog.model.index(0, 0).data() == f"Journey step “{step.name}” of study “{study.name}”"
    assert dialog.model.index(0, 1).data() == "Refused by the hub"
    assert reason in dialog.explanation.text()
    fields = [dialog.sides.item(r, 0).text() for r in range(dialog.sides.rowCount())]
    assert "Name" in fields and "Id" not in fields and "Version" not in fields
    name_row = fields.index("Name")
    assert dialog.sides.item(name_row, 1).text() == step.name
    assert dialog.sides.item(name_row, 2).text() == "—"  # nothing on the other side
    key(Qt.Key.Key_M, Alt)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0)
    assert dialog.title.text().startswith("No conflicts")
    assert conflicts.list_conflicts(ctx.db) == []
    assert not dialog.keep_mine.isEnabled() and not dialog.keep_theirs.isEnabled()


def test_rows_refused_for_one_reason_are_one_line_in_the_sync_window(
    qtbot: Any, window: MainWindow
) -> None:
    """A researcher's laptop syncing the mixed-state demo: each decided session is refused
    for the same reason; the sync window says it once with the count (and still fits the
    screen), a reason given once keeps its row, other messages stay as they are."""
    from PySide6.QtCore import QObject, Signal

    from cxfield.gui.sync.sync_dialog import SyncDialog
    from cxfield.hub.review import ARRIVING_DECIDED
    from cxfield.sync.client import SyncSummary

    class Finished(QObject):
        progress = Signal(str, int, int)
        running = cancelling = False

    decided = ARRIVING_DECIDED.format(status="approved")
    owner = "Only the study's owner or a supervisor can change its journey map."
    summary = SyncSummary(pushed=1800, refused=31)
    summary.messages += [f"session {uuid.uuid4()}: {decided}" for _ in range(30)]
    summary.messages += ["Recording r1: file missing, not uploaded", f"step s1: {owner}"]
    dialog = SyncDialog(Finished(), "http://127.0.0.1:8765", window)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show_summary(summary, 31)
    lines = dialog.outcome.text().split("\n")
    assert lines[1:] == [
        f"30 sessions: {decided}",
        "Recording r1: file missing, not uploaded",
        f"step s1: {owner}",
    ]
    assert lines[0].startswith("Sent 1800 changes") and "31 to look at" in lines[0]
    dialog.show()
    dialog.adjustSize()
    assert dialog.height() < 768 - 100, dialog.height()  # on a 1366×768 screen
    shot("sync-refused-one-line", window, dialog)

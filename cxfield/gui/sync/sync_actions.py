"""The Sync menu of the main window and "Last synced …" in its status bar.

Sync now (Ctrl+Shift+S) runs on a worker thread (:class:`SyncRunner`) with a modeless
progress window and Cancel; Connect to hub…, Conflicts… and Disconnect.  The main window
creates one ``SyncActions(window)``."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox

from cxfield.gui.sync.conflicts_dialog import ConflictsDialog
from cxfield.gui.sync.connect_dialog import ConnectDialog
from cxfield.gui.sync.describe import status_words
from cxfield.gui.sync.sync_dialog import SyncDialog, is_clean, summary_words
from cxfield.gui.sync.sync_worker import NOT_CONNECTED, SyncRunner
from cxfield.gui.workers import run_in_thread
from cxfield.sync import connection, state
from cxfield.sync.client import SyncSummary

#: how often the status bar's "… min ago" and "n changes waiting" are brought up to date
STATUS_REFRESH_MS = 30_000


class SyncActions(QObject):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx  # type: ignore[attr-defined]
        self.runner = SyncRunner(self)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.dialog: SyncDialog | None = None
        self.connect_dialog: ConnectDialog | None = None
        self.conflicts_dialog: ConflictsDialog | None = None
        self.actions: dict[str, QAction] = {}
        menu = window.menuBar().addMenu("S&ync")
        for key, text, shortcut, slot in (
            ("sync", "Sync &now", "Ctrl+Shift+S", self.sync_now),
            ("connect", "&Connect to hub…", "", self.connect_hub),
            ("conflicts", "Con&flicts…", "", self.show_conflicts),
            (None, None, None, None),
            ("disconnect", "&Disconnect", "", self.disconnect_hub),
        ):
            if key is None:
                menu.addSeparator()
                continue
            action = QAction(str(text), window)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)
            self.actions[key] = action

        self.status_label = QLabel()
        self.status_label.setObjectName("syncStatus")
        self.status_label.setAccessibleName("Sync status")
        window.statusBar().addPermanentWidget(self.status_label)
        self.timer = QTimer(self)
        self.timer.setInterval(STATUS_REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        app = QApplication.instance()
        if app is not None:  # quitting mid-sync: stop at the next batch (nothing is lost)
            app.aboutToQuit.connect(self.stop)
        self.refresh_status()

    # --- status bar ---------------------------------------------------------------------

    def status_text(self) -> str:
        info = connection.status(self.ctx.db, self.ctx.paths.root)
        return status_words(info, syncing=self.runner.running)

    def refresh_status(self) -> None:
        """Bring the status bar up to date now (after a sync, a connect, a choice)."""
        self._show_status(connection.status(self.ctx.db, self.ctx.paths.root))

    def _tick(self) -> None:
        # Every half minute, counted off the GUI thread: a runner in use never waits on it.
        ctx = self.ctx
        run_in_thread(
            lambda: connection.status(ctx.db, ctx.paths.root),
            self._show_status,
            lambda _exc: None,  # the next tick or action tries again
            self,
        )

    def _show_status(self, info: dict[str, Any]) -> None:
        self.status_label.setText(status_words(info, syncing=self.runner.running))
        account = info["account"] or {}
        self.status_label.setToolTip(
            f"Hub {info['hub']} as {account.get('name', '?')} ({account.get('role', '?')})"
            if info["hub"]
            else ""
        )
        self.actions["disconnect"].setEnabled(bool(info["hub"]))

    # --- sync ---------------------------------------------------------------------------

    def sync_now(self) -> None:
        if self.runner.running:
            if self.dialog is not None:
                self.dialog.show()
                self.dialog.raise_()
            return
        hub = self.ctx.db.get_setting(state.HUB_URL)
        if not hub:
            self.window.statusBar().showMessage("Connect to the team's hub first.", 6000)
            self.connect_hub()
            return
        dialog = SyncDialog(self.runner, str(hub), self.window)
        dialog.conflicts_requested.connect(self.show_conflicts)
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.dialog = dialog
        self.runner.start(self.ctx.db, self.ctx.paths.root)
        self.dialog.show()
        self.refresh_status()

    def _finished(self, summary: SyncSummary) -> None:
        self.refresh_status()
        if summary.pulled or summary.merged:
            self.window.refresh()  # type: ignore[attr-defined]
        if summary.cancelled:
            self.window.statusBar().showMessage("Sync cancelled; nothing was lost.", 8000)
        else:
            self.window.statusBar().showMessage(f"Synced. {summary_words(summary)}", 10000)
        if self.dialog is None:
            return
        if is_clean(summary):
            self.dialog.accept()
            return
        self.dialog.show_summary(summary, connection.status(self.ctx.db)["conflicts"])

    def _dialog_closed(self, dialog: SyncDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _failed(self, kind: str, message: str) -> None:
        self.refresh_status()
        self.window.statusBar().showMessage(f"Not synced: {message}", 10000)
        if self.dialog is not None:
            self.dialog.show_trouble(message)
        if kind == NOT_CONNECTED:
            self.connect_hub()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Cancel a running sync and give it a moment to stop (it is safe to cut off)."""
        if self.runner.running:
            self.runner.cancel()
            self.runner.wait(timeout_s)

    # --- connect, conflicts, disconnect ------------------------------------------------

    def connect_hub(self) -> ConnectDialog | None:
        """Open the connect window (modal to the main window only: runners stay usable)."""
        if self.runner.running:
            self.window.statusBar().showMessage("Wait for the sync to finish first.", 6000)
            return None
        if self.connect_dialog is not None and self.connect_dialog.isVisible():
            self.connect_dialog.raise_()
            return self.connect_dialog
        dialog = ConnectDialog(self.ctx, self.window)
        dialog.finished.connect(lambda _result: self._connect_closed(dialog))
        self.connect_dialog = dialog
        dialog.open()
        return dialog

    def _connect_closed(self, dialog: ConnectDialog) -> None:
        done = dialog.connected
        if done is not None:
            where = (
                f"No system keyring here: the token is kept in {done.token_store.where}."
                if done.token_store.kind == "file"
                else f"The token is kept in {done.token_store.where}."
            )
            self.window.statusBar().showMessage(
                f"Connected to {done.url} as {done.account.name} ({done.account.role}). {where}",
                12000,
            )
        self.connect_dialog = None
        dialog.deleteLater()
        self.refresh_status()

    def show_conflicts(self) -> ConflictsDialog:
        if self.conflicts_dialog is not None and self.conflicts_dialog.isVisible():
            self.conflicts_dialog.raise_()
            return self.conflicts_dialog
        dialog = ConflictsDialog(self.ctx, self.window)
        dialog.finished.connect(lambda _result: self._conflicts_closed(dialog))
        self.conflicts_dialog = dialog
        dialog.open()
        return dialog

    def _conflicts_closed(self, dialog: ConflictsDialog) -> None:
        self.conflicts_dialog = None
        dialog.deleteLater()
        self.refresh_status()
        if dialog.choices and self.ctx.db.get_setting(state.HUB_URL):
            self.sync_now()  # send the choices at once, as `cxfield sync resolve` does

    def disconnect_hub(self) -> QMessageBox | None:
        """Ask first (No is the default); the data on this laptop always stays."""
        hub = self.ctx.db.get_setting(state.HUB_URL)
        if not hub:
            return None
        if self.runner.running:
            self.window.statusBar().showMessage("Wait for the sync to finish first.", 6000)
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Disconnect from the hub",
            f"Stop syncing with {hub}?\n\nEverything on this laptop stays. Changes not yet "
            "sent stay here too; connecting to a hub again sends them.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.window,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda _result: self._disconnect_answered(box))
        box.open()
        return box

    def _disconnect_answered(self, box: QMessageBox) -> None:
        box.deleteLater()
        if box.standardButton(box.clickedButton()) != QMessageBox.StandardButton.Yes:
            return
        url = connection.disconnect(self.ctx.db, self.ctx.paths.root)
        self.window.statusBar().showMessage(f"Disconnected from {url}.", 8000)
        self.refresh_status()

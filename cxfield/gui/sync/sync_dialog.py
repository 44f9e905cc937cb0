"""The progress window of one sync: what is being sent or received, a bar, Cancel (or Esc),
then what happened in words.  Modeless: the runner and the recorder stay usable.

A clean sync closes the window by itself (the status bar says what was done); a cancelled
one, trouble with the hub, or conflicts stay on screen until the person closes them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cxfield.gui.sync.describe import grouped_messages
from cxfield.gui.sync.sync_worker import SyncRunner
from cxfield.gui.widgets import FOCUS_STYLE
from cxfield.sync.client import SyncSummary

_PHASES = {
    "push": "Sending this laptop's changes",
    "pull": "Receiving the team's changes",
    "upload": "Uploading recordings",
}


def summary_words(summary: SyncSummary) -> str:
    """What a sync did, for a person ("Sent 12 changes, received 30 from the team. 1 to look
    at: Sync → Conflicts…")."""
    sent, got = summary.pushed, summary.pulled
    troubles = summary.conflicts + summary.refused + summary.clashes
    parts = []
    if sent:
        parts.append(f"sent {sent} change" + ("s" if sent != 1 else ""))
    elif not troubles:  # a row that came back as a conflict was sent, not "nothing"
        parts.append("nothing to send")
    parts.append(f"received {got} from the team" if got else "nothing new from the team")
    if summary.uploaded:
        parts.append(f"uploaded {summary.uploaded} recordings")
    if summary.merged:
        parts.append(f"{summary.merged} sites or researchers merged with the team's")
    text = ", ".join(parts)
    text = text[0].upper() + text[1:] + "."
    if troubles:
        text += f" {troubles} to look at: Sync → Conflicts…"
    if summary.held:
        held = len(summary.held)
        text += (
            f" {held} session{'s' if held != 1 else ''} held back until reviewed: "
            "Privacy → Review redactions…"
        )
    return text


def is_clean(summary: SyncSummary) -> bool:
    return not (
        summary.cancelled
        or summary.conflicts
        or summary.refused
        or summary.clashes
        or summary.messages
    )


class SyncDialog(QDialog):
    """Shows one run of ``runner``; Cancel asks it to stop between batches."""

    #: the person asked for the conflicts list from here
    conflicts_requested = Signal()

    def __init__(self, runner: SyncRunner, hub: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setWindowTitle("Sync with the team hub")
        self.setMinimumWidth(520)
        self.setStyleSheet(
            FOCUS_STYLE
            + "QWidget { font-size: 11pt; }"
            + "QLabel#syncHeading { font-size: 13pt; font-weight: 600; }"
        )
        self.heading = QLabel(f"Syncing with {hub}…")
        self.heading.setObjectName("syncHeading")
        self.heading.setWordWrap(True)
        self.phase = QLabel("Starting…")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until a total is known
        self.bar.setAccessibleName("Sync progress")
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setVisible(False)
        self.conflicts_button = QPushButton("Show &conflicts…")
        self.conflicts_button.setVisible(False)
        self.conflicts_button.clicked.connect(self._show_conflicts)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.conflicts_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.phase)
        layout.addWidget(self.bar)
        layout.addWidget(self.outcome)
        layout.addLayout(buttons)

        runner.progress.connect(self.show_progress)
        self.cancel_button.setFocus()

    # --- while it runs ------------------------------------------------------------------

    def show_progress(self, phase: str, done: int, total: int) -> None:
        if self.runner.cancelling:
            return
        words = _PHASES.get(phase, phase)
        if phase == "pull" or total <= 0:
            self.bar.setRange(0, 0)
            self.phase.setText(f"{words}: {done:,} so far")
        else:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.phase.setText(f"{words}: {done:,} of {total:,}")

    def reject(self) -> None:
        """Cancel (or Esc): stop the sync at the next batch; close once it has stopped."""
        if self.runner.running:
            self.runner.cancel()
            self.phase.setText("Cancelling — finishing the current exchange with the hub…")
            self.cancel_button.setEnabled(False)
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        # Closing the window while it syncs means Cancel: it stays to say when it stopped.
        if self.runner.running:
            self.reject()
            event.ignore()
            return
        super().closeEvent(event)

    # --- when it stopped ----------------------------------------------------------------

    def _stopped(self, heading: str, text: str) -> None:
        self.heading.setText(heading)
        self.phase.setVisible(False)
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.bar.setVisible(False)
        self.outcome.setText(text)
        self.outcome.setVisible(True)
        self.cancel_button.setText("Close")
        self.cancel_button.setEnabled(True)
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()

    def show_summary(self, summary: SyncSummary, open_conflicts: int) -> None:
        if summary.cancelled:
            self._stopped(
                "Sync cancelled",
                "Stopped. What was sent or received so far is kept; the rest goes at the "
                "next sync. Nothing was lost.",
            )
            return
        lines = [summary_words(summary), *summary.held, *grouped_messages(summary.messages)]
        self._stopped("Synced", "\n".join(lines))
        self.conflicts_button.setVisible(open_conflicts > 0)

    def show_trouble(self, message: str) -> None:
        self._stopped("Not synced", message)

    def _show_conflicts(self) -> None:
        self.accept()
        self.conflicts_requested.emit()

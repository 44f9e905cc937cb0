"""The transcript's "checked" mark in the transcript view: a toggle button (Alt+C, or
Ctrl+K anywhere in the view) that marks the session's transcribed recordings checked
against the audio by this laptop's researcher (pressed again: unmarked), and a line that
says who checked them and when (:mod:`cxfield.services.transcript_check`)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.gui.widgets import FormLabel, error_text
from cxfield.services import transcript_check
from cxfield.services.transcript_check import TranscriptCheck

SHORTCUT = "Ctrl+K"


def summary(checks: list[TranscriptCheck]) -> str:
    """What the line beside the button says."""
    shown = [c for c in checks if c.segments]
    done = [c for c in shown if c.checked]
    if not shown:
        return "No transcript to check yet."
    if not done:
        return "Transcript not checked yet."
    if len(done) < len(shown):
        return f"{len(done)} of {len(shown)} transcribed recordings checked."
    last = max(done, key=lambda c: c.checked_at.timestamp() if c.checked_at else 0.0)
    return f"Transcript {last.line()}."


class TranscriptCheckBar(QWidget):
    def __init__(
        self,
        ctx: AppContext,
        session_id: str,
        say: Callable[[str, bool], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.session_id, self._say = ctx, session_id, say
        self.checks: list[TranscriptCheck] = []
        self.button = QPushButton(f"Transcript &checked ({SHORTCUT})")
        # who and when; a form label's two spare pixels keep a leaning first letter whole
        self.label = FormLabel("", self.button)
        self.label.setObjectName("transcriptChecked")
        self.button.setCheckable(True)
        self.button.setAccessibleName("Transcript checked against the audio")
        self.button.setToolTip(
            "Press when you have read the transcript against the audio; press again to take "
            "the mark back. A study can delete the audio a set number of days after this."
        )
        self.button.clicked.connect(self.set_checked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self.refresh()

    def refresh(self) -> None:
        self.checks = transcript_check.session_checks(self.ctx.db, self.session_id)
        shown = [c for c in self.checks if c.segments]
        self.button.setChecked(bool(shown) and all(c.checked for c in shown))
        locked = transcript_check.is_read_only(self.ctx.db, self.session_id)
        self.button.setEnabled(bool(shown) and not locked)
        if locked:
            self.button.setToolTip(
                "This session is read-only; a supervisor can reopen it to change the mark."
            )
        self.label.setText(summary(self.checks))

    def toggle(self) -> None:
        """The shortcut: the same as pressing the button."""
        if self.button.isEnabled():
            self.button.click()

    def set_checked(self, checked: bool) -> None:
        try:
            for check in self.checks:
                if check.segments and check.checked != checked:
                    transcript_check.set_checked(self.ctx.db, check.recording_id, checked)
        except CxfieldError as exc:
            self._say(error_text(exc), True)
        else:
            done = "Transcript marked checked." if checked else "Checked mark taken back."
            self._say(done, False)
        self.refresh()

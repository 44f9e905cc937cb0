"""The review mode of the session view: the session's captures, notes, quotes and
transcript with its audio (the ordinary session view), each comment next to the item it is
about (:mod:`comment_marks`), all of them listed beside the tabs, and a bar of decisions.

Keys: C comments on the highlighted capture (its quote when the Quote cell is current),
note or transcript segment; R or Enter in the comments answers one; Alt+A approves,
Alt+I returns (has issues), Alt+J rejects, Alt+P reopens, Alt+U submits.  After a decision
``decided`` is emitted (the queue then opens the next session)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QPushButton, QSplitter, QWidget

from cxfield.app import AppContext
from cxfield.audio.backend import AudioBackend
from cxfield.domain.review import STATUS_LABEL, TRANSITIONS, AnchorKind, ReviewAction
from cxfield.domain.vocabulary import SessionStatus
from cxfield.gui.review import comment_marks
from cxfield.gui.review.comment_dialog import CommentDialog
from cxfield.gui.review.comments_panel import CommentsPanel
from cxfield.gui.session_view import SessionView
from cxfield.gui.widgets import guarded
from cxfield.services import review
from cxfield.services.review import anchor_label
from cxfield.storage.models import ReviewComment

QUOTE_COLUMN = 6
BUTTONS = (
    (ReviewAction.APPROVE, "Approve", "Alt+A"),
    (ReviewAction.RETURN, "Has issues…", "Alt+I"),
    (ReviewAction.REJECT, "Reject…", "Alt+J"),
    (ReviewAction.REOPEN, "Reopen…", "Alt+P"),
    (ReviewAction.SUBMIT, "Submit…", "Alt+U"),
)
ASKS = {
    ReviewAction.RETURN: "Return to the researcher — what needs fixing?",
    ReviewAction.REJECT: "Reject the session — why?",
    ReviewAction.REOPEN: "Reopen the session — why?",
    ReviewAction.SUBMIT: "Submit for review — an answer to the reviewer (optional)",
}


class ReviewSessionView(SessionView):
    decided = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        session_id: str,
        parent: QWidget | None = None,
        *,
        audio_backend: AudioBackend | None = None,
    ) -> None:
        self.comments_panel = CommentsPanel()
        self.actor = review.current_actor(ctx.db)
        super().__init__(ctx, session_id, parent, audio_backend=audio_backend)
        self.layout_.removeWidget(self.tabs)
        splitter = QSplitter()
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.comments_panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        self.layout_.addWidget(splitter, 1)
        bar = QHBoxLayout()
        self.state_label = QLabel()
        self.state_label.setObjectName("reviewState")
        bar.addWidget(self.state_label, 1)
        comment = QPushButton("Comment… (C)")
        comment.clicked.connect(self.comment_on_current)
        bar.addWidget(comment)
        self.buttons: dict[ReviewAction, QPushButton] = {}
        for action, text, keys in BUTTONS:
            button = QPushButton(f"{text} ({keys})")
            button.setAccessibleName(text.rstrip("…"))
            button.clicked.connect(lambda _c=False, a=action: self.decide(a))
            bar.addWidget(button)
            self.buttons[action] = button
            # a window shortcut, not a mnemonic: the transcript tab's hidden buttons hold
            # some of the same letters
            QShortcut(QKeySequence(keys), self).activated.connect(lambda a=action: self.decide(a))
        self.layout_.insertLayout(1, bar)
        for table in (self.captures, self.notes, self.transcript.table):
            shortcut = QShortcut(QKeySequence("C"), table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.comment_on_current)
        self.comments_panel.reply_requested.connect(self.reply_to)
        self.dialog: CommentDialog | None = None
        self.setWindowTitle("Review — " + self.windowTitle())
        self.reload_review()
        self.captures.setFocus()

    def reload(self, select_note: str | None = None) -> None:
        super().reload(select_note)
        if hasattr(self, "buttons"):
            self.reload_review()

    def reload_review(self) -> None:
        status = SessionStatus(self.detail["status"])
        events = [e for e in review.events_of(self.ctx.db, self.session_id)]
        last = next((e for e in reversed(events) if e.action != ReviewAction.SUBMIT), None)
        said = (
            # rich text: a comment's "<" or "&" must show as typed, not as markup
            f" — {html.escape(last.actor_name, False)}: {html.escape(last.comment, False)}"
            if last and last.comment
            else ""
        )
        self.state_label.setText(f"<b>{STATUS_LABEL[status]}</b>{said}")
        for action, button in self.buttons.items():
            rule = TRANSITIONS[action]
            allowed = status in rule.sources and (self.actor.is_reviewer or not rule.reviewers_only)
            button.setVisible(self.actor.is_reviewer != (action == ReviewAction.SUBMIT))
            button.setEnabled(allowed)
        comments = self.comments()
        self.comments_panel.show_comments(self.detail, comments)
        anchored = comment_marks.by_anchor(comments)
        comment_marks.mark_captures(self.captures, self.detail, anchored)
        comment_marks.mark_notes(self.notes, self.detail, anchored)
        editor = self.transcript
        editor._loading = True  # a tint is no edit of the line
        try:
            comment_marks.mark_transcript(editor.table, editor.rows, anchored)
        finally:
            editor._loading = False

    def comments(self) -> list[ReviewComment]:
        return review.comments_of(self.ctx.db, self.session_id)

    # --- comments -------------------------------------------------------------------

    def current_anchor(self) -> tuple[AnchorKind, str | None]:
        """What the highlighted item of the current tab is."""
        page = self.tabs.currentWidget()
        if page is not None and page.isAncestorOf(self.captures):
            row = self.captures.currentRow()
            steps = [s["step_id"] for s in self.detail["steps"] if s["capture"]]
            if 0 <= row < len(steps):
                quote = self.captures.currentColumn() == QUOTE_COLUMN
                return (AnchorKind.QUOTE if quote else AnchorKind.STEP), steps[row]
        elif page is self.notes:
            note = self._selected_note()
            if note is not None:
                return AnchorKind.NOTE, note["id"]
        elif page is self.transcript:
            rows = self.transcript.selected_rows()
            if rows and 0 <= rows[0] < len(self.transcript.rows):
                item = self.transcript.rows[rows[0]]
                kind = AnchorKind.NOTE if hasattr(item, "at_s") else AnchorKind.SEGMENT
                return kind, item.id
        return AnchorKind.SESSION, None

    def _ask(self, title: str, about: str, send: object) -> CommentDialog:
        before = QApplication.focusWidget()
        self.dialog = CommentDialog(self, title, about, send)  # type: ignore[arg-type]
        self.dialog.finished.connect(lambda _r: self._back_to(before))
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.open()
        self.dialog.text.setFocus()
        return self.dialog

    def _back_to(self, widget: QWidget | None) -> None:
        """Keys go on where they were before the dialog (this window may be closing)."""
        if self.isVisible():
            self.activateWindow()
            (widget if widget is not None and widget.window() is self else self.captures).setFocus()

    def comment_on_current(self) -> None:
        kind, target = self.current_anchor()
        probe = ReviewComment(session_id=self.session_id, anchor=kind, anchor_id=target, text="")
        about = "About: " + anchor_label(self.detail, probe)

        def send(text: str) -> None:
            review.add_comment(self.ctx.db, self.session_id, text, anchor=kind, anchor_id=target)
            self.reload_review()

        self._ask("Comment", about, send)

    def reply_to(self, comment_id: str) -> None:
        def send(text: str) -> None:
            review.add_comment(self.ctx.db, self.session_id, text, reply_to=comment_id)
            self.reload_review()

        self._ask("Reply", "Answer to the highlighted comment", send)

    # --- decisions ------------------------------------------------------------------

    def decide(self, action: ReviewAction) -> None:
        if not self.buttons[action].isEnabled() or not self.buttons[action].isVisible():
            return
        if action == ReviewAction.APPROVE:
            if guarded(self, lambda: review.move(self.ctx.db, self.session_id, action)):
                self._decided()
            return

        def send(text: str) -> None:
            review.move(self.ctx.db, self.session_id, action, text)
            self._decided()

        self._ask(STATUS_LABEL[TRANSITIONS[action].target], ASKS[action], send)

    def _decided(self) -> None:
        self.reload()
        self.decided.emit(self.session_id)

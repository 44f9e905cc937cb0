"""Review → Your profile…: who this laptop's reviews and comments are by.  Offline, a
name (an existing researcher or a new one) and, for a new one, a role: a supervisor profile
reviews the sessions on this laptop (as `cxfield review profile NAME --role supervisor`).
Connected to a hub, the hub account is the profile and the dialog only says so."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.gui.widgets import error_text
from cxfield.services import review, sites
from cxfield.storage.actor import ACCOUNT_KEY

ROLES = (("Researcher", "researcher"), ("Supervisor (reviews sessions)", "supervisor"))


class ProfileDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Your profile")
        actor = review.current_actor(ctx.db)
        connected = bool(ctx.db.get_setting(ACCOUNT_KEY))
        now = f"{actor.name} ({actor.role})" if actor.known else "nobody yet"
        self.current = QLabel(
            f"You are {now}."
            + (" Connected to a hub: the hub account decides who you are." if connected else "")
        )
        self.current.setWordWrap(True)
        self.name = QComboBox()
        self.name.setEditable(True)
        self.name.setAccessibleName("Your name; type a new one to add it")
        self.roles = {r.name: r.role.value for r in sites.list_researchers(ctx.db)}
        for name in self.roles:
            self.name.addItem(name)
        self.name.setCurrentText(actor.name if actor.known else "")
        self.role = QComboBox()
        self.role.setAccessibleName("Role of a new profile")
        for text, value in ROLES:
            self.role.addItem(text, value)
        self.name.currentTextChanged.connect(self._known_role)
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("R&ole", self.role)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #a40000;")
        self.problem.setWordWrap(True)
        self.problem.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        for field in (self.name, self.role):
            field.setEnabled(not connected)
        self._known_role(self.name.currentText())
        self.setMinimumWidth(460)
        self.name.setFocus()

    def _known_role(self, text: str) -> None:
        """An existing profile keeps its role (shown, not changeable here)."""
        if hasattr(self, "problem"):
            self.problem.hide()  # a refusal is about what was typed before
        known = self.roles.get(" ".join(text.split()))
        if known is not None:
            index = self.role.findData(known)
            if index >= 0:
                self.role.setCurrentIndex(index)
        self.role.setEnabled(known is None and self.name.isEnabled())

    def accept(self) -> None:
        if not self.name.isEnabled():
            super().accept()
            return
        known = " ".join(self.name.currentText().split()) in self.roles
        try:
            review.use_profile(
                self.ctx.db, self.name.currentText(), None if known else self.role.currentData()
            )
        except CxfieldError as exc:
            self.problem.setText(error_text(exc))
            self.problem.show()
            return
        super().accept()

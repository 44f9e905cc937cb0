"""Sync → Connect to hub…: the hub's address and the one-time enrolment token, the same code
path as ``cxfield sync connect`` (:func:`cxfield.sync.connection.connect`), run off the GUI
thread.  Plain http only to this machine unless "allow http" is ticked; an agency's CA
certificate can be chosen for https.  Bad input is one line in the dialog and changes
nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.gui.widgets import FOCUS_STYLE
from cxfield.gui.workers import run_in_thread
from cxfield.sync import state
from cxfield.sync.client import HubAuthError, check_url
from cxfield.sync.connection import Connected, connect

ENROL_REFUSED = (
    "The hub did not accept this enrolment token (mistyped, already used or revoked); "
    "ask the hub's admin for a new one (cxfield hub users enrol NAME)."
)


class ConnectDialog(QDialog):
    """On success ``connected`` holds the account and where the token was kept."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.connected: Connected | None = None
        self.setWindowTitle("Connect to a team hub")
        self.setMinimumWidth(640)
        self.setStyleSheet(FOCUS_STYLE + "QWidget { font-size: 11pt; }")

        intro = QLabel(
            "Your team's hub keeps everyone's sessions in one place. Ask its admin for the "
            "hub's address and a one-time enrolment token for this laptop."
        )
        intro.setWordWrap(True)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://hub.example.org")
        self.url.setAccessibleName("Hub address")
        self.token = QLineEdit()
        self.token.setPlaceholderText("one-time enrolment token")
        self.token.setAccessibleName("Enrolment token")
        self.allow_http = QCheckBox("Allow plain &http to another machine")
        self.allow_http.setToolTip(
            "Tokens and research data would travel unencrypted: only on a network you trust."
        )
        self.ca_file = QLineEdit()
        self.ca_file.setPlaceholderText("only for a hub with the agency's own certificate")
        self.ca_file.setAccessibleName("CA certificate file")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._choose_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(browse)

        form = QFormLayout()
        form.addRow("Hub &address", self.url)
        form.addRow("Enrolment &token", self.token)
        form.addRow("", self.allow_http)
        ca_label = QLabel("&CA certificate")
        ca_label.setBuddy(self.ca_file)
        form.addRow(ca_label, ca_row)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("connectMessage")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.connect_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.connect_button.setText("C&onnect")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._prefill()

    def _prefill(self) -> None:
        """Connecting again (a new token after a revocation) keeps the hub's settings."""
        db = self.ctx.db
        url = db.get_setting(state.HUB_URL)
        if url:
            self.url.setText(str(url))
            self.allow_http.setChecked(bool(db.get_setting(state.ALLOW_HTTP, False)))
            self.ca_file.setText(str(db.get_setting(state.CA_FILE) or ""))
            self.token.setFocus()
        else:
            self.url.setFocus()

    def _choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "CA certificate of the hub",
            str(Path.home()),
            "Certificates (*.pem *.crt);;All (*)",
        )
        if path:
            self.ca_file.setText(path)

    def _say(self, text: str) -> None:
        self.message.setText(text)

    def _checked(self) -> tuple[str, str, Path | None] | None:
        """The form's values, or None after saying in one line what is wrong."""
        try:
            url = check_url(self.url.text(), allow_http=self.allow_http.isChecked())
        except CxfieldError as exc:
            self._say(str(exc).replace("--allow-http", "“Allow plain http”"))
            self.url.setFocus()
            return None
        token = self.token.text().strip()
        if not token:
            self._say("Paste the enrolment token the hub's admin gave you.")
            self.token.setFocus()
            return None
        current = self.ctx.db.get_setting(state.HUB_URL)
        if current and current != url:
            self._say(f"This laptop syncs with {current}; Sync → Disconnect first.")
            return None
        ca_text = self.ca_file.text().strip()
        ca = Path(ca_text).expanduser() if ca_text else None
        if ca is not None and not ca.is_file():
            self._say(f"No CA certificate file at {ca}.")
            self.ca_file.setFocus()
            return None
        return url, token, ca

    def start(self) -> None:
        values = self._checked()
        if values is None:
            return
        url, token, ca = values
        self._busy(True)
        self._say(f"Connecting to {url}…")
        ctx, allow = self.ctx, self.allow_http.isChecked()
        run_in_thread(
            lambda: connect(ctx.db, ctx.paths.root, url, token, allow_http=allow, ca_file=ca),
            self._done,
            self._failed,
            self,
        )

    def _busy(self, busy: bool) -> None:
        for widget in (self.url, self.token, self.allow_http, self.ca_file, self.connect_button):
            widget.setEnabled(not busy)

    def _done(self, connected: Connected) -> None:
        self.connected = connected
        self._busy(False)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self._busy(False)
        if isinstance(exc, HubAuthError):
            self._say(ENROL_REFUSED)
            self.token.setFocus()
        elif isinstance(exc, CxfieldError):  # unreachable, refused, bad CA file: one line
            self._say(str(exc).replace("--allow-http", "“Allow plain http”"))
            self.url.setFocus()
        else:
            self._say(f"Not connected ({type(exc).__name__}: {exc}); nothing changed.")

"""Observation mode in the runner: M marks that the customer entered the step on screen,
N the next step on the customer's path (as PgDn: backstage and support steps are marked
with M from the step list), W that they left it (waiting); a step entered again gets
another visit.
Mixed into :class:`~cxfield.gui.runner.session_runner.SessionRunner`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QTreeWidgetItem, QWidget

from cxfield.domain.errors import CxfieldError
from cxfield.domain.ids import as_utc, utcnow
from cxfield.gui.runner.note_bar import format_offset
from cxfield.gui.runner.runner_style import SURVEY
from cxfield.gui.widgets import show_error
from cxfield.services import capture, observation

if TYPE_CHECKING:
    from cxfield.app import AppContext
    from cxfield.gui.runner.capture_panel import CapturePanel
    from cxfield.services.capture import RunnerState


class RunnerObservation(QWidget if TYPE_CHECKING else object):  # type: ignore[misc]
    """Observation marks of the session runner (needs the runner's attributes below)."""

    if TYPE_CHECKING:
        ctx: AppContext
        session_id: str
        state: RunnerState
        current: str | None
        observing: bool
        panel: CapturePanel
        _items: dict[str, QTreeWidgetItem]

        def _set_status(self, text: str, *, ok: bool) -> None: ...
        def _flush_all(self) -> None: ...
        def go_to(self, step_id: str, *, focus_list: bool = False) -> None: ...
        def step_order(self) -> list[str]: ...
        def walk_order(self) -> list[str]: ...
        def _refresh_item(self, step_id: str) -> None: ...

    def mark_entered(self, step_id: str | None = None) -> None:
        target = step_id or self.current
        if not target or target == SURVEY:
            return
        self._flush_all()
        try:
            observation.mark_entered(self.ctx.db, self.session_id, target)
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self._reload_captures()
        if target != self.current:
            self.go_to(target)
        self._set_status("Entry marked", ok=True)

    def mark_next_entered(self) -> None:
        """N: the customer moved on to the customer-facing step after the last one they
        entered (or, at the very start, into the step on screen)."""
        order, walk = self.step_order(), self.walk_order()
        last = observation.last_entered(self.ctx.db, self.session_id)
        if last is None or last not in order:
            target = self.current if self.current in order else (walk[0] if walk else None)
        else:
            after = order.index(last)
            target = next((s for s in walk if order.index(s) > after), None)
        if target:
            self.mark_entered(target)
        else:
            self._set_status("That was the last step of the customer's path", ok=False)

    def mark_left(self) -> None:
        try:
            observation.mark_left(self.ctx.db, self.session_id)
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self._reload_captures()
        self._set_status("Customer left the step (waiting)", ok=True)

    def _reload_captures(self) -> None:
        self.state.captures = capture.load_runner_state(self.ctx.db, self.session_id).captures
        for step_id in list(self._items):
            if step_id != SURVEY:
                self._refresh_item(step_id)
        self._update_observation()

    def _update_observation(self) -> None:
        if not self.observing or not self.current or self.current == SURVEY:
            self.panel.observation.setVisible(self.observing)
            return
        visits = [
            v for v in observation.visits(self.ctx.db, self.session_id) if v.step_id == self.current
        ]
        now = utcnow()
        if not visits:
            text = "Not entered yet — press M when the customer enters this step, N for the next."
        else:
            latest = visits[-1]
            start = as_utc(latest.entered_at)
            end = as_utc(latest.left_at) if latest.left_at else None
            spent = sum(
                ((as_utc(v.left_at) if v.left_at else now) - as_utc(v.entered_at)).total_seconds()
                for v in visits
            )
            span = format_offset(int(spent * 1000))
            again = f" (visit {len(visits)})" if len(visits) > 1 else ""
            text = f"Entered {start.astimezone():%H:%M:%S}{again} · in step {span}"
            text += (
                f" · left {end.astimezone():%H:%M:%S}" if end else " · now here (W: left/waiting)"
            )
        self.panel.observation.setText(text)
        self.panel.observation.setVisible(True)

"""The runner's list of steps (Ctrl+G) and the order in which keys walk through them.

Stage headers are labels, not places: the arrow keys pass over them and a click on one
does nothing, so the step the list marks is always the step the capture panel shows and
the keys act on.  Mixed into :class:`~cxfield.gui.runner.session_runner.SessionRunner`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from cxfield.domain.ids import as_utc
from cxfield.domain.journey import staff_takes_part
from cxfield.domain.rating import rating_text
from cxfield.domain.vocabulary import BlueprintLane, ParticipantKind
from cxfield.gui.runner.runner_style import SURVEY
from cxfield.storage.models import Step

if TYPE_CHECKING:
    from cxfield.services.capture import RunnerState

#: colour of steps off the participant's path (reachable from the list only)
OFF_PATH = QColor("#607d8b")
_Move = QAbstractItemView.CursorAction
#: cursor moves that go up the list; the others go down
_UPWARDS = (_Move.MoveUp, _Move.MovePageUp, _Move.MovePrevious, _Move.MoveEnd)


class StepList(QTreeWidget):
    """Steps grouped under stage headers; Up/Down visit steps only, Esc goes back to the keys."""

    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setAccessibleName("Journey steps; Up and Down to move, current is highlighted")
        self.setRootIsDecorated(False)
        self.setIndentation(14)
        self.setItemsExpandable(False)  # a stage never folds its steps away
        self.setExpandsOnDoubleClick(False)

    def add_stage(self, name: str) -> QTreeWidgetItem:
        """A stage header: a label, not selectable (it is not a step: it must never be the
        current item while the panel shows another step)."""
        head = QTreeWidgetItem([name.upper()])
        head.setFlags(Qt.ItemFlag.ItemIsEnabled)  # disabled would disable its steps too
        font = head.font(0)
        font.setBold(True)
        head.setFont(0, font)
        self.addTopLevelItem(head)
        head.setExpanded(True)
        return head

    @staticmethod
    def is_step(index: QModelIndex | QPersistentModelIndex) -> bool:
        return index.isValid() and bool(index.data(Qt.ItemDataRole.UserRole))

    def moveCursor(  # noqa: N802
        self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        """Up/Down (and PgUp/PgDn, Home/End inside the list) pass over stage headers."""
        here = self.currentIndex()
        if action in (_Move.MoveLeft, _Move.MoveRight):
            return QModelIndex(here)  # nothing to fold; never onto a header
        index = super().moveCursor(action, modifiers)
        step = self.indexAbove if action in _UPWARDS else self.indexBelow
        while index.isValid() and not self.is_step(index):
            index = step(index)
        return index if index.isValid() else QModelIndex(here)

    def keyboardSearch(self, search: str) -> None:  # noqa: N802
        """Letters are the runner's keys: typing must never jump to another step."""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)


class RunnerSteps(QWidget if TYPE_CHECKING else object):  # type: ignore[misc]
    """Step order and the step list of the session runner."""

    if TYPE_CHECKING:
        state: RunnerState
        current: str | None
        steps: StepList
        has_survey: bool

    _items: dict[str, QTreeWidgetItem]

    def _step(self, step_id: str) -> Step | None:
        for step in self.state.journey.steps + self.state.removed_steps:
            if step.id == step_id:
                return step
        return None

    def _stage_name(self, step: Step) -> str:
        if step.id not in {s.id for s in self.state.journey.steps}:
            return "Removed from map"
        for stage in self.state.journey.stages:
            if stage.stage.id == step.stage_id:
                return stage.stage.name
        return "Removed from map"

    def step_order(self) -> list[str]:
        return [s.id for s in self.state.journey.steps] + [s.id for s in self.state.removed_steps]

    def takes_part(self, step: Step) -> bool:
        """Is the step on this participant's path?  A customer's: the user and frontstage
        steps; a staff member's: the steps their role takes part in (named on the step, or
        every frontstage, backstage and support step that names no role)."""
        person = self.state.participant
        if person is not None and person.kind == ParticipantKind.STAFF:
            return staff_takes_part(step.lane, step.staff_roles, person.role)
        return step.lane in ParticipantKind.CUSTOMER.path_lanes

    def walk_order(self) -> list[str]:
        """Steps that next/previous (and, observing, N) visit: the ones the participant goes
        through (the others stay reachable from the list)."""
        order = []
        for step_id in self.step_order():
            step = self._step(step_id)
            if step is not None and self.takes_part(step):
                order.append(step_id)
        return order or self.step_order()

    def places(self) -> list[str]:
        """Everything the runner can show, in list order (the survey last, if offered)."""
        return [*self.step_order(), *([SURVEY] if self.has_survey else [])]

    def _first_open_step(self) -> str | None:
        order = self.walk_order()
        for step_id in order:
            if step_id not in self.state.captures:
                return step_id
        if order:
            return order[0]
        return SURVEY if self.has_survey else None

    def _label(self, step: Step) -> str:
        """The step's name; under it what was recorded, one line for the rating (and pain
        point), one for the time the customer was seen entering: never cut short."""
        cap = self.state.captures.get(step.id)
        lines = []
        if cap is not None:
            rated = [rating_text(cap.valence)] if cap.valence is not None else []
            rated += ["pain"] if cap.pain_point else []
            if rated:
                lines.append(", ".join(rated))
            if cap.observed_start is not None:
                seen = as_utc(cap.observed_start).astimezone()
                lines.append(f"entered {seen:%H:%M:%S}")
        filled = cap is not None and (lines or cap.emotions or cap.quote or cap.notes)
        done = "✓ " if filled else "   "
        lane = "" if step.lane == BlueprintLane.USER else f"  · {step.lane.value}"
        return "\n    ".join([f"{done}{step.name}{lane}", *lines])

    def _rebuild_steps(self) -> None:
        self.steps.blockSignals(True)
        self.steps.clear()
        self._items = {}
        groups = [(s.stage.name, s.steps) for s in self.state.journey.stages]
        walk = set(self.walk_order())
        if self.state.removed_steps:
            groups.append(("Removed from map", self.state.removed_steps))
        person = self.state.participant
        staff = person is not None and person.kind == ParticipantKind.STAFF
        for stage_name, steps in groups:
            head = self.steps.add_stage(stage_name)
            shown = 0
            for step in steps:
                item = QTreeWidgetItem()
                item.setData(0, Qt.ItemDataRole.UserRole, step.id)
                self._set_label(item, step)
                if step.id not in walk:
                    item.setForeground(0, OFF_PATH)
                head.addChild(item)
                self._items[step.id] = item
                # a staff member sees only the steps their role takes part in (and any
                # step already holding something of theirs: nothing recorded is hidden)
                hidden = staff and step.id not in walk and step.id not in self.state.captures
                item.setHidden(hidden)
                shown += not hidden
            head.setHidden(shown == 0)
            head.setExpanded(True)
        if self.has_survey:
            survey = QTreeWidgetItem(["A-11 SURVEY  (Ctrl+U)"])
            survey.setData(0, Qt.ItemDataRole.UserRole, SURVEY)
            self.steps.addTopLevelItem(survey)
            self._items[SURVEY] = survey
        if self.current in self._items:
            # the selection's colours mark it (no bold: the rating line must not be cut)
            self.steps.setCurrentItem(self._items[self.current])
        self.steps.blockSignals(False)

    def _refresh_item(self, step_id: str) -> None:
        step = self._step(step_id)
        item = self._items.get(step_id)
        if step is not None and item is not None:
            self._set_label(item, step)

    def _set_label(self, item: QTreeWidgetItem, step: Step) -> None:
        label = self._label(step)
        item.setText(0, label)
        item.setData(0, Qt.ItemDataRole.AccessibleTextRole, label.replace("\n", ", "))
        item.setToolTip(0, label)

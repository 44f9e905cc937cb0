"""The journey-map editor: stages and their steps as a tree, a form for the selected one.

Reorder by drag and drop or by keyboard (Ctrl+Up / Ctrl+Down move the selected stage or
step; a step crosses into the neighbouring stage at an edge).  Every edit is saved at
once.  Deleting a step that holds captures asks first and keeps the captures."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.domain.vocabulary import BlueprintLane, Channel
from cxfield.gui.widgets import FormLabel, enter_stays_in_field, guarded, show_error
from cxfield.services import journey_editor, studies

KIND, ID = Qt.ItemDataRole.UserRole, Qt.ItemDataRole.UserRole + 1


class JourneyTree(QTreeWidget):
    """A tree whose drops are checked (steps only inside stages) and then saved."""

    def __init__(self, editor: JourneyEditorDialog) -> None:
        super().__init__()
        self.editor = editor
        self.setHeaderLabels(["Stage / step", "Lane", "Channel"])
        self.setColumnWidth(0, 300)
        self.setAccessibleName("Journey map: stages and steps. Ctrl+Up and Ctrl+Down reorder")
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        moving = self.currentItem()
        super().dropEvent(event)
        self.editor.persist_tree(moving)


class JourneyEditorDialog(QDialog):
    def __init__(self, ctx: AppContext, study_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.study_id = study_id
        self._loading = False
        study = studies.get_study(ctx.db, study_id)
        self.setWindowTitle(f"Journey map — {study.name}")
        self.setStyleSheet("QWidget { font-size: 11pt; }")
        layout = QHBoxLayout(self)

        left = QVBoxLayout()
        self.tree = JourneyTree(self)
        self.tree.currentItemChanged.connect(self._selected)
        left.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        for text, slot, tip in (
            ("Add &stage", self.add_stage, "Ctrl+Shift+N"),
            ("Add s&tep", self.add_step, "Ctrl+N"),
            ("&Up", lambda: self.shift(-1), "Ctrl+Up"),
            ("Do&wn", lambda: self.shift(+1), "Ctrl+Down"),
            ("&Delete…", self.delete, "Delete"),
            ("&Restore…", self.restore, "Ctrl+Z brings back the step deleted last"),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        left.addLayout(buttons)
        layout.addLayout(left, 3)

        form_box = QWidget()
        form = QFormLayout(form_box)
        self.kind = QLabel()
        self.name = QLineEdit()
        self.name.setAccessibleName("Name")
        self.name.editingFinished.connect(self._save_form)
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.description.setAccessibleName("Description")
        self.description.textChanged.connect(self._description_changed)
        self.lane = QComboBox()
        self.lane.setAccessibleName("Blueprint lane")
        for lane in BlueprintLane:
            self.lane.addItem(lane.label, lane.value)
        self.channel = QComboBox()
        self.channel.setAccessibleName("Channel")
        for channel in Channel:
            self.channel.addItem(channel.label, channel.value)
        self.lane.activated.connect(lambda _i: self._save_form())
        self.channel.activated.connect(lambda _i: self._save_form())
        self.staff_roles = QLineEdit()
        self.staff_roles.setAccessibleName("Staff roles taking part, comma separated")
        roles = ", ".join(studies.get_study(ctx.db, study_id).staff_roles)
        self.staff_roles.setToolTip(
            f"The study's roles: {roles}. Empty: every role at a frontstage, backstage or "
            "support step, none at a user step."
        )
        self.staff_roles.setPlaceholderText("empty: every role off the user lane")
        self.staff_roles.editingFinished.connect(self._save_form)
        form.addRow(self.kind)
        field: QWidget
        for label, field in (
            ("&Name", self.name),
            ("D&escription", self.description),
            ("&Lane", self.lane),
            ("C&hannel", self.channel),
            ("Sta&ff taking part", self.staff_roles),
        ):
            form.addRow(FormLabel(label, field), field)
        hint = QLabel(
            "Edits are saved as you go. Drag to reorder, or Ctrl+Up / Ctrl+Down. "
            "F2 renames, Delete deletes; Ctrl+Z brings back the step deleted last."
        )
        hint.setWordWrap(True)
        form.addRow(hint)
        layout.addWidget(form_box, 2)

        for seq, slot in (
            ("Ctrl+Up", lambda: self.shift(-1)),
            ("Ctrl+Down", lambda: self.shift(+1)),
            ("Ctrl+N", self.add_step),
            ("Ctrl+Shift+N", self.add_stage),
            ("F2", lambda: self.name.setFocus()),
            ("Ctrl+Z", self.undo_delete),
        ):
            QShortcut(QKeySequence(seq), self).activated.connect(slot)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.tree)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete)
        #: the step deleted last in this window, for Ctrl+Z
        self._deleted: str | None = None
        # Enter in the Name field saves the name; it must not press "Add stage".
        enter_stays_in_field(self)
        self.resize(1100, 640)
        self.reload()

    # --- tree -----------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        self._loading = True
        self.tree.clear()
        journey = studies.get_journey(self.ctx.db, self.study_id)
        chosen: QTreeWidgetItem | None = None
        for view in journey.stages:
            head = QTreeWidgetItem([view.stage.name, "", ""])
            head.setData(0, KIND, "stage")
            head.setData(0, ID, view.stage.id)
            head.setFlags(head.flags() | Qt.ItemFlag.ItemIsDropEnabled)
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            self.tree.addTopLevelItem(head)
            if view.stage.id == select:
                chosen = head
            for step in view.steps:
                item = QTreeWidgetItem(
                    [step.name, BlueprintLane(step.lane).label, Channel(step.channel).label]
                )
                item.setData(0, KIND, "step")
                item.setData(0, ID, step.id)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
                head.addChild(item)
                if step.id == select:
                    chosen = item
            head.setExpanded(True)
        self.tree.invisibleRootItem().setFlags(
            self.tree.invisibleRootItem().flags() | Qt.ItemFlag.ItemIsDropEnabled
        )
        for column in (1, 2):  # lane and channel names in full ("Frontstage actions")
            self.tree.resizeColumnToContents(column)
        self._loading = False
        if chosen is None and self.tree.topLevelItemCount():
            chosen = self.tree.topLevelItem(0)
        if chosen is not None:
            self.tree.setCurrentItem(chosen)
        self._selected(self.tree.currentItem(), None)

    def selected(self) -> tuple[str, str] | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        return str(item.data(0, KIND)), str(item.data(0, ID))

    def _shape(self) -> list[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]]:
        root = self.tree.invisibleRootItem()
        shape = []
        for i in range(root.childCount()):
            stage = root.child(i)
            if stage is None:
                continue
            steps = [stage.child(j) for j in range(stage.childCount())]
            shape.append((stage, [step for step in steps if step is not None]))
        return shape

    def persist_tree(self, moving: QTreeWidgetItem | None) -> None:
        """After a drop: check the shape, then save the new order (or undo the drop)."""
        shape = self._shape()
        valid = all(
            stage.data(0, KIND) == "stage" and all(s.data(0, KIND) == "step" for s in steps)
            for stage, steps in shape
        )
        select = str(moving.data(0, ID)) if moving else None
        if not valid:
            self.reload(select)
            return
        try:
            for i, (stage, steps) in enumerate(shape):
                stage_id = str(stage.data(0, ID))
                journey_editor.move_stage(self.ctx.db, stage_id, i)
                for j, step in enumerate(steps):
                    journey_editor.move_step(self.ctx.db, str(step.data(0, ID)), stage_id, j)
        except CxfieldError as exc:
            show_error(self, exc)
        self.reload(select)

    # --- actions --------------------------------------------------------------------

    def add_stage(self) -> None:
        stage = guarded(self, lambda: studies.add_stage(self.ctx.db, self.study_id, "New stage"))
        if stage is not None:
            self.reload(stage.id)
            self.name.setFocus()
            self.name.selectAll()

    def add_step(self) -> None:
        item = self.tree.currentItem()
        if item is None:
            self.add_stage()
            item = self.tree.currentItem()
            if item is None:
                return
        stage_item = item if item.data(0, KIND) == "stage" else item.parent()
        if stage_item is None:
            return
        stage_id = str(stage_item.data(0, ID))
        step = guarded(self, lambda: studies.add_step(self.ctx.db, stage_id, "New step"))
        if step is not None:
            self.reload(step.id)
            self.name.setFocus()
            self.name.selectAll()

    def shift(self, delta: int) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        kind, record_id = chosen
        if kind == "step":
            guarded(self, lambda: journey_editor.shift_step(self.ctx.db, record_id, delta))
        else:
            current = self.tree.currentItem()
            index = self.tree.indexOfTopLevelItem(current) if current else 0
            guarded(self, lambda: journey_editor.move_stage(self.ctx.db, record_id, index + delta))
        self.reload(record_id)
        self.tree.setFocus()

    def delete(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        kind, record_id = chosen
        current = self.tree.currentItem()
        name = current.text(0) if current else ""
        if kind == "stage":
            guarded(self, lambda: journey_editor.delete_stage(self.ctx.db, record_id))
            self.reload()
            return
        captures = journey_editor.capture_count(self.ctx.db, record_id)
        question = f"Delete the step {name!r}?"
        if captures:
            question += (
                f"\n\nIt holds {captures} capture(s) from sessions. They are kept (and stay "
                "in the sessions' records), but the step disappears from the map."
            )
        answer = QMessageBox.question(self, "Delete step", question)
        if answer != QMessageBox.StandardButton.Yes:
            return
        deleted = guarded(
            self, lambda: journey_editor.delete_step(self.ctx.db, record_id, confirm=True)
        )
        if deleted is not None:
            self._deleted = record_id
        self.reload()

    def undo_delete(self) -> None:
        """Ctrl+Z: bring back the step deleted last (with its captures)."""
        if self._deleted is not None:
            self._restore(self._deleted)

    def restore(self) -> None:
        """Pick any deleted step of the study and bring it back."""
        gone = journey_editor.deleted_steps(self.ctx.db, self.study_id)
        if not gone:
            QMessageBox.information(self, "Restore step", "No deleted steps in this map.")
            return
        labels = [
            f"{d.name}  ({d.stage or 'no stage'}; {d.captures} capture(s); deleted "
            f"{d.deleted_at.astimezone():%Y-%m-%d %H:%M})"
            for d in gone
        ]
        label, ok = QInputDialog.getItem(self, "Restore step", "Deleted steps:", labels, 0, False)
        if ok and label in labels:
            self._restore(gone[labels.index(label)].step_id)

    def _restore(self, step_id: str) -> None:
        if guarded(self, lambda: journey_editor.restore_step(self.ctx.db, step_id)) is not None:
            if step_id == self._deleted:
                self._deleted = None
            self.reload(step_id)

    # --- form -----------------------------------------------------------------------

    def _selected(self, item: QTreeWidgetItem | None, _prev: object) -> None:
        if self._loading:
            return
        self._loading = True
        try:
            is_step = item is not None and item.data(0, KIND) == "step"
            self.lane.setEnabled(is_step)
            self.channel.setEnabled(is_step)
            self.staff_roles.setEnabled(is_step)
            self.staff_roles.clear()
            if item is None:
                self.kind.setText("Nothing selected — add a stage (Ctrl+Shift+N).")
                self.name.clear()
                self.description.clear()
                return
            journey = studies.get_journey(self.ctx.db, self.study_id)
            record_id = str(item.data(0, ID))
            if is_step:
                step = next(s for s in journey.steps if s.id == record_id)
                self.kind.setText("<b>Step</b>")
                self.name.setText(step.name)
                self.description.setPlainText(step.description)
                self.lane.setCurrentIndex(self.lane.findData(str(step.lane)))
                self.channel.setCurrentIndex(self.channel.findData(str(step.channel)))
                self.staff_roles.setText(", ".join(step.staff_roles))
            else:
                stage = next(s.stage for s in journey.stages if s.stage.id == record_id)
                self.kind.setText("<b>Stage</b>")
                self.name.setText(stage.name)
                self.description.setPlainText(stage.description)
        finally:
            self._loading = False

    def _description_changed(self) -> None:
        if not self._loading:
            self._save_form(reload=False)

    def _save_form(self, reload: bool = True) -> None:
        chosen = self.selected()
        if chosen is None or self._loading:
            return
        kind, record_id = chosen
        try:
            if kind == "step":
                journey_editor.update_step(
                    self.ctx.db,
                    record_id,
                    name=self.name.text(),
                    description=self.description.toPlainText(),
                    lane=self.lane.currentData(),
                    channel=self.channel.currentData(),
                    staff_roles=self.staff_roles.text().split(","),
                )
            else:
                journey_editor.update_stage(
                    self.ctx.db,
                    record_id,
                    name=self.name.text(),
                    description=self.description.toPlainText(),
                )
        except CxfieldError as exc:
            if reload:
                show_error(self, exc)
                self._selected(self.tree.currentItem(), None)  # show what is stored
            return
        if reload:
            item = self.tree.currentItem()
            if item is not None:
                item.setText(0, self.name.text().strip())
                if kind == "step":
                    item.setText(1, self.lane.currentText())
                    item.setText(2, self.channel.currentText())

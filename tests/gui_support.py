"""Helpers for screen tests: keys to whatever has focus, the focus frame as drawn, what is
cut off on a screen, screenshots."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QHeaderView,
    QLabel,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QToolButton,
    QWidget,
)

from cxfield.gui.widgets import FOCUS_COLOUR

#: screens the app must fit (laptop in the field, office monitor)
SCREENS = ((1366, 768), (1920, 1080))


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has focus"
    return widget


_MODIFIER_KEYS = (
    (Qt.KeyboardModifier.ShiftModifier, Qt.Key.Key_Shift),
    (Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_Control),
    (Qt.KeyboardModifier.AltModifier, Qt.Key.Key_Alt),
    (Qt.KeyboardModifier.MetaModifier, Qt.Key.Key_Meta),
)


def press(key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key as the user presses it: to whatever widget has focus."""
    QTest.keyClick(focused(), key, modifiers)
    settle()
    release_modifiers()


def release_modifiers() -> None:
    """Let go of Shift, Ctrl, Alt and Meta as a person's fingers do.  A shortcut that opens
    a window mid-click (Ctrl+Shift+T) left Qt believing Shift was still held, and the next
    test's selectRow() extended a selection instead of making one."""
    for modifier, key in _MODIFIER_KEYS:
        if QApplication.keyboardModifiers() & modifier and QApplication.focusWidget():
            QTest.keyRelease(QApplication.focusWidget(), key)


def type_text(text: str) -> None:
    QTest.keyClicks(focused(), text)
    settle()


def show_active(qtbot: object, window: QWidget) -> None:
    window.show()
    qtbot.waitExposed(window)  # type: ignore[attr-defined]
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(window.isActiveWindow)  # type: ignore[attr-defined]
    settle()


def walk_tab(limit: int = 80) -> list[QWidget]:
    """Press Tab until focus comes back to where it started; the widgets passed, in order.
    Fails if focus never comes back (a keyboard trap)."""
    start = focused()
    seen = [start]
    for _ in range(limit):
        press(Qt.Key.Key_Tab)
        if focused() is start:
            return seen
        if focused() not in seen:
            seen.append(focused())
    raise AssertionError(f"Tab never came back to {start!r}; stuck at {focused()!r}")


def _frame_rect(widget: QWidget) -> QRect:
    if isinstance(widget, QTabBar):
        return widget.tabRect(widget.currentIndex())
    return widget.rect()


def focus_frame_drawn(widget: QWidget) -> bool:
    """Whether the widget is drawn with a frame of the focus colour at least 3 px thick
    on its left and right edges (halfway down)."""
    rect = _frame_rect(widget)
    image = widget.grab(rect).toImage()
    colour = QColor(FOCUS_COLOUR).rgb()
    y = image.height() // 2
    xs = [0, 1, 2, image.width() - 3, image.width() - 2, image.width() - 1]
    return all(image.pixel(x, y) == colour for x in xs)


def label_needs(label: QLabel) -> int:
    """Pixels a one-line label needs for its text, ink included (a first letter that leans
    left is drawn further right)."""
    metrics = label.fontMetrics()
    widest = 0
    for line in label.text().replace("&&", "\0").replace("&", "").split("\n"):
        bounds = metrics.boundingRect(line)
        widest = max(widest, metrics.horizontalAdvance(line) + max(0, -bounds.left()))
    return widest


def _combo_needs(combo: QComboBox) -> int:
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    text = QSize(combo.fontMetrics().horizontalAdvance(combo.currentText()), 1)
    return combo.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, text).width()


def _in_scroll_area(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and parent.viewport().isAncestorOf(widget):
            return True
        parent = parent.parentWidget()
    return False


def _plain_one_line(widget: QWidget) -> bool:
    return (
        isinstance(widget, QLabel)
        and not widget.wordWrap()
        and bool(widget.text())
        and widget.textFormat() != Qt.TextFormat.RichText
        and "<" not in widget.text()
    )


def cut_off(window: QWidget) -> list[str]:
    """What a user cannot read in full on this window as it is now: labels, buttons, combo
    boxes, column headers and tabs narrower than their text, and widgets sticking out of
    the window.  Empty when nothing is cut off."""
    problems: list[str] = []
    frame = window.rect()
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.width() <= 0:
            continue
        name = f"{type(widget).__name__} {widget.accessibleName() or ''}".strip()
        if not _in_scroll_area(widget):
            where = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
            if not frame.contains(where):
                problems.append(f"{name} at {where.getRect()} sticks out of {frame.getRect()}")
        if _plain_one_line(widget):
            assert isinstance(widget, QLabel)
            if widget.contentsRect().width() < label_needs(widget):
                problems.append(f"label {widget.text()!r}: {widget.width()} px of "
                                f"{label_needs(widget)}")  # fmt: skip
        elif isinstance(widget, QAbstractButton) and not isinstance(widget, QToolButton):
            if widget.width() < widget.sizeHint().width():
                problems.append(f"button {widget.text()!r}: {widget.width()} px of "
                                f"{widget.sizeHint().width()}")  # fmt: skip
        elif isinstance(widget, QComboBox) and widget.width() < _combo_needs(widget):
            problems.append(f"combo {widget.currentText()!r}: {widget.width()} px of "
                            f"{_combo_needs(widget)}")  # fmt: skip
        elif isinstance(widget, QHeaderView) and widget.orientation() == Qt.Orientation.Horizontal:
            model = widget.model()
            for section in range(widget.count()):
                if widget.isSectionHidden(section):
                    continue
                need = widget.sectionSizeFromContents(section).width()
                if widget.sectionSize(section) < need and model is not None:
                    title = model.headerData(section, Qt.Orientation.Horizontal)
                    problems.append(f"column {title!r}: {widget.sectionSize(section)} px of {need}")
        elif isinstance(widget, QTabBar):
            for index in range(widget.count()):
                if widget.isTabVisible(index):
                    need = widget.tabSizeHint(index).width()
                    if widget.tabRect(index).width() < need:
                        problems.append(f"tab {widget.tabText(index)!r}: cut")
    return problems


def fits_screen(window: QWidget, screen: tuple[int, int]) -> list[str]:
    """The window at ``screen`` size and at its own default size: what is cut off."""
    problems = []
    least = window.minimumSizeHint()
    if least.width() > screen[0] or least.height() > screen[1]:
        problems.append(f"needs at least {least.width()}×{least.height()} px")
    return problems + cut_off(window)


def shoot(window: QWidget, folder: Path, name: str) -> Path:
    """Save a screenshot (under CXFIELD_SCREENSHOTS too, when set, to look at)."""
    settle()
    path = folder / f"{name}.png"
    assert window.grab().save(str(path))
    extra = os.environ.get("CXFIELD_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(extra) / f"{name}.png"))
    return path


def shots_dir(area: str, fallback: Path) -> Path:
    """Where a test's screenshots go: ``$CXFIELD_SHOTS/<area>`` when a person wants to look
    at them, else the test's own temporary folder."""
    import os

    root = os.environ.get("CXFIELD_SHOTS")
    folder = Path(root) / area if root else fallback
    folder.mkdir(parents=True, exist_ok=True)
    return folder

"""The capture panel of the runner: what the researcher records for the current step.

Valence (face scale, keys 1–5), emotion chips (one letter each), intensity (− and +),
pain point (P), a quote and a notes field.  The panel only shows and emits; the runner
decides when to save (immediately for choices, debounced for typing).

Focus: the face scale holds "the keys" (the single-key shortcuts act on the step shown);
Tab goes on to the quote, then the notes, then back to the keys (Shift+Tab the other
way); Esc in a field goes back to the keys.  Chips, intensity and pain point take no
focus: they have their own keys, and Tab never wanders through them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cxfield.domain.vocabulary import INTENSITY_MAX, INTENSITY_MIN, BlueprintLane, Channel
from cxfield.gui.runner.valence import ValenceScale
from cxfield.gui.widgets import FlowLayout, scroll_into_view
from cxfield.storage.models import Step, StepCapture

#: Letters with their own meaning in the runner (pain point, observation marks).
RESERVED_KEYS = {"P", "M", "N", "W"}
#: the intensity the first − or + sets when none is chosen yet (the middle of 1..5)
FIRST_INTENSITY = 3


def assign_keys(emotions: list[str]) -> dict[str, str]:
    """One free letter per emotion chip (first letter when possible)."""
    used = set(RESERVED_KEYS)
    keys: dict[str, str] = {}
    for emotion in emotions:
        for char in emotion.upper():
            if char.isalpha() and char not in used:
                keys[emotion] = char
                used.add(char)
                break
    return keys


class TextField(QPlainTextEdit):
    """A plain text field where Tab moves focus and Esc hands the keys back to the panel."""

    escaped = Signal()

    def __init__(self, placeholder: str, accessible: str) -> None:
        super().__init__()
        self.setTabChangesFocus(True)
        self.setPlaceholderText(placeholder)
        self.setAccessibleName(accessible)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusInEvent(event)
        scroll_into_view(self)


class CapturePanel(QWidget):
    #: (field, value) for choices that save at once
    changed = Signal(str, object)
    #: the quote or notes text changed (the runner debounces)
    text_edited = Signal()

    def __init__(self, emotions: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("capturePanel")
        self._loading = False
        #: a staff member's interview: the question is how doing the work felt
        self.staff_side = False
        layout = QVBoxLayout(self)
        layout.setSpacing(10)

        self.title = QLabel()
        self.title.setObjectName("stepTitle")
        self.title.setWordWrap(True)
        self.meta = QLabel()
        self.meta.setObjectName("stepMeta")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("stepDescription")
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.observation = QLabel()
        self.observation.setObjectName("observation")
        self.observation.setWordWrap(True)
        self.observation.hide()
        for widget in (self.title, self.meta, self.description, self.banner, self.observation):
            layout.addWidget(widget)

        #: names the step the keys act on, right above the faces
        self.feel_label = self._section("How did it feel?  (keys 1–5, 0 clears)")
        self.feel_label.setWordWrap(True)
        layout.addWidget(self.feel_label)
        self.valence = ValenceScale()
        self.valence.valence_chosen.connect(lambda v: self._emit("valence", v))
        layout.addWidget(self.valence)

        layout.addWidget(self._section("Emotions  (press the letter on a chip)"))
        chips = QWidget()
        flow = FlowLayout(chips)
        self.emotion_keys = assign_keys(emotions)
        self.chips: dict[str, QPushButton] = {}
        for emotion in emotions:
            key = self.emotion_keys.get(emotion)
            chip = QPushButton(f"{emotion}  [{key}]" if key else emotion)
            chip.setObjectName("chip")
            chip.setCheckable(True)
            chip.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            chip.setAccessibleName(f"Emotion {emotion}" + (f", key {key}" if key else ""))
            chip.toggled.connect(lambda _on, e=emotion: self._chip_toggled(e))
            flow.addWidget(chip)
            self.chips[emotion] = chip
        layout.addWidget(chips)

        row = QHBoxLayout()
        row.addWidget(QLabel("Intensity (− / +):"))
        self.intensity_group = QButtonGroup(self)
        self.intensity_buttons: dict[int, QPushButton] = {}
        for level in range(1, 6):
            button = QPushButton(str(level))
            button.setObjectName("intensity")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAccessibleName(f"Intensity {level} of 5")
            button.clicked.connect(lambda _c=False, lv=level: self._intensity_clicked(lv))
            self.intensity_buttons[level] = button
            row.addWidget(button)
        row.addSpacing(24)
        self.pain = QPushButton("Pain point  [P]")
        self.pain.setObjectName("pain")
        self.pain.setCheckable(True)
        self.pain.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pain.setAccessibleName("Pain point, key P")
        self.pain.toggled.connect(self._pain_toggled)
        row.addWidget(self.pain)
        row.addStretch(1)
        layout.addLayout(row)

        self.quote = TextField("The customer's own words…", "Quote for this step")
        self.notes = TextField("What happened, pain points, ideas…", "Notes for this step")
        for label, field in (("Quote", self.quote), ("Notes", self.notes)):
            heading = self._section(label)
            heading.setBuddy(field)
            layout.addWidget(heading)
            field.setFixedHeight(84)
            field.textChanged.connect(self._text_changed)
            field.escaped.connect(self.focus_scale)
            layout.addWidget(field)
        layout.addStretch(1)
        self._intensity: int | None = None

    @staticmethod
    def _section(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("section")
        return label

    # --- showing a step -----------------------------------------------------------

    def show_step(
        self, step: Step, stage_name: str, capture: StepCapture | None, *, removed: bool
    ) -> None:
        self._loading = True
        try:
            self.title.setText(step.name)
            self.feel_label.setText(
                f"How did {'doing the work at ' if self.staff_side else ''}“{step.name}” feel?"
                "  (keys 1–5, 0 clears)"
            )
            self.meta.setText(
                f"{stage_name} · {BlueprintLane(step.lane).label} · {Channel(step.channel).label}"
            )
            self.description.setText(step.description)
            self.description.setVisible(bool(step.description))
            self.set_removed(removed)
            self.valence.set_value(capture.valence if capture else None)
            chosen = set(capture.emotions if capture else [])
            for emotion, chip in self.chips.items():
                chip.setChecked(emotion in chosen)
            self._set_intensity(capture.intensity if capture else None)
            self.pain.setChecked(bool(capture and capture.pain_point))
            self.quote.setPlainText(capture.quote if capture else "")
            self.notes.setPlainText(capture.notes if capture else "")
        finally:
            self._loading = False

    def set_removed(self, removed: bool) -> None:
        self.banner.setText(
            "This step was removed from the journey map while the session was open. "
            "What you record here is still kept."
        )
        self.banner.setVisible(removed)

    def texts(self) -> dict[str, str]:
        return {"quote": self.quote.toPlainText(), "notes": self.notes.toPlainText()}

    def emotions(self) -> list[str]:
        return [e for e, chip in self.chips.items() if chip.isChecked()]

    # --- keyboard actions ---------------------------------------------------------

    def focus_scale(self) -> None:
        """Back to the keys (the face scale)."""
        self.valence.setFocus(Qt.FocusReason.ShortcutFocusReason)
        scroll_into_view(self.valence, 80)  # the faces and the step name above them

    def focus_cycle(self) -> tuple[QWidget, ...]:
        """What Tab visits, in order: the keys, the quote, the notes (then round again)."""
        return (self.valence, self.quote, self.notes)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002
        cycle = self.focus_cycle()
        here = QApplication.focusWidget()
        if here not in cycle:
            return super().focusNextPrevChild(next)
        target = cycle[(cycle.index(here) + (1 if next else -1)) % len(cycle)]
        reason = Qt.FocusReason.TabFocusReason if next else Qt.FocusReason.BacktabFocusReason
        if target is self.valence:
            self.focus_scale()
        else:
            target.setFocus(reason)
        return True

    def press_key(self, key: str) -> bool:
        """A single-letter action: an emotion chip or the pain point."""
        if key == "P":
            self.pain.toggle()
            return True
        for emotion, letter in self.emotion_keys.items():
            if letter == key:
                self.chips[emotion].toggle()
                return True
        return False

    def step_intensity(self, delta: int) -> None:
        """− / +: the first press, either way, sets the middle; later ones move by one."""
        if self._intensity is None:
            level = FIRST_INTENSITY
        else:
            level = max(INTENSITY_MIN, min(INTENSITY_MAX, self._intensity + delta))
        self._intensity_clicked(level, toggle=False)

    # --- internals ----------------------------------------------------------------

    def _emit(self, field: str, value: object) -> None:
        if not self._loading:
            self.changed.emit(field, value)

    def _chip_toggled(self, _emotion: str) -> None:
        self._emit("emotions", self.emotions())

    def _pain_toggled(self, on: bool) -> None:
        self._emit("pain_point", on)

    def _set_intensity(self, level: int | None) -> None:
        self._intensity = level
        for value, button in self.intensity_buttons.items():
            button.setChecked(value == level)

    def _intensity_clicked(self, level: int, toggle: bool = True) -> None:
        new = None if toggle and self._intensity == level else level
        self._set_intensity(new)
        self._emit("intensity", new)

    def _text_changed(self) -> None:
        if not self._loading:
            self.text_edited.emit()

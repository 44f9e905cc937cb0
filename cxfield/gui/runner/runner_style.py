"""Look of the runner: large type for arm's length, visible focus, calm colours."""

from __future__ import annotations

from cxfield.gui.widgets import FOCUS_STYLE

RUNNER_STYLE = (
    "QWidget { font-size: 13pt; }"
    "QLabel#header { font-size: 14pt; }"
    "QLabel#participant { font-size: 14pt; font-weight: 700; }"
    "QLabel#elapsed { font-size: 22pt; font-weight: 600; font-family: monospace;"
    " padding: 0 12px; }"
    "QLabel#saveStatus { color: #2e7d32; padding: 0 8px; }"
    'QLabel#saveStatus[ok="false"] { color: #b71c1c; font-weight: 600; }'
    "QLabel#stepTitle { font-size: 22pt; font-weight: 600; }"
    "QLabel#stepMeta { color: #455a64; }"
    "QLabel#section { font-weight: 600; margin-top: 6px; }"
    "QLabel#hint { color: #455a64; font-size: 11pt; }"
    "QLabel#banner { background: #fff3e0; border: 2px solid #e65100; padding: 6px; }"
    "QLabel#observation { background: #e3f2fd; border: 1px solid #1565c0; padding: 6px; }"
    "QLabel#statement { font-size: 14pt; }"
    "QFrame#likert { border: 1px solid #cfd8dc; border-radius: 6px; }"
    "QFrame#likert:focus { border: 3px solid #1565c0; background: #f5f9ff; }"
    "QPushButton#point { min-width: 104px; min-height: 62px; padding: 4px; font-size: 12pt; }"
    "QPushButton#point:checked { background: #263238; color: white; }"
    "QPushButton#chip { border: 2px solid #90a4ae; border-radius: 14px; padding: 4px 12px; }"
    "QPushButton#chip:checked { background: #263238; color: white; border-color: #263238; }"
    "QPushButton#intensity { min-width: 36px; padding: 4px; }"
    "QPushButton#intensity:checked, QPushButton#pain:checked { background: #263238;"
    " color: white; }"
    "QTreeWidget::item { padding: 4px 2px; }"
    "QTreeWidget::item:selected { background: #1565c0; color: white; }" + FOCUS_STYLE
)

#: the survey page's key in the runner's step list
SURVEY = "__survey__"

SHORTCUT_HELP = {
    # one line each at 1366 px (the note bar names Ctrl+N, Ctrl+Q and Ctrl+L)
    "interview": (
        "1–5 feeling · letters emotions · P pain point · −/+ intensity · Tab quote, notes · "
        "Esc keys · PgDn/PgUp step · Ctrl+G steps · Ctrl+U survey · Ctrl+Shift+F finish · "
        "F1 all keys"
    ),
    # a staff member is not asked the customers' A-11 survey
    "staff": (
        "1–5 how the work felt · letters emotions · P pain point · −/+ intensity · Tab quote, "
        "notes · Esc keys · PgDn/PgUp their step · Ctrl+G steps · Ctrl+Shift+F finish · "
        "F1 all keys"
    ),
    "observation": (
        "M entered · N next step · W left (waiting) · 1–5 feeling seen · letters emotions · "
        "Tab quote, notes · Esc keys · PgDn/PgUp step · Ctrl+G steps · Ctrl+Shift+F finish · "
        "F1 all keys"
    ),
    "full": "\n".join(
        [
            "1 … 5  how the step felt (1 very negative … 5 very positive); 0 clears",
            "Letter shown on a chip  toggle that emotion",
            "P  pain point on/off",
            "− / +  intensity down / up (the first press sets 3, the middle)",
            "PgDn, Alt+→, Ctrl+Enter  next customer-facing step;  PgUp, Alt+←  previous",
            "Ctrl+G  the step list (Up/Down visit any step, backstage too; Esc back)",
            "Tab  into the quote, then the notes, then back to the keys (Shift+Tab back)",
            "Esc  back to the keys; while a field has the focus, letters and digits are text",
            "Ctrl+N  timestamped note;  Ctrl+Q  timestamped quote;  Enter saves it",
            "Ctrl+L  the list of notes: Enter or F2 edits a note, Delete removes it;"
            "  Ctrl+Z  brings back the note removed last",
            "Ctrl+U  A-11 survey (keys 1–5 answer and move on)",
            "Observation: M entered this step, N entered the next customer-facing step,"
            " W left (waiting)",
            "Ctrl+Shift+F  finish the session;  Ctrl+W  close (kept as a draft)",
            "F5  reload the journey map (after edits)",
            "Everything is saved as you go; there is no save button.",
        ]
    ),
}

"""File → Export… in the desktop app: runs off the GUI thread, shows progress, can cancel."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from cxfield.app import AppContext  # noqa: E402
from cxfield.gui.export_dialog import ExportDialog, open_export_dialog, quarters  # noqa: E402
from cxfield.gui.main_window import MainWindow  # noqa: E402
from cxfield.services import demo  # noqa: E402
from tests.export_support import pdf_text  # noqa: E402

pytestmark = pytest.mark.qt


@pytest.fixture
def window(qtbot, ctx: AppContext) -> MainWindow:  # type: ignore[no-untyped-def]
    demo.create_demo(ctx.db, 30, seed=4)
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    return win


def test_menu_opens_dialog_for_selected_session(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    actions = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Export…" in actions
    window.session_table.selectRow(0)
    dialog = open_export_dialog(window)
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.kind() == "session" and dialog.kind_buttons["session"].isEnabled()
    out = tmp_path / "session.pdf"
    dialog.output.setText(str(out))
    with qtbot.waitSignal(dialog.runner.finished, timeout=60_000):
        dialog.export_button.click()
    assert out.exists() and dialog.open_button.isEnabled()
    assert dialog.bar.value() == dialog.bar.maximum()
    assert "Saved to" in dialog.status.text()
    code = window.session_model.session_at(0).participant_code
    if code:
        assert code in pdf_text(out)
    if os.environ.get("CXFIELD_SCREENSHOTS"):
        dialog.grab().save(os.path.join(os.environ["CXFIELD_SCREENSHOTS"], "export-dialog.png"))


def test_study_csv_with_filters_from_the_dialog(
    qtbot, ctx: AppContext, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    study_id = window.current_study_id()
    assert study_id
    dialog = ExportDialog(ctx, study_id, "Demo", None)
    qtbot.addWidget(dialog)
    assert not dialog.kind_buttons["session"].isEnabled() and dialog.kind() == "report"
    dialog.kind_buttons["csv"].setChecked(True)
    assert dialog.filter_box.isVisibleTo(dialog) and not dialog.transcript.isVisibleTo(dialog)
    dialog.site.setCurrentIndex(1)
    out = tmp_path / "tables"
    dialog.output.setText(str(out))
    with qtbot.waitSignal(dialog.runner.finished, timeout=60_000):
        dialog.start()
    assert sorted(p.name for p in out.iterdir())[0] == "captures.csv"
    site_name = dialog.site.currentText()
    rows = (out / "sessions.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert rows and all(site_name in r for r in rows)


def test_cancel_leaves_nothing(qtbot, ctx: AppContext, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    study_id = window.current_study_id()
    assert study_id
    dialog = ExportDialog(ctx, study_id, "Demo", None)
    qtbot.addWidget(dialog)
    out = tmp_path / "report.pdf"
    dialog.output.setText(str(out))
    with qtbot.waitSignal(dialog.runner.cancelled, timeout=60_000):
        dialog.start()
        assert dialog.cancel_button.text() == "Cancel"
        dialog.cancel_button.click()  # while running: cancels instead of closing
    assert not out.exists() and list(tmp_path.glob("*.part")) == []
    assert "Cancelled" in dialog.status.text() and dialog.export_button.isEnabled()


def test_error_is_one_line_in_the_dialog(
    qtbot, ctx: AppContext, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    study_id = window.current_study_id()
    assert study_id
    dialog = ExportDialog(ctx, study_id, "Demo", None)
    qtbot.addWidget(dialog)
    dialog.kind_buttons["a11"].setChecked(True)
    dialog.output.setText(str(tmp_path / "missing" / "a11.csv"))
    with qtbot.waitSignal(dialog.runner.failed, timeout=60_000):
        dialog.start()
    assert (
        dialog.status.text().startswith("Not exported:")
        and "does not exist" in dialog.status.text()
    )
    assert not dialog.open_button.isEnabled()


def test_quarters_newest_first() -> None:
    from datetime import date

    assert quarters(date(2026, 2, 3), 3) == ["2026Q1", "2025Q4", "2025Q3"]

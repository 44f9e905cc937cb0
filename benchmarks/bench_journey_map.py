"""Benchmark: the journey map's aggregates over a study with N sessions (default 2000).

Prints the time of each SQL aggregate the map view runs (off the GUI thread) and of the
whole load, plus one paint of the picture offscreen, against a 10x smaller baseline.

    .venv/bin/python benchmarks/bench_journey_map.py [--sessions 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from cxfield.app import open_app
from cxfield.services import analysis, demo


def best_of(func: object, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def measure(n: int) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from cxfield.gui.journey.journey_map_canvas import JourneyCanvas, load_map_data

    assert QApplication.instance() is not None
    with tempfile.TemporaryDirectory() as tmp:
        ctx = open_app(Path(tmp))
        study = demo.create_demo(ctx.db, n).id
        db = ctx.db
        figures = {
            "step_aggregates": best_of(lambda: analysis.step_aggregates(db, study)),
            "segment_curves": best_of(lambda: analysis.segment_curves(db, study, "language")),
            "representative_quotes": best_of(lambda: analysis.representative_quotes(db, study)),
            "observation_times": best_of(lambda: analysis.observation_times(db, study)),
            "whole load (with segments)": best_of(lambda: load_map_data(db, study, "language")),
        }
        canvas = JourneyCanvas()
        canvas.set_data(load_map_data(db, study, "language"))
        figures["paint"] = best_of(lambda: canvas.grab())
        ctx.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    base = measure(args.sessions // 10)
    full = measure(args.sessions)
    for key, value in full.items():
        print(
            f"{key:28s} {value * 1000:7.1f} ms  ({args.sessions // 10}: "
            f"{base[key] * 1000:6.1f} ms, ratio {value / max(base[key], 1e-9):.1f})"
        )

    app.quit()
    sys.stdout.flush()
    # PySide6 6.12 may abort while finalising after offscreen grabs; the figures are out.
    os._exit(0)


if __name__ == "__main__":
    main()

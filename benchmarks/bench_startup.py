"""Benchmark: time from starting ``cxfield`` to the main window's first paint and to a usable
window (the demo study listed), against a bare PySide6 window measured in the same run.

Each round starts, one after the other, a bare PySide6 window (``python -c``: QApplication,
an empty QMainWindow, quit at its first paint), the app from the virtual environment
(``python -m cxfield``) and, when it is built, the packaged app (``dist/cxfield/cxfield``),
each on the same demo data directory (at the newest schema: no upgrade) with the start-up
probe (``CXFIELD_STARTUP_PROBE``: the app writes the wall-clock times and quits).  Times
run from just before the process is started.  Prints medians and the ratio to the bare
window; offscreen unless DISPLAY is set (run it under ``xvfb-run -a`` for real X11).

    .venv/bin/python benchmarks/bench_startup.py [--rounds 7] [--frozen dist/cxfield/cxfield]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

BARE = """
import json, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class Probe(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not hasattr(self, "t"):
            self.t = time.time()
            open(sys.argv[1], "w").write(json.dumps({"first_paint": self.t, "usable": self.t}))
            QTimer.singleShot(0, app.quit)
        return False

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1280, 760)
probe = Probe()
window.installEventFilter(probe)
window.show()
app.exec()
"""


def environment(probe: Path) -> dict[str, str]:
    env = dict(os.environ, CXFIELD_STARTUP_PROBE=str(probe), PYTHONPATH=str(REPO))
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def measure(command: list[str], probe: Path) -> tuple[float, float]:
    """Seconds from start to first paint and to usable."""
    probe.unlink(missing_ok=True)
    start = time.time()
    proc = subprocess.run(
        command, env=environment(probe), capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0 or not probe.exists():
        raise SystemExit(f"{command[0]} failed ({proc.returncode}): {proc.stderr[-400:]}")
    record = json.loads(probe.read_text(encoding="utf-8"))
    return record["first_paint"] - start, record["usable"] - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--frozen", type=Path, default=REPO / "dist" / "cxfield" / "cxfield")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cxfield-bench-startup-") as tmp:
        folder = Path(tmp)
        data, probe = folder / "data", folder / "probe.json"
        subprocess.run(
            [sys.executable, "-m", "cxfield", "--data-dir", str(data), "demo"],
            check=True,
            capture_output=True,
            env=environment(probe),
        )
        commands = {
            "bare PySide6 window": [sys.executable, "-c", BARE, str(probe)],
            "cxfield (venv)": [sys.executable, "-m", "cxfield", "--data-dir", str(data)],
        }
        if args.frozen.exists():
            commands["cxfield (frozen)"] = [str(args.frozen), "--data-dir", str(data)]
        else:
            print(f"(no packaged app at {args.frozen}: ./dev.sh build)")
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for command in commands.values():  # one warm-up each: the page cache
            measure(command, probe)
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(measure(command, probe))
    bare = statistics.median(t[0] for t in times["bare PySide6 window"])
    platform = "X11 " + os.environ["DISPLAY"] if os.environ.get("DISPLAY") else "offscreen"
    print(f"start-up, median of {args.rounds} rounds ({platform}):")
    for name, values in times.items():
        paint = statistics.median(v[0] for v in values)
        usable = statistics.median(v[1] for v in values)
        print(
            f"  {name:<22} first paint {paint:5.2f} s ({paint / bare:4.1f}x bare)"
            f"   usable {usable:5.2f} s ({usable / bare:4.1f}x bare)"
        )


if __name__ == "__main__":
    main()

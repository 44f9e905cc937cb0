"""Benchmark: exports of the demo study at benchmark scale.

Times the study report PDF (target: at most 5 s for 2,000 sessions), the CSV tables, the
JSON document and a session summary, with peak memory (tracemalloc: Python allocations
during the export, measured in a separate run), against a 10x smaller baseline measured in
the same run.

    .venv/bin/python benchmarks/bench_export.py [--sessions 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cxfield.app import open_app
from cxfield.export import jobs
from cxfield.export.fonts import register_fonts
from cxfield.services import demo, sessions


def timed(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """Seconds of one call, and the peak MiB of Python allocations in a second call
    (tracemalloc slows Python down several times, so it never runs while timing)."""
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result


def measure(n: int) -> dict[str, tuple[float, float, str]]:
    figures: dict[str, tuple[float, float, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ctx = open_app(root / "data")
        study = demo.create_demo(ctx.db, n, seed=1)
        out = root / "out"
        out.mkdir()
        s, mib, result = timed(lambda: jobs.export_study_pdf(ctx.db, study.id, out / "r.pdf"))
        figures["study report PDF"] = (s, mib, f"{result.pages} pages")
        s, mib, result = timed(lambda: jobs.export_study_csv(ctx.db, study.id, out / "csv"))
        size = sum(p.stat().st_size for p in result.paths) / 2**20
        figures["CSV tables"] = (s, mib, f"{size:.1f} MiB")
        s, mib, _ = timed(lambda: jobs.export_study_json(ctx.db, study.id, out / "s.json"))
        figures["JSON document"] = (s, mib, f"{(out / 's.json').stat().st_size / 2**20:.1f} MiB")
        first = sessions.list_sessions(ctx.db, study.id)[-1].id
        s, mib, result = timed(lambda: jobs.export_session_pdf(ctx.db, first, out / "s.pdf"))
        figures["session summary PDF"] = (s, mib, f"{result.pages} pages")
        ctx.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()
    register_fonts()  # once per process (~0.1 s), not part of any one export
    base_n = max(1, args.sessions // 10)
    base = measure(base_n)
    full = measure(args.sessions)
    print(f"{'export':22} {args.sessions:>6} sessions          baseline {base_n}")
    for name, (s, mib, what) in full.items():
        bs, bmib, bwhat = base[name]
        print(
            f"{name:22} {s:6.2f} s {mib:6.1f} MiB  {what:>10}   "
            f"{bs:5.2f} s {bmib:5.1f} MiB {bwhat:>10}   ratio per 10x {s / bs / 10:.2f}"
        )


if __name__ == "__main__":
    main()

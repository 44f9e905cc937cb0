"""Benchmark: creating and listing the demo study at benchmark scale.

Prints seconds for `demo --sessions N` (default 2000) and for listing its sessions, with
the ratio against a 10x smaller baseline measured in the same run (1.0 per 10x = linear).

    .venv/bin/python benchmarks/bench_demo.py [--sessions 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cxfield.app import open_app
from cxfield.services import demo, sessions


def measure(n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = open_app(Path(tmp))
        start = time.perf_counter()
        study = demo.create_demo(ctx.db, n)
        created = time.perf_counter() - start
        start = time.perf_counter()
        rows = sessions.list_sessions(ctx.db, study.id)
        listed = time.perf_counter() - start
        assert len(rows) == n
        ctx.close()
    return created, listed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()
    base_n = max(1, args.sessions // 10)
    base_create, base_list = measure(base_n)
    create, listing = measure(args.sessions)
    print(
        f"demo --sessions {args.sessions}: {create:.2f} s  (baseline {base_n}: "
        f"{base_create:.2f} s, ratio per 10x {create / base_create / 10:.2f})"
    )
    print(
        f"sessions list ({args.sessions} rows): {listing * 1000:.0f} ms  (baseline "
        f"{base_n}: {base_list * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()

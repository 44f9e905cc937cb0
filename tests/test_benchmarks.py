"""The issue's two benchmarks run and print their figures (on small dimensions here; the
README's figures come from the real tiny dimensions)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests import requires
from tests.conftest import REPO, cli_env

pytestmark = pytest.mark.slow


def _bench(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *args],
        capture_output=True, text=True, timeout=280, env=cli_env(OMP_NUM_THREADS="1"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_engine_benchmark_prints_ratios_for_both_precisions_and_threads() -> None:
    requires.module("faster_whisper")
    requires.programs("espeak-ng", "sox")
    out = _bench(
        "bench_engines.py", "--dims", "test", "--windows", "1", "--tokens", "8", "--lines", "4"
    )
    rows = re.findall(
        r"^(openai-whisper fp32|ctranslate2 fp32|ctranslate2 int8)\s+(\d)\s+([\d.]+)\s+"
        r"([\d.]+)\s+(\d+)\s+([\d.]+)\s+(\d+)$",
        out, re.M,
    )  # fmt: skip
    assert {(r[0], r[1]) for r in rows} == {
        (e, t) for e in ("openai-whisper fp32", "ctranslate2 fp32", "ctranslate2 int8")
        for t in "12"
    }, out  # fmt: skip
    for engine, _threads, seconds, speed, peak, memory, tokens in rows:
        assert float(seconds) > 0 and float(speed) > 0 and int(peak) > 0 and float(memory) > 0
        assert int(tokens) == 8  # both engines did the same work
        if engine == "openai-whisper fp32":
            assert float(speed) == 1.0 and float(memory) == 1.0  # the baseline
    ratio = re.search(r"end to end ratio ctranslate2 int8 ÷ openai-whisper: ([\d.]+)", out)
    assert ratio and float(ratio.group(1)) > 0, out
    assert re.search(r"end to end, ctranslate2 int8 .* \(model saw \d+ s", out)


def test_speaker_benchmark_prints_the_share_labelled_right() -> None:
    requires.module("resemblyzer")
    requires.programs("espeak-ng", "sox")
    out = _bench("bench_speakers.py", "--case", "1", "--case", "4")
    found = re.findall(r"^(two voices, male|three voices).*\s([\d.]+)%\s+([\d.]+)%\s+", out, re.M)
    assert [f[0] for f in found] == ["two voices, male", "three voices"], out
    for _, right, der in found:
        assert float(right) + float(der) == pytest.approx(100.0, abs=0.15)
    assert float(found[0][1]) >= 90.0  # the easy case keeps its floor
